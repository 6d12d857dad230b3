package io.sonde.plugin.traceroute.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
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
import io.sonde.api.Target;

/**
 * Traces through a chain of three routers in network namespaces this test creates
 * (lab/router-chain.sh, addresses from 198.18.0.0/15 only), compared with traceroute(8) on the
 * same path. Needs root; skips otherwise.
 */
public class TracerouteLabTest {

    private static final Path LAB = Path.of("../../lab/router-chain.sh").toAbsolutePath().normalize();
    private static final String PREFIX = "st" + (ProcessHandle.current().pid() % 100_000);
    private static boolean up;
    private static Tracer tracer;

    @BeforeClass
    public static void labUp() throws Exception {
        boolean root = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("Uid:"))
                .findFirst().orElse("").split("\\s+")[1].equals("0");
        Assume.assumeTrue("the lab needs root (network namespaces)", root || System.getenv("CI") != null);
        Assume.assumeTrue("the lab needs ip and nft", new File("/usr/sbin/ip").canExecute() || new File("/sbin/ip").canExecute() || System.getenv("CI") != null);
        String out = run(LAB.toString(), "up");
        up = true;
        Assume.assumeTrue("lab did not come up: " + out, out != null || System.getenv("CI") != null);
        tracer = new Tracer();
    }

    @AfterClass
    public static void labDown() throws Exception {
        if (tracer != null) {
            tracer.close();
        }
        if (up) {
            run(LAB.toString(), "down");
        }
    }

    private static String run(String... cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("SONDE_LAB_PREFIX", PREFIX);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + List.of(cmd));
        }
        if (p.exitValue() != 0) {
            throw new AssertionError(List.of(cmd) + " failed: " + out);
        }
        return out;
    }

    private static Target target(String host, int maxHops, long timeoutMs) {
        return new Target("trace-" + host, "traceroute", host, 0, Duration.ofSeconds(60), Duration.ofMillis(timeoutMs),
                Set.of(), Map.of("max_hops", String.valueOf(maxHops)), "test");
    }

    private static TracerouteResult trace(String host, int maxHops, long hopTimeoutMs, long timeoutMs) throws Exception {
        return tracer.trace(target(host, maxHops, timeoutMs), InetAddress.getByName(host), 33434, maxHops, 3, 1,
                Duration.ofMillis(hopTimeoutMs), Instant.now(), Tracer.Origin.ANY).get(30, TimeUnit.SECONDS);
    }

    private static List<String> addresses(TracerouteResult r) {
        List<String> out = new ArrayList<>();
        for (TracerouteResult.Hop h : r.hops()) {
            out.add(h.address() == null ? "*" : io.sonde.api.ResultSchema.text(h.address()));
        }
        return out;
    }

    @Test
    public void everyHopOfTheChainAndTheDestination() throws Exception {
        TracerouteResult r = trace("198.18.3.2", 30, 1000, 5000);
        assertTrue(r.errorMessage(), r.reached());
        assertNull(r.failureReason());
        assertEquals(List.of("198.18.0.2", "198.18.1.2", "198.18.2.2", "198.18.3.2"), addresses(r));
        for (TracerouteResult.Hop h : r.hops()) {
            assertEquals(3, h.sent());
            assertEquals("hop " + h.ttl(), 3, h.rtts().size());
        }
    }

    @Test
    public void sameHopsAsTraceroute() throws Exception {
        Assume.assumeTrue("traceroute(8) is not installed", new File("/usr/sbin/traceroute").canExecute()
                || new File("/usr/bin/traceroute").canExecute() || System.getenv("CI") != null);
        for (String host : List.of("198.18.3.2", "198.18.7.1", "fd00:18:3::2", "fd00:18:7::5")) {
            String out = run("traceroute", host.contains(":") ? "-6" : "-4", "-n", "-q", "1", "-w", "1", "-m", "10", host);
            List<String> theirs = new ArrayList<>();
            for (String line : out.split("\n")) {
                String[] f = line.trim().split("\\s+");
                if (f.length >= 2 && f[0].matches("\\d+")) {
                    theirs.add(f[1].equals("*") ? "*" : io.sonde.api.ResultSchema.text(InetAddress.getByName(f[1])));
                }
            }
            assertEquals(host, theirs, addresses(trace(host, 10, 1000, 5000)));
        }
    }

    @Test
    public void ipv6HopsUnreachableAndSilentDrop() throws Exception {
        TracerouteResult r = trace("fd00:18:3::2", 10, 1000, 5000);
        assertTrue(r.errorMessage(), r.reached());
        assertEquals(List.of("fd00:18::2", "fd00:18:1::2", "fd00:18:2::2", "fd00:18:3::2"),
                addresses(r));
        TracerouteResult u = trace("fd00:18:5::1", 10, 500, 4000);
        assertEquals(FailureReason.UNREACHABLE, u.failureReason());
        assertEquals(3, u.hops().size());
        TracerouteResult d = trace("fd00:18:4::1", 5, 300, 4000);
        assertFalse(d.reached());
        assertEquals(FailureReason.TIMEOUT, d.failureReason());
    }

    @Test
    public void theRelaysDelayShowsFromTheHopBehindIt() throws Exception {
        TracerouteResult r = trace("198.18.7.1", 10, 1000, 8000);
        assertTrue(r.errorMessage(), r.reached());
        assertEquals(List.of("198.18.0.2", "198.18.1.2", "198.18.2.2", "198.18.7.1"), addresses(r));
        // what must hold however loaded the machine: the delay is in every RTT from the hop behind
        // the relay on, and the hops before it are nearer (by median); how near is no assertion
        List<Long> before = new java.util.ArrayList<>();
        List<Long> behind = new java.util.ArrayList<>();
        for (TracerouteResult.Hop h : r.hops()) {
            for (Duration rtt : h.rtts()) {
                if (h.ttl() < 3) {
                    before.add(rtt.toNanos());
                } else {
                    assertTrue("hop " + h.ttl() + " " + rtt, rtt.toNanos() >= 20_000_000);
                    behind.add(rtt.toNanos());
                }
            }
        }
        java.util.Collections.sort(before);
        java.util.Collections.sort(behind);
        assertTrue(before + " vs " + behind, before.get(before.size() / 2) < behind.get(behind.size() / 2));
    }

    @Test
    public void silentDropIsNotReached() throws Exception {
        TracerouteResult r = trace("198.18.4.1", 6, 300, 4000);
        assertFalse(r.reached());
        assertEquals(FailureReason.TIMEOUT, r.failureReason());
        List<String> a = addresses(r);
        assertEquals(List.of("198.18.0.2", "198.18.1.2", "198.18.2.2"), a.subList(0, 3));
        assertTrue(a.toString(), a.subList(3, a.size()).stream().allMatch("*"::equals));
    }

    @Test
    public void unreachableEndsTheTraceWhereItIsSaid() throws Exception {
        TracerouteResult r = trace("198.18.5.1", 10, 500, 4000);
        assertFalse(r.reached());
        assertEquals(FailureReason.UNREACHABLE, r.failureReason());
        assertEquals(List.of("198.18.0.2", "198.18.1.2", "198.18.2.2"), addresses(r));
        assertTrue(r.errorMessage(), r.errorMessage().contains("hop 3"));
    }

    /** Counts, in a router of the lab, the UDP datagrams it forwarded to each destination port of {@code ports}. */
    private static final class PortCounters implements AutoCloseable {
        private final String ns;

        PortCounters(String router, int first, int count) throws Exception {
            this(router, "", first, count);
        }

        /** @param match what else a counted datagram must match (nft words), or empty */
        PortCounters(String router, String match, int first, int count) throws Exception {
            ns = PREFIX + "-" + router;
            run("ip", "netns", "exec", ns, "nft", "add", "table", "inet", "flows");
            run("ip", "netns", "exec", ns, "nft", "add chain inet flows counted { type filter hook forward priority 0; policy accept; }");
            for (int p = first; p < first + count; p++) {
                run("ip", "netns", "exec", ns, "nft", "add rule inet flows counted " + match + " udp dport " + p + " counter");
            }
        }

        /** @return the destination ports the router forwarded at least one datagram to */
        Set<Integer> ports() throws Exception {
            Set<Integer> seen = new java.util.TreeSet<>();
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("udp dport (\\d+) counter packets (\\d+)")
                    .matcher(run("ip", "netns", "exec", ns, "nft", "list", "chain", "inet", "flows", "counted"));
            while (m.find()) {
                if (Long.parseLong(m.group(2)) > 0) {
                    seen.add(Integer.parseInt(m.group(1)));
                }
            }
            return seen;
        }

        @Override
        public void close() throws Exception {
            run("ip", "netns", "exec", ns, "nft", "delete", "table", "inet", "flows");
        }
    }

    private static TracerouteResult traceFlows(String host, int port, int flows, int sourcePort) throws Exception {
        Target t = new Target("mp-" + host, "traceroute", host, port, Duration.ofSeconds(60), Duration.ofSeconds(8),
                Set.of(), Map.of("max_hops", "8", "flows", String.valueOf(flows)), "test");
        return tracer.trace(t, InetAddress.getByName(host), port, 8, 3, flows, Duration.ofMillis(1000), Instant.now(),
                new Tracer.Origin(null, sourcePort, -1)).get(30, TimeUnit.SECONDS);
    }

    /** @return each distinct path's hop addresses (text, "*" for none), by the flows that took it */
    private static Map<Set<Integer>, List<String>> branches(TracerouteResult r) {
        Map<Set<Integer>, List<String>> out = new java.util.HashMap<>();
        for (TracerouteResult.FlowPath p : r.paths()) {
            List<String> hops = new ArrayList<>();
            for (InetAddress a : p.hops()) {
                hops.add(a == null ? "*" : io.sonde.api.ResultSchema.text(a));
            }
            out.put(new java.util.TreeSet<>(p.flows()), hops);
        }
        return out;
    }

    /**
     * Two equal-cost paths (r1 hashes flows on ports over r2 and r2b): 16 flows show both, each
     * flow on the path the routers really forwarded it on (their own counters, per destination
     * port), and the same flows on the same paths the next round (same source port).
     */
    @Test
    public void flowsShowBothEqualCostPathsAsTheRoutersForwardedThem() throws Exception {
        int port = 33600;
        int flows = 16;
        for (String[] family : List.of(new String[] {"198.18.9.1", "198.18.1.2", "198.18.10.2", "198.18.0.2", "198.18.2.2", "198.18.2.2"},
                // r3 answers IPv6 from the address it was reached on
                new String[] {"fd00:18:9::1", "fd00:18:1::2", "fd00:18:10::2", "fd00:18::2",
                        "fd00:18:2::2", "fd00:18:11::2"})) {
            String host = family[0];
            TracerouteResult r;
            Set<Integer> viaR2;
            Set<Integer> viaR2b;
            try (PortCounters r2 = new PortCounters("r2", port, flows); PortCounters r2b = new PortCounters("r2b", port, flows)) {
                r = traceFlows(host, port, flows, 34567);
                viaR2 = r2.ports();
                viaR2b = r2b.ports();
            }
            assertTrue(host + ": " + r.errorMessage(), r.reached());
            assertEquals(host + " " + viaR2 + " " + viaR2b, flows, viaR2.size() + viaR2b.size()); // each flow on one path
            assertFalse("every flow went one way: " + viaR2, viaR2.isEmpty() || viaR2b.isEmpty());
            Map<Set<Integer>, List<String>> paths = branches(r);
            assertEquals(host + " " + paths, 2, paths.size());
            Set<Integer> flowsR2 = new java.util.TreeSet<>();
            Set<Integer> flowsR2b = new java.util.TreeSet<>();
            viaR2.forEach(p -> flowsR2.add(p - port));
            viaR2b.forEach(p -> flowsR2b.add(p - port));
            List<String> a = paths.get(flowsR2);
            List<String> b = paths.get(flowsR2b);
            assertTrue(paths + " vs r2 " + flowsR2 + ", r2b " + flowsR2b, a != null && b != null);
            assertEquals(List.of(family[3], family[1], family[4], host), a);
            assertEquals(List.of(family[3], family[2], family[5], host), b);
            // flow 0 sends the queries; its hops are its path's
            List<String> zero = flowsR2.contains(0) ? a : b;
            assertEquals(zero, addresses(r));
            assertEquals(3, r.hops().get(0).sent());
            // the next round from the same source port: the same flows on the same paths, the same route hash
            TracerouteResult again = traceFlows(host, port, flows, 34567);
            assertEquals(host, paths, branches(again));
            assertEquals(r.values().get("route_hash"), again.values().get("route_hash"));
            assertEquals(2, r.values().get("path_count"));
        }
    }

    @Test
    public void probesCarryTheDscpAndTheSourcePortAsked() throws Exception {
        Target t = new Target("dscp", "traceroute", "198.18.3.2", 33800, Duration.ofSeconds(60), Duration.ofSeconds(8),
                Set.of(), Map.of("dscp", "EF"), "test");
        Set<Integer> marked;
        Set<Integer> fromPort;
        try (PortCounters ef = new PortCounters("r1", "ip dscp ef udp sport 34570", 33800, 2);
                PortCounters v6 = new PortCounters("r2", "ip6 dscp cs1", 33800, 2)) {
            TracerouteResult r = tracer.trace(t, InetAddress.getByName("198.18.3.2"), 33800, 8, 3, 2, Duration.ofMillis(1000),
                    Instant.now(), new Tracer.Origin(null, 34570, io.sonde.sockets.Marking.trafficClass(t))).get(30, TimeUnit.SECONDS);
            assertTrue(r.errorMessage(), r.reached());
            Target t6 = new Target("dscp6", "traceroute", "fd00:18:3::2", 33800, Duration.ofSeconds(60), Duration.ofSeconds(8),
                    Set.of(), Map.of("dscp", "CS1"), "test");
            TracerouteResult r6 = tracer.trace(t6, InetAddress.getByName("fd00:18:3::2"), 33800, 8, 3, 2, Duration.ofMillis(1000),
                    Instant.now(), new Tracer.Origin(InetAddress.getByName("fd00:18::1"), 0, io.sonde.sockets.Marking.trafficClass(t6)))
                    .get(30, TimeUnit.SECONDS);
            assertTrue(r6.errorMessage(), r6.reached());
            marked = ef.ports();
            fromPort = v6.ports();
        }
        // both flows' datagrams went through r1 with DSCP EF from source port 34570, the IPv6 ones through r2 as CS1
        assertEquals(Set.of(33800, 33801), marked);
        assertEquals(Set.of(33800, 33801), fromPort);
    }

    @Test
    public void oneFlowIsOnePathAndNoPathsValue() throws Exception {
        TracerouteResult r = traceFlows("198.18.9.1", 33700, 1, 34568);
        assertTrue(r.errorMessage(), r.reached());
        assertTrue(r.paths().isEmpty());
        assertFalse(r.values().containsKey("paths"));
        assertEquals(1, r.values().get("path_count"));
        assertEquals(4, r.hops().size());
    }

    @Test
    public void loopbackIsOneHop() throws Exception {
        TracerouteResult r = trace("127.0.0.1", 5, 500, 3000);
        assertTrue(r.errorMessage(), r.reached());
        assertEquals(List.of("127.0.0.1"), addresses(r));
    }
}
