package flash.tls;

import flash.config.Architecture;
import flash.config.TlsEngine;

/**
 * Every {@link TlsTest} on the JDK's SSLEngine (--tls-engine jdk): the fallback where libssl.so.3 is missing. Under
 * amped (non-blocking, its handshake tasks on helpers) and mt (blocking): the transport's two ways of driving an
 * engine, at less than half the run time of all five. All five: TlsTest with -Dflash.test.tlsEngine=jdk.
 */
class TlsJdkEngineTest extends TlsTest {
    @Override
    TlsEngine engine() { return TlsEngine.JDK; }

    @Override
    boolean covers(Architecture arch) { return arch == Architecture.AMPED || arch == Architecture.MT; }
}
