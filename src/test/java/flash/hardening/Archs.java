package flash.hardening;

import flash.config.Architecture;
import flash.testing.TestServer;

import java.util.List;

/** Sources for parameterized tests: the in-process architectures under test. */
final class Archs {
    private Archs() { }

    static List<Architecture> inProcess() { return TestServer.archs(); }

    /** The architectures for subprocess tests, by CLI name: the in-process ones, plus mp if asked for. */
    static List<String> all() {
        String s = System.getProperty("flash.test.archs", "amped,sped,mt,vt");
        return java.util.Arrays.stream(s.split(",")).map(String::trim).filter(x -> !x.isEmpty()).toList();
    }
}
