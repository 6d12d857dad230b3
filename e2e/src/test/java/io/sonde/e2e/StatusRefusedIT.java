package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.Test;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * A status the server refuses for good (a 4xx it would give again: a kind's schema it cannot take,
 * a body too large) holds no result back: the agent logs it once, shows it, counts it, tries the
 * status again each status interval — not at every batch's answer, though each asks for one — and
 * delivers every result all along. The server is a {@link FakeServer}; the ground truth is the
 * connections the probed listener accepted.
 */
public class StatusRefusedIT {

    @Test
    public void aStatusRefusedForGoodHoldsNoResultBack() throws Exception {
        String why = "kinds.example.options: not a JSON schema";
        try (FakeServer server = new FakeServer("refused-status"); CountingListener target = new CountingListener()) {
            server.statusAnswer = FakeServer.Answer.json(422, "{\"error\":\"" + why + "\"}");
            server.statusWanted = true; // a server that holds no status of the agent asks for one at every batch
            try (AgentProcess agent = AgentProcess.start(Map.of(
                    "etc/io.sonde.agent.cfg", "agent_id = refused-status\n",
                    "etc/io.sonde.target-t0.cfg", UplinkIT.targetCfg("t0", target.port(), 200),
                    "etc/io.sonde.uplink.cfg", server.uplinkConfig("status_interval_s = 2\n")))) {
                agent.awaitLogLine("The server refused this agent's status for good (422: " + why + ")");
                awaitResults(server, 30);

                // tried again once per interval, not at every batch's answer (which asks for one each time)
                long logged = agent.countLogLines("refused this agent's status for good");
                int statuses0 = server.statuses.size();
                int results0 = server.results.size();
                long t0 = System.nanoTime();
                Thread.sleep(8000);
                int statuses = server.statuses.size() - statuses0;
                double seconds = (System.nanoTime() - t0) / 1e9;
                int results = server.results.size() - results0;
                assertTrue("results delivered while statuses are refused: " + results, results >= 10);
                assertTrue("the status tried again: " + statuses + " in " + seconds + " s", statuses >= 1);
                assertTrue(statuses + " statuses in " + seconds + " s, every 2 s at most", statuses <= seconds / 2 + 1);
                assertEquals("logged once for its reason, not at each refusal", logged, agent.countLogLines("refused this agent's status for good"));

                String m = agent.awaitMetrics(x -> AgentProcess.value(x, "sonde_uplink_status_refused_total") >= 2);
                assertEquals(1.0, AgentProcess.value(m, "sonde_uplink_up "), 0);
                assertTrue(m, AgentProcess.value(m, "sonde_uplink_status_refused_total") >= 2);
                JsonObject uplink = JsonParser.parseString(AgentProcess.output(0, "curl", "-s", "--max-time", "10",
                        "http://127.0.0.1:" + agent.port + "/status")).getAsJsonObject().getAsJsonObject("uplink");
                assertEquals("422: " + why, uplink.get("status_refused").getAsString());

                // ground truth: every connection the target accepted by now reaches the server, each result once, no gap
                long saw = target.accepted.get();
                assertTrue("connections: " + saw, saw >= 30);
                awaitResults(server, saw);
                List<Long> seqs = List.copyOf(server.results);
                Set<Long> distinct = new HashSet<>(seqs);
                // (a batch taken as the first uplink stopped, its token used, may come again from the second: a server keeps it once)
                List<Long> since = seqs.subList(results0, seqs.size());
                assertEquals("no result sent twice while statuses were refused", since.size(), new HashSet<>(since).size());
                long max = seqs.stream().mapToLong(Long::longValue).max().orElse(0);
                assertEquals("no gap in 1.." + max, max, distinct.size());

                // the server takes statuses again: the refusal is no longer shown
                server.statusAnswer = null;
                long deadline = System.nanoTime() + AgentProcess.PATIENCE.toNanos();
                while (System.nanoTime() < deadline && !isNull(agent)) {
                    Thread.sleep(200);
                }
                assertTrue("status_refused cleared once a status is taken", isNull(agent));
            }
        }
    }

    private static boolean isNull(AgentProcess agent) throws Exception {
        JsonObject uplink = JsonParser.parseString(AgentProcess.output(0, "curl", "-s", "--max-time", "10",
                "http://127.0.0.1:" + agent.port + "/status")).getAsJsonObject().getAsJsonObject("uplink");
        return !uplink.has("status_refused") || uplink.get("status_refused").isJsonNull();
    }

    private static void awaitResults(FakeServer server, long n) throws InterruptedException {
        long deadline = System.nanoTime() + AgentProcess.PATIENCE.toNanos();
        while (new HashSet<>(server.results).size() < n && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertTrue("the server took " + new HashSet<>(server.results).size() + " results, not " + n,
                new HashSet<>(server.results).size() >= n);
    }
}
