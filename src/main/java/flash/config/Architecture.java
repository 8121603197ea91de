package flash.config;

import java.util.Locale;

/** The server architectures of the paper, plus virtual threads; all run the same request pipeline. */
public enum Architecture {
    /** Asymmetric multi-process event-driven: event loops plus helper threads for every blocking disk step. */
    AMPED,
    /** Single-process event-driven: the same loops, disk steps run inline (they may block the loop). */
    SPED,
    /** Multi-threaded: a fixed pool of platform threads, one connection each at a time, blocking I/O. */
    MT,
    /** Multi-process: prefork worker processes sharing the port, one connection each at a time. */
    MP,
    /** One virtual thread per connection, blocking I/O. */
    VT;

    public String cliName() { return name().toLowerCase(Locale.ROOT); }

    public boolean eventDriven() { return this == AMPED || this == SPED; }
}
