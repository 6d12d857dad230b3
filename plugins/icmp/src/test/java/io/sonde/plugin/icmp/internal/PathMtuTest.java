package io.sonde.plugin.icmp.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.AfterClass;
import org.junit.Assume;
import org.junit.BeforeClass;
import org.junit.Test;

import io.sonde.api.FailureReason;
import io.sonde.api.MeasuredResult;
import io.sonde.api.Target;

/**
 * Path MTU discovery through a network of the test's own: this host, a router (namespace
 * smtu-r1, 198.19.80.2) and a destination (smtu-dst, 198.19.81.2) behind a link of MTU 1,400. The
 * router's "fragmentation needed" names the MTU and itself; the router alone is 1,500 away; a
 * router that drops instead of saying so is found by halving. Needs root; fails when CI is set.
 */
public class PathMtuTest {

    private static final String R1 = "smtu-r1";
    private static final String DST = "smtu-dst";

    @BeforeClass
    public static void up() throws Exception {
        Assume.assumeTrue("the MTU lab needs root", IcmpEngineTest.root() || System.getenv("CI") != null);
        Assume.assumeTrue("the MTU lab needs ip", new File("/usr/sbin/ip").canExecute() || new File("/sbin/ip").canExecute()
                || System.getenv("CI") != null);
        down();
        sh("ip netns add " + R1, "ip netns add " + DST,
                "ip link add smtu0 type veth peer name smtu1", "ip link set smtu1 netns " + R1,
                "ip addr add 198.19.80.1/24 dev smtu0", "ip link set smtu0 up",
                "ip -n " + R1 + " addr add 198.19.80.2/24 dev smtu1", "ip -n " + R1 + " link set smtu1 up",
                "ip -n " + R1 + " link set lo up",
                "ip netns exec " + R1 + " sysctl -q -w net.ipv4.ip_forward=1",
                "ip netns exec " + R1 + " sysctl -q -w net.ipv4.icmp_ratelimit=0",
                "ip -n " + R1 + " link add smtu2 type veth peer name smtu3", "ip -n " + R1 + " link set smtu3 netns " + DST,
                "ip -n " + R1 + " addr add 198.19.81.1/24 dev smtu2", "ip -n " + R1 + " link set smtu2 mtu 1400",
                "ip -n " + R1 + " link set smtu2 up",
                "ip -n " + DST + " addr add 198.19.81.2/24 dev smtu3", "ip -n " + DST + " link set smtu3 mtu 1400",
                "ip -n " + DST + " link set smtu3 up", "ip -n " + DST + " link set lo up",
                "ip -n " + DST + " route add default via 198.19.81.1",
                "ip route add 198.19.81.0/24 via 198.19.80.2",
                // the same network in IPv6: fd00:80::/64 to the router, fd00:81::/64 behind the 1,400-byte link
                "ip netns exec " + R1 + " sysctl -q -w net.ipv6.conf.all.forwarding=1",
                "ip netns exec " + R1 + " sysctl -q -w net.ipv6.icmp.ratelimit=0",
                "ip addr add fd00:80::1/64 dev smtu0 nodad",
                "ip -n " + R1 + " addr add fd00:80::2/64 dev smtu1 nodad",
                "ip -n " + R1 + " addr add fd00:81::1/64 dev smtu2 nodad",
                "ip -n " + DST + " addr add fd00:81::2/64 dev smtu3 nodad",
                "ip -n " + DST + " -6 route add default via fd00:81::1",
                "ip -6 route add fd00:81::/64 via fd00:80::2");
    }

    @AfterClass
    public static void down() throws Exception {
        for (String c : List.of("ip route del 198.19.81.0/24", "ip -6 route del fd00:81::/64", "ip netns del " + DST, "ip netns del " + R1, "ip link del smtu0")) {
            run(c, false);
        }
    }

    private static void sh(String... commands) throws Exception {
        for (String c : commands) {
            run(c, true);
        }
    }

