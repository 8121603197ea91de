package flash.config;

import java.nio.file.Path;

/**
 * One {@code --tls-cert FILE --tls-key FILE} pair: a PEM certificate chain (leaf first) and its PEM private key.
 * The first pair of a server is its default certificate; the others are chosen by the name the client asks for (SNI).
 */
public record TlsPair(Path cert, Path key) {}
