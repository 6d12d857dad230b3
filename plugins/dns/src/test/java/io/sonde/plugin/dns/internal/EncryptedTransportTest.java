package io.sonde.plugin.dns.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.AfterClass;
import org.junit.Assume;
import org.junit.BeforeClass;
import org.junit.Test;

import io.sonde.api.FailureReason;
import io.sonde.api.MeasuredResult;
import io.sonde.api.Target;
import io.sonde.api.TargetProblem;
import io.sonde.plugin.dns.testing.UnboundServer;

/** DNS over TLS and over HTTPS against a real Unbound: answers, trust and names, and what is refused. */
public class EncryptedTransportTest {

    private static Path dir;
    private static UnboundServer unbound;
    private static DnsProber prober;

    @BeforeClass
    public static void start() throws Exception {
        Assume.assumeTrue("unbound is not installed; CI installs it", Files.isExecutable(Path.of(UnboundServer.UNBOUND))
                || System.getenv("CI") != null);
        dir = Files.createTempDirectory("sonde-dot-");
        unbound = UnboundServer.start(dir);
        prober = new DnsProber();
    }

    @AfterClass
    public static void stop() throws Exception {
        if (prober != null) {
            prober.deactivate();
        }
        if (unbound != null) {
            unbound.close();
        }
        if (dir != null) {
            new ProcessBuilder("rm", "-rf", dir.toString()).start().waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static Target target(int port, String... options) {
        Map<String, String> o = new HashMap<>(Map.of("query", "www.enc.test"));
        for (int i = 0; i < options.length; i += 2) {
            o.put(options[i], options[i + 1]);
        }
        return new Target("t", "dns", "127.0.0.1", port, Duration.ofSeconds(10), Duration.ofSeconds(5), Set.of(), o, "test");
    }

    private static MeasuredResult probe(int port, String... options) throws Exception {
        Target t = target(port, options);
        assertEquals(List.of(), prober.check(t));
        return prober.probe(t).toCompletableFuture().get(20, TimeUnit.SECONDS);
    }

    @Test
    public void dnsOverTls() throws Exception {
        String ca = unbound.caPem.toString();
        MeasuredResult r = probe(unbound.dotPort, "transport", "tls", "ca_file", ca, "expect_answer", "198\\.18\\.0\\.20");
        assertNull(r.errorMessage(), r.failureReason());
        assertEquals(1, r.values().get("answer_rrs"));
        // the certificate names 127.0.0.1 and dot.test, not other.test; without the CA it is not trusted
        assertTrue(probe(unbound.dotPort, "transport", "tls", "ca_file", ca, "server_name", "dot.test").isSuccessful());
        MeasuredResult wrongName = probe(unbound.dotPort, "transport", "tls", "ca_file", ca, "server_name", "other.test");
        assertEquals(wrongName.errorMessage(), FailureReason.TLS, wrongName.failureReason());
        MeasuredResult untrusted = probe(unbound.dotPort, "transport", "tls");
        assertEquals(FailureReason.TLS, untrusted.failureReason());
        assertTrue(untrusted.errorMessage(), untrusted.errorMessage().startsWith("tls /127.0.0.1:" + unbound.dotPort + ": "));
    }

    @Test
    public void dnsOverHttps() throws Exception {
        String ca = unbound.caPem.toString();
        MeasuredResult r = probe(unbound.dohPort, "transport", "https", "ca_file", ca, "expect_answer", "198\\.18\\.0\\.20");
        assertNull(r.errorMessage(), r.failureReason());
        MeasuredResult nx = probe(unbound.dohPort, "transport", "https", "ca_file", ca, "query", "nothing.enc.test");
        assertEquals(FailureReason.STATUS, nx.failureReason());
        assertEquals("rcode NXDOMAIN, expected NOERROR", nx.errorMessage());
        MeasuredResult wrongPath = probe(unbound.dohPort, "transport", "https", "ca_file", ca, "doh_path", "/resolve");
        assertEquals(FailureReason.ERROR, wrongPath.failureReason());
        assertTrue(wrongPath.errorMessage(), wrongPath.errorMessage().contains("answered HTTP 404"));
        assertEquals(FailureReason.TLS, probe(unbound.dohPort, "transport", "https").failureReason());
    }

    @Test
    public void keysOfTheEncryptedTransportsAreCheckedTogether() {
        assertEquals(List.of(new TargetProblem("ca_file", "taken with transport tls or https only")),
                prober.check(target(53, "ca_file", unbound.caPem.toString())));
        assertEquals(List.of(new TargetProblem("server_name", "not taken with https: the name checked is host's")),
                prober.check(target(443, "transport", "https", "server_name", "a.test")));
        assertEquals(List.of(new TargetProblem("doh_path", "'dns-query' is not a path (/dns-query)")),
                prober.check(target(443, "transport", "https", "doh_path", "dns-query")));
        assertEquals(List.of(new TargetProblem("doh_path", "taken with transport https only")),
                prober.check(target(853, "transport", "tls", "doh_path", "/q")));
    }
}
