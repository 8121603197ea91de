package flash.tls;

import flash.config.TlsEngine;

/** Every {@link TlsFileTest} on the JDK's SSLEngine (--tls-engine jdk). */
class TlsFileJdkEngineTest extends TlsFileTest {
    @Override
    TlsEngine engine() { return TlsEngine.JDK; }
}
