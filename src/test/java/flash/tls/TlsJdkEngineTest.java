package flash.tls;

import flash.config.TlsEngine;

/** Every {@link TlsTest} on the JDK's SSLEngine (--tls-engine jdk): the fallback where libssl.so.3 is missing. */
class TlsJdkEngineTest extends TlsTest {
    @Override
    TlsEngine engine() { return TlsEngine.JDK; }
}
