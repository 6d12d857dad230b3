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

    @Test
    public void methodsWithABodyAndTheirLength() throws Exception {
        HttpGetResult post = probe(plain("/echo"), 2000, "method", "POST", "body", "{\"q\": 1}", "header.Content-Type",
                "application/json", "body_regex", "method=POST authorization=null length=8 body=\\{\"q\": 1\\}$");
        assertTrue(post.errorMessage(), post.isSuccessful());
        java.nio.file.Path file = servers.dir.resolve("body.txt");
        java.nio.file.Files.writeString(file, "from a file");
        assertTrue(probe(plain("/echo"), 2000, "method", "PUT", "body_file", file.toString(), "body_regex",
                "method=PUT .* length=11 body=from a file$").isSuccessful());
        // a PATCH without a body still says its length; a DELETE or OPTIONS without one says none
        assertTrue(probe(plain("/echo"), 2000, "method", "patch", "body_regex", "method=PATCH .* length=0 body=$").isSuccessful());
        assertTrue(probe(plain("/echo"), 2000, "method", "DELETE", "body_regex", "method=DELETE .* length=null body=$").isSuccessful());
        assertTrue(probe(plain("/echo"), 2000, "method", "OPTIONS", "body_regex", "method=OPTIONS ").isSuccessful());
        java.nio.file.Files.delete(file);
        HttpGetResult gone = probe(plain("/echo"), 2000, "method", "PUT", "body_file", file.toString());
        assertEquals(FailureReason.ERROR, gone.failureReason());
        assertEquals("body_file " + file + " cannot be read: NoSuchFileException", gone.errorMessage());
    }

    @Test
    public void basicAndBearerAuthenticationFromFilesReadAtEachProbe() throws Exception {
        java.nio.file.Path password = servers.dir.resolve("password");
        java.nio.file.Files.writeString(password, "s3cret-pw\n");
        String basic = java.util.Base64.getEncoder().encodeToString("probe:s3cret-pw".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertTrue(probe(plain("/echo"), 2000, "basic_auth_user", "probe", "basic_auth_password_file", password.toString(),
                "body_regex", "authorization=Basic " + basic + " ").isSuccessful());
        java.nio.file.Path token = servers.dir.resolve("token");
        java.nio.file.Files.writeString(token, "  tok-1  \n");
        assertTrue(probe(plain("/echo"), 2000, "bearer_token_file", token.toString(), "body_regex", "authorization=Bearer tok-1 ")
                .isSuccessful());
        java.nio.file.Files.writeString(token, "tok-2");
        HttpGetResult rotated = probe(plain("/echo"), 2000, "bearer_token_file", token.toString(), "body_regex",
                "authorization=Bearer tok-2 ");
        assertTrue("a rotated token is taken at the next probe: " + rotated.errorMessage(), rotated.isSuccessful());
        // a failing probe names what failed, never the secret
        HttpGetResult failed = probe(plain("/status/401"), 2000, "bearer_token_file", token.toString());
        assertEquals(FailureReason.STATUS, failed.failureReason());
        assertTrue(failed.errorMessage(), !failed.errorMessage().contains("tok-2"));
        java.nio.file.Files.writeString(token, "one\ntwo\n");
        HttpGetResult twoLines = probe(plain("/echo"), 2000, "bearer_token_file", token.toString());
        assertEquals(FailureReason.ERROR, twoLines.failureReason());
        assertEquals("bearer_token_file " + token + " holds more than one line", twoLines.errorMessage());
        java.nio.file.Files.delete(token);
        HttpGetResult gone = probe(plain("/echo"), 2000, "bearer_token_file", token.toString());
        assertEquals("bearer_token_file " + token + " cannot be read: NoSuchFileException", gone.errorMessage());
    }

    private static String to(String where, int status) {
        return plain("/to?s=" + status + "&u=" + java.net.URLEncoder.encode(where, java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    public void redirectsKeepOrChangeTheMethodAndDropCredentialsForAnotherHost() throws Exception {
        java.nio.file.Path token = servers.dir.resolve("redirect-token");
        java.nio.file.Files.writeString(token, "tok-r");
        // 303 makes a POST a GET without its body; 307 keeps both
        assertTrue(probe(to("/echo", 303), 2000, "method", "POST", "body", "x", "body_regex", "method=GET .* body=$").isSuccessful());
        assertTrue(probe(to("/echo", 307), 2000, "method", "POST", "body", "x", "body_regex", "method=POST .* length=1 body=x$")
                .isSuccessful());
        // the same host keeps the token; another (127.0.0.2) does not get it
        assertTrue(probe(to("/echo", 302), 2000, "bearer_token_file", token.toString(), "body_regex", "authorization=Bearer tok-r ")
                .isSuccessful());
        String elsewhere = TestServers.url(servers.other, "http", "/echo").replace("127.0.0.1", "127.0.0.2");
        HttpGetResult other = probe(to(elsewhere, 302), 2000, "bearer_token_file", token.toString(), "body_regex",
                "authorization=null ");
        assertTrue(other.errorMessage(), other.isSuccessful());
        // a chain of three redirects: max_redirects = 2 stops at the third, whose 302 is then the answer
        String chain = to(to(to("/", 302), 302), 302);
        assertTrue(probe(chain, 2000).isSuccessful());
        HttpGetResult stopped = probe(chain, 2000, "max_redirects", "2");
        assertEquals(302, stopped.statusCode());
        assertEquals(FailureReason.STATUS, stopped.failureReason());
        assertTrue(probe(chain, 2000, "max_redirects", "2", "expect_status", "302").isSuccessful());
    }

    @Test
    public void headerBodyAndSizeAssertionsOnARealResponse() throws Exception {
        assertTrue(probe(plain("/json"), 2000, "expect_header.X-Version", "^2\\.", "expect_header.content-type", "json",
                "fail_if_header.Set-Cookie", ".*", "min_body_bytes", "10", "max_body_bytes", "1000").isSuccessful());
        HttpGetResult missing = probe(plain("/json"), 2000, "expect_header.ETag", ".*");
        assertEquals(FailureReason.BODY_MISMATCH, missing.failureReason());
        assertEquals("expect_header.etag: the response has no such header", missing.errorMessage());
        HttpGetResult cached = probe(plain("/json"), 2000, "fail_if_header.Cache-Control", "no-store");
        assertEquals("fail_if_header.cache-control: 'no-store' matches /no-store/", cached.errorMessage());
        HttpGetResult small = probe(plain("/"), 2000, "min_body_bytes", "1000");
        assertEquals(FailureReason.BODY_MISMATCH, small.failureReason());
        assertEquals("min_body_bytes: the body has " + TestServers.HELLO.length() + " bytes, fewer than 1000", small.errorMessage());
        HttpGetResult big = probe(plain("/chunked"), 2000, "max_body_bytes", "100");
        assertEquals("max_body_bytes: the body has " + 10 * TestServers.HELLO.length() + " bytes, more than 100", big.errorMessage());
        HttpGetResult maintenance = probe(plain("/"), 2000, "body_not_regex", "hello");
        assertEquals("body_not_regex: the body matches /hello/", maintenance.errorMessage());
        // the status is checked first: a 503 says so, not its headers
        assertEquals(FailureReason.STATUS, probe(plain("/status/503"), 2000, "expect_header.ETag", ".*").failureReason());
    }

    @Test
    public void jsonConditionsOnARealBody() throws Exception {
        HttpGetResult ok = probe(plain("/json"), 2000, "expect_json",
                "$.status == \"UP\"; $.items.length() > 0; /items/0/up == true; $.version =~ \"^2\\.\"; $.load < 0.5; /a~1b == 1.0;"
                        + " $['items'][1].name != \"db\"");
        assertTrue(ok.errorMessage(), ok.isSuccessful());
        HttpGetResult down = probe(plain("/json"), 2000, "expect_json", "$.status == \"UP\"; $.items[1].up == true");
        assertEquals(FailureReason.BODY_MISMATCH, down.failureReason());
        assertEquals("expect_json: '$.items[1].up == true' does not hold: the value is false", down.errorMessage());
        HttpGetResult absent = probe(plain("/json"), 2000, "expect_json", "$.checks.db");
        assertEquals("expect_json: '$.checks.db': the body has no value there", absent.errorMessage());
        HttpGetResult notJson = probe(plain("/"), 2000, "expect_json", "$.status == \"UP\"");
        assertEquals(FailureReason.BODY_MISMATCH, notJson.failureReason());
        assertTrue(notJson.errorMessage(), notJson.errorMessage().startsWith("expect_json: the body is not JSON ("));
    }

    @Test
    public void tlsVersionAndCertificateDays() throws Exception {
        String url = TestServers.url(servers.signed, "https", "/");
        String ca = servers.caPem.toString();
        HttpGetResult r = probe(url, 5000, "ca_file", ca, "tls_versions", "TLSv1.2");
        assertEquals(FailureReason.TLS, r.failureReason());
        assertEquals("tls_versions: TLSv1.3 was negotiated, not one of [TLSv1.2]", r.errorMessage());
        assertTrue(probe(url, 5000, "ca_file", ca, "tls_versions", "TLSv1.2, TLSv1.3").isSuccessful());
        // the leaf has 19-20 days left
        assertTrue(probe(url, 5000, "ca_file", ca, "min_cert_days", "10").isSuccessful());
        HttpGetResult soon = probe(url, 5000, "ca_file", ca, "min_cert_days", "30");
        assertEquals(FailureReason.TLS, soon.failureReason());
        assertTrue(soon.errorMessage(), soon.errorMessage().startsWith("min_cert_days: the chain's earliest certificate expires ")
                && soon.errorMessage().endsWith(" days left), fewer than 30"));
    }

    @Test
    public void aClientCertificateForAServerThatAsksForOne() throws Exception {
        String url = TestServers.url(servers.mutual, "https", "/");
        String ca = servers.caPem.toString();
        HttpGetResult without = probe(url, 5000, "ca_file", ca);
        assertTrue(without.failureReason() == FailureReason.TLS || without.failureReason() == FailureReason.ERROR);
        HttpGetResult with = probe(url, 5000, "ca_file", ca, "cert_file", servers.clientCertPem.toString(), "key_file",
                servers.clientKeyPem.toString());
        assertNull(with.errorMessage(), with.failureReason());
        assertEquals(200, with.statusCode());
    }

    @Test
    public void aClientKeyTheProberCannotUseIsNamedBeforeAnyProbe() throws Exception {
        String cert = servers.clientCertPem.toString();
        java.nio.file.Path rsa = java.nio.file.Files.writeString(servers.dir.resolve("rsa.key"),
                "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");
        java.nio.file.Path encrypted = java.nio.file.Files.writeString(servers.dir.resolve("enc.key"),
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n");
        java.nio.file.Path rsaPkcs8 = java.nio.file.Files.writeString(servers.dir.resolve("rsa8.key"), "-----BEGIN PRIVATE KEY-----\n"
                + java.util.Base64.getMimeEncoder().encodeToString(java.security.KeyPairGenerator.getInstance("RSA").generateKeyPair()
                        .getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n");
        assertEquals("[key 'key_file': key_file " + rsa + " holds no PKCS #8 key (BEGIN PRIVATE KEY); openssl pkcs8"
                + " -topk8 -nocrypt converts this one]", prober.check(target(cert, rsa.toString())).toString());
        assertEquals("[key 'key_file': key_file " + encrypted + " is encrypted; a probe cannot ask for its pass phrase"
                + " (openssl pkcs8 -topk8 -nocrypt writes it unencrypted)]", prober.check(target(cert, encrypted.toString())).toString());
        String mismatch = prober.check(target(cert, rsaPkcs8.toString())).toString();
        assertTrue(mismatch, mismatch.startsWith("[key 'key_file': key_file " + rsaPkcs8 + " holds no key of the"
                + " algorithm of cert_file's certificate (EC): "));
        assertEquals("[]", prober.check(target(cert, servers.clientKeyPem.toString())).toString());
    }

    private static Target target(String cert, String key) {
        return new Target("t", "http", "https://127.0.0.1/", 0, Duration.ofSeconds(10), Duration.ofSeconds(1), Set.of(),
                Map.of("cert_file", cert, "key_file", key), "test");
    }

    @Test
    public void serverNameOverridesTheNameSentAndChecked() throws Exception {
        // the certificate names probe.test only: reached at 127.0.0.1, it is taken when server_name says probe.test
        String url = TestServers.url(servers.named, "https", "/");
        String ca = servers.caPem.toString();
        HttpGetResult byAddress = probe(url, 5000, "ca_file", ca);
        assertEquals(FailureReason.TLS, byAddress.failureReason());
        assertTrue(byAddress.errorMessage(), byAddress.errorMessage().contains("does not name the host"));
        HttpGetResult named = probe(url, 5000, "ca_file", ca, "server_name", "probe.test");
        assertNull(named.errorMessage(), named.failureReason());
        assertEquals(FailureReason.TLS, probe(url, 5000, "ca_file", ca, "server_name", "other.test").failureReason());
    }

    @Test
    public void theRequestComesFromTheSourceAddress() throws Exception {
        assertTrue(probe(plain("/echo"), 2000, "source_address", "127.0.0.5", "dscp", "AF21", "body_regex", "^from=127\\.0\\.0\\.5 ")
                .isSuccessful());
        HttpGetResult foreign = probe(plain("/echo"), 2000, "source_address", "198.18.250.1");
        assertEquals(FailureReason.ERROR, foreign.failureReason());
        assertTrue(foreign.errorMessage(), foreign.errorMessage().startsWith(
                "the source address (source_address or source_interface) cannot be used"));
    }
}
