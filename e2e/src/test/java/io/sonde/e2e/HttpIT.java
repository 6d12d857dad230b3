package io.sonde.e2e;

import static io.sonde.e2e.AgentProcess.value;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import com.sun.net.httpserver.HttpServer;

/** The HTTP plugin in the built agent against a real server on loopback. */
public class HttpIT {

    private static AgentProcess agent;
    private static HttpServer server;
    /** The token the agent reads from its file; it must never show in the agent's log, /status or /metrics. */
    private static final String TOKEN = "secret-" + Long.toHexString(System.nanoTime());
    /** What /api/health says its status is. */
    private static volatile String HEALTH = "UP";

    @BeforeClass
    public static void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
        server.createContext("/", x -> {
            byte[] body = "ok".getBytes(StandardCharsets.UTF_8);
            int status = x.getRequestURI().getPath().equals("/down") ? 503 : 200;
            String auth = x.getRequestHeaders().getFirst("Authorization");
            if (x.getRequestURI().getPath().equals("/api/health")) {
                status = ("Bearer " + TOKEN).equals(auth) ? 200 : 401;
                body = ("{\"status\": \"" + HEALTH + "\", \"checks\": [{\"name\": \"db\"}], \"via\": \""
                        + x.getRequestHeaders().getFirst("Via") + "\"}").getBytes(StandardCharsets.UTF_8);
                x.getResponseHeaders().add("Content-Type", "application/json");
            }
            x.sendResponseHeaders(status, body.length);
            try (OutputStream out = x.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        agent = AgentProcess.start();
    }

    @AfterClass
    public static void stop() throws Exception {
        agent.close();
        server.stop(0);
    }

    @Test
    public void phasesStatusAndFailuresOnMetrics() throws Exception {
        int port = server.getAddress().getPort();
        agent.write("etc/io.sonde.target-web.cfg", "kind = http\nhost = http://127.0.0.1:" + port
                + "/health\ninterval_ms = 500\ntimeout_ms = 400\nbody_regex = ^ok$\n");
        agent.write("etc/io.sonde.target-down.cfg", "kind = http\nhost = http://127.0.0.1:" + port
                + "/down\ninterval_ms = 500\ntimeout_ms = 400\n");
        String m = agent.awaitMetrics(p -> value(p, "probe_success{target=\"web\",kind=\"http\"}") == 1.0
                && value(p, "probe_failure_total{target=\"down\",kind=\"http\",reason=\"status\"}") >= 1);
        assertEquals(200, value(m, "probe_http_status_code{target=\"web\",kind=\"http\"}"), 0);
        assertEquals(503, value(m, "probe_http_status_code{target=\"down\",kind=\"http\"}"), 0);
        assertTrue(m, value(m, "probe_http_duration_seconds{target=\"web\",kind=\"http\",phase=\"connect\"}") > 0);
        assertTrue(m, m.contains("probe_http_duration_seconds{target=\"web\",kind=\"http\",phase=\"processing\"}"));
        for (String name : new String[] {"web", "down"}) {
            Files.delete(agent.home.resolve("etc/io.sonde.target-" + name + ".cfg"));
        }
    }

    /**
     * A target with a bearer token from a file, JSON conditions and a real proxy: up while the
     * document says UP and the request came through tinyproxy, body_mismatch naming the condition
     * when it says DOWN; the token is in no log line, nor in /status or /metrics.
     */
    @Test
    public void authenticatedJsonHealthThroughAProxyAndTheSecretStaysSecret() throws Exception {
        java.nio.file.Path dir = Files.createTempDirectory("sonde-http-proxy-");
        try (Tinyproxy proxy = Tinyproxy.start(dir, AgentProcess.freePort())) {
            java.nio.file.Path token = agent.home.resolve("etc/health.token");
            Files.writeString(token, TOKEN + "\n");
            int port = server.getAddress().getPort();
            agent.write("etc/io.sonde.target-health.cfg", "kind = http\nhost = http://127.0.0.1:" + port + "/api/health\n"
                    + "interval_ms = 1000\ntimeout_ms = 900\nbearer_token_file = " + token + "\nproxy_url = http://127.0.0.1:" + proxy.port
                    + "\nexpect_json = $.status == \"UP\"; $.checks.length() > 0; $.via =~ \"tinyproxy\"\n"
                    + "expect_header.Content-Type = ^application/json\n");
            String health = "probe_success{target=\"health\",kind=\"http\"}";
            agent.awaitMetrics(m -> value(m, health) == 1.0);
            HEALTH = "DOWN";
            String down = agent.awaitMetrics(m -> value(m, "probe_failure_total{target=\"health\",kind=\"http\",reason=\"body_mismatch\"}") >= 1);
            assertEquals(0, value(down, health), 0);
            assertEquals("expect_json: '$.status == \"UP\"' does not hold: the value is \"DOWN\"", lastMessage("health"));
            HEALTH = "UP";
            agent.awaitMetrics(m -> value(m, health) == 1.0);
            for (String where : new String[] {agent.log(), agent.status(), agent.metrics()}) {
                assertTrue("the token leaked", !where.contains(TOKEN));
            }
            // a token file gone: an error naming the file, never its content
            Files.delete(token);
            String gone = agent.awaitMetrics(m -> value(m, "probe_failure_total{target=\"health\",kind=\"http\",reason=\"error\"}") >= 1);
            assertEquals(0, value(gone, health), 0);
            assertEquals("bearer_token_file " + token + " cannot be read: NoSuchFileException", lastMessage("health"));
        } finally {
            Files.deleteIfExists(agent.home.resolve("etc/io.sonde.target-health.cfg"));
            AgentProcess.run("rm", "-rf", dir.toString());
        }
    }

    /** The message of the target's last result, as GET /status gives it. */
    private static String lastMessage(String target) throws Exception {
        com.google.gson.JsonObject status = com.google.gson.JsonParser.parseString(agent.status()).getAsJsonObject();
        com.google.gson.JsonElement m = status.getAsJsonObject("results").getAsJsonObject(target).get("message");
        return m == null || m.isJsonNull() ? null : m.getAsString();
    }
}
