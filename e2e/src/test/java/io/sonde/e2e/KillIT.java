package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.Test;

import com.google.gson.JsonObject;

/**
 * Nothing lost, proven by ground truth: three targets count the connections they get, the agent
 * is SIGKILLed at moments a seeded random picks (seven times), the server is SIGKILLed once and
 * stopped once around it; afterwards, per target, the successes the server stored are the
 * connections the target saw, less only what the kills explain: a probe in flight at a kill (at
 * most one per target and kill, and one per target when the targets are removed), and the results
 * numbered but not yet written, which the agent counts at its next start and the server counts as
 * the same gap in the numbers. Every such case is counted and printed.
 */
public class KillIT {

    static final int KILLS = 7;

    @Test
    public void whatTheTargetsSawIsStoredLessOnlyWhatTheKillsExplain() throws Exception {
        Random random = new Random(25);
        try (ServerProcess server = ServerProcess.start("");
                AgentProcess agent = AgentProcess.start();
                CountingListener t0 = new CountingListener();
                CountingListener t1 = new CountingListener();
                CountingListener t2 = new CountingListener()) {
            List<CountingListener> targets = List.of(t0, t1, t2);
            agent.write("etc/io.sonde.agent.cfg", "agent_id = kill-1\n");
            agent.write("etc/io.sonde.uplink.cfg", server.uplinkConfig(server.enrollmentToken("{}"), ""));
            agent.awaitLogLine("Enrolled with " + server.url() + " as agent kill-1");
            agent.awaitLogLine("the enrollment token is used once");
            for (int i = 0; i < targets.size(); i++) {
                agent.write("etc/io.sonde.target-t" + i + ".cfg", UplinkIT.targetCfg("t" + i, targets.get(i).port(), 200));
            }
            agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_acked_total ") >= 10);

            long lostAtKills = 0; // numbered and not written, as the agent counted at each next start
            List<String> cases = new ArrayList<>();
            for (int k = 1; k <= KILLS; k++) {
                Thread.sleep(300 + random.nextInt(2200));
                if (k == 3) {
                    server.kill(); // the server dies too; the agent spools meanwhile
                } else if (k == 5) {
                    server.stop();
                }
                agent.kill();
                agent.launch();
                String m = agent.awaitMetrics(x -> AgentProcess.value(x, "sonde_results_total ") >= 3);
                long crash = (long) AgentProcess.value(m, "sonde_spool_dropped_total{reason=\"crash\",} ");
                long torn = (long) AgentProcess.value(m, "sonde_spool_dropped_total{reason=\"corrupt\",} ");
                lostAtKills += crash + torn;
                cases.add("kill " + k + ": " + crash + " numbered and not written, " + torn + " torn");
                if (k == 3 || k == 5) {
                    Thread.sleep(1000 + random.nextInt(1000));
                    server.launch();
                }
                // the first probes of a start reach the uplink too: it takes every result the scheduler makes
                agent.awaitMetrics(x -> AgentProcess.value(x, "sonde_results_total ") >= 10
                        && AgentProcess.value(x, "sonde_results_total ")
                                == AgentProcess.value(x, "sonde_sink_results_total{sink=\"io.sonde.uplink\",} "));
            }
            // the targets go; the last results drain
            for (int i = 0; i < targets.size(); i++) {
                java.nio.file.Files.delete(agent.home.resolve("etc/io.sonde.target-t" + i + ".cfg"));
            }
            Thread.sleep(1500);
            UplinkIT.awaitDrained(agent);
            String last = agent.metrics();
            assertEquals("nothing else dropped: " + last, 0, AgentProcess.value(last, "sonde_spool_dropped_total{reason=\"full\",} ")
                    + AgentProcess.value(last, "sonde_spool_dropped_total{reason=\"rejected\",} "), 0);

            List<JsonObject> results = server.results("kill-1", null);
            UplinkIT.assertIdentitiesAccountedFor(results, lostAtKills);
            JsonObject seq = server.json(server.admin("GET", "/api/v1/agents/kill-1", null)).getAsJsonObject("sequence");
            assertEquals("the server counts as missing what the agent counted lost: " + seq, lostAtKills, seq.get("gaps").getAsLong());
            assertEquals("one spool epoch across every kill: " + seq, 1, seq.getAsJsonArray("epochs").size());

            Map<String, Long> stored = new HashMap<>();
            for (JsonObject r : results) {
                if (r.get("success").getAsBoolean()) {
                    stored.merge(r.get("target").getAsString(), 1L, Long::sum);
                }
            }
            long unexplainedBound = lostAtKills + (long) (KILLS + 1) * targets.size();
            long missing = 0;
            StringBuilder figures = new StringBuilder();
            for (int i = 0; i < targets.size(); i++) {
                long saw = targets.get(i).accepted.get();
                long kept = stored.getOrDefault("t" + i, 0L);
                assertTrue("t" + i + ": stored " + kept + " successes of " + saw + " connections: never more", kept <= saw);
                assertTrue("t" + i + ": " + saw + " connections", saw > 50);
                missing += saw - kept;
                figures.append("t").append(i).append(' ').append(kept).append('/').append(saw).append("; ");
            }
            System.out.println("FIGURE kills: " + figures + "missing " + missing + ", explained by " + lostAtKills
                    + " lost unwritten + at most one probe in flight per target at each of " + KILLS + " kills and at the end; " + cases);
            assertTrue("missing " + missing + " > what the kills explain (" + unexplainedBound + "): " + cases, missing <= unexplainedBound);
            // the unwritten results are part of what is missing: each was a connection the target saw
            assertTrue("missing " + missing + " < the results counted lost " + lostAtKills, missing >= lostAtKills);
        }
    }
}
