package io.sonde.plugin.websocket.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandler;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import io.sonde.api.FailureReason;
import io.sonde.api.MeasuredResult;
import io.sonde.api.Target;

/** Against Jetty's own WebSocket server on 127.0.0.1, plain and with TLS (a key keytool makes). */
public class WebSocketProberTest {

    private static Server server;
    private static int port;
    private static int tlsPort;
    private static Path dir;
    private static final AtomicInteger opened = new AtomicInteger();
    private static final WebSocketProber PROBER = new WebSocketProber();

    /** Echoes every text; on "close me" closes without an answer; "shout" answers in capitals. */
    public static final class Echo implements Session.Listener.AutoDemanding {
        private Session session;

        @Override
        public void onWebSocketOpen(Session s) {
            session = s;
            opened.incrementAndGet();
        }

        @Override
        public void onWebSocketText(String message) {
            if (message.equals("close me")) {
                session.close(1001, "going away", Callback.NOOP);
            } else {
                session.sendText(message.equals("shout") ? "SHOUT" : message, Callback.NOOP);
            }
        }
    }

    @BeforeClass
    public static void start() throws Exception {
        dir = Files.createTempDirectory("sonde-ws-test");
        Path ks = dir.resolve("ws.p12");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-genkeypair", "-alias", "s",
                "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=ws.sonde.test", "-ext", "SAN=ip:127.0.0.1", "-validity", "30",
                "-keystore", ks.toString(), "-storetype", "PKCS12", "-storepass", "changeit").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(out, p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0);
        server = new Server();
        ServerConnector plain = new ServerConnector(server);
        plain.setHost("127.0.0.1");
        SslContextFactory.Server tls = new SslContextFactory.Server();
        tls.setKeyStorePath(ks.toString());
        tls.setKeyStorePassword("changeit");
        tls.setKeyStoreType("PKCS12");
        ServerConnector secure = new ServerConnector(server, tls);
        secure.setHost("127.0.0.1");
        server.addConnector(plain);
        server.addConnector(secure);
        ContextHandler context = new ContextHandler("/");
        WebSocketUpgradeHandler ws = WebSocketUpgradeHandler.from(server, context, container -> container.addMapping("/echo",
                (request, response, callback) -> {
                    if (request.getSubProtocols().contains("sonde.v1")) {
                        response.setAcceptedSubProtocol("sonde.v1");
                    }
                    return new Echo();
                }));
        context.setHandler(ws);
        server.setHandler(context);
        server.start();
        port = plain.getLocalPort();
        tlsPort = secure.getLocalPort();
    }

    @AfterClass
    public static void stop() throws Exception {
        server.stop();
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
        }
        Files.delete(dir);
    }

    private static Target target(String url, String... options) {
        Map<String, String> o = new HashMap<>();
        for (int i = 0; i < options.length; i += 2) {
            o.put(options[i], options[i + 1]);
        }
        return new Target("w", "websocket", url, 0, Duration.ofSeconds(10), Duration.ofSeconds(3), Set.of(), o, "test");
    }

    private static MeasuredResult probe(Target t) throws Exception {
        assertEquals(List.of(), WebSocketProber.SCHEMA.problems("websocket", t.options()));
        assertEquals(List.of(), PROBER.check(t));
        return PROBER.probe(t).toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Duration> phases(MeasuredResult r) {
        return (Map<String, Duration>) r.values().get("phases");
    }

    @Test
    public void anEchoRoundTripIsTimedPhaseByPhase() throws Exception {
        int before = opened.get();
        MeasuredResult r = probe(target("ws://127.0.0.1:" + port + "/echo"));
        assertNull(r.errorMessage(), r.failureReason());
        assertEquals(List.of("open", "echo"), List.copyOf(phases(r).keySet()));
        assertTrue(phases(r).get("echo").toNanos() > 0);
        assertEquals(22, r.values().get("reply_bytes")); // "sonde " and a 16-digit hex nonce
        assertEquals(before + 1, opened.get());
        assertFalse(r.values().containsKey("subprotocol"));
        for (String name : r.values().keySet()) {
            assertTrue(name + " is declared", r.schema().value(name).isPresent());
        }
    }

    @Test
    public void aMessageAnExpectationASubprotocolAndTheUpgradeAlone() throws Exception {
        MeasuredResult shout = probe(target("ws://127.0.0.1:" + port + "/echo", "message", "shout", "expect", "^SHOUT$",
                "subprotocol", "sonde.v1", "header.X-Probe", "sonde"));
        assertNull(shout.errorMessage(), shout.failureReason());
        assertEquals("sonde.v1", shout.values().get("subprotocol"));
        assertEquals(5, shout.values().get("reply_bytes"));
        MeasuredResult notEcho = probe(target("ws://127.0.0.1:" + port + "/echo", "message", "shout"));
        assertEquals(FailureReason.BODY_MISMATCH, notEcho.failureReason());
        assertEquals("the answer 'SHOUT' is not the message sent", notEcho.errorMessage());
        MeasuredResult upgradeOnly = probe(target("ws://127.0.0.1:" + port + "/echo", "echo", "false"));
        assertNull(upgradeOnly.errorMessage(), upgradeOnly.failureReason());
        assertEquals(List.of("open"), List.copyOf(phases(upgradeOnly).keySet()));
    }

    @Test
    public void refusedUpgradesPortsAndSilencesAreNamed() throws Exception {
        MeasuredResult notFound = probe(target("ws://127.0.0.1:" + port + "/nothing-here"));
        assertEquals(FailureReason.STATUS, notFound.failureReason());
        assertEquals(404, notFound.values().get("status_code"));
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        MeasuredResult refused = probe(target("ws://127.0.0.1:" + closed + "/echo"));
        assertEquals(refused.errorMessage(), FailureReason.REFUSED, refused.failureReason());
        MeasuredResult hungUp = probe(target("ws://127.0.0.1:" + port + "/echo", "message", "close me"));
        assertEquals(FailureReason.ERROR, hungUp.failureReason());
        assertTrue(hungUp.errorMessage(), hungUp.errorMessage().contains("closed the socket (1001 going away) without an answer"));
        try (ServerSocket silent = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Target t = new Target("w", "websocket", "ws://127.0.0.1:" + silent.getLocalPort() + "/echo", 0, Duration.ofSeconds(10),
                    Duration.ofMillis(700), Set.of(), Map.of(), "test");
            MeasuredResult r = PROBER.probe(t).toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertEquals(r.errorMessage(), FailureReason.TIMEOUT, r.failureReason());
            assertEquals("no upgrade within 700 ms", r.errorMessage());
        }
        MeasuredResult header = probe(target("ws://127.0.0.1:" + port + "/echo", "header.Upgrade", "h2c"));
        assertEquals(FailureReason.ERROR, header.failureReason());
        assertTrue(header.errorMessage(), header.errorMessage().startsWith("a header the upgrade cannot carry"));
    }

    @Test
    public void wssVerifiesTheServerUnlessToldNotTo() throws Exception {
        MeasuredResult untrusted = probe(target("wss://127.0.0.1:" + tlsPort + "/echo"));
        assertEquals(untrusted.errorMessage(), FailureReason.TLS, untrusted.failureReason());
        Path notPem = dir.resolve("not.pem");
        Files.writeString(notPem, "not a certificate\n");
        MeasuredResult badCa = probe(target("wss://127.0.0.1:" + tlsPort + "/echo", "ca_file", notPem.toString()));
        assertEquals(FailureReason.TLS, badCa.failureReason());
        assertTrue(badCa.errorMessage(), badCa.errorMessage().startsWith("ca_file " + notPem + " cannot be used"));
        MeasuredResult skipped = probe(target("wss://127.0.0.1:" + tlsPort + "/echo", "insecure_skip_verify", "true"));
        assertNull(skipped.errorMessage(), skipped.failureReason());
        assertTrue(phases(skipped).containsKey("echo"));
    }

    @Test
    public void onlyWsAndWssUrlsAreTaken() {
        assertEquals("'http://127.0.0.1/echo' is not a ws:// or wss:// URL", WebSocketProber.urlProblem("http://127.0.0.1/echo"));
        assertEquals("'ws:///echo' has no host", WebSocketProber.urlProblem("ws:///echo"));
        assertNull(WebSocketProber.urlProblem("wss://ws.sonde.test/echo"));
    }
}
