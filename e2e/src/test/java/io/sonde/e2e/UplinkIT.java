package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.Test;

import com.google.gson.JsonObject;

/**
 * The agent reports to the server: enrollment through io.sonde.uplink.cfg dropped in live, the
 * agent listed with its tags and version, every result the agent measured stored once, and the
 * uplink taken away and given back live.
 */
public class UplinkIT {

    static String targetCfg(String name, int port, int intervalMs) {
        return "kind = tcp\nhost = 127.0.0.1\nport = " + port + "\ninterval_ms = " + intervalMs + "\ntimeout_ms = "
                + Math.min(1000, intervalMs - 10) + "\n";
    }

    /** @return a targets file of {@code n} tcp targets t0.. on the listener's port, each every {@code intervalMs} */
    static String targetsFile(int n, int port, int intervalMs) {
        StringBuilder targets = new StringBuilder("{\"targets\": [");
        for (int i = 0; i < n; i++) {
            targets.append(i == 0 ? "" : ",").append("{\"name\": \"t").append(i).append("\", \"kind\": \"tcp\", \"host\": \"127.0.0.1\",")
                    .append(" \"port\": ").append(port).append(", \"interval_ms\": ").append(intervalMs)
                    .append(", \"timeout_ms\": ").append(intervalMs - intervalMs / 10).append("}");
        }
        return targets.append("]}").toString();
    }

    /** Waits until the agent's spool is empty and the server has acknowledged everything. */
    static void awaitDrained(AgentProcess agent) throws Exception {
        agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_spool_records ") == 0 && AgentProcess.value(m, "sonde_uplink_up ") == 1);
    }

    /**
     * Once the backlog is nearly sent: stops the agent's targets, waits until the last results are
     * acknowledged, and checks that every (agent, epoch) the server has is whole, once, and at
     * least {@code atLeast} results long in all.
     *
     * @return the epochs the server has of the agent
     */
    static java.util.Set<String> stopAndCheckEverythingArrived(AgentProcess agent, ServerProcess server, String agentId, int atLeast)
            throws Exception {
        agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_spool_records ") < 200 && AgentProcess.value(m, "sonde_uplink_up ") == 1);
        agent.write("etc/io.sonde.agent.cfg", "agent_id = " + agentId + "\n");
        Thread.sleep(2000);
        awaitDrained(agent);
        List<JsonObject> results = server.results(agentId, null);
        // a number is never given twice: what a kill lost (numbered, not yet written) is missing, exactly as the agent counted it
        String m = agent.metrics();
        long lost = 0;
        for (String reason : List.of("full", "age", "corrupt", "rejected", "crash")) {
            lost += (long) AgentProcess.value(m, "sonde_spool_dropped_total{reason=\"" + reason + "\",} ");
        }
        assertIdentitiesAccountedFor(results, lost);
        JsonObject seq = server.json(server.admin("GET", "/api/v1/agents/" + agentId, null)).getAsJsonObject("sequence");
        assertEquals("the server counts the same gaps: " + seq, lost, seq.get("gaps").getAsLong());
        org.junit.Assert.assertTrue("results: " + results.size(), results.size() > atLeast);
        java.util.Set<String> epochs = new java.util.HashSet<>();
        for (JsonObject r : results) {
            epochs.add(r.get("epoch").getAsString());
        }
        return epochs;
    }

    @Test
    public void enrolledAgentDeliversEveryResultItMeasuredOnce() throws Exception {
        try (ServerProcess server = ServerProcess.start("");
                AgentProcess agent = AgentProcess.start();
                CountingListener l1 = new CountingListener();
                CountingListener l2 = new CountingListener();
                CountingListener l3 = new CountingListener()) {
            agent.write("etc/io.sonde.agent.cfg", "agent_id = e2e-a1\ntags = rack1\n");
            String token = server.enrollmentToken("{\"tags\": [\"e2e\", \"site=lab\"], \"agent_tags\": true}");
            agent.write("etc/io.sonde.uplink.cfg", server.uplinkConfig(token, ""));
            agent.awaitLogLine("Enrolled with " + server.url() + " as agent e2e-a1");
            // targets come after the uplink: what is measured before it exists is not for the server
            List<CountingListener> listeners = List.of(l1, l2, l3);
            for (int i = 0; i < 3; i++) {
                agent.write("etc/io.sonde.target-t" + i + ".cfg", targetCfg("t" + i, listeners.get(i).port(), 100 + 50 * i));
            }

            Path credential = agent.home.resolve("data/state/uplink-credential.json");
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(credential)));
            JsonObject a = awaitAgent(server, "e2e-a1");
            assertTrue(a.toString(), a.get("online").getAsBoolean());
            assertTrue(a.toString(), a.get("version").getAsString().startsWith("0.1.0"));
            assertEquals("[\"rack1\",\"e2e\",\"site=lab\"]", a.get("tags").toString());

