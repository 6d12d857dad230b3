package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

/**
 * The built agent against a server that answers its configuration requests badly: garbage, a
 * document for another agent, a newer schema, too many entries, a cut gzip body, a 500. Each is
 * refused whole with a log line naming what is wrong and counted, the document in force stays and
 * keeps being probed, the next good one is applied, and what the agent refused of it reaches the
 * server with its status. The server here is a small HTTPS server of the test's own (the JDK's),
 * with a self-signed certificate the agent trusts through {@code server_ca_file}.
 */
public class ConfigDocumentFaultsIT {

    private Path dir;
    private HttpsServer server;
    private AgentProcess agent;
    /** What /config answers now: status, body, headers (name, value in turn). */
    private volatile Answer answer = new Answer(404, "{\"error\":\"no document yet\"}".getBytes(StandardCharsets.UTF_8));
    private final List<JsonObject> statuses = new CopyOnWriteArrayList<>();

    record Answer(int status, byte[] body, String... headers) {
    }

    @Before
    public void start() throws Exception {
        dir = Files.createTempDirectory("sonde-fake-server-");
        Path ks = dir.resolve("server.p12");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        AgentProcess.output(0, keytool, "-genkeypair", "-keystore", ks.toString(), "-storetype", "PKCS12", "-storepass", "changeit",
                "-alias", "s", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=fake sonde server", "-ext", "san=ip:127.0.0.1",
                "-validity", "2");
        AgentProcess.output(0, keytool, "-exportcert", "-rfc", "-alias", "s", "-keystore", ks.toString(), "-storepass", "changeit",
                "-file", dir.resolve("ca.pem").toString());
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(ks)) {
            store.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, "changeit".toCharArray());
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(kmf.getKeyManagers(), null, null);
        server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
        server.setHttpsConfigurator(new HttpsConfigurator(tls));
        server.createContext("/", this::handle);
        server.start();
    }

    @After
    public void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        server.stop(0);
        AgentProcess.run("rm", "-rf", dir.toString());
    }

    private void handle(HttpExchange x) throws IOException {
        try (x) {
            String path = x.getRequestURI().getPath();
            byte[] body = x.getRequestBody().readAllBytes();
            if (path.equals("/api/v1/enroll")) {
                reply(x, 200, "{\"schema\":1,\"agent_id\":\"faults\",\"credential\":\"c-123\",\"tags\":[]}".getBytes(StandardCharsets.UTF_8));
            } else if (path.equals("/api/v1/agents/faults/status")) {
                statuses.add(JsonParser.parseString(new String(body, StandardCharsets.UTF_8)).getAsJsonObject());
                x.sendResponseHeaders(204, -1);
            } else if (path.equals("/api/v1/agents/faults/results")) {
                JsonObject batch = JsonParser.parseString(new String(new GZIPInputStream(new java.io.ByteArrayInputStream(body))
                        .readAllBytes(), StandardCharsets.UTF_8)).getAsJsonObject();
                reply(x, 200, ("{\"schema\":1,\"accepted\":" + batch.getAsJsonArray("results").size() + ",\"duplicates\":0}")
                        .getBytes(StandardCharsets.UTF_8));
            } else if (path.equals("/api/v1/agents/faults/config")) {
                Answer a = answer;
                for (int i = 0; i + 1 < a.headers().length; i += 2) {
                    x.getResponseHeaders().add(a.headers()[i], a.headers()[i + 1]);
                }
                reply(x, a.status(), a.body());
            } else {
                reply(x, 404, "{\"error\":\"no such resource\"}".getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    private static void reply(HttpExchange x, int status, byte[] body) throws IOException {
        x.getResponseHeaders().add("Content-Type", "application/json");
        x.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            x.getResponseBody().write(body);
        }
    }

    static String doc(String agentId, String version, String targets) {
        return "{\"schema\":1,\"agent_id\":\"" + agentId + "\",\"version\":\"" + version + "\",\"targets\":[" + targets + "],\"meshes\":[]}";
    }

    static String tcp(String name, int port) {
        return "{\"name\":\"" + name + "\",\"kind\":\"tcp\",\"host\":\"127.0.0.1\",\"port\":" + port + ",\"interval_ms\":200,\"timeout_ms\":100}";
    }

    void serve(int status, String body, String... headers) {
        answer = new Answer(status, body.getBytes(StandardCharsets.UTF_8), headers);
    }

    /** Serves {@code body} and waits for the agent to refuse it, with a log line naming why. */
    void refused(String why, double refusedBefore) throws Exception {
        agent.awaitLogLine("the server's configuration document is refused, the one in force stays (v1)", why);
        agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_config_refused_total") > refusedBefore);
    }

    @Test
    public void everyBadDocumentIsRefusedWholeTheGoodOneStaysAndTheNextGoodOneIsApplied() throws Exception {
        Map<String, String> files = Map.of(
                "etc/io.sonde.agent.cfg", "agent_id = faults\n",
                "etc/io.sonde.uplink.cfg", "server_url = https://127.0.0.1:" + server.getAddress().getPort() + "\nenrollment_token = t\n"
                        + "server_ca_file = " + dir.resolve("ca.pem") + "\nconfig_poll_s = 1\nstatus_interval_s = 2\n");
        agent = AgentProcess.start(files);
        int open = agent.openPort();
        serve(200, doc("faults", "v1", tcp("good", open)), "ETag", "\"v1\"");
        agent.awaitMetrics(m -> AgentProcess.value(m, "probe_success{target=\"good\",kind=\"tcp\"}") == 1
                && AgentProcess.value(m, "sonde_config_source{source=\"server\"") == 1);

        double refused = 0;
        String[][] bad = {
            {"<html><body>502 Bad Gateway</body></html>", "malformed JSON at line 1 column 1 path $"},
            {doc("someone-else", "v9", tcp("evil", 1)), "the document is for agent 'someone-else', not for this agent ('faults')"},
            {"{\"schema\":2,\"agent_id\":\"faults\",\"version\":\"v9\",\"targets\":[]}", "schema 2 is newer than this side speaks"},
            {"{\"schema\":1,\"agent_id\":\"faults\",\"targets\":[]}", "the document has no version"},
            {"{\"schema\":1,\"agent_id\":\"faults\",\"version\":\"v9\",\"targets\":{\"good\":{}}}", "targets: must be a list"},
        };
        for (String[] b : bad) {
            serve(200, b[0]);
            refused(b[1], refused);
            refused = AgentProcess.value(agent.metrics(), "sonde_uplink_config_refused_total");
        }
        StringBuilder many = new StringBuilder();
        for (int i = 0; i <= 60_000; i++) {
            many.append(i == 0 ? "" : ",").append("{\"name\":\"t").append(i).append("\"}");
        }
        serve(200, doc("faults", "v9", many.toString()));
        refused("targets: 60001 entries, more than an agent takes (60000)", refused);
        refused = AgentProcess.value(agent.metrics(), "sonde_uplink_config_refused_total");
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
            out.write(doc("faults", "v9", tcp("cut", 1)).getBytes(StandardCharsets.UTF_8));
        }
        byte[] cut = java.util.Arrays.copyOf(gz.toByteArray(), gz.size() / 2);
        answer = new Answer(200, cut, "Content-Encoding", "gzip");
        refused("the body ends early (truncated gzip)", refused);
        serve(500, "{\"error\":\"the store is on fire\"}");
        agent.awaitLogLine("the server answered 500 for this agent's configuration document: the store is on fire");

        // through all of it: the good document stayed, probed all along
        String m = agent.metrics();
        assertEquals(1.0, AgentProcess.value(m, "probe_success{target=\"good\",kind=\"tcp\"}"), 0);
        assertTrue(m, !m.contains("target=\"evil\"") && !m.contains("target=\"cut\""));
        assertTrue(agent.alive());

        // the next good one is applied; what it refuses of it goes to the server with the status
        serve(200, doc("faults", "v2", tcp("good", open) + "," + tcp("second", open)
                + ",{\"name\":\"odd\",\"kind\":\"gopher\",\"host\":\"127.0.0.1\"}"));
        agent.awaitMetrics(x -> AgentProcess.value(x, "probe_success{target=\"second\",kind=\"tcp\"}") == 1);
        JsonObject status = null;
        for (int i = 0; i < 100 && status == null; i++) {
            for (JsonObject s : statuses) {
                if (s.has("config_version") && s.get("config_version").getAsString().equals("v2")) {
                    status = s;
                }
            }
            Thread.sleep(100);
        }
        assertTrue("a status with v2: " + statuses, status != null);
        assertEquals("server", status.get("config_source").getAsString());
        assertEquals("odd", status.getAsJsonArray("config_rejected").get(0).getAsJsonObject().get("name").getAsString());
        assertEquals("no_prober: no installed plugin registers probe.type=gopher",
                status.getAsJsonArray("config_rejected").get(0).getAsJsonObject().get("reason").getAsString());

        // started again while the server only fails: the kept v2 at once
        serve(503, "{\"error\":\"starting\"}", "Retry-After", "5");
        agent.kill();
        agent.launch();
        agent.awaitLogLine("Running on the configuration document kept in", "(version v2)");
        agent.awaitMetrics(x -> AgentProcess.value(x, "probe_success{target=\"second\",kind=\"tcp\"}") == 1
                && AgentProcess.value(x, "sonde_config_source{source=\"server-cache\"") == 1);
    }
}
