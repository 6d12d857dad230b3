package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.Assume;
import org.junit.Test;

/**
 * The embedded store's disk fills while results flow ({@code data/store} on a 2 MiB tmpfs, all but 256 KiB of it taken): the
 * server refuses the batches it cannot write and says why, the agent spools them, the server stays
 * up; once the disk is larger everything arrives, once. Proven by ground truth: the successes
 * stored are the connections the target saw, less at most the probes in flight when the targets
 * were removed; and the store opens whole after a restart. Needs root (mount); CI runs as root.
 */
public class StoreDiskFullIT {

    private static final int TARGETS = 100;

    @Test
    public void aFullEmbeddedStoreDiskLosesNothing() throws Exception {
        boolean root = "root".equals(System.getProperty("user.name"));
        Assume.assumeTrue("mounting a small file system needs root", root || System.getenv("CI") != null);
        ServerProcess server = ServerProcess.prepared("");
        Path disk = server.home.resolve("data/store");
        Files.createDirectories(disk);
        AgentProcess.run("mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", disk.toString());
        try (CountingListener target = new CountingListener(); AgentProcess agent = AgentProcess.start()) {
            server.launch();
            agent.write("etc/io.sonde.agent.cfg", "agent_id = e2e-h2-disk\n");
            agent.write("etc/io.sonde.uplink.cfg", server.uplinkConfig(server.enrollmentToken("{}"), ""));
            agent.awaitLogLine("Enrolled with");
            // all but 256 KiB of the disk taken before the results come: they fill the rest within seconds on any machine (a clean-clone
            // run saw no "No space left" in the 30 s the agent's log is watched, where the 2 MiB of compressed pages had to fill first;
            // should it happen again, the server's log comes with the failure)
            long room = Files.getFileStore(disk).getUsableSpace() - 256 * 1024;
            if (room > 0) {
                try (java.io.OutputStream out = Files.newOutputStream(disk.resolve("filler"))) {
                    byte[] block = new byte[64 * 1024];
                    for (long left = room; left > 0; left -= block.length) {
                        out.write(block, 0, (int) Math.min(block.length, left));
                    }
                }
            }
            agent.write("etc/targets.json", UplinkIT.targetsFile(TARGETS, target.port(), 50));
            agent.write("etc/io.sonde.agent.cfg", "agent_id = e2e-h2-disk\ntargets_file = etc/targets.json\n");

            // the disk fills: the batches that cannot be written are refused as unavailable, saying why; the agent keeps them
            try {
                agent.awaitLogLine("Uplink to " + server.url(), "No space left on device");
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "\nthe server's log:\n" + server.log(), e);
            }
            double spooled = AgentProcess.value(agent.metrics(), "sonde_spool_records ");
            agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_spool_records ") > spooled + 2000);
            assertTrue("the server stays up", server.alive());
            assertEquals("alive: no reason to restart it", 200, server.get("/livez").statusCode());

            // more room, and the targets go (2,000 results a second keep a spool busy on a slow machine): the backlog goes in,
            // every number once
            AgentProcess.run("mount", "-o", "remount,size=256m", disk.toString());
            agent.write("etc/io.sonde.agent.cfg", "agent_id = e2e-h2-disk\n");
            assertEquals(1, UplinkIT.stopAndCheckEverythingArrived(agent, server, "e2e-h2-disk", 3000).size());
            String m = agent.metrics();
            for (String reason : List.of("full", "age", "corrupt", "rejected", "crash")) {
                assertEquals("dropped (" + reason + ")", 0, AgentProcess.value(m, "sonde_spool_dropped_total{reason=\"" + reason + "\",} "), 0);
            }

            // and what the target saw is what is stored
            long saw = target.accepted.get();
            long stored = server.results("e2e-h2-disk", null).stream()
                    .filter(r -> r.get("success").getAsBoolean() && r.get("target").getAsString().matches("t[0-9]+")).count();
            System.out.println("FIGURE embedded store disk full: the target saw " + saw + " connections, " + stored + " successes stored");
            assertTrue("stored " + stored + " of " + saw + ": never more", stored <= saw);
            assertTrue("stored " + stored + " of " + saw + ": at most a probe in flight per target missing", saw - stored <= TARGETS);

            // the file the full disk cut short opens again whole: a restart reads every result of the targets back (the agent's
            // own self target goes on probing meanwhile: not counted)
            long before = removedTargetsResults(server);
            server.stop();
            server.launch();
            assertEquals("the targets' results, after a restart", before, removedTargetsResults(server));
        } finally {
            if (server.alive()) {
                server.stop(); // the process, then its disk, then its home
            }
            AgentProcess.run("umount", disk.toString());
            server.close();
        }
    }

    private static long removedTargetsResults(ServerProcess server) throws Exception {
        return server.results("e2e-h2-disk", null).stream().filter(r -> r.get("target").getAsString().matches("t[0-9]+")).count();
    }
}
