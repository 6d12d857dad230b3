package io.sonde.e2e;

import static io.sonde.e2e.AgentProcess.value;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import org.junit.After;
import org.junit.Test;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

/**
 * A kind the server has never seen, hot-deployed into an agent connected to a running server:
 * the tls plugin's jar dropped into plugins/ of an agent that started without it. With no server
 * setting touched, its results are stored (every one the target saw, none refused or dropped),
 * its kind and result schema are listed, its own families are in the agent's /metrics, a
 * certificate-expiry rule fires on it by the role its schema gives, the dashboard charts it in
 * Chromium, and sonde-cli probes it.
 */
public class NewKindIT {

    private static final String TLS_JAR = "plugins/io.sonde.plugin.tls.jar";

    private ServerProcess server;
    private AgentProcess agent;
    private Browser browser;
    private TlsTarget target;
    private Path keys;

    @After
    public void stop() throws Exception {
        if (browser != null) {
            browser.close();
        }
        if (agent != null) {
            agent.close();
        }
        if (server != null) {
            server.close();
        }
        if (target != null) {
            target.close();
        }
        if (keys != null) {
            AgentProcess.run("rm", "-rf", keys.toString());
        }
    }

    @Test
    public void aKindDroppedIntoAConnectedAgentIsStoredListedCountedAlertedAndCharted() throws Exception {
        keys = Files.createTempDirectory("sonde-e2e-tls");
        target = new TlsTarget(keys);
        server = ServerProcess.start("alert_eval_s = 2\n");
        ok(server.admin("PUT", "/api/v1/users/vera", "{\"password\": \"a viewer's password\", \"role\": \"viewer\"}"));
        // defined before any agent runs the kind: taken, with a warning that no agent announced it
        HttpResponse<String> put = server.admin("PUT", "/api/v1/targets/secure", "{\"kind\": \"tls\", \"host\": \"127.0.0.1\", \"port\": "
                + target.port() + ", \"interval_ms\": 500, \"timeout_ms\": 450, \"insecure_skip_verify\": \"true\", \"agents\": \"*\"}");
        assertEquals(put.body(), 201, put.statusCode());
        ok(server.admin("PUT", "/api/v1/alert-rules/secure-cert", "{\"type\": \"tls_expiry\", \"target\": \"secure\", \"threshold\": 60,"
                + " \"for\": \"1s\"}"));
        // a threshold on a value only this kind has: the handshake's own phase, in seconds (a loopback handshake takes far less)
        ok(server.admin("PUT", "/api/v1/alert-rules/secure-slow", "{\"type\": \"value\", \"target\": \"secure\", \"value\": \"phases.handshake\","
                + " \"threshold\": 5, \"for\": \"1s\"}"));
        ok(server.admin("PUT", "/api/v1/alert-rules/secure-unverified", "{\"type\": \"value\", \"target\": \"secure\", \"value\": \"verified\","
                + " \"threshold\": 1, \"below\": true, \"for\": \"1s\"}"));
        String token = server.enrollmentToken("{\"tags\": [\"lab\"]}");
        agent = AgentProcess.startWithout(Map.of("etc/io.sonde.agent.cfg", "agent_id = a1\n",
                "etc/io.sonde.uplink.cfg", server.uplinkConfig(token, "config_poll_s = 1\n")), TLS_JAR);

        // the agent runs, announces its kinds, and holds the target it has no plugin for, saying so once
        await("the agent's kinds at the server", 60, () -> kinds().has("tcp"));
        assertTrue(kinds().toString(), !kinds().has("tls"));
        String held = agent.awaitLogLine("target 'secure' waits: no installed plugin provides kind 'tls'");
        assertTrue(held, held.contains("installed: ") && held.contains("tcp"));
        assertEquals(0, target.connections.get());

        // the plugin is dropped in, as an operator copies it
        Path staged = agent.home.resolve("plugins/.tls.jar.part");
        Files.copy(AgentProcess.distribution().resolve(TLS_JAR), staged);
        Files.move(staged, agent.home.resolve(TLS_JAR), StandardCopyOption.ATOMIC_MOVE);

        // stored
        await("results of the new kind stored", 60, () -> server.results("a1", "secure").size() >= 10);
        JsonObject first = server.results("a1", "secure").get(0);
        assertEquals("tls", first.get("kind").getAsString());
        assertTrue(first.toString(), first.get("success").getAsBoolean());
        JsonObject details = first.getAsJsonObject("details");
        assertEquals("TLSv1.3", details.get("protocol").getAsString());
        assertEquals("CN=sonde-e2e", details.get("leaf_subject").getAsString());
        assertTrue(details.toString(), details.has("cert_expiry") && details.getAsJsonObject("phases").has("handshake"));
        assertTrue("what stays on the agent is not sent: " + details, !details.has("protocol_go") && !details.has("verified_chain_expiry"));

        // every prober announces the schema its results carry (else the scheduler says so)
        assertEquals(agent.log(), 0, agent.countLogLines("announces a result schema"));

        // listed, with its result schema
        JsonObject tls = kinds().getAsJsonObject("tls");
        assertEquals(List.of("a1"), List.of(tls.getAsJsonArray("agents").get(0).getAsString()));
        String roles = tls.getAsJsonObject("results").getAsJsonArray("values").toString();
        assertTrue(roles, roles.contains("\"name\":\"cert_expiry\"") && roles.contains("\"role\":\"CERT_EXPIRY\""));

        // counted: the kind's own families in the agent's /metrics
        String m = agent.awaitMetrics(p -> value(p, "probe_tls_verified{target=\"secure\",kind=\"tls\"}") == 0.0);
        assertTrue(m, m.contains("probe_tls_info{target=\"secure\",kind=\"tls\",version=\"TLSv1.3\",cipher=\"TLS_"));
        double leaf = value(m, "probe_tls_cert_expiry_timestamp_seconds{target=\"secure\",kind=\"tls\",cert=\"leaf\"}");
        double in30days = System.currentTimeMillis() / 1000.0 + 30 * 86400;
        assertTrue(leaf + " is about 30 days ahead", Math.abs(leaf - in30days) < 2 * 86400);
        assertTrue(m, value(m, "probe_tls_duration_seconds{target=\"secure\",kind=\"tls\",phase=\"handshake\"}") > 0);
        AgentProcess.promtool(m);

        // alerted: 30 days left, the rule says 60
        await("the certificate-expiry rule firing on the new kind", 60, () -> {
            JsonObject a = alert("secure-cert");
            return a != null && "firing".equals(a.get("state").getAsString());
        });
        assertTrue(alert("secure-cert").toString(), alert("secure-cert").toString().contains("days"));
        await("the value rule on the chain's verification firing (insecure_skip_verify: not verified)", 60, () -> {
            JsonObject a = alert("secure-unverified");
            return a != null && "firing".equals(a.get("state").getAsString());
        });
        JsonObject slow = alert("secure-slow");
        assertTrue("a fast handshake does not fire: " + slow, slow == null || !"firing".equals(slow.get("state").getAsString()));

        // a series of any value of the kind
        JsonObject series = server.json(server.admin("GET", "/api/v1/series?target=secure&value=phases.handshake&step=10s&from="
                + java.time.Instant.now().minusSeconds(600), null));
        long counted = 0;
        for (JsonElement e : series.getAsJsonArray("items")) {
            JsonObject step = e.getAsJsonObject();
            counted += step.get("count").getAsLong();
            assertTrue(step.toString(), step.get("p50").getAsDouble() > 0 && step.get("p50").getAsDouble() < 5);
        }
        assertTrue(series.toString(), counted >= 10);
        HttpResponse<String> badValue = server.admin("GET", "/api/v1/series?target=secure&value=Not%20A%20Name", null);
        assertEquals(badValue.body(), 400, badValue.statusCode());
        assertTrue(badValue.body(), badValue.body().contains("is not a value's name"));

        // charted
        browser = Browser.start();
        browser.logIn(server.url(), "vera", "a viewer's password");
        browser.eval("location.hash = '#/target/secure?range=1h'; true");
        browser.await("the new kind's charts", 30, "window.__sonde.view === 'target'"
                + " && window.__sonde.charts.some((c) => c.target === 'secure' && c.points > 0)");
        assertEquals("tls from a1", browser.text("document.getElementById('target-name').nextElementSibling.textContent"));
        // what the kind measures beyond latency, drawn from its roles and types: its phases over time, its last values
        browser.await("the new kind's phases chart", 30, "window.__sonde.charts.some((c) => c.kind === 'phases' && c.target === 'secure'"
                + " && c.phases === 2 && c.points > 1)");
        assertEquals("TLSv1.3", browser.text("document.querySelector('table.last-values tr[data-value=\"protocol\"] td').textContent"));
        String expiry = browser.text("document.querySelector('table.last-values tr[data-value=\"cert_expiry\"] td').textContent");
        assertTrue(expiry, expiry.matches(".*\\(in (29|30)\\.\\d days\\)"));
        assertEquals("CN=sonde-e2e", browser.text("document.querySelector('table.last-values tr[data-value=\"leaf_subject\"] td').textContent"));
        browser.screenshot(DashboardIT.SHOTS.resolve("new-kind-target.png"));

        // sonde-cli probe knows it from the same plugins
        CliIT.Run cli = CliIT.cli(agent.home, "probe", "tls", "127.0.0.1", "--port", Integer.toString(target.port()), "--set",
                "insecure_skip_verify=true", "-c", "2", "-i", "3000", "-t", "3000"); // a cold JVM's first TLS handshake can take longer than 200 ms
        assertEquals(cli.out(), 0, cli.exit());
        assertTrue(cli.out(), cli.out().contains("certificate until "));

        // nothing refused or dropped: every handshake the target completed is a stored successful result, less
        // only what the withdrawal explains (a probe in flight then is dropped by design) and results the
        // scheduler timed out after the server's side of the handshake had ended
        ok(server.admin("DELETE", "/api/v1/targets/secure", null));
        await("the agent no longer probing the withdrawn target", 60, () -> {
            int before = target.connections.get();
            Thread.sleep(1500); // three intervals of the target: proving that nothing happens takes waiting
            return target.connections.get() == before;
        });
        int handshakes = target.handshakes.get() - 2; // sonde-cli's two
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        List<JsonObject> all = server.results("a1", "secure");
        while (System.nanoTime() < end && successes(all) < handshakes) {
            Thread.sleep(500);
            all = server.results("a1", "secure");
        }
        long stored = successes(all);
        long timeouts = all.stream().filter(r -> r.has("failure_reason") && !r.get("failure_reason").isJsonNull()
                && r.get("failure_reason").getAsString().equals("timeout")).count();
        System.out.println("FIGURE new kind: " + stored + " successes stored of " + handshakes + " handshakes the target completed ("
                + target.connections.get() + " connections), " + timeouts + " timeouts, " + all.size() + " results");
        assertTrue(stored + " stored, " + handshakes + " handshakes: never more", stored <= handshakes);
        assertTrue("missing " + (handshakes - stored) + " > 1 in flight at the withdrawal + " + timeouts + " timeouts",
                handshakes - stored <= 1 + timeouts);
        Thread.sleep(2000); // and nothing was still on its way
        assertEquals(stored, successes(server.results("a1", "secure")));
        String serverMetrics = server.get("/metrics").body();
        for (String reason : List.of("malformed", "too_large", "schema", "invalid")) {
            assertEquals(reason, 0.0, value(serverMetrics, "sonde_server_rejected_batches_total{reason=\"" + reason + "\",}"), 0);
        }
        // and by the numbers: no result the agent numbered is missing at the server
        double gaps = value(serverMetrics, "sonde_server_result_gaps_total{agent=\"a1\",}");
        assertTrue(serverMetrics, Double.isNaN(gaps) || gaps == 0); // an agent without gaps is not listed
        String agentMetrics = agent.metrics();
        for (String reason : List.of("age", "corrupt", "crash", "full", "rejected")) {
            assertEquals(reason, 0.0, value(agentMetrics, "sonde_spool_dropped_total{reason=\"" + reason + "\",}"), 0);
        }
    }