            // a few dozen probes each, counted on the agent's /metrics: waited for, not slept for (a clean-clone CI run
            // slept 4 s and found t2, every 200 ms, at 10 stored successes: its targets had started late)
            agent.awaitMetrics(m -> {
                for (int i = 0; i < 3; i++) {
                    if (!(AgentProcess.value(m, "probe_total{target=\"t" + i + "\",kind=\"tcp\"}") >= 15)) {
                        return false;
                    }
                }
                return true;
            });
            for (int i = 0; i < 3; i++) {
                Files.delete(agent.home.resolve("etc/io.sonde.target-t" + i + ".cfg"));
            }
            Thread.sleep(2500); // the targets stop; their last results reach the spool
            awaitDrained(agent);

            Map<String, long[]> stored = new HashMap<>();
            List<JsonObject> results = server.results("e2e-a1", null);
            for (JsonObject r : results) {
                long[] c = stored.computeIfAbsent(r.get("target").getAsString(), k -> new long[2]);
                c[r.get("success").getAsBoolean() ? 0 : 1]++;
                assertEquals("e2e-a1", r.get("agent_id").getAsString());
            }
            for (int i = 0; i < 3; i++) {
                long[] c = stored.getOrDefault("t" + i, new long[2]);
                assertTrue("t" + i + " has results: " + c[0], c[0] > 10);
                // every probe's connection is one stored success; the one probe in flight when its target was
                // removed is dropped by the scheduler by design (its target is gone), so one connection may have none
                long accepted = listeners.get(i).accepted.get();
                assertTrue("t" + i + ": " + accepted + " connections, " + c[0] + " stored successes",
                        c[0] == accepted || c[0] == accepted - 1);
                assertEquals("t" + i + " failed probes", 0, c[1]);
            }
            assertIdentitiesContiguous(results);
            AgentProcess.promtool(agent.metrics());
            String serverMetrics = server.get("/metrics").body();
            AgentProcess.promtool(serverMetrics);
            assertTrue(serverMetrics, serverMetrics.contains("sonde_server_agents{state=\"online\",} 1.0"));
            assertEquals("every result stored counted once, and only those", results.size(),
                    AgentProcess.value(serverMetrics, "sonde_server_ingested_results_total "), 0);
            assertTrue(serverMetrics, AgentProcess.value(serverMetrics, "sonde_server_ingest_seconds_count ") >= 1);
            assertTrue("no gap: " + serverMetrics, !serverMetrics.contains("sonde_server_result_gaps_total{"));
            JsonObject first = results.get(0);
            assertEquals("tcp", first.get("kind").getAsString());
            assertTrue(first.toString(), first.get("details").getAsJsonObject().has("address"));

            // secrets: hashed on the server, never in a log
            String secret = Files.readString(credential);
            String agentCredential = secret.replaceAll(".*\"credential\":\"([^\"]+)\".*", "$1");
            assertFalse(server.log().contains(agentCredential));
            assertFalse(agent.log().contains(agentCredential));
            assertFalse(server.log().contains(token));
            assertFalse(agent.log().contains(token));
            assertFalse(server.log().contains(server.adminToken()));

