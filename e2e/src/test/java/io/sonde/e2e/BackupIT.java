package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.Test;

import com.google.gson.JsonObject;

/**
 * An online backup of the embedded store while an agent uploads, restored into a fresh server
 * home: every result acknowledged before the backup began is there, and nothing is torn (each
 * epoch's sequence whole from 1). Bad restores are refused by name.
 */
public class BackupIT {

    @Test
    public void aBackupUnderIngestRestoresEveryAcknowledgedResult() throws Exception {
        // plain pages here (h2_compress = false), restored by a server that compresses them: a store reads either
        try (ServerProcess server = ServerProcess.start("h2_compress = false\n");
                AgentProcess agent = AgentProcess.start();
                CountingListener listener = new CountingListener()) {
            agent.write("etc/io.sonde.agent.cfg", "agent_id = e2e-backup\n");
            agent.write("etc/io.sonde.uplink.cfg", server.uplinkConfig(server.enrollmentToken("{}"), "batch_max_results = 50\n"));
            agent.awaitLogLine("Enrolled with");
            assertTrue(server.log(), server.log().contains("pages not compressed"));
            for (int i = 0; i < 10; i++) {
                agent.write("etc/io.sonde.target-b" + i + ".cfg", UplinkIT.targetCfg("b" + i, listener.port(), 100));
            }
            agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_acked_total ") > 500);

            double ackedBefore = AgentProcess.value(agent.metrics(), "sonde_uplink_acked_total ");
            String command = server.home.resolve("bin/sonde-server-store").toString();
            String said = AgentProcess.output(0, command, "backup");
            double ackedAfter = AgentProcess.value(agent.metrics(), "sonde_uplink_acked_total ");
            assertTrue(said, said.startsWith("Backup written: {\"file\":\"" + server.home.resolve("data/backups/store-")));
            assertTrue("ingest went on meanwhile", ackedAfter >= ackedBefore);
            Path backup = Path.of(said.replaceAll("(?s).*\"file\":\"([^\"]+)\".*", "$1"));
            assertTrue(Files.size(backup) > 1000);

            try (ServerProcess fresh = ServerProcess.restored(backup)) {
                List<JsonObject> restored = fresh.results("e2e-backup", null);
                UplinkIT.assertIdentitiesContiguous(restored);
                assertTrue("acknowledged before the backup: " + ackedBefore + ", restored: " + restored.size(),
                        restored.size() >= ackedBefore);
                assertTrue(fresh.agent("e2e-backup") != null);
                // a home that has a store, and a file that is no backup, are refused
                String again = AgentProcess.output(1, fresh.home.resolve("bin/sonde-server-store").toString(), "restore", backup.toString());
                assertTrue(again, again.contains("has a store already"));
            }
            Path junk = Files.writeString(Files.createTempFile("not-a-backup", ".zip"), "junk");
            Path empty = Files.createTempDirectory("sonde-server-e2e-empty-");
            AgentProcess.run("cp", "-a", ServerProcess.distribution() + "/.", empty.toString());
            String refused = AgentProcess.output(1, empty.resolve("bin/sonde-server-store").toString(), "restore", junk.toString());
            assertTrue(refused, refused.contains("is not a backup of the store"));
            assertEquals(2, AgentProcess.exitCode(empty.resolve("bin/sonde-server-store").toString(), "restor"));
            AgentProcess.run("rm", "-rf", empty.toString(), junk.toString());
        }
    }
}
