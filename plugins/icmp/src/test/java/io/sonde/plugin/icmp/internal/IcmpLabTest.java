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
import io.sonde.api.PingResult;

/**
 * ICMP through the router chain of lab/router-chain.sh (namespaces of its own, 198.18.0.0/15):
 * TTL shows the hops, a silently dropping address times out. Needs root; skips otherwise.
 */
public class IcmpLabTest {

    private static final Path LAB = Path.of("../../lab/router-chain.sh").toAbsolutePath().normalize();
    private static final String PREFIX = "si" + (ProcessHandle.current().pid() % 100_000);
    private static boolean up;
    private static IcmpEngine engine;

    @BeforeClass
    public static void labUp() throws Exception {
        Assume.assumeTrue("the lab needs root", IcmpEngineTest.root());
        Assume.assumeTrue("the lab needs ip", new File("/usr/sbin/ip").canExecute() || new File("/sbin/ip").canExecute());
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
        return engine.ping(IcmpEngineTest.target(host), InetAddress.getByName(host), count, Duration.ofMillis(20),
                Duration.ofMillis(timeoutMs), Instant.now()).get(20, TimeUnit.SECONDS);
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
