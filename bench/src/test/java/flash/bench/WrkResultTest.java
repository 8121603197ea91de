package flash.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class WrkResultTest {
    /** Captured from wrk 4.1.0 (Debian) against nginx on this machine. */
    static final String NGINX_500B = """
            Running 2s test @ http://127.0.0.1:41461/size/500.bin
              1 threads and 50 connections
              Thread Stats   Avg      Stdev     Max   +/- Stdev
                Latency     1.17ms    1.31ms  21.61ms   95.84%
                Req/Sec    48.72k    11.47k   76.87k    76.19%
              Latency Distribution
                 50%    0.98ms
                 75%    1.18ms
                 90%    1.41ms
                 99%    6.65ms
              101767 requests in 2.10s, 73.08MB read
            Requests/sec:  48458.01
            Transfer/sec:     34.80MB

            #times
            0m0.001s 0m0.003s
            0m0.204s 0m1.372s
            """;

    static final String WITH_ERRORS = """
            Running 3s test @ http://127.0.0.1:8080/missing
              1 threads and 10000 connections
              Thread Stats   Avg      Stdev     Max   +/- Stdev
                Latency   812.50us  101.00us   1.20s    70.00%
                Req/Sec     9.10k     1.00k   11.00k    66.67%
              Latency Distribution
                 50%  740.00us
                 75%  900.00us
                 90%    1.10ms
                 99%    1.20s
              27300 requests in 3.00s, 512.00KB read
              Socket errors: connect 12, read 3, write 0, timeout 5
              Non-2xx or 3xx responses: 27300
            Requests/sec:   9100.00
            Transfer/sec:    170.67KB
            """;

    @Test
    void parsesThroughputLatencyAndTransfer() {
        WrkResult r = WrkResult.parse(NGINX_500B);
        assertThat(r.requestsPerSec()).isEqualTo(48458.01);
        assertThat(r.mbPerSec()).isEqualTo(34.80, within(1e-9));
        assertThat(r.p50Ms()).isEqualTo(0.98, within(1e-9));
        assertThat(r.p99Ms()).isEqualTo(6.65, within(1e-9));
        assertThat(r.requests()).isEqualTo(101767);
        assertThat(r.errors()).isZero();
    }

    @Test
    void convertsUnitsAndCountsErrors() {
        WrkResult r = WrkResult.parse(WITH_ERRORS);
        assertThat(r.p50Ms()).isEqualTo(0.74, within(1e-9));
        assertThat(r.p99Ms()).isEqualTo(1200.0, within(1e-9));
        assertThat(r.mbPerSec()).isEqualTo(170.67 / 1024, within(1e-9));
        assertThat(r.non2xx()).isEqualTo(27300);
        assertThat(r.socketErrors()).isEqualTo(20);
        assertThat(r.errors()).isEqualTo(27320);
    }

    @Test
    void rejectsOutputWithoutResults() {
        assertThatThrownBy(() -> WrkResult.parse("unable to connect to 127.0.0.1:1 Connection refused"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void readsGeneratorCpuFromShellTimes() {
        assertThat(WrkRunner.generatorCpuSeconds(NGINX_500B)).isEqualTo(1.576, within(1e-9));
        assertThat(WrkRunner.generatorCpuSeconds(WITH_ERRORS)).isNaN();
    }
}
