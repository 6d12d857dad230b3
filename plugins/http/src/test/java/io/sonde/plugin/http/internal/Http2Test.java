package io.sonde.plugin.http.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import io.sonde.api.FailureReason;
import io.sonde.api.Target;
import io.sonde.api.TargetProblem;

/**
 * {@code http_version} against a real Jetty speaking HTTP/2 (by ALPN over TLS, by prior knowledge
 * in clear), the server's own count of the protocol each request came in being the ground truth.
 */
public class Http2Test {

    private static TestServers servers;
    private static Http2Server jetty;
    private static HttpProber prober;

    @BeforeClass
    public static void start() throws Exception {
        servers = new TestServers();
        jetty = new Http2Server(servers.dir.resolve("signed.p12"));
        prober = new HttpProber();
    }

    @AfterClass
    public static void stop() throws Exception {
        if (prober != null) {
            prober.deactivate();
        }
        if (jetty != null) {
            jetty.close();
        }
        if (servers != null) {
            servers.close();
        }
    }

    private static Target target(String url, String... options) {
        Map<String, String> o = new HashMap<>();
        o.put("ca_file", servers.caPem.toString());
        for (int i = 0; i < options.length; i += 2) {
            o.put(options[i], options[i + 1]);
        }
        return new Target("web", "http", url, 0, Duration.ofSeconds(10), Duration.ofSeconds(10), Set.of(), o, "test");
    }

