package io.sonde.e2e;

import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.Test;

/**
 * The spool's bounds while the server cannot be reached: at spool_max_mb the oldest results are
 * dropped and counted, and so on a full disk (a small tmpfs, as root); probing goes on, and when
 * space returns the spool takes results again.
 */
public class SpoolBoundsIT {

    static String unreachableUplink() throws Exception {
        return "server_url = https://127.0.0.1:" + AgentProcess.freePort() + "\nserver_ca_sha256 = " + "00".repeat(32)
                + "\nenrollment_token = none\n";
    }

    static String manyTargets(int port, int count) {
        StringBuilder t = new StringBuilder("{\"targets\": [");
        for (int i = 0; i < count; i++) {
            t.append(i == 0 ? "" : ",").append("{\"name\": \"t").append(i).append("\", \"kind\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": ")
                    .append(port).append(", \"interval_ms\": 100, \"timeout_ms\": 90}");
        }
        return t.append("]}").toString();
    }

    static double total(String metrics, String family) {
        double sum = 0;
        for (String line : metrics.split("\n")) {
            if (line.startsWith(family + "{")) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    @Test
    public void aFullSpoolDropsTheOldestAndCountsThem() throws Exception {
        try (AgentProcess agent = AgentProcess.start(); CountingListener listener = new CountingListener()) {
            agent.write("etc/io.sonde.uplink.cfg", unreachableUplink() + "spool_max_mb = 1\n");
            agent.awaitMetrics(m -> m.contains("sonde_spool_records"));
            agent.write("etc/targets.json", manyTargets(listener.port(), 200));
            agent.write("etc/io.sonde.agent.cfg", "targets_file = etc/targets.json\n");
            String m = agent.awaitMetrics(x -> AgentProcess.value(x, "sonde_spool_dropped_total{reason=\"full\",} ") > 1000);
            assertTrue(m, AgentProcess.value(m, "sonde_spool_bytes ") <= 1024 * 1024);
            double probes = total(m, "probe_total");
            String later = agent.awaitMetrics(x -> total(x, "probe_total") > probes + 2000);
            assertTrue("probing goes on", agent.alive());
            assertTrue(later, AgentProcess.value(later, "sonde_spool_bytes ") <= 1024 * 1024);
            assertTrue(later, AgentProcess.value(later, "sonde_spool_records ") > 1000);
            assertTrue(agent.countLogLines("dropped (the spool or the disk is full)") > 0);
        }
    }

    @Test
    public void aFullDiskDropsTheOldestAndTheSpoolTakesResultsAgainWhenSpaceReturns() throws Exception {
        assumeTrue("mounting a tmpfs needs root", "root".equals(System.getProperty("user.name")) || System.getenv("CI") != null);
        try (AgentProcess agent = AgentProcess.start(); CountingListener listener = new CountingListener()) {
            Path spool = agent.home.resolve("data/spool");
            Files.createDirectories(spool);
            AgentProcess.run("mount", "-t", "tmpfs", "-o", "size=512k", "sonde-e2e-spool", spool.toString());
            try {
                agent.write("etc/io.sonde.uplink.cfg", unreachableUplink());
                agent.awaitMetrics(x -> x.contains("sonde_spool_records"));
                agent.write("etc/targets.json", manyTargets(listener.port(), 200));
                agent.write("etc/io.sonde.agent.cfg", "targets_file = etc/targets.json\n");
                String m = agent.awaitMetrics(x -> AgentProcess.value(x, "sonde_spool_dropped_total{reason=\"full\",} ") > 0);
                agent.awaitLogLine("cannot write", "dropping the oldest results to make room");
                double probes = total(m, "probe_total");
                agent.awaitMetrics(x -> total(x, "probe_total") > probes + 2000);
                assertTrue(agent.alive());

                AgentProcess.run("mount", "-o", "remount,size=8m", spool.toString());
                String after = agent.awaitMetrics(x -> AgentProcess.value(x, "sonde_spool_bytes ") > 1024 * 1024);
                assertTrue(after, agent.alive());
            } finally {
                agent.terminate(java.time.Duration.ofSeconds(10));
                AgentProcess.run("umount", spool.toString());
            }
        }
    }
}
