package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.Test;

import com.google.gson.JsonObject;

import io.sonde.server.store.internal.PostgresCluster;

/**
 * Moving an installation from the embedded store to PostgreSQL as the README says: stop the
 * server, run bin/sonde-server-store copy-to-postgres, set store = postgres, start it. Every
 * result is there, and the agent goes on with its credential, without enrolling again.
 */
public class StoreCopyIT {

    @Test
    public void anEmbeddedStoreMovesToPostgresAndTheAgentGoesOn() throws Exception {
        try (PostgresCluster db = PostgresCluster.start();
                ServerProcess server = ServerProcess.start("");
                AgentProcess agent = AgentProcess.start();
                CountingListener listener = new CountingListener()) {
            agent.write("etc/io.sonde.agent.cfg", "agent_id = e2e-copy\n");
            agent.write("etc/io.sonde.uplink.cfg", server.uplinkConfig(server.enrollmentToken("{}"), ""));
            agent.awaitLogLine("Enrolled with");
            agent.write("etc/io.sonde.target-c.cfg", UplinkIT.targetCfg("c", listener.port(), 100));
            agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_acked_total ") > 100);
            server.stop();

            String pg = "jdbc_url = " + db.newDatabase() + "\nuser = " + PostgresCluster.USER
                    + "\npassword_file = " + db.passwordFile() + "\n";
            Path cfgFile = server.home.resolve("etc/io.sonde.server.cfg");
            String cfg = Files.readString(cfgFile);
            Files.writeString(cfgFile, cfg + pg);
            String command = server.home.resolve("bin/sonde-server-store").toString();
            String said = AgentProcess.output(0, command, "copy-to-postgres");
            assertTrue(said, said.startsWith("Copied 1 agent rows, 1 enrollment token rows, 1 epoch rows, "));
            long copied = Long.parseLong(said.replaceAll("(?s).* (\\d+) results from .*", "$1"));
            assertTrue(said, copied > 100);
            assertTrue("a second copy is refused", AgentProcess.output(1, command, "copy-to-postgres").contains("is not empty"));

            Files.writeString(cfgFile, cfg + pg + "store = postgres\n");
            server.launch();
            assertTrue(server.log(), server.log().contains("declarative partitioning"));
            // what the embedded store had, and perhaps already some of what the agent spooled meanwhile
            List<JsonObject> moved = server.results("e2e-copy", null);
            assertTrue("copied " + copied + ", found " + moved.size(), moved.size() >= copied);
            UplinkIT.assertIdentitiesContiguous(moved);

            // the agent sends what it spooled meanwhile to the new store, with its credential of before
            agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_up ") == 1 && AgentProcess.value(m, "sonde_spool_records ") < 50);
            Files.delete(agent.home.resolve("etc/io.sonde.target-c.cfg"));
            Thread.sleep(2000);
            UplinkIT.awaitDrained(agent);
            List<JsonObject> after = server.results("e2e-copy", null);
            UplinkIT.assertIdentitiesContiguous(after);
            assertTrue("more since the move: " + after.size(), after.size() > copied);
            assertEquals("enrolled once", 1, agent.log().split("Enrolled with", -1).length - 1);
        }
    }
}
