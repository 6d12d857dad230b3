package io.sonde.plugin.icmp.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.AfterClass;
import org.junit.Assume;
import org.junit.BeforeClass;
import org.junit.Test;

import io.sonde.api.FailureReason;

/**
 * ICMP through the router chain of lab/router-chain.sh (namespaces of its own, 198.18.0.0/15 and
 * fd00:18::/32): TTL shows the hops, a silently dropping address times out, the relay's delay
 * and loss show as they are, and RTTs agree with fping's on the same path. Needs root; skips
 * otherwise.
 */
public class IcmpLabTest {

    private static final Path LAB = Path.of("../../lab/router-chain.sh").toAbsolutePath().normalize();
    private static final String PREFIX = "si" + (ProcessHandle.current().pid() % 100_000);
    private static boolean up;
    private static IcmpEngine engine;

    @BeforeClass
    public static void labUp() throws Exception {
        Assume.assumeTrue("the lab needs root", IcmpEngineTest.root() || System.getenv("CI") != null);
        Assume.assumeTrue("the lab needs ip", new File("/usr/sbin/ip").canExecute() || new File("/sbin/ip").canExecute() || System.getenv("CI") != null);
        run("up");
        up = true;
        engine = new IcmpEngine(Mode.RAW);
    }

    @AfterClass
    public static void labDown() throws Exception {
        if (engine != null) {
            engine.close();
        }
        if (up) {
            run("down");
        }
    }

    private static void run(String action) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(LAB.toString(), action).redirectErrorStream(true);
        pb.environment().put("SONDE_LAB_PREFIX", PREFIX);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError("lab " + action + " failed: " + out);
        }
    }

    private static PingResult ping(String host, int count, long timeoutMs) throws Exception {
        return ping(host, count, 20, timeoutMs);
    }

    private static PingResult ping(String host, int count, long spacingMs, long timeoutMs) throws Exception {
        return engine.ping(IcmpEngineTest.target(host), InetAddress.getByName(host), count, Duration.ofMillis(spacingMs),
                Duration.ofMillis(timeoutMs), Instant.now()).get(20, TimeUnit.SECONDS);
    }

    private static double medianMs(List<Double> ms) {
        List<Double> s = ms.stream().sorted().toList();
        return s.size() % 2 == 1 ? s.get(s.size() / 2) : (s.get(s.size() / 2 - 1) + s.get(s.size() / 2)) / 2;
    }

    @Test
    public void ipv6BehindThreeRouters() throws Exception {
        PingResult r = ping("fd00:18:3::2", 3, 2000);
        assertTrue(r.errorMessage(), r.isSuccessful());
        assertEquals(3, r.received());
        assertEquals("hop limit 64 less three routers", 61, r.replyTtl());
        assertEquals(FailureReason.TIMEOUT, ping("fd00:18:4::1", 2, 500).failureReason());
        PingResult u = ping("fd00:18:5::1", 2, 1000);
        assertEquals(u.errorMessage(), FailureReason.UNREACHABLE, u.failureReason());
    }

    @Test
    public void theRelaysDelayIsInEveryRtt() throws Exception {
        for (String host : List.of("198.18.7.1", "fd00:18:7::1")) {
            PingResult r = ping(host, 5, 2000);
            assertTrue(r.errorMessage(), r.isSuccessful());
            for (Duration d : r.rtts()) {
                assertTrue(host + " " + d, d.toNanos() >= 20_000_000);
            }
            assertEquals(61, r.replyTtl()); // the relay gives back the hop it costs
        }
    }

    @Test
    public void lossIsCountedExactly() throws Exception {
        // the relay drops every 4th packet to 198.18.8.0/24: 10 of 40, wherever the count starts
        PingResult r = ping("198.18.8.1", 40, 5, 3000);
        assertEquals(40, r.sent());
        assertEquals(30, r.received());
        assertEquals(0.25, r.loss(), 1e-9);
        assertTrue(r.isSuccessful());
    }

    /**
     * The same paths measured by fping and by the engine, one after the other: both see what must
     * be there, the relay's 20 ms on the far path and not on the near one. How closely they agree
     * is the benchmark's figure (bench/agent_bench.py icmp), not an assertion on a shared machine.
     */
    @Test
    public void rttsAgreeWithFping() throws Exception {
        Assume.assumeTrue("fping is not installed", new File("/usr/bin/fping").canExecute() || System.getenv("CI") != null);
        ping("198.18.3.2", 1000, 1, 5000); // a running agent's code is compiled: warm it as one would be
        java.util.Map<String, double[]> medians = new java.util.HashMap<>();
        for (String host : List.of("198.18.3.2", "198.18.7.1")) {
            Process p = new ProcessBuilder("fping", "-C", "20", "-p", "50", "-q", host).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            List<Double> theirs = java.util.Arrays.stream(out.substring(out.indexOf(':') + 1).trim().split("\\s+"))
                    .filter(v -> !v.equals("-")).map(Double::parseDouble).toList();
            PingResult r = ping(host, 20, 50, 3000); // fping loses replies slower than its period
            List<Double> ours = r.rtts().stream().map(d -> d.toNanos() / 1e6).toList();
            assertEquals(out, 20, theirs.size());
            assertEquals(20, ours.size());
            double diff = medianMs(ours) - medianMs(theirs);
            System.out.printf("RTT to %s, median of 20: Sonde %.3f ms, fping %.3f ms, difference %+.1f µs%n", host,
                    medianMs(ours), medianMs(theirs), diff * 1000);
            medians.put(host, new double[] {medianMs(ours), medianMs(theirs)});
        }
        double[] near = medians.get("198.18.3.2");
        double[] far = medians.get("198.18.7.1");
        assertTrue("the relay's delay, ours " + far[0] + " ms", far[0] >= 20);
        assertTrue("the relay's delay, fping's " + far[1] + " ms", far[1] >= 20);
        assertTrue("the far path is the longer one: ours " + near[0] + " < " + far[0], near[0] < far[0]);
        assertTrue("the far path is the longer one: fping's " + near[1] + " < " + far[1], near[1] < far[1]);
    }

    @Test
    public void destinationBehindThreeRouters() throws Exception {
        PingResult r = ping("198.18.3.2", 5, 2000);
        assertTrue(r.errorMessage(), r.isSuccessful());
        assertEquals(5, r.received());
        assertEquals("TTL 64 less three routers", 61, r.replyTtl());
    }

    @Test
    public void silentDropTimesOut() throws Exception {
        PingResult r = ping("198.18.4.1", 3, 500);
        assertEquals(FailureReason.TIMEOUT, r.failureReason());
        assertEquals(3, r.sent());
        assertEquals(0, r.received());
        assertEquals(1.0, r.loss(), 0);
        assertTrue(r.errorMessage(), r.errorMessage().contains("no reply from 198.18.4.1"));
    }

    @Test
    public void unreachableIsToldApartFromATimeout() throws Exception {
        PingResult r = ping("198.18.5.1", 2, 1000);
        assertEquals(r.errorMessage(), FailureReason.UNREACHABLE, r.failureReason());
        assertTrue(r.errorMessage(), r.errorMessage().contains("198.18.2.2"));
    }

    @Test
    public void everyReplyOfManyTargetsOnTheChain() throws Exception {
        List<String> hosts = List.of("198.18.0.2", "198.18.1.2", "198.18.2.2", "198.18.3.2", "198.18.1.1");
        for (String h : hosts) {
            assertTrue(h, ping(h, 2, 2000).received() == 2);
        }
    }
}
