package io.sonde.plugin.icmp.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.Assume;
import org.junit.Test;

import io.sonde.api.FailureReason;
import io.sonde.api.Target;
import io.sonde.sockets.Family;
import io.sonde.sockets.NativeSocket;

/** Real ICMP on loopback, where every 127.0.0.0/8 address answers. Raw mode needs root. */
public class IcmpEngineTest {

    static boolean root() throws Exception {
        return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("Uid:"))
                .findFirst().orElse("").split("\\s+")[1].equals("0");
    }

    static Target target(String host) {
        return new Target("t-" + host, "icmp", host, 0, Duration.ofSeconds(10), Duration.ofSeconds(2), Set.of(),
                Map.of(), "test");
    }

    @Test
    public void rawRoundOnLoopback() throws Exception {
        Assume.assumeTrue("raw ICMP needs root", root() || System.getenv("CI") != null);
        try (IcmpEngine engine = new IcmpEngine(Mode.RAW)) {
            assertEquals(Mode.RAW, engine.mode(Family.IPV4));
            PingResult r = engine.ping(target("127.0.0.1"), InetAddress.getByName("127.0.0.1"), 3,
                    Duration.ofMillis(20), Duration.ofSeconds(2), Instant.now()).get(10, TimeUnit.SECONDS);
            assertTrue(r.errorMessage(), r.isSuccessful());
            assertEquals(3, r.sent());
            assertEquals(3, r.received());
            assertEquals(0.0, r.loss(), 0);
            assertEquals(64, r.replyTtl());
            assertEquals(0, r.duplicates());
            for (Duration d : r.rtts()) {
                assertTrue("rtt " + d + " within the round's timeout", !d.isNegative() && d.toMillis() < 2000);
            }
            assertTrue(r.min().compareTo(r.max()) <= 0);
        }
    }

    /**
     * Datagram sockets need the group in net.ipv4.ping_group_range. As root the test opens the
     * range to group 0 alone for its own run, and puts the old value back.
     */
    @Test
    public void datagramRoundOnLoopback() throws Exception {
        Assume.assumeTrue("changing ping_group_range needs root", root() || System.getenv("CI") != null);
        Path sysctl = Path.of("/proc/sys/net/ipv4/ping_group_range");
        String old = Files.readAllLines(sysctl).get(0).trim();
        try {
            Files.writeString(sysctl, "0 0");
            try (IcmpEngine engine = new IcmpEngine(null)) {
                assertEquals("unprivileged first", Mode.DATAGRAM, engine.mode(Family.IPV4));
                PingResult r = engine.ping(target("127.0.0.1"), InetAddress.getByName("127.0.0.1"), 3,
                        Duration.ofMillis(20), Duration.ofSeconds(2), Instant.now()).get(10, TimeUnit.SECONDS);
                assertTrue(r.errorMessage(), r.isSuccessful());
                assertEquals(3, r.received());
                assertEquals(64, r.replyTtl());
            }
        } finally {
            Files.writeString(sysctl, old.replace('\t', ' '));
        }
        assertEquals(old, Files.readAllLines(sysctl).get(0).trim());
    }

    @Test
    public void withPingGroupRangeClosedRootFallsBackToRaw() throws Exception {
        Assume.assumeTrue("raw ICMP needs root", root() || System.getenv("CI") != null);
        // closed for this test's run (1 0: no group), and put back as it was
        Path sysctl = Path.of("/proc/sys/net/ipv4/ping_group_range");
        String old = Files.readAllLines(sysctl).get(0).trim();
        try {
            Files.writeString(sysctl, "1 0");
            try (IcmpEngine engine = new IcmpEngine(null)) {
                assertEquals(Mode.RAW, engine.mode(Family.IPV4));
            }
        } finally {
            Files.writeString(sysctl, old.replace('\t', ' '));
        }
        assertEquals(old, Files.readAllLines(sysctl).get(0).trim());
    }

    @Test
    public void rawIpv6RoundOnLoopback() throws Exception {
        Assume.assumeTrue("raw ICMP needs root", root() || System.getenv("CI") != null);
        try (IcmpEngine engine = new IcmpEngine(Mode.RAW)) {
            PingResult r = engine.ping(target("::1"), InetAddress.getByName("::1"), 2, Duration.ofMillis(10),
                    Duration.ofSeconds(2), Instant.now()).get(10, TimeUnit.SECONDS);
            Assume.assumeTrue("no IPv6 loopback here: " + r.errorMessage(), r.isSuccessful()
                    || r.failureReason() != FailureReason.ERROR);
            assertEquals(2, r.received());
        }
    }

    @Test
    public void manyTargetsShareOneSocketAndEveryReplyFindsItsRound() throws Exception {
        Assume.assumeTrue("raw ICMP needs root", root() || System.getenv("CI") != null);
        try (IcmpEngine engine = new IcmpEngine(Mode.RAW)) {
            List<CompletableFuture<PingResult>> all = new ArrayList<>();
            for (int i = 1; i <= 500; i++) {
                String host = "127.0." + (i / 250) + "." + (1 + i % 250);
                all.add(engine.ping(target(host), InetAddress.getByName(host), 1, Duration.ofMillis(10),
                        Duration.ofSeconds(3), Instant.now()));
            }
            int ok = 0;
            for (CompletableFuture<PingResult> f : all) {
                PingResult r = f.get(20, TimeUnit.SECONDS);
                if (r.isSuccessful() && r.received() == 1) {
                    ok++;
                }
            }
            assertEquals(500, ok);
        }
    }

    @Test
    public void aSocketThatFailsIsReopenedAndTheRoundThatMetItSaysWhy() throws Exception {
        try (IcmpEngine engine = new IcmpEngine(null)) {
            Mode mode = engine.mode(Family.IPV4);
            Assume.assumeTrue("needs datagram or raw ICMP, have " + mode, mode == Mode.DATAGRAM || mode == Mode.RAW);
            InetAddress lo = InetAddress.getByName("127.0.0.1");
            NativeSocket first = engine.channel(Family.IPV4).socket();
            first.close(); // as if the descriptor had gone bad under the engine

            PingResult failed = engine.ping(target("127.0.0.1"), lo, 1, Duration.ofMillis(10), Duration.ofSeconds(1),
                    Instant.now()).get(10, TimeUnit.SECONDS);
            assertEquals(FailureReason.ERROR, failed.failureReason());
            assertTrue(failed.errorMessage(), failed.errorMessage().contains("sending to 127.0.0.1 failed")
                    && failed.errorMessage().contains("closed"));

            NativeSocket second = engine.channel(Family.IPV4).socket();
            assertTrue("a new socket", second != first && second.isOpen());
            assertEquals(mode, engine.mode(Family.IPV4));
            PingResult r = engine.ping(target("127.0.0.1"), lo, 2, Duration.ofMillis(10), Duration.ofSeconds(2),
                    Instant.now()).get(10, TimeUnit.SECONDS);
            assertTrue(r.errorMessage(), r.isSuccessful());
            assertEquals(2, r.received());
        }
    }

    @Test
    public void withoutAnyWayToSendTheProbeSaysWhatToChange() throws Exception {
        try (IcmpEngine engine = new IcmpEngine(Mode.NONE)) {
            PingResult r = engine.ping(target("127.0.0.1"), InetAddress.getByName("127.0.0.1"), 1,
                    Duration.ofMillis(10), Duration.ofSeconds(1), Instant.now()).get(10, TimeUnit.SECONDS);
            assertEquals(FailureReason.ERROR, r.failureReason());
            assertTrue(r.errorMessage(), r.errorMessage().contains("ping_group_range"));
            assertTrue(r.errorMessage(), r.errorMessage().contains("cap_net_raw"));
        }
    }

    @Test
    public void pingBinaryFallback() throws Exception {
        Assume.assumeTrue("no ping binary (Debian: iputils-ping)", PingCommand.binary() != null || System.getenv("CI") != null);
        try (IcmpEngine engine = new IcmpEngine(Mode.PING)) {
            assertEquals(Mode.PING, engine.mode(Family.IPV4));
            PingResult r = engine.ping(target("127.0.0.1"), InetAddress.getByName("127.0.0.1"), 2,
                    Duration.ofMillis(200), Duration.ofSeconds(2), Instant.now()).get(20, TimeUnit.SECONDS);
            assertTrue(r.errorMessage(), r.isSuccessful());
            assertEquals(2, r.received());
            assertEquals(2, r.sent());
        }
    }

    @Test
    public void pingOutputIsParsed() throws Exception {
        Round round = new Round(target("127.0.0.1"), InetAddress.getByName("127.0.0.1"), 3, 1L, Instant.now());
        PingCommand.parse("""
                PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.
                64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.045 ms
                64 bytes from 127.0.0.1: icmp_seq=2 ttl=64 time=1.50 ms
                64 bytes from 127.0.0.1: icmp_seq=2 ttl=64 time=1.70 ms (DUP!)

                --- 127.0.0.1 ping statistics ---
                3 packets transmitted, 2 received, +1 duplicates, 33.3333% packet loss, time 2003ms
                """, round);
        PingResult r = round.result(Duration.ofSeconds(1));
        assertEquals(3, r.sent());
        assertEquals(2, r.received());
        assertEquals(1, r.duplicates());
        assertEquals(45_000, r.rtts().get(0).toNanos());
        assertEquals(64, r.replyTtl());
        assertNull(r.failureReason());
        assertNotEquals(0.0, r.loss(), 0);
    }

    /** size: requests of that many payload bytes go out and their replies are taken, up to a packet loopback carries whole. */
    @Test
    public void largeRequestsOnLoopback() throws Exception {
        Assume.assumeTrue("raw ICMP needs root", root() || System.getenv("CI") != null);
        try (IcmpEngine engine = new IcmpEngine(Mode.RAW)) {
            for (int size : new int[] {16, 1472, 9000, 60_000}) {
                Target t = new Target("big", "icmp", "127.0.0.1", 0, Duration.ofSeconds(10), Duration.ofSeconds(2), Set.of(),
                        Map.of("size", Integer.toString(size)), "test");
                PingResult r = engine.ping(t, InetAddress.getByName("127.0.0.1"), 2, Duration.ofMillis(10), Duration.ofSeconds(2),
                        Instant.now()).get(10, TimeUnit.SECONDS);
                assertEquals(size + ": " + r.errorMessage(), 2, r.received());
            }
        }
        Target t = new Target("big", "icmp", "127.0.0.1", 0, Duration.ofSeconds(10), Duration.ofSeconds(2), Set.of(),
                Map.of("size", "1200"), "test");
        java.util.List<String> cmd = PingCommand.command("/usr/bin/ping", new Round(t, InetAddress.getByName("127.0.0.1"), 1, 1L,
                Instant.now()), Duration.ofMillis(100), Duration.ofSeconds(1));
        assertEquals("1200", cmd.get(cmd.indexOf("-s") + 1));
        byte[] out = new byte[8 + 40];
        assertEquals(48, IcmpCodec.echoRequest(io.sonde.sockets.Family.IPV4, out, 7, 1, 42L, 0, 40));
        assertEquals((byte) 47, out[47]);
    }
}
