package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.util.List;

import org.junit.Test;

import com.google.gson.JsonObject;

/**
 * The server over a highly available PostgreSQL: a primary and its streaming standby managed by a
 * real pg_auto_failover, the server connecting with a multi-host JDBC URL that takes whichever node
 * is primary. The primary's machine dies (its keeper and PostgreSQL SIGKILLed) while an agent's
 * results flow: the monitor promotes the standby, the server writes to it, the agent's spool
 * bridges the gap, and in the end what the target counted is what is stored, each result once.
 */
public class DatabaseFailoverIT {

    static final int TARGETS = 10;

    @Test
    public void thePrimaryDiesTheStandbyTakesOverAndWhatTheTargetSawIsStoredOnce() throws Exception {
        try (AutoFailoverCluster db = AutoFailoverCluster.start();
                ServerProcess server = ServerProcess.prepared("");
                AgentProcess agent = AgentProcess.start();
                CountingListener target = new CountingListener()) {
            // pg_auto_failover's nodes trust loopback connections here: no password file
            Files.writeString(server.home.resolve("etc/io.sonde.server.cfg"), Files.readString(server.home.resolve("etc/io.sonde.server.cfg"))
                    .replace("store = h2\n", "") + "store = postgres\njdbc_url = " + db.jdbcUrl() + "\nuser = " + AutoFailoverCluster.USER + "\n"
                    + "read_jdbc_url = " + db.readJdbcUrl() + "\n");
            server.launch();
            agent.write("etc/io.sonde.agent.cfg", "agent_id = ha-1\n");
            agent.write("etc/io.sonde.uplink.cfg", server.uplinkConfig(server.enrollmentToken("{}"), ""));
            agent.awaitLogLine("Enrolled with " + server.url() + " as agent ha-1");
            agent.write("etc/targets.json", UplinkIT.targetsFile(TARGETS, target.port(), 200));
            agent.write("etc/io.sonde.agent.cfg", "agent_id = ha-1\ntargets_file = etc/targets.json\n");
            double acked = AgentProcess.value(agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_acked_total ") >= 200),
                    "sonde_uplink_acked_total ");

            assertTrue("read from the standby, which may lag a little", server.results("ha-1", null).size() > acked / 2);
            assertEquals("the standby answered the API's reads", 1,
                    AgentProcess.value(server.get("/metrics").body(), "sonde_server_store_api_reads_total{database=\"standby\",} "), 0);

            db.kill(1); // the primary's machine dies
            long killedAt = System.nanoTime();
            db.awaitState("node 2 promoted", () -> db.nodeState(2).matches(".*(wait_primary|primary)\\s*\\|\\s*(wait_primary|primary).*"));
            double promotedAfter = (System.nanoTime() - killedAt) / 1e9;
            // the agent spooled meanwhile; it delivers through the server to the new primary
            double floor = acked + 300;
            for (int i = 0; i < 1800 && !(AgentProcess.value(agent.metrics(), "sonde_uplink_acked_total ") >= floor); i++) {
                Thread.sleep(100); // the agent backs off while no node takes writes: up to three minutes
            }
            agent.awaitMetrics(x -> AgentProcess.value(x, "sonde_uplink_acked_total ") >= floor
                    && AgentProcess.value(x, "sonde_uplink_up ") == 1);

            agent.write("etc/io.sonde.agent.cfg", "agent_id = ha-1\n"); // the targets go
            Thread.sleep(1500);
            UplinkIT.awaitDrained(agent);
            String last = agent.metrics();
            for (String reason : List.of("full", "age", "corrupt", "rejected", "crash")) {
                assertEquals("dropped (" + reason + ")", 0, AgentProcess.value(last, "sonde_spool_dropped_total{reason=\"" + reason + "\",} "), 0);
            }
            List<JsonObject> results = server.results("ha-1", null);
            UplinkIT.assertIdentitiesAccountedFor(results, 0);
            assertEquals("a measurement stored twice under two numbers", 0, LoadBalancedIT.measuredTwice(results));
            long stored = results.stream().filter(r -> r.get("success").getAsBoolean() && r.get("target").getAsString().matches("t[0-9]+"))
                    .count();
            long saw = target.accepted.get();
            String metrics = server.get("/metrics").body();
            double refused = AgentProcess.value(metrics, "sonde_server_rejected_batches_total{reason=\"unavailable\",} ")
                    + AgentProcess.value(metrics, "sonde_server_rejected_batches_total{reason=\"busy\",} ");
            System.out.println("FIGURE database failover: the standby was primary " + Math.round(promotedAfter) + " s after the primary's"
                    + " kill; the server refused " + (long) refused + " batches meanwhile (503, 429); the target saw " + saw
                    + " connections, the server stored " + stored + " successes");
            assertTrue("stored " + stored + " of " + saw + " connections", stored <= saw && saw - stored <= TARGETS);
            assertTrue(saw + " connections", saw > 1000);
            assertTrue("the agent spooled while no node took writes: " + agent.log(), agent.log().contains("results are spooled"));
            assertTrue(db.state(), db.nodeState(2).contains("primary"));
            assertEquals(200, server.get("/healthz").statusCode());
        }
    }
}
