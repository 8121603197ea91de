package flash.net;

import java.nio.channels.SocketChannel;

/** Builds the handler of an accepted client connection (the dispatch layer supplies the HTTP codec). */
@FunctionalInterface
public interface Adopter {
    IoHandler adopt(SocketChannel channel, Driver driver, Registration registration);
}
