package io.sonde.plugin.http.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import io.sonde.api.FailureReason;
import io.sonde.api.Target;

/** Real HTTP and HTTPS servers on loopback: phases, status, body, redirects, trust and its failures. */
public class HttpProberTest {

    private static TestServers servers;
    private static HttpProber prober;

    @BeforeClass
    public static void start() throws Exception {
        servers = new TestServers();
        prober = new HttpProber();
    }

    @AfterClass
    public static void stop() throws Exception {
        if (prober != null) {
            prober.deactivate();
        }
        if (servers != null) {
            servers.close();
        }
    }

    private static HttpGetResult probe(String url, long timeoutMs, String... options) throws Exception {
        Map<String, String> o = new HashMap<>();
        for (int i = 0; i < options.length; i += 2) {
            o.put(options[i], options[i + 1]);
        }
        Target t = new Target("web", "http", url, 0, Duration.ofSeconds(10), Duration.ofMillis(timeoutMs), Set.of(), o,
                "test");
        return prober.probe(t).toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    private static String plain(String path) {
        return TestServers.url(servers.plain, "http", path);
    }

    @Test
    public void plainGetWithEveryPhase() throws Exception {
        HttpGetResult r = probe(plain("/"), 2000);
        assertNull(r.errorMessage(), r.failureReason());
        assertEquals(200, r.statusCode());
        assertEquals("HTTP/1.1", r.httpVersion());
        assertEquals(TestServers.HELLO.length(), r.bodySize());
        assertEquals(Set.of("dns", "connect", "tls", "processing", "transfer"), r.phases().keySet());
        assertEquals(Duration.ZERO, r.phases().get("tls"));
        assertTrue(r.phases().get("connect").toNanos() > 0);
        Duration sum = r.phases().values().stream().reduce(Duration.ZERO, Duration::plus);
        assertTrue(sum + " <= " + r.responseTime(), sum.compareTo(r.responseTime()) <= 0);
        assertNull(r.tlsVersion());
    }

    @Test
    public void aServerThatThinksShowsInProcessing() throws Exception {
        HttpGetResult r = probe(plain("/slow"), 5000);
        assertTrue(r.errorMessage(), r.isSuccessful());
        Duration processing = r.phases().get("processing");
        // the request's last byte is timed when its write returns, which may be a moment after the server has it: most of the
        // server's wait, not to the millisecond (it came out at 297 of 300 ms in a busy CI run)
        assertTrue(processing.toString(), processing.toMillis() >= TestServers.SLOW_MS * 8 / 10);
        assertTrue("the wait is not in transfer: " + r.phases(), r.phases().get("transfer").compareTo(processing) < 0);
    }

    @Test
    public void statusIsCheckedAgainstExpectStatus() throws Exception {
        HttpGetResult r = probe(plain("/status/503"), 2000);
        assertEquals(FailureReason.STATUS, r.failureReason());
        assertEquals(503, r.statusCode());
        assertTrue(r.errorMessage(), r.errorMessage().contains("503") && r.errorMessage().contains("2xx"));
        assertTrue(probe(plain("/status/503"), 2000, "expect_status", "200-299, 503").isSuccessful());
        assertTrue(probe(plain("/status/404"), 2000, "expect_status", "4xx").isSuccessful());
    }

    @Test
    public void redirectsAreFollowedUnlessTurnedOff() throws Exception {
        HttpGetResult r = probe(plain("/redirect"), 2000);
        assertTrue(r.errorMessage(), r.isSuccessful());
        assertEquals(200, r.statusCode());
        HttpGetResult not = probe(plain("/redirect"), 2000, "follow_redirects", "false");
        assertEquals(302, not.statusCode());
        assertEquals(FailureReason.STATUS, not.failureReason());
        assertTrue(probe(plain("/redirect"), 2000, "follow_redirects", "false", "expect_status", "302").isSuccessful());
    }

    @Test
    public void bodyRegexOverPlainAndChunkedBodies() throws Exception {
        assertTrue(probe(plain("/"), 2000, "body_regex", "hello from .* server").isSuccessful());
        HttpGetResult r = probe(plain("/chunked"), 2000, "body_regex", "nothing like this");
        assertEquals(FailureReason.BODY_MISMATCH, r.failureReason());
        assertEquals(10L * TestServers.HELLO.length(), r.bodySize());
        assertTrue(probe(plain("/chunked"), 2000, "body_regex", "server(hello)").isSuccessful());
    }

    @Test
    public void headHasNoBodyAndHeadersAreSent() throws Exception {
        // /header answers 200 only to a request carrying X-Probe: sonde, 412 otherwise
        HttpGetResult r = probe(plain("/header"), 2000, "method", "HEAD", "header.X-Probe", "sonde");
        assertTrue(r.errorMessage(), r.isSuccessful());
        assertEquals(0, r.bodySize());
        HttpGetResult without = probe(plain("/header"), 2000, "method", "HEAD");
        assertEquals(412, without.statusCode());
        assertEquals(412, probe(plain("/header"), 2000, "header.X-Probe", "other").statusCode());
    }

    @Test
    public void refusedAndTimeout() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        HttpGetResult refused = probe("http://127.0.0.1:" + closed + "/", 2000);
        assertEquals(FailureReason.REFUSED, refused.failureReason());
        // /hang answers after HANG_MS: a probe that gave up at its timeout is over long before
        HttpGetResult slow = probe(plain("/hang"), 100);
        assertEquals(FailureReason.TIMEOUT, slow.failureReason());
        assertTrue("cut before the server answered: " + slow.responseTime(), slow.responseTime().toMillis() < TestServers.HANG_MS);
    }