    private static HttpGetResult probe(String url, String... options) throws Exception {
        return prober.probe(target(url, options)).toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    private static String tls(String path) {
        return Http2Server.url(jetty.both, "https", path);
    }

    /** {@code body_regex} for a body that is exactly {@code text}: the result keeps no body, the regex checks it. */
    private static String exactly(String text) {
        return "\\A" + java.util.regex.Pattern.quote(text) + "\\z";
    }

    @Test
    public void autoTakesHttp2WhereTlsAgreesToIt() throws Exception {
        int before = jetty.served("HTTP/2.0");
        String echo = "protocol=HTTP/2.0 method=GET authority=127.0.0.1:" + jetty.both.getLocalPort()
                + " agent=Sonde x-test=null authorization=null length=null body=";
        HttpGetResult r = probe(tls("/echo"), "body_regex", exactly(echo));
        assertNull(r.errorMessage(), r.failureReason());
        assertEquals(200, r.statusCode());
        assertEquals("HTTP/2.0", r.httpVersion());
        assertEquals(2.0, (Double) r.values().get("http_version_number"), 0);
        assertEquals(before + 1, jetty.served("HTTP/2.0"));
        assertTrue(r.phases().get("tls").toNanos() > 0);
        assertTrue(r.phases().get("processing").toNanos() > 0);
        assertEquals(echo.length(), r.bodySize());
    }

    @Test
    public void oneOneStaysOnHttp11WhereTheServerOffersBoth() throws Exception {
        int before = jetty.served("HTTP/1.1");
        int h2 = jetty.served("HTTP/2.0");
        HttpGetResult r = probe(tls("/echo"), "http_version", "1.1", "body_regex", "protocol=HTTP/1.1 ");
        assertNull(r.errorMessage(), r.failureReason());
        assertEquals("HTTP/1.1", r.httpVersion());
        assertEquals(before + 1, jetty.served("HTTP/1.1"));
        assertEquals(h2, jetty.served("HTTP/2.0"));
    }

    @Test
    public void twoFailsNamingTheKeyWhereTheServerSpeaksOnlyHttp11() throws Exception {
        HttpGetResult r = probe(TestServers.url(servers.signed, "https", "/"), "http_version", "2");
        assertEquals(FailureReason.ERROR, r.failureReason());
        assertTrue(r.errorMessage(), r.errorMessage().startsWith("http_version 2: 127.0.0.1:" + servers.signed.getAddress().getPort()
                + " did not agree to HTTP/2 in the TLS handshake (ALPN: none)"));
        assertEquals(0, r.statusCode());
    }

    @Test
    public void oneOneFailsTlsWhereTheServerSpeaksOnlyHttp2() throws Exception {
        HttpGetResult r = probe(Http2Server.url(jetty.h2Only, "https", "/echo"), "http_version", "1.1");
        assertEquals(FailureReason.TLS, r.failureReason());
        assertTrue(r.errorMessage(), r.errorMessage().startsWith("TLS with 127.0.0.1:" + jetty.h2Only.getLocalPort() + " failed: "));
        assertTrue(r.errorMessage(), r.errorMessage().endsWith(" (http_version 1.1: only http/1.1 was offered by ALPN)"));
        HttpGetResult auto = probe(Http2Server.url(jetty.h2Only, "https", "/echo"));
        assertNull(auto.errorMessage(), auto.failureReason());
        assertEquals("HTTP/2.0", auto.httpVersion());
    }

    @Test
    public void twoInClearIsPriorKnowledgeAutoInClearIsHttp11() throws Exception {
        int h2 = jetty.served("HTTP/2.0");
        int h1 = jetty.served("HTTP/1.1");
        HttpGetResult r = probe(Http2Server.url(jetty.clear, "http", "/echo"), "http_version", "2", "body_regex",
                "\\Aprotocol=HTTP/2\\.0 method=GET ");
        assertNull(r.errorMessage(), r.failureReason());
        assertEquals("HTTP/2.0", r.httpVersion());
        assertEquals(Duration.ZERO, r.phases().get("tls"));
        HttpGetResult auto = probe(Http2Server.url(jetty.clear, "http", "/echo"));
        assertEquals("HTTP/1.1", auto.httpVersion());
        assertEquals(h2 + 1, jetty.served("HTTP/2.0"));
        assertEquals(h1 + 1, jetty.served("HTTP/1.1"));
    }

    @Test
    public void aPostWithHeadersBodyAndBearerGoesOverHttp2() throws Exception {
        Path token = Files.createTempFile(servers.dir, "token", "");
        Files.writeString(token, "s3cret-token\n");
        HttpGetResult r = probe(tls("/echo"), "method", "POST", "body", "{\"a\": 1}", "header.X-Test", "yes",
                "header.Host", "probe.test:8443", "bearer_token_file", token.toString(), "body_regex",
                exactly("protocol=HTTP/2.0 method=POST authority=probe.test:8443 agent=Sonde x-test=yes "
                        + "authorization=Bearer s3cret-token length=8 body={\"a\": 1}"));
        assertNull(r.errorMessage(), r.failureReason());
        assertEquals("HTTP/2.0", r.httpVersion());
        assertFalse(r.values().toString().contains("s3cret"));
    }

    @Test
    public void aBodyLargerThanTheReceiveWindowArrivesWhole() throws Exception {
        int n = 40 << 20; // well beyond the 16 MiB windows the client opens: it must open them again as it reads
        HttpGetResult r = probe(tls("/big?n=" + n), "http_version", "2");
        assertNull(r.errorMessage(), r.failureReason());
        assertEquals(n, r.bodySize());
        HttpGetResult clear = probe(Http2Server.url(jetty.clear, "http", "/big?n=" + n), "http_version", "2");
        assertNull(clear.errorMessage(), clear.failureReason());
        assertEquals(n, clear.bodySize());
    }

    @Test
    public void aRequestBodyLargerThanThePeersWindowWaitsForItsUpdates() throws Exception {
        Path file = Files.createTempFile(servers.dir, "body", "");
        byte[] bytes = new byte[200_000]; // more than the 65,535 bytes a peer lets in before it opens its window
        java.util.Arrays.fill(bytes, (byte) 'x');
        Files.write(file, bytes);
        HttpGetResult r = probe(tls("/echo"), "method", "PUT", "body_file", file.toString(), "body_regex",
                "\\Aprotocol=HTTP/2\\.0 method=PUT .* length=200000 body=x{200000}\\z");
        assertNull(r.errorMessage(), r.failureReason());
        assertEquals("HTTP/2.0", r.httpVersion());
    }

    /** A server that answers before it took the body (its window stays shut): the answer is read, not waited past. */
    @Test
    public void anAnswerBeforeTheWholeBodyIsTheAnswer() throws Exception {
        Path file = Files.createTempFile(servers.dir, "large", "");
        Files.write(file, new byte[1 << 20]);
        HttpGetResult r = probe(tls("/early"), "method", "PUT", "body_file", file.toString(), "expect_status", "413",
                "body_regex", "\\Atoo large\\z");
        assertNull(r.errorMessage(), r.failureReason());
        assertEquals(413, r.statusCode());
        assertEquals("HTTP/2.0", r.httpVersion());
    }

    @Test
    public void redirectsStatusAndAssertionsWorkOverHttp2() throws Exception {
        HttpGetResult r = probe(tls("/redirect"), "body_regex", "method=GET");
        assertNull(r.errorMessage(), r.failureReason());
        assertEquals(200, r.statusCode());
        HttpGetResult notFound = probe(tls("/status/503"));
        assertEquals(FailureReason.STATUS, notFound.failureReason());
        assertEquals(503, notFound.statusCode());
        HttpGetResult json = probe(tls("/json"), "expect_json", "$.status == \"UP\"; $.items.length() > 1",
                "expect_header", "X-Version: 2\\.1");
        assertNull(json.errorMessage(), json.failureReason());
        HttpGetResult only11 = probe(tls("/json"), "http_versions", "HTTP/1.1");
        assertEquals(FailureReason.BODY_MISMATCH, only11.failureReason());
        assertTrue(only11.errorMessage(), only11.errorMessage().startsWith("http_versions: HTTP/2.0 was answered"));
        HttpGetResult head = probe(tls("/json"), "method", "HEAD");
        assertNull(head.errorMessage(), head.failureReason());
        assertEquals(0, head.bodySize());
    }

    @Test
    public void anHttp11ServerAskedForPriorKnowledgeFailsClearly() throws Exception {
        HttpGetResult r = probe(TestServers.url(servers.plain, "http", "/"), "http_version", "2");
        assertEquals(FailureReason.ERROR, r.failureReason());
        assertTrue(r.errorMessage(), r.errorMessage().contains("http://127.0.0.1:" + servers.plain.getAddress().getPort() + "/"));
    }

    /** A peer that answers the preface with garbage, then with frames cut short: an error naming it, no hang. */
    @Test
    public void garbageAndATruncatedFrameAreErrorsNotHangs() throws Exception {
        for (byte[] answer : List.of("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
                new byte[] {0, 0, 0x40, 4, 0, 0, 0, 0, 0, 0, 3})) {
            try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                Thread t = new Thread(() -> {
                    try (Socket s = ss.accept()) {
                        InputStream in = s.getInputStream();
                        in.readNBytes(24); // the preface
                        OutputStream out = s.getOutputStream();
                        out.write(answer);
                        out.flush();
                        s.shutdownOutput();
                        in.readAllBytes();
                    } catch (java.io.IOException e) {
                        // the probe closed first
                    }
                });
                t.start();
                HttpGetResult r = probe("http://127.0.0.1:" + ss.getLocalPort() + "/", "http_version", "2");
                assertEquals(r.errorMessage(), FailureReason.ERROR, r.failureReason());
                assertTrue(r.errorMessage(), r.errorMessage().contains("http://127.0.0.1:" + ss.getLocalPort() + "/"));
                t.join(10_000);
            }
        }
    }

    @Test
    public void badValuesNameTheKey() {
        assertEquals("[key 'http_version': '3' is not one of auto, 1.1, 2]",
                Request.SCHEMA.problems("http", Map.of("http_version", "3")).toString());
        List<TargetProblem> proxied = Request.problems(target("http://web.test/", "http_version", "2", "proxy_url",
                "http://127.0.0.1:3128"));
        assertEquals(List.of("http_version"), proxied.stream().map(TargetProblem::key).toList());
        assertTrue(proxied.get(0).reason(), proxied.get(0).reason().startsWith("HTTP/2 by prior knowledge does not go through"));
        assertEquals(List.of(), Request.problems(target("http://web.test/", "http_version", "2", "proxy_url",
                "http://127.0.0.1:3128", "no_proxy", "web.test")));
        // a host that is no URL is its own check's to name: this one neither throws nor adds a problem
        assertEquals(List.of(), Request.problems(target("http://bad host/", "http_version", "2", "proxy_url", "http://127.0.0.1:3128")));
        assertEquals(List.of(), Request.problems(target("https://web.test/", "http_version", "2", "proxy_url",
                "http://127.0.0.1:3128")));
    }
}
