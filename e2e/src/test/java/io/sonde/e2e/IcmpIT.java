package io.sonde.e2e;

import static io.sonde.e2e.AgentProcess.value;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/** The ICMP plugin in the built agent, on loopback. */
public class IcmpIT {

    private static AgentProcess agent;

    @BeforeClass
    public static void start() throws Exception {
        agent = AgentProcess.start();
    }

    @AfterClass
    public static void stop() throws Exception {
        agent.close();
    }

    @Test
    public void modeIsReportedAndLoopbackAnswers() throws Exception {
        String mode = agent.awaitLogLine("ICMP over IPV4");
        agent.write("etc/io.sonde.target-lo.cfg",
                "name = lo\nkind = icmp\nhost = 127.0.0.1\ninterval_ms = 500\ntimeout_ms = 400\ncount = 3\npacket_interval_ms = 20\n");
        String m = agent.awaitMetrics(p -> p.contains("sonde_icmp_mode{family=\"ipv4\""));
        if (m.contains("mode=\"none\"")) {
            // no way to send ICMP here: the probe fails and says what to change
            agent.awaitMetrics(p -> value(p, "probe_failure_total{target=\"lo\",kind=\"icmp\",reason=\"error\"}") >= 1);
            assertTrue(mode, mode.contains("ping_group_range"));
            return;
        }
        m = agent.awaitMetrics(p -> value(p, "probe_success{target=\"lo\",kind=\"icmp\"}") == 1.0
                && value(p, "probe_packets_received_total{target=\"lo\",kind=\"icmp\"}") >= 3);
        assertEquals(value(m, "probe_packets_sent_total{target=\"lo\",kind=\"icmp\"}"),
                value(m, "probe_packets_received_total{target=\"lo\",kind=\"icmp\"}"), 3);
        assertTrue(m.contains("probe_jitter_seconds{target=\"lo\",kind=\"icmp\"}"));
    }

    @Test
    public void tracerouteToLoopbackIsOneHop() throws Exception {
        agent.write("etc/io.sonde.target-tr.cfg",
                "name = tr\nkind = traceroute\nhost = 127.0.0.1\ninterval_ms = 1000\ntimeout_ms = 900\nmax_hops = 5\n");
        String m = agent.awaitMetrics(p -> value(p, "probe_success{target=\"tr\",kind=\"traceroute\"}") == 1.0);
        assertEquals(1.0, value(m, "probe_traceroute_hops{target=\"tr\",kind=\"traceroute\"}"), 0);
        assertTrue(m.contains("probe_traceroute_route_hash{target=\"tr\",kind=\"traceroute\"}"));
        Files.delete(agent.home.resolve("etc/io.sonde.target-tr.cfg"));
    }

    @Test
    public void replacingThePluginLeaksNoSocketOrThread() throws Exception {
        agent.write("etc/io.sonde.target-lo2.cfg",
                "name = lo2\nkind = icmp\nhost = 127.0.0.2\ninterval_ms = 300\ntimeout_ms = 250\ncount = 1\n");
        agent.awaitMetrics(p -> value(p, "probe_total{target=\"lo2\",kind=\"icmp\"}") >= 1);
        Path jar = agent.home.resolve("plugins/io.sonde.plugin.icmp.jar");
        byte[] bytes = Files.readAllBytes(jar);
        long fds = openFiles();
        long threads = icmpThreads();
        for (int i = 0; i < 3; i++) {
            Files.delete(jar);
            agent.awaitMetrics(p -> value(p, "sonde_targets{state=\"no_prober\",}") >= 1);
            assertEquals("ICMP threads left behind", 0, awaitIcmpThreads(0));
            Path tmp = jar.resolveSibling(".icmp.tmp");
            Files.write(tmp, bytes);
            Files.move(tmp, jar, StandardCopyOption.ATOMIC_MOVE);
            agent.awaitMetrics(p -> value(p, "sonde_targets{state=\"no_prober\",}") == 0.0);
        }
        long total = (long) value(agent.metrics(), "probe_total{target=\"lo2\",kind=\"icmp\"}");
        agent.awaitMetrics(p -> value(p, "probe_total{target=\"lo2\",kind=\"icmp\"}") > total);
        assertEquals(threads, awaitIcmpThreads(threads));
        long after = openFiles();
        assertTrue("open files went from " + fds + " to " + after, after <= fds + 2);
    }

    /** The plugin stops its threads after its service is gone: give it a moment (bounded). */
    private static long awaitIcmpThreads(long expected) throws Exception {
        long n = icmpThreads();
        for (int i = 0; i < 100 && n != expected; i++) {
            Thread.sleep(100);
            n = icmpThreads();
        }
        return n;
    }

    private static long openFiles() throws Exception {
        try (var s = Files.list(Path.of("/proc/" + agent.pid() + "/fd"))) {
            return s.count();
        }
    }

    private static long icmpThreads() throws Exception {
        try (var s = Files.list(Path.of("/proc/" + agent.pid() + "/task"))) {
            return s.filter(t -> {
                try {
                    return Files.readString(t.resolve("comm")).startsWith("sonde-icmp");
                } catch (Exception e) {
                    return false;
                }
            }).count();
        }
    }
}