    @Test
    public void httpsWithTheTestCaGivesTlsVersionAndExpiries() throws Exception {
        HttpGetResult r = probe(TestServers.url(servers.signed, "https", "/"), 5000, "ca_file", servers.caPem.toString());
        assertNull(r.errorMessage(), r.failureReason());
        assertEquals(200, r.statusCode());
        assertNotNull(r.tlsVersion());
        assertTrue(r.tlsVersion(), r.tlsVersion().startsWith("TLSv1."));
        assertTrue(r.phases().get("tls").toNanos() > 0);
        Instant now = Instant.now();
        // the leaf was issued for 20 days, the CA for 30: the leaf is the earliest
        assertEquals(r.leafCertExpiry(), r.certExpiry());
        long days = ChronoUnit.DAYS.between(now, r.leafCertExpiry());
        assertTrue("leaf expires in " + days + " days", days >= 19 && days <= 20);
    }

    @Test
    public void untrustedSelfSignedUnlessInsecure() throws Exception {
        String url = TestServers.url(servers.selfSigned, "https", "/");
        HttpGetResult r = probe(url, 5000);
        assertEquals(FailureReason.TLS, r.failureReason());
        assertTrue(r.errorMessage(), r.errorMessage().contains("not trusted"));
        HttpGetResult ok = probe(url, 5000, "insecure_skip_verify", "true");
        assertTrue(ok.errorMessage(), ok.isSuccessful());
        assertNotNull(ok.certExpiry());
    }

    @Test
    public void expiredCertificate() throws Exception {
        HttpGetResult r = probe(TestServers.url(servers.expired, "https", "/"), 5000, "ca_file", servers.caPem.toString());
        assertEquals(FailureReason.TLS, r.failureReason());
        assertTrue(r.errorMessage(), r.errorMessage().contains("expired"));
    }

    @Test
    public void aNameTheCertificateDoesNotHold() throws Exception {
        // the certificate names 127.0.0.1 only; localhost comes from the hosts file, no name server
        String url = "https://localhost:" + servers.signed.getAddress().getPort() + "/";
        HttpGetResult r = probe(url, 5000, "ca_file", servers.caPem.toString(), "ip_version", "4");
        assertEquals(FailureReason.TLS, r.failureReason());
        assertTrue(r.errorMessage(), r.errorMessage().contains("does not name the host"));
    }

    @Test
    public void aCaFileThatIsGoneOrHoldsNoCertificateIsATlsFailureThatSaysSo() throws Exception {
        String url = TestServers.url(servers.signed, "https", "/");
        java.nio.file.Path garbage = servers.dir.resolve("garbage.pem");
        java.nio.file.Files.writeString(garbage, "not a certificate\n");
        for (String ca : new String[] {garbage.toString(), servers.dir.resolve("gone.pem").toString()}) {
            HttpGetResult r = probe(url, 5000, "ca_file", ca);
            assertEquals(FailureReason.TLS, r.failureReason());
            assertTrue(r.errorMessage(), r.errorMessage().contains("ca_file " + ca + " cannot be used"));
        }
    }

    private static long openFiles() throws java.io.IOException {
        try (var fds = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    /** A probe the scheduler gives up on (its stage cancelled) has its connection closed at once. */
    @Test
    public void aCancelledProbeClosesItsConnection() throws Exception {
        probe(plain("/"), 2000); // threads and classes in place before counting
        long before = openFiles();
        java.util.List<java.util.concurrent.CompletableFuture<HttpGetResult>> slow = new java.util.ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Target t = new Target("slow" + i, "http", plain("/slow"), 0, Duration.ofSeconds(60), Duration.ofSeconds(30),
                    Set.of(), Map.of(), "test");
            slow.add(prober.probe(t).toCompletableFuture());
        }
        long opening = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (openFiles() < before + 20 && System.nanoTime() < opening) {
            Thread.sleep(5); // the exchanges connect on their threads: polled until a bound, not slept for
        }
        assertTrue("20 connections open", openFiles() >= before + 20);
        slow.forEach(f -> f.cancel(false));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (openFiles() > before + 2 && System.nanoTime() < deadline) {
            Thread.sleep(20); // the server side ends its sleeps of 300 ms
        }
        assertTrue(openFiles() + " open, " + before + " before", openFiles() <= before + 2);
        assertTrue(probe(plain("/"), 2000).isSuccessful());
    }
}
