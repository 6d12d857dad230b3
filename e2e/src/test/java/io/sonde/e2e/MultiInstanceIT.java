package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

import io.sonde.server.store.internal.PostgresCluster;

/**
 * Two server instances over one PostgreSQL database, an agent that lists both: each instance is
 * SIGKILLed in turn while results flow, and the agent goes on with the other. In the end the
 * stored sequence is whole and nothing is stored twice, whichever instance took which batch (a
 * batch cut off by a kill is sent again, to the other instance). One instance leads (runs the
 * retention job); when it dies, the other takes the lead within a minute.
 */
public class MultiInstanceIT {

    @Test
    public void anAgentFailsOverBetweenInstancesAndEveryResultIsStoredOnce() throws Exception {
        try (PostgresCluster db = PostgresCluster.start()) {
            String store = "store = postgres\njdbc_url = " + db.newDatabase() + "\nuser = " + PostgresCluster.USER
                    + "\npassword_file = " + db.passwordFile() + "\n";
            try (ServerProcess a = ServerProcess.start(store);
                    ServerProcess b = ServerProcess.startBeside(a, store);
                    AgentProcess agent = AgentProcess.start();
                    CountingListener listener = new CountingListener()) {
                assertEquals("one CA for both", a.fingerprint(), b.fingerprint());
                agent.write("etc/io.sonde.agent.cfg", "agent_id = e2e-multi\n");
                String uplink = a.uplinkConfig(a.enrollmentToken("{}"), "batch_max_results = 200\n")
                        .replace("server_url = " + a.url(), "server_url = " + a.url() + ", " + b.url());
                agent.write("etc/io.sonde.uplink.cfg", uplink);
                agent.awaitLogLine("Enrolled with");
                agent.write("etc/targets.json", UplinkIT.targetsFile(20, listener.port(), 100));
                agent.write("etc/io.sonde.agent.cfg", "agent_id = e2e-multi\ntargets_file = etc/targets.json\n");
                double acked = waitAcked(agent, 300);

                awaitLeader(a, b);
                a.kill(); // the instance in use dies: the agent goes on with b, which leads within a minute
                acked = waitAcked(agent, acked + 600);
                awaitLeader(b);
                assertTrue(agent.log(), agent.log().contains("Uplink to " + a.url()));
                assertTrue("b took batches", b.get("/metrics").body().matches("(?s).*sonde_server_ingested_results_total [1-9].*"));

                a.launch();
                b.kill(); // and now the other one
                waitAcked(agent, acked + 600);
                awaitLeader(a);

                a.awaitHealthy();
                assertEquals(1, UplinkIT.stopAndCheckEverythingArrived(agent, a, "e2e-multi", 1500).size());
            }
        }
    }

    /** Waits (a minute at most) until one of the servers says it leads; fails if two do. */
    private static void awaitLeader(ServerProcess... servers) throws Exception {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            int leading = 0;
            for (ServerProcess s : servers) {
                if (s.get("/metrics").body().contains("sonde_server_store_leader 1.0")) {
                    leading++;
                }
            }
            assertTrue("two servers lead", leading <= 1);
            if (leading == 1) {
                return;
            }
            Thread.sleep(500);
        }
        throw new AssertionError("no server took the lead within a minute");
    }

    private static double waitAcked(AgentProcess agent, double atLeast) throws Exception {
        String m = agent.awaitMetrics(text -> AgentProcess.value(text, "sonde_uplink_acked_total ") > atLeast);
        return AgentProcess.value(m, "sonde_uplink_acked_total ");
    }
}