            // the uplink goes when its file goes, the agent stays; back with the file, no new enrollment
            Files.delete(agent.home.resolve("etc/io.sonde.uplink.cfg"));
            agent.awaitMetrics(m -> !m.contains("sonde_uplink_up"));
            assertTrue(agent.alive());
            agent.write("etc/io.sonde.uplink.cfg", server.uplinkConfig(token, ""));
            agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_up ") == 1);
            assertEquals(1, agent.countLogLines("Enrolled with"));
        }
    }

    static JsonObject awaitAgent(ServerProcess server, String id) throws Exception {
        long deadline = System.nanoTime() + 20_000_000_000L;
        JsonObject a = null;
        while (System.nanoTime() < deadline) {
            a = server.agent(id);
            if (a != null && a.get("online").getAsBoolean()) {
                return a;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("agent " + id + " not online: " + a);
    }

    /** Per (agent, epoch): none twice, and as many missing from 1..n as the agent said it lost. */
    static void assertIdentitiesAccountedFor(List<JsonObject> results, long lost) {
        Map<String, List<Long>> byEpoch = new HashMap<>();
        for (JsonObject r : results) {
            byEpoch.computeIfAbsent(r.get("agent_id").getAsString() + "/" + r.get("epoch").getAsString(), k -> new ArrayList<>())
                    .add(r.get("seq").getAsLong());
        }
        assertFalse("no results", byEpoch.isEmpty());
        long missing = 0;
        for (Map.Entry<String, List<Long>> e : byEpoch.entrySet()) {
            List<Long> seqs = e.getValue();
            seqs.sort(null);
            assertEquals(e.getKey() + ": a number twice", seqs.size(), new java.util.HashSet<>(seqs).size());
            missing += seqs.get(seqs.size() - 1) - seqs.size();
        }
        assertEquals("numbers missing against the results the agent counted lost", lost, missing);
    }

    /** Per (agent, epoch): sequence numbers 1..n, none missing, none twice. */
    static void assertIdentitiesContiguous(List<JsonObject> results) {
        Map<String, List<Long>> byEpoch = new HashMap<>();
        for (JsonObject r : results) {
            byEpoch.computeIfAbsent(r.get("agent_id").getAsString() + "/" + r.get("epoch").getAsString(), k -> new ArrayList<>())
                    .add(r.get("seq").getAsLong());
        }
        assertFalse("no results", byEpoch.isEmpty());
        for (Map.Entry<String, List<Long>> e : byEpoch.entrySet()) {
            List<Long> seqs = e.getValue();
            seqs.sort(null);
            for (int i = 0; i < seqs.size(); i++) {
                if (seqs.get(i) != i + 1) {
                    throw new AssertionError(e.getKey() + ": sequence " + (i + 1) + " is " + seqs.get(i)
                            + " (" + seqs.size() + " results; a gap or a duplicate)");
                }
            }
        }
    }

    @Test
    public void theUplinkGetsEveryResultFromTheFirstProbeOfAStart() throws Exception {
        try (ServerProcess server = ServerProcess.start("");
                AgentProcess agent = AgentProcess.start(Map.of("etc/io.sonde.agent.cfg", "agent_id = e2e-first\n",
                        "etc/io.sonde.uplink.cfg", server.uplinkConfig(server.enrollmentToken("{}"), "")))) {
            // the scheduler waited for the uplink's sink as well as the exporter's: none of the first results passed it by
            // (two results of the 5 s self target: five left a loaded machine 5 s of its 30 s patience to start in)
            String m = agent.awaitMetrics(x -> AgentProcess.value(x, "sonde_results_total ") >= 2
                    && AgentProcess.value(x, "sonde_sink_results_total{sink=\"io.sonde.uplink\",} ") >= 2);
            double produced = AgentProcess.value(m, "sonde_results_total ");
            double spooled = AgentProcess.value(m, "sonde_sink_results_total{sink=\"io.sonde.uplink\",} ");
            assertTrue(m, produced - spooled <= 1); // at most the one in flight between the two counters
            assertTrue(agent.log(), agent.log().matches("(?s).*Probing starts: \\d+ targets \\(once its sinks were ready: exporter, uplink\\).*"));
            assertTrue(agent.log(), !agent.log().contains("Probing starts without the sinks"));
            // and the server holds them from sequence 1 on
            List<JsonObject> results = server.results("e2e-first", "self");
            for (int i = 0; i < 100 && results.isEmpty(); i++) {
                Thread.sleep(100);
                results = server.results("e2e-first", "self");
            }
            assertEquals(results.toString(), 1, results.stream().mapToLong(r -> r.get("seq").getAsLong()).min().orElse(-1));
        }
    }

    /**
     * The server sets the agents' pace: a batch every {@code batch_interval_s} (a full one at once)
     * instead of one a second, and the version of the agent's document with every answer, so that an
     * agent that asks for its document once an hour still takes a new one at its next batch. Nothing
     * is lost for it: every connection a target took is one stored success.
     */
    @Test
    public void theAgentSendsAtTheServersPaceAndLearnsOfANewDocumentFromTheAnswers() throws Exception {
        try (ServerProcess server = ServerProcess.start("batch_interval_s = 3\n");
                CountingListener l1 = new CountingListener();
                CountingListener l2 = new CountingListener();
                CountingListener pushed = new CountingListener();
                AgentProcess agent = AgentProcess.start(Map.of("etc/io.sonde.agent.cfg", "agent_id = e2e-pace\n",
                        "etc/io.sonde.uplink.cfg", server.uplinkConfig(server.enrollmentToken("{\"tags\": [\"pace\"]}"),
                                "config_poll_s = 3600\n")))) {
            agent.awaitLogLine("Enrolled with " + server.url() + " as agent e2e-pace");
            agent.write("etc/io.sonde.target-t0.cfg", targetCfg("t0", l1.port(), 100));
            agent.write("etc/io.sonde.target-t1.cfg", targetCfg("t1", l2.port(), 150));
            awaitAgent(server, "e2e-pace");
            agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_acked_total ") >= 20);
            double batches0 = AgentProcess.value(server.get("/metrics").body(), "sonde_server_ingest_seconds_count ");
            double acked0 = AgentProcess.value(agent.metrics(), "sonde_uplink_acked_total ");
            Thread.sleep(9000); // about 150 results: 9 batches at one a second, 3 or 4 at the server's pace
            double batches = AgentProcess.value(server.get("/metrics").body(), "sonde_server_ingest_seconds_count ") - batches0;
            double acked = AgentProcess.value(agent.metrics(), "sonde_uplink_acked_total ") - acked0;
            assertTrue("batches in 9 s at a 3 s pace: " + batches + " (" + acked + " results)", batches >= 1 && batches <= 5);
            assertTrue("results still flow: " + acked, acked >= 40);

            // a target defined on the server: the agent asks for its document only because an answer named a new version
            HttpResponse<String> put = server.admin("PUT", "/api/v1/targets/pushed", "{\"kind\": \"tcp\", \"host\": \"127.0.0.1\","
                    + " \"port\": " + pushed.port() + ", \"interval_ms\": 200, \"agents\": \"pace\"}");
            assertTrue(put.statusCode() + " " + put.body(), put.statusCode() == 201 || put.statusCode() == 200);
            agent.awaitMetrics(m -> AgentProcess.value(m, "probe_success{target=\"pushed\",kind=\"tcp\"} ") == 1);
            assertTrue(agent.log(), agent.log().matches("(?s).*Configuration document \\S+ from the server \\(was .*"));

            for (String t : List.of("t0", "t1")) {
                Files.delete(agent.home.resolve("etc/io.sonde.target-" + t + ".cfg"));
            }
            assertEquals(204, server.admin("DELETE", "/api/v1/targets/pushed", null).statusCode());
            agent.awaitMetrics(m -> !m.contains("target=\"pushed\"")); // learnt from an answer too
            Thread.sleep(2500); // the targets stop; their last results reach the spool
            awaitDrained(agent);
            Map<String, long[]> stored = new HashMap<>();
            for (JsonObject r : server.results("e2e-pace", null)) {
                stored.computeIfAbsent(r.get("target").getAsString(), k -> new long[2])[r.get("success").getAsBoolean() ? 0 : 1]++;
            }
            Map<String, CountingListener> targets = Map.of("t0", l1, "t1", l2, "pushed", pushed);
            for (Map.Entry<String, CountingListener> t : targets.entrySet()) {
                long[] c = stored.getOrDefault(t.getKey(), new long[2]);
                long accepted = t.getValue().accepted.get();
                // the one probe in flight when its target went is dropped by the scheduler by design
                assertTrue(t.getKey() + ": " + accepted + " connections, " + c[0] + " stored successes",
                        c[0] > 5 && (c[0] == accepted || c[0] == accepted - 1));
                assertEquals(t.getKey() + " failed probes", 0, c[1]);
            }
        }
    }

    /**
     * A larger fleet is told a longer pace (here, at {@code fleet_batch_rate = 1}, 41 agents sending:
     * 41 s), so that the server takes fewer, larger batches; yet a target that goes down is not left
     * for the pace: the result that changed its outcome goes at once, with what waited before it.
     * Every connection the target took is a stored success, each once.
     */
    @Test
    public void aLargeFleetIsPacedLongerYetAChangeIsSentAtOnce() throws Exception {
        try (ServerProcess server = ServerProcess.start("batch_interval_s = 1\nfleet_batch_rate = 1\noffline_after_s = 300\n")) {
            // 40 agents of the test's own send a batch each: with the agent below, 41 sending
            for (int i = 0; i < 40; i++) {
                String id = "e2e-fleet-" + i;
                String credential = SecurityIT.enroll(server, id);
                byte[] batch = io.sonde.wire.WireCodec.gzip(("{\"schema\":1,\"agent_id\":\"" + id + "\",\"epoch\":\"e\",\"results\":"
                        + "[{\"seq\":1,\"target\":\"t\",\"kind\":\"tcp\",\"started_at\":\"" + java.time.Instant.now()
                        + "\",\"success\":true,\"response_time_seconds\":0.001}]}").getBytes(java.nio.charset.StandardCharsets.UTF_8));
                HttpResponse<String> r = server.post("/api/v1/agents/" + id + "/results", credential, batch, "Content-Encoding", "gzip");
                assertEquals(r.body(), 200, r.statusCode());
            }
            try (CountingListener target = new CountingListener();
                    AgentProcess agent = AgentProcess.start(Map.of("etc/io.sonde.agent.cfg", "agent_id = e2e-paced\n",
                            "etc/io.sonde.target-t0.cfg", targetCfg("t0", target.port(), 200),
                            "etc/io.sonde.uplink.cfg", server.uplinkConfig(server.enrollmentToken("{}"), "")))) {
                agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_acked_total ") >= 1);
                long deadline = System.nanoTime() + AgentProcess.PATIENCE.toNanos();
                String m = server.get("/metrics").body();
                while (AgentProcess.value(m, "sonde_server_agents_sending ") < 41 && System.nanoTime() < deadline) {
                    Thread.sleep(500);
                    m = server.get("/metrics").body();
                }
                assertEquals(m, 41, AgentProcess.value(m, "sonde_server_agents_sending "), 0);
                assertEquals("41 agents at 1 batch a second: 41 s", 41, AgentProcess.value(m, "sonde_server_batch_interval_seconds "), 0);

                // the agent takes the pace: a window of 8 s without a batch while its results wait in the spool (at most five tries)
                int quiet = -1;
                for (int tries = 0; tries < 5 && quiet < 0; tries++) {
                    double b0 = AgentProcess.value(server.get("/metrics").body(), "sonde_server_ingest_seconds_count ");
                    Thread.sleep(8000);
                    if (AgentProcess.value(server.get("/metrics").body(), "sonde_server_ingest_seconds_count ") == b0) {
                        quiet = tries;
                    }
                }
                assertTrue("8 s without a batch at a 41 s pace", quiet >= 0);
                double waiting = AgentProcess.value(agent.metrics(), "sonde_spool_records ");
                assertTrue("results wait for the pace: " + waiting, waiting >= 20);
                double batches0 = AgentProcess.value(server.get("/metrics").body(), "sonde_server_ingest_seconds_count ");

                // the target goes down: its first failure is sent at once, with the successes that waited before it
                long saw = target.accepted.get();
                target.close();
                long sawAtClose = target.accepted.get();
                long within = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30); // the pace left is ≥ 33 s
                List<JsonObject> failed = List.of();
                while (failed.isEmpty() && System.nanoTime() < within) {
                    Thread.sleep(200);
                    failed = server.results("e2e-paced", "t0").stream().filter(r -> !r.get("success").getAsBoolean()).toList();
                }
                assertTrue("the failure was stored before the pace came round", !failed.isEmpty());
                double batches = AgentProcess.value(server.get("/metrics").body(), "sonde_server_ingest_seconds_count ") - batches0;
                assertTrue("one batch or two for the change: " + batches, batches >= 1 && batches <= 2);
                long successes = server.results("e2e-paced", "t0").stream().filter(r -> r.get("success").getAsBoolean()).count();
                assertTrue(saw + " connections before the close", saw >= 20);
                assertTrue("every connection the target took is a stored success, once: " + successes + " of " + sawAtClose,
                        successes == sawAtClose || successes == sawAtClose - 1);
            }
        }
    }

    /** @return every status the server took, however it named the kinds */
    private static double allStatuses(ServerProcess server) throws Exception {
        return statuses(server, "full") + statuses(server, "hash") + statuses(server, "asked") + statuses(server, "none");
    }

    /**
     * A busy agent's batches say it is alive and what waits in its spool: it sends no status while
     * nothing in one changed (a fifth of a fleet's requests before), yet a server that holds none
     * (restarted) asks for one in its answer and gets it at once — not after the agent's status
     * interval of five minutes.
     */
    @Test
    public void aBusyAgentSendsAStatusOnlyWhenSomethingChangedOrTheServerAsks() throws Exception {
        try (ServerProcess server = ServerProcess.start("batch_interval_s = 1\n");
                CountingListener l = new CountingListener();
                AgentProcess agent = AgentProcess.start(Map.of("etc/io.sonde.agent.cfg", "agent_id = e2e-quiet\n",
                        "etc/io.sonde.uplink.cfg", server.uplinkConfig(server.enrollmentToken("{}"), "status_interval_s = 300\n")))) {
            agent.write("etc/io.sonde.target-t0.cfg", targetCfg("t0", l.port(), 200));
            awaitAgent(server, "e2e-quiet");
            agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_acked_total ") >= 20);
            // the plugins' kinds each made a status as they started: a window of 10 s without one, at most five tries
            double quietBatches = -1;
            for (int tries = 0; tries < 5 && quietBatches < 0; tries++) {
                double s0 = allStatuses(server);
                double b0 = AgentProcess.value(server.get("/metrics").body(), "sonde_server_ingest_seconds_count ");
                Thread.sleep(10_000);
                if (allStatuses(server) == s0) {
                    quietBatches = AgentProcess.value(server.get("/metrics").body(), "sonde_server_ingest_seconds_count ") - b0;
                }
            }
            assertTrue("10 s without a status while batches flow", quietBatches >= 0);
            assertTrue("batches in those 10 s at a 1 s pace: " + quietBatches, quietBatches >= 5);
            JsonObject listed = server.agent("e2e-quiet");
            assertTrue("online on its batches alone: " + listed, listed.get("online").getAsBoolean());

            // a restarted server holds no status of it: the first answered batch asks, and the status comes at once
            server.kill();
            server.launch();
            NewKindIT.await("a status after the restart", 40, () -> allStatuses(server) >= 1);
            double ingested = AgentProcess.value(server.get("/metrics").body(), "sonde_server_ingest_seconds_count ");
            assertTrue("the status came on a batch's answer, minutes before its interval: " + ingested + " batches", ingested >= 1);
            assertEquals("no status refused: " + agent.log().lines().filter(l2 -> l2.contains("status answered")).toList(), 0,
                    agent.countLogLines("status answered"));
            assertTrue("the results still flow", l.accepted.get() > 50);
        }
    }

    /** @return the server's count of statuses that carried the agents' kinds so ({@code full}, {@code hash}, {@code asked}) */
    private static double statuses(ServerProcess server, String kinds) throws Exception {
        double v = AgentProcess.value(server.get("/metrics").body(), "sonde_server_agent_statuses_total{kinds=\"" + kinds + "\",} ");
        return Double.isNaN(v) ? 0 : v;
    }

    /** @return the agents the server lists as running {@code kind} */
    private static List<String> runningKind(ServerProcess server, String kind) throws Exception {
        for (com.google.gson.JsonElement e : server.json(server.admin("GET", "/api/v1/kinds", null)).getAsJsonArray("items")) {
            if (e.getAsJsonObject().get("kind").getAsString().equals(kind)) {
                List<String> who = new ArrayList<>();
                e.getAsJsonObject().getAsJsonArray("agents").forEach(a -> who.add(a.getAsString()));
                return who;
            }
        }
        return List.of();
    }

    /**
     * The kinds an agent runs (tens of KB of schemas) go to the server once, then every status names
     * them by their hash: again in full when a plugin goes, and when a restarted server, which no
     * longer holds them, answers a status by asking for them.
     */
    @Test
    public void theAgentsKindsGoInFullOnlyWhenTheyChangeOrTheServerAsks() throws Exception {
        // batches as the results come (its target every 5 s), so that statuses come every second between them: an agent
        // paced beyond its status interval sends none between two batches
        try (ServerProcess server = ServerProcess.start("batch_interval_s = 0\n");
                AgentProcess agent = AgentProcess.start(Map.of("etc/io.sonde.agent.cfg", "agent_id = e2e-kinds\n",
                        "etc/io.sonde.uplink.cfg", server.uplinkConfig(server.enrollmentToken("{}"), "status_interval_s = 1\n")))) {
            awaitAgent(server, "e2e-kinds");
            NewKindIT.await("dns and tcp listed for the agent", 30, () -> runningKind(server, "dns").contains("e2e-kinds")
                    && runningKind(server, "tcp").contains("e2e-kinds"));
            NewKindIT.await("statuses that name the kinds by their hash", 30, () -> statuses(server, "hash") >= 2);
            // in full as the plugins started (each new kind is news), then by their hash only while they stay
            // (the uplink may start again as the agent's settings arrive, and a new one announces in full once): three
            // statuses in a row by their hash, at most five tries
            double full = statuses(server, "full");
            for (int tries = 0; tries < 5; tries++) {
                full = statuses(server, "full");
                double hash = statuses(server, "hash");
                NewKindIT.await("three more statuses", 30, () -> statuses(server, "hash") >= hash + 3);
                if (statuses(server, "full") == full) {
                    break;
                }
            }
            assertTrue(full >= 1);
            assertEquals("no status in full while the kinds stay", full, statuses(server, "full"), 0);
            assertEquals(0, statuses(server, "asked"), 0);

            // a plugin goes: its kind is gone from the server's list at the next status, the only other one in full
            Files.move(agent.home.resolve("plugins/io.sonde.plugin.dns.jar"), agent.home.resolve("io.sonde.plugin.dns.jar"));
            NewKindIT.await("dns no longer listed for the agent", 30, () -> !runningKind(server, "dns").contains("e2e-kinds"));
            double after = statuses(server, "hash");
            NewKindIT.await("two more statuses", 30, () -> statuses(server, "hash") >= after + 2);
            assertEquals(full + 1, statuses(server, "full"), 0);
            assertTrue(runningKind(server, "tcp").contains("e2e-kinds"));

            assertEquals("no status refused: " + agent.log().lines().filter(l -> l.contains("status answered")).toList(), 0,
                    agent.countLogLines("status answered"));

            // the server restarts and holds no hash: the first status that names one is asked to come again in full, at once
            // (while it starts, an exchange may be refused: the agent backs off and sends again)
            server.kill();
            server.launch();
            NewKindIT.await("statuses named by their hash after the restart", 60, () -> statuses(server, "hash") >= 2);
            assertEquals("asked once", 1, statuses(server, "asked"), 0);
            assertEquals("sent once in full on asking", 1, statuses(server, "full"), 0);
            assertEquals(List.of(), runningKind(server, "dns").stream().filter("e2e-kinds"::equals).toList());
            assertTrue(runningKind(server, "tcp").contains("e2e-kinds"));
        }
    }
}
