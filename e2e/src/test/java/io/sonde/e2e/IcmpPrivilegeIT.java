package io.sonde.e2e;

import static io.sonde.e2e.AgentProcess.value;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.AfterClass;
import org.junit.Assume;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * The agent as the unprivileged user nobody, in the lab's namespaces (lab/router-chain.sh): where
 * net.ipv4.ping_group_range allows ICMP datagram sockets it uses them; where it forbids them it
 * uses raw sockets if given CAP_NET_RAW, else the system's ping binary. Traceroute needs no
 * privilege anywhere. Needs root to build the namespaces; skips otherwise.
 */
public class IcmpPrivilegeIT {

    private static final String PREFIX = "sp" + (ProcessHandle.current().pid() % 100_000);
    private static boolean up;

    @BeforeClass
    public static void labUp() throws Exception {
        boolean root = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("Uid:"))
                .findFirst().orElse("").split("\\s+")[1].equals("0");
        Assume.assumeTrue("the privilege lab needs root (network namespaces, another user)", root || System.getenv("CI") != null);
        for (String tool : new String[] {"/usr/bin/setpriv", "/usr/bin/curl"}) {
            Assume.assumeTrue(tool + " is not installed; CI installs it", new File(tool).canExecute()
                    || System.getenv("CI") != null);
        }
        lab("up");
        up = true;
    }

    @AfterClass
    public static void labDown() throws Exception {
        if (up) {
            lab("down");
        }
    }

    private static void lab(String action) throws Exception {
        RouterChain.run(PREFIX, action);
    }

    /** Starts the agent as nobody in {@code namespace}, checks the mode it reports and that loopback answers. */
    private static void probeAs(String namespace, String capabilities, String mode, String logText) throws Exception {
        try (AgentProcess agent = AgentProcess.start(namespace, capabilities)) {
            String line = agent.awaitLogLine("ICMP over IPV4");
            assertTrue(line, line.contains(logText));
            agent.write("etc/io.sonde.target-lo.cfg", "kind = icmp\nhost = 127.0.0.1\ninterval_ms = 500\n"
                    + "timeout_ms = 400\ncount = 2\npacket_interval_ms = 20\n");
            agent.write("etc/io.sonde.target-tr.cfg", "kind = traceroute\nhost = 127.0.0.1\ninterval_ms = 1000\n"
                    + "timeout_ms = 900\nmax_hops = 3\n");
            String m = agent.awaitMetrics(p -> value(p, "probe_success{target=\"lo\",kind=\"icmp\"}") == 1.0
                    && value(p, "probe_success{target=\"tr\",kind=\"traceroute\"}") == 1.0);
            assertEquals(m, 1.0, value(m, "sonde_icmp_mode{family=\"ipv4\",mode=\"" + mode + "\",}"), 0);
            assertTrue(m, value(m, "probe_packets_received_total{target=\"lo\",kind=\"icmp\"}") >= 2);
            String status = Files.readString(Path.of("/proc/" + agent.pid() + "/status"));
            assertTrue("runs as nobody: " + status, status.lines().anyMatch(l -> l.matches("Uid:\\s+65534\\s.*")));
        }
    }

    @Test
    public void datagramSocketsWhereThePingGroupRangeAllows() throws Exception {
        probeAs(PREFIX + "-allow", null, "datagram", "unprivileged datagram sockets");
    }

    @Test
    public void rawSocketsWithCapNetRawWhereItForbids() throws Exception {
        probeAs(PREFIX + "-deny", "+net_raw", "raw", "raw sockets");
    }

    @Test
    public void thePingBinaryWithNeitherDatagramNorRawSockets() throws Exception {
        probeAs(PREFIX + "-deny", null, "ping", "the system's ping binary");
    }
}
