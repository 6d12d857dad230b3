package io.sonde.plugin.udp.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.junit.After;
import org.junit.Test;

import io.sonde.api.FailureReason;
import io.sonde.api.Target;

/** Real UDP on loopback: an echo server, a closed port, a silent one and one that answers wrongly. */
public class UdpProberTest {

    private final UdpProber prober;
    private final List<DatagramSocket> servers = new ArrayList<>();

    public UdpProberTest() throws Exception {
        prober = new UdpProber();
    }

    @After
    public void tearDown() {
        prober.deactivate();
        servers.forEach(DatagramSocket::close);
    }

    /** A server on {@code address} that answers each datagram with {@code reply} of it (null: silence). */
    private int server(String address, Function<byte[], byte[]> reply) throws Exception {
        DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(address), 0));
        servers.add(s);
        Thread t = new Thread(() -> {
            byte[] buf = new byte[65536];
            try {
                while (true) {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    s.receive(p);
                    byte[] in = java.util.Arrays.copyOf(p.getData(), p.getLength());
                    byte[] out = reply.apply(in);
                    if (out != null) {
                        s.send(new DatagramPacket(out, out.length, p.getSocketAddress()));
                    }
                }
            } catch (java.io.IOException e) {
                // closed
            }
        }, "test-udp");
        t.setDaemon(true);
        t.start();
        return s.getLocalPort();
    }

    private UdpConnectResult probe(String host, int port, long timeoutMs, Map<String, String> options) throws Exception {
        Target t = new Target("u", "udp", host, port, Duration.ofSeconds(10), Duration.ofMillis(timeoutMs), Set.of(),
                options, "test");
        return prober.probe(t).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    public void echoIsTimed() throws Exception {
        int port = server("127.0.0.1", in -> in);
        UdpConnectResult r = probe("127.0.0.1", port, 1000, Map.of());
        assertNull(r.errorMessage(), r.failureReason());
        assertTrue("within the probe's timeout: " + r.responseTime(), r.responseTime().toNanos() > 0 && r.responseTime().toMillis() <= 1000);
        assertEquals(new InetSocketAddress("127.0.0.1", port), r.address());
        int[] seen = new int[1];
        int sized = server("127.0.0.1", in -> {
            seen[0] = in.length;
            return in;
        });
        assertTrue(probe("127.0.0.1", sized, 1000, Map.of("size", "1200")).isSuccessful());
        assertEquals(1200, seen[0]);
    }

    @Test
    public void ipv6() throws Exception {
        int port;
        try {
            port = server("::1", in -> in);
        } catch (SocketException e) {
            org.junit.Assume.assumeNoException("no IPv6 loopback", e);
            return;
        }
        assertTrue(probe("::1", port, 1000, Map.of()).isSuccessful());
    }

    @Test
    public void closedPortIsRefused() throws Exception {
        int port;
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            port = s.getLocalPort();
        }
        UdpConnectResult r = probe("127.0.0.1", port, 1000, Map.of());
        assertEquals(r.errorMessage(), FailureReason.REFUSED, r.failureReason());
        assertTrue(r.errorMessage(), r.errorMessage().contains("port unreachable"));
    }

    @Test
    public void silenceIsATimeoutAndAForeignAnswerIsIgnored() throws Exception {
        UdpConnectResult r = probe("127.0.0.1", server("127.0.0.1", in -> null), 200, Map.of());
        assertEquals(FailureReason.TIMEOUT, r.failureReason());
        assertTrue(r.responseTime().toMillis() >= 150);
        UdpConnectResult wrong = probe("127.0.0.1", server("127.0.0.1", in -> {
            byte[] out = in.clone();
            out[out.length - 1] ^= 1; // intact header, but not only: the nonce is what counts
            out[10] ^= 1;
            return out;
        }), 200, Map.of());
        assertEquals(FailureReason.TIMEOUT, wrong.failureReason());
    }

    @Test
    public void manyAtOnceOnOneThread() throws Exception {
        int port = server("127.0.0.1", in -> in);
        List<CompletableFuture<UdpConnectResult>> all = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            Target t = new Target("u" + i, "udp", "127.0.0.1", port, Duration.ofSeconds(10), Duration.ofSeconds(3),
                    Set.of(), Map.of(), "test");
            all.add(prober.probe(t).toCompletableFuture());
        }
        int ok = 0;
        for (CompletableFuture<UdpConnectResult> f : all) {
            ok += f.get(10, TimeUnit.SECONDS).isSuccessful() ? 1 : 0;
        }
        assertTrue(ok + " of 500", ok >= 490); // one test server thread: the kernel may drop a few at its queue
    }

    /** A probe the scheduler gives up on (its stage cancelled) has its socket closed at once. */
    @Test
    public void aCancelledProbeClosesItsSocket() throws Exception {
        int port = server("127.0.0.1", in -> null);
        probe("127.0.0.1", port, 50, Map.of()); // the selector thread in place before counting
        long before = openFiles();
        List<CompletableFuture<UdpConnectResult>> all = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            Target t = new Target("u" + i, "udp", "127.0.0.1", port, Duration.ofSeconds(60), Duration.ofSeconds(30),
                    Set.of(), Map.of(), "test");
            all.add(prober.probe(t).toCompletableFuture());
        }
        Target staying = new Target("stays", "udp", "127.0.0.1", port, Duration.ofSeconds(60), Duration.ofSeconds(20),
                Set.of(), Map.of(), "test"); // its earlier deadline heads the queue: the others must not wait on it
        CompletableFuture<UdpConnectResult> stays = prober.probe(staying).toCompletableFuture();
        // (the warm-up's socket may still count in "before": a closed channel's descriptor goes at the next select)
        long opening = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (openFiles() < before + 50 && System.nanoTime() < opening) {
            Thread.sleep(5); // the selector thread opens them: polled until a bound, not slept for
        }
        assertTrue("51 sockets open", openFiles() >= before + 50);
        all.forEach(f -> f.cancel(false));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (openFiles() > before + 1 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(openFiles() + " open, " + before + " before", openFiles() <= before + 1);
        stays.cancel(false);
    }

    private static long openFiles() throws java.io.IOException {
        try (var fds = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    /** The server sees the datagram come from the source the target names; an address not of this host is named, not sent from. */
    @Test
    public void sourceAddressAndInterface() throws Exception {
        java.util.List<InetAddress> senders = new java.util.concurrent.CopyOnWriteArrayList<>();
        DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
        servers.add(s);
        Thread t = new Thread(() -> {
            byte[] buf = new byte[65536];
            try {
                while (true) {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    s.receive(p);
                    senders.add(p.getAddress());
                    s.send(new DatagramPacket(p.getData(), p.getLength(), p.getSocketAddress()));
                }
            } catch (java.io.IOException e) {
                // closed
            }
        }, "test-udp-source");
        t.setDaemon(true);
        t.start();
        int port = s.getLocalPort();
        UdpConnectResult from2 = probe("127.0.0.1", port, 1000, Map.of("source_address", "127.0.0.2", "dscp", "EF"));
        assertNull(from2.errorMessage(), from2.failureReason());
        assertEquals(InetAddress.getByName("127.0.0.2"), senders.get(senders.size() - 1));
        assertTrue(probe("127.0.0.1", port, 1000, Map.of("source_interface", "lo")).isSuccessful());
        assertEquals(InetAddress.getByName("127.0.0.1"), senders.get(senders.size() - 1));
        UdpConnectResult foreign = probe("127.0.0.1", port, 1000, Map.of("source_address", "198.18.250.1"));
        assertEquals(io.sonde.api.FailureReason.ERROR, foreign.failureReason());
        assertTrue(foreign.errorMessage(), foreign.errorMessage().startsWith(
                "the source address (source_address or source_interface) cannot be used: "));
        UdpConnectResult noSuch = probe("127.0.0.1", port, 1000, Map.of("source_interface", "nosuch0"));
        assertEquals("source_interface nosuch0: no such interface on this host", noSuch.errorMessage());
        assertEquals("nothing was sent from a source that cannot be used", 2, senders.size());
    }

    @Test
    public void markingKeysAreChecked() {
        Target t = new Target("u", "udp", "127.0.0.1", 7, Duration.ofSeconds(10), Duration.ofSeconds(1), Set.of(),
                Map.of("source_address", "::1", "source_interface", "lo", "dscp", "AF44", "ip_version", "4"), "test");
        assertEquals("[key 'source_address': '::1' is not an IPv4 address, as ip_version asks, key 'source_interface': set source_address"
                + " or source_interface, not both, key 'dscp': 'AF44' is neither 0-63 nor a DSCP name (EF, AF11-AF43, CS0-CS7, LE, VA)]",
                prober.check(t).toString());
        Target ok = new Target("u", "udp", "127.0.0.1", 7, Duration.ofSeconds(10), Duration.ofSeconds(1), Set.of(),
                Map.of("source_address", "127.0.0.2", "dscp", "46"), "test");
        assertEquals("[]", prober.check(ok).toString());
        assertEquals(46 << 2, io.sonde.sockets.Marking.trafficClass(ok));
    }
}
