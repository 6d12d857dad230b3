package io.sonde.sockets;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.Assume;
import org.junit.Test;

/** Real sockets on loopback. Raw sockets need root (CI runs as root); the test skips otherwise. */
public class NativeSocketTest {

    private static boolean root() throws Exception {
        return Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(l -> l.startsWith("Uid:")).findFirst().orElse("").split("\\s+")[1].equals("0");
    }

    static int checksum(byte[] b, int length) {
        long sum = 0;
        for (int i = 0; i + 1 < length; i += 2) {
            sum += ((b[i] & 0xff) << 8) | (b[i + 1] & 0xff);
        }
        if ((length & 1) == 1) {
            sum += (b[length - 1] & 0xff) << 8;
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (int) (~sum & 0xffff);
    }

    @Test
    public void rawIcmpEchoOnLoopbackWithKernelTimestampAndTtl() throws Exception {
        Assume.assumeTrue("raw sockets need root", root() || System.getenv("CI") != null);
        try (NativeSocket s = NativeSocket.icmp(Family.IPV4, true)) {
            s.enableTimestamps();
            s.enableReceiveTtl();
            byte[] packet = new byte[16];
            packet[0] = 8; // echo request
            packet[4] = 0x12;
            packet[5] = 0x34; // identifier
            packet[7] = 1; // sequence
            int c = checksum(packet, packet.length);
            packet[2] = (byte) (c >> 8);
            packet[3] = (byte) c;
            long before = System.currentTimeMillis() * 1_000_000L;
            s.send(packet, packet.length, InetAddress.getByName("127.0.0.1"), 0);
            byte[] in = new byte[2048];
            Received r = null;
            for (int i = 0; i < 50 && r == null; i++) {
                if ((s.await(100) & NativeSocket.READABLE) != 0) {
                    Received got = s.receive(in, false);
                    int ihl = (in[0] & 0x0f) * 4;
                    // a raw socket sees the request too; keep the reply
                    if (got != null && in[ihl] == 0 && in[ihl + 4] == 0x12 && in[ihl + 5] == 0x34) {
                        r = got;
                    }
                }
            }
            assertNotNull("no echo reply", r);
            assertEquals(InetAddress.getByName("127.0.0.1"), r.source());
            assertTrue("kernel timestamp " + r.kernelTimeNanos(), r.kernelTimeNanos() >= before - 1_000_000_000L);
            assertTrue("ttl " + r.ttl(), r.ttl() > 0);
            assertNull(r.error());
        }
    }

    @Test
    public void udpPortUnreachableArrivesInTheErrorQueue() throws Exception {
        int port;
        try (DatagramSocket d = new DatagramSocket(0, InetAddress.getByName("127.0.0.1"))) {
            port = d.getLocalPort();
        }
        try (NativeSocket s = NativeSocket.udp(Family.IPV4)) {
            s.enableErrorQueue();
            s.setTtl(5);
            s.send(new byte[] {1, 2, 3}, 3, InetAddress.getByName("127.0.0.1"), port);
            SocketError error = null;
            for (int i = 0; i < 50 && error == null; i++) {
                if ((s.await(100) & NativeSocket.ERROR) != 0) {
                    Received r = s.receive(new byte[512], true);
                    error = r == null ? null : r.error();
                }
            }
            assertNotNull("no error queued", error);
            assertEquals(SocketError.ORIGIN_ICMP, error.origin());
            assertEquals(3, error.type()); // destination unreachable
            assertEquals(3, error.code()); // port unreachable
            assertEquals(111, error.errno()); // ECONNREFUSED
            assertEquals(InetAddress.getByName("127.0.0.1"), error.offender());
        }
    }

    @Test
    public void aPendingIcmpErrorDoesNotFailTheNextCall() throws Exception {
        int port;
        try (DatagramSocket d = new DatagramSocket(0, InetAddress.getByName("127.0.0.1"))) {
            port = d.getLocalPort();
        }
        try (NativeSocket s = NativeSocket.udp(Family.IPV4)) {
            s.enableErrorQueue();
            InetAddress lo = InetAddress.getByName("127.0.0.1");
            s.send(new byte[] {1}, 1, lo, port);
            for (int i = 0; i < 50 && (s.await(100) & NativeSocket.ERROR) == 0; i++) {
                // wait for the port unreachable
            }
            // the error is pending on the socket: neither call fails because of it
            s.send(new byte[] {2}, 1, lo, port);
            assertNull(s.receive(new byte[64], false));
            Received queued = s.receive(new byte[64], true);
            assertNotNull(queued);
            assertEquals(111, queued.error().errno());
        }
    }

    /** The process's group ids, real, effective and supplementary, from /proc/self/status. */
    private static java.util.Set<Long> groups() throws java.io.IOException {
        java.util.Set<Long> ids = new java.util.HashSet<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("Gid:") || line.startsWith("Groups:")) {
                for (String part : line.substring(line.indexOf(':') + 1).trim().split("\\s+")) {
                    if (!part.isEmpty()) {
                        ids.add(Long.parseLong(part));
                    }
                }
            }
        }
        return ids;
    }

    @Test
    public void datagramIcmpIsDeniedOrWorksAsTheSysctlSays() throws Exception {
        // the kernel's rule (ping_init_sock): allowed exactly when one of the process's groups is in the range
        String range = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ping_group_range")).get(0).trim();
        String[] lo = range.split("\\s+");
        long low = Long.parseLong(lo[0]);
        long high = Long.parseLong(lo[1]);
        java.util.Set<Long> groups = groups();
        boolean allowed = groups.stream().anyMatch(g -> g >= low && g <= high);
        try (NativeSocket s = NativeSocket.icmp(Family.IPV4, false)) {
            assertTrue("opened although ping_group_range is " + range + " and the groups are " + groups, allowed);
        } catch (NativeException e) {
            assertTrue("denied although ping_group_range is " + range + " and the groups are " + groups + ": " + e, !allowed);
            assertTrue(e.getMessage(), e.denied());
            assertTrue(e.getMessage(), e.getMessage().startsWith("socket failed: "));
        }
    }

    @Test
    public void closedSocketSaysSo() throws Exception {
        NativeSocket s = NativeSocket.udp(Family.IPV4);
        s.close();
        try {
            s.send(new byte[1], 1, InetAddress.getByName("127.0.0.1"), 9);
            fail();
        } catch (NativeException e) {
            assertEquals(NativeException.EBADF, e.errno());
        }
    }

    @Test
    public void wrongFamilyIsRefused() throws Exception {
        try (NativeSocket s = NativeSocket.udp(Family.IPV4)) {
            s.send(new byte[1], 1, InetAddress.getByName("::1"), 9);
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains("IPV4"));
        }
    }
}