    private static void run(String command, boolean check) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(new ArrayList<>(List.of(command.split(" ")))).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || (check && p.exitValue() != 0)) {
            throw new IOException(command + ": " + out);
        }
    }

    private static MeasuredResult discover(String host, Map<String, String> options) throws Exception {
        Target t = new Target("m", "mtu", host, 0, Duration.ofSeconds(30), Duration.ofSeconds(10), Set.of(), options, "test");
        return new PathMtu(t, InetAddress.getByName(host)).run(java.time.Instant.now());
    }

    @Test
    public void theRouterBeforeTheSmallerLinkSaysItsMtu() throws Exception {
        MeasuredResult r = discover("198.19.81.2", Map.of());
        assertNull(r.errorMessage(), r.failureReason());
        assertEquals(r.values().toString(), 1400, r.values().get("path_mtu"));
        assertEquals(InetAddress.getByName("198.19.80.2"), r.values().get("limited_by"));
        assertTrue(r.values().toString(), (int) r.values().get("steps") <= 4);
    }

    /** IPv6: the router's "packet too big" names the MTU and itself, as IPv4's "fragmentation needed". */
    @Test
    public void ipv6PacketTooBigNamesTheMtuAndTheRouter() throws Exception {
        MeasuredResult r = discover("fd00:81::2", Map.of());
        assertNull(r.errorMessage(), r.failureReason());
        assertEquals(r.values().toString(), 1400, r.values().get("path_mtu"));
        assertEquals(InetAddress.getByName("fd00:80::2"), r.values().get("limited_by"));
        assertTrue(r.values().toString(), (int) r.values().get("steps") <= 4);
        MeasuredResult router = discover("fd00:80::2", Map.of());
        assertNull(router.errorMessage(), router.failureReason());
        assertEquals(1500, router.values().get("path_mtu"));
        assertNull(router.values().get("limited_by"));
    }

    @Test
    public void theRouterItselfIsAFullLinkAway() throws Exception {
        MeasuredResult r = discover("198.19.80.2", Map.of());
        assertNull(r.errorMessage(), r.failureReason());
        assertEquals(1500, r.values().get("path_mtu"));
        assertNull(r.values().get("limited_by"));
    }

    @Test
    public void aRouterThatDropsInsteadOfSayingIsFoundByHalving() throws Exception {
        // the router's "fragmentation needed" is dropped on its way back: a black hole for large packets
        sh("ip netns exec " + R1 + " nft add table ip bh",
                "ip netns exec " + R1 + " nft add chain ip bh out { type filter hook output priority 0 ; }",
                "ip netns exec " + R1 + " nft add rule ip bh out icmp type destination-unreachable drop");
        try {
            MeasuredResult r = discover("198.19.81.2", Map.of("step_timeout_ms", "200"));
            assertNull(r.errorMessage(), r.failureReason());
            assertEquals(r.values().toString(), 1400, r.values().get("path_mtu"));
            assertNull("nobody said so", r.values().get("limited_by"));
        } finally {
            run("ip netns exec " + R1 + " nft delete table ip bh", false);
        }
    }

    /** The icmp kind's don't-fragment bit, DSCP and source address, through the same network. */
    @Test
    public void anIcmpTargetWithTheDontFragmentBitFailsWhereThePathIsTooSmall() throws Exception {
        IcmpProber prober = new IcmpProber(null);
        try {
            // 1,450 bytes of payload: 1,478 on the wire, more than the 1,400 link takes
            PingResult fragmented = ping(prober, Map.of("size", "1450"));
            assertNull(fragmented.errorMessage(), fragmented.failureReason());
            assertEquals(3, fragmented.received());
            PingResult whole = ping(prober, Map.of("size", "1450", "dont_fragment", "true"));
            assertEquals(whole.toString(), 0, whole.received());
            assertTrue(whole.errorMessage(), whole.failureReason() != null);
            PingResult fits = ping(prober, Map.of("size", "1372", "dont_fragment", "true")); // 1,400 on the wire
            assertNull(fits.errorMessage(), fits.failureReason());
            assertEquals(3, fits.received());
            // DSCP and the source address, counted by the router
            sh("ip netns exec " + R1 + " nft add table ip marks",
                    "ip netns exec " + R1 + " nft add chain ip marks in { type filter hook prerouting priority 0 ; }",
                    "ip netns exec " + R1 + " nft add rule ip marks in ip saddr 198.19.80.1 ip dscp ef icmp type echo-request counter");
            try {
                PingResult marked = ping(prober, Map.of("dscp", "EF", "source_address", "198.19.80.1"));
                assertNull(marked.errorMessage(), marked.failureReason());
                Process p = new ProcessBuilder("ip", "netns", "exec", R1, "nft", "list", "table", "ip", "marks").redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                p.waitFor(30, TimeUnit.SECONDS);
                assertTrue(out, out.contains("counter packets 3 "));
                PingResult elsewhere = ping(prober, Map.of("source_address", "198.18.255.254"));
                assertEquals(FailureReason.ERROR, elsewhere.failureReason());
                assertTrue(elsewhere.errorMessage(), elsewhere.errorMessage().contains("source address 198.18.255.254"));
                // an address this host does not have yet: refused, then taken at the next probe once it has it
                PingResult early = ping(prober, Map.of("source_address", "198.19.80.5"));
                assertEquals(FailureReason.ERROR, early.failureReason());
                assertTrue(early.errorMessage(), early.errorMessage().contains("source address 198.19.80.5"));
                sh("ip addr add 198.19.80.5/24 dev smtu0");
                try {
                    PingResult later = ping(prober, Map.of("source_address", "198.19.80.5"));
                    assertNull(later.errorMessage(), later.failureReason());
                    assertEquals(3, later.received());
                } finally {
                    run("ip addr del 198.19.80.5/24 dev smtu0", false);
                }
            } finally {
                run("ip netns exec " + R1 + " nft delete table ip marks", false);
            }
        } finally {
            prober.deactivate();
        }
    }

    private static PingResult ping(IcmpProber prober, Map<String, String> options) throws Exception {
        Target t = new Target("df", "icmp", "198.19.81.2", 0, Duration.ofSeconds(30), Duration.ofSeconds(3), Set.of(), options, "test");
        return prober.probe(t).toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    @Test
    public void nothingAnswersAtAnySize() throws Exception {
        MeasuredResult r = discover("198.19.81.99", Map.of("step_timeout_ms", "100"));
        assertEquals(FailureReason.TIMEOUT, r.failureReason());
        assertTrue(r.errorMessage(), r.errorMessage().startsWith("no echo reply from 198.19.81.99 at any size"));
    }
}
