package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;

import com.google.gson.JsonObject;

/**
 * The built agent against a server that answers its configuration requests badly: garbage, a
 * document for another agent, a newer schema, too many entries, a cut gzip body, a 500. Each is
 * refused whole with a log line naming what is wrong and counted, the document in force stays and
 * keeps being probed, the next good one is applied, and what the agent refused of it reaches the
 * server with its status. The server here is a {@link FakeServer}.
 */
public class ConfigDocumentFaultsIT {

    private FakeServer server;
    private AgentProcess agent;

    @Before
    public void start() throws Exception {
        server = new FakeServer("faults");
    }

    @After
    public void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        server.close();
    }

    static String doc(String agentId, String version, String targets) {
        return "{\"schema\":1,\"agent_id\":\"" + agentId + "\",\"version\":\"" + version + "\",\"targets\":[" + targets + "],\"meshes\":[]}";
    }

    static String tcp(String name, int port) {
        return "{\"name\":\"" + name + "\",\"kind\":\"tcp\",\"host\":\"127.0.0.1\",\"port\":" + port + ",\"interval_ms\":200,\"timeout_ms\":100}";
    }

    void serve(int status, String body, String... headers) {
        server.answer = FakeServer.Answer.json(status, body, headers);
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
                "etc/io.sonde.uplink.cfg", server.uplinkConfig("config_poll_s = 1\nstatus_interval_s = 2\n"));
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
        server.answer = new FakeServer.Answer(200, cut, "Content-Encoding", "gzip");
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
            for (JsonObject s : server.statuses) {
                if (s.has("config_version") && s.get("config_version").getAsString().equals("v2")) {
                    status = s;
                }
            }
            Thread.sleep(100);
        }
        assertTrue("a status with v2: " + server.statuses, status != null);
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