    private static long successes(List<JsonObject> results) {
        return results.stream().filter(r -> r.get("success").getAsBoolean()).count();
    }

    private JsonObject kinds() throws Exception {
        JsonObject out = new JsonObject();
        for (JsonElement e : server.json(server.admin("GET", "/api/v1/kinds", null)).getAsJsonArray("items")) {
            out.add(e.getAsJsonObject().get("kind").getAsString(), e);
        }
        return out;
    }

    private JsonObject alert(String rule) throws Exception {
        for (JsonElement e : server.json(server.admin("GET", "/api/v1/alerts", null)).getAsJsonArray("items")) {
            if (e.getAsJsonObject().get("rule").getAsString().equals(rule)) {
                return e.getAsJsonObject();
            }
        }
        return null;
    }

    static void ok(HttpResponse<String> r) {
        assertTrue(r.statusCode() + " " + r.body(), r.statusCode() / 100 == 2);
    }

    interface Check {
        boolean holds() throws Exception;
    }

    /** Waits for {@code check}, a quarter of a second at a time, at most {@code seconds}. */
    static void await(String what, int seconds, Check check) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            if (check.holds()) {
                return;
            }
            Thread.sleep(250);
        }
        throw new AssertionError(what + " within " + seconds + " s");
    }

    /** A TLS server on 127.0.0.1 with a 30-day certificate keytool made; counts the connections it accepts and the handshakes it completes (the ground truth). */
    static final class TlsTarget implements AutoCloseable {
        final AtomicInteger connections = new AtomicInteger();
        final AtomicInteger handshakes = new AtomicInteger();
        private final ServerSocket socket;
        private final SSLContext context;

        TlsTarget(Path dir) throws Exception {
            Path ks = dir.resolve("tls.p12");
            String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
            AgentProcess.run(keytool, "-genkeypair", "-alias", "s", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=sonde-e2e",
                    "-ext", "SAN=ip:127.0.0.1", "-validity", "30", "-keystore", ks.toString(), "-storetype", "PKCS12", "-storepass", "changeit");
            KeyStore store = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(ks)) {
                store.load(in, "changeit".toCharArray());
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(store, "changeit".toCharArray());
            context = SSLContext.getInstance("TLS");
            context.init(kmf.getKeyManagers(), null, null);
            socket = new ServerSocket(0, 100, InetAddress.getLoopbackAddress());
            Thread t = new Thread(this::accept, "e2e-tls-target");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        private void accept() {
            while (!socket.isClosed()) {
                try {
                    Socket s = socket.accept();
                    connections.incrementAndGet();
                    Thread t = new Thread(() -> serve(s), "e2e-tls-conn");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void serve(Socket s) {
            try (s) {
                s.setSoTimeout(10_000);
                SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(s, null, s.getPort(), true);
                tls.setUseClientMode(false);
                tls.startHandshake();
                handshakes.incrementAndGet();
                tls.getInputStream().read();
            } catch (IOException e) {
                // the prober closes after its handshake
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
