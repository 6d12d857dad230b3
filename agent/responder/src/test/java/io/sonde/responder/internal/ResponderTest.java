package io.sonde.responder.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.lang.annotation.Annotation;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.After;
import org.junit.Test;

import io.sonde.agent.spi.RemoteConfig;

/** Real sockets on loopback: the responder as peers and strangers meet it. */
public class ResponderTest {

    private Responder responder;

    @After
    public void stop() throws Exception {
        if (responder != null) {
            responder.deactivate();
        }
    }

    static ResponderConfig config(String bind, String ports, int perS, int perSource) {
        return new ResponderConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return ResponderConfig.class;
            }

            @Override
            public String bind() {
                return bind;
            }

            @Override
            public String ports() {
                return ports;
            }

            @Override
            public int max__per__s() {
                return perS;
            }

            @Override
            public int max__per__source__per__s() {
                return perSource;
            }
        };
    }

    /**
     * @return a loopback port free for UDP and for TCP both, as the responder takes each port for
     *         both (a port free for UDP only, taken by another process's TCP connection, left the
     *         responder not listening on it once)
     */
    static int freePort() throws Exception {
        for (int attempt = 0; attempt < 50; attempt++) {
            try (java.net.ServerSocket t = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                    DatagramSocket d = new DatagramSocket(t.getLocalPort(), InetAddress.getLoopbackAddress())) {
                return t.getLocalPort();
            } catch (java.net.BindException e) {
                // taken for UDP: another
            }
        }
        throw new IllegalStateException("no loopback port free for UDP and TCP in 50 attempts");
    }

    static byte[] probe(int size, long seq) {
        ByteBuffer b = ByteBuffer.allocate(size);
        b.put("SONDE-UD".getBytes(StandardCharsets.US_ASCII)).putLong(seq).putLong(0x5eed);
        return b.array();
    }

    /** @return the echo, or null when none came within 300 ms */
    static byte[] ask(DatagramSocket s, int port, byte[] out) throws Exception {
        s.send(new DatagramPacket(out, out.length, InetAddress.getLoopbackAddress(), port));
        byte[] in = new byte[65536];
        DatagramPacket p = new DatagramPacket(in, in.length);
        try {
            s.receive(p);
        } catch (SocketTimeoutException e) {
            return null;
        }
        return java.util.Arrays.copyOf(in, p.getLength());
    }

    /** Waits for the responder's sockets, at most 15 s (a loaded machine took more than the 2 s this waited once). */
    void waitListening(int n) throws InterruptedException {
        for (int i = 0; i < 750 && responder.listening() != n; i++) {
            Thread.sleep(20);
        }
        assertEquals("sockets listening; counts " + responder.counts(), n, responder.listening());
    }

    @Test
    public void theUdpKindsDatagramsAreEchoedByteForByteAndNothingElseIsAnswered() throws Exception {
        int port = freePort();
        responder = new Responder(config("127.0.0.1", "", 1000, 100));
        responder.takeDocument(new RemoteConfig.Document("v1", "{\"responder\":{\"ports\":[" + port + "]}}", RemoteConfig.SERVER));
        waitListening(1);
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            s.setSoTimeout(300);
            for (int size : new int[] {24, 64, 1400, 9000}) {
                byte[] q = probe(size, size);
                assertArrayEquals(q, ask(s, port, q));
            }
            assertNull("not of the udp kind", ask(s, port, "hello, echo me please, I am not a probe".getBytes(StandardCharsets.US_ASCII)));
            assertNull("shorter than a probe", ask(s, port, java.util.Arrays.copyOf(probe(24, 1), 20)));
        }
        try (Socket c = new Socket()) {
            c.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
            assertEquals("closed by the responder", -1, c.getInputStream().read());
        }
        Map<String, Long> counts = responder.counts();
        assertEquals(counts.toString(), Long.valueOf(4), counts.get("udp/echoed"));
        assertEquals(counts.toString(), Long.valueOf(2), counts.get("udp/not_probe"));
        assertEquals(counts.toString(), Long.valueOf(1), counts.get("tcp/accepted"));
    }

    @Test
    public void oneSourceGetsAtMostItsRateAndADatagramFromAResponderPortIsNeverAnswered() throws Exception {
        int port = freePort();
        responder = new Responder(config("127.0.0.1", String.valueOf(port), 1000, 5));
        waitListening(1);
        int answered = 0;
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            s.setSoTimeout(100);
            for (int i = 0; i < 40; i++) {
                if (ask(s, port, probe(64, i)) != null) {
                    answered++;
                }
            }
        }
        // a bucket of 5 that fills at 5/s: 40 asks of at most 100 ms each (4 s at most) get at most 5 + 20
        assertTrue("answered " + answered, answered >= 5 && answered <= 25);
        assertTrue(responder.counts().toString(), responder.counts().getOrDefault("udp/rate_limited", 0L) >= 15);
        // another address is another source, with its own bucket
        try (DatagramSocket other = new DatagramSocket(new InetSocketAddress("127.0.0.2", 0))) {
            other.setSoTimeout(300);
            other.send(new DatagramPacket(probe(64, 1), 64, InetAddress.getLoopbackAddress(), port));
            other.receive(new DatagramPacket(new byte[64], 64));
        }
        // from the responder's own port (on another address): a loop between two responders is not started
        try (DatagramSocket twin = new DatagramSocket(new InetSocketAddress("127.0.0.3", port))) {
            twin.setSoTimeout(300);
            twin.send(new DatagramPacket(probe(64, 1), 64, InetAddress.getLoopbackAddress(), port));
            try {
                twin.receive(new DatagramPacket(new byte[64], 64));
                fail("a datagram from a responder port was answered");
            } catch (SocketTimeoutException expected) {
                assertEquals(Long.valueOf(1), responder.counts().get("udp/loop"));
            }
        }
    }

    @Test
    public void portsFollowTheDocumentAndABadOneChangesNothing() throws Exception {
        int a = freePort();
        int b = freePort();
        responder = new Responder(config("127.0.0.1", "", 1000, 100));
        responder.takeDocument(new RemoteConfig.Document("v1", "{\"responder\":{\"ports\":[" + a + "," + b + "]}}", RemoteConfig.SERVER));
        waitListening(2);
        responder.takeDocument(new RemoteConfig.Document("v2", "{\"responder\":{\"ports\":\"all of them\"}}", RemoteConfig.SERVER));
        Thread.sleep(100);
        assertEquals(2, responder.listening());
        responder.takeDocument(new RemoteConfig.Document("v3", "{\"responder\":{\"ports\":[" + b + "]}}", RemoteConfig.SERVER));
        waitListening(1);
        responder.takeDocument(new RemoteConfig.Document("v4", "{\"targets\":[]}", RemoteConfig.SERVER));
        waitListening(0);
        // a port taken by another program: said, retried, the others open
        try (DatagramSocket taken = new DatagramSocket(new InetSocketAddress("127.0.0.1", a))) {
            responder.takeDocument(new RemoteConfig.Document("v5", "{\"responder\":{\"ports\":[" + a + "," + b + "]}}",
                    RemoteConfig.SERVER));
            waitListening(1);
        }
    }

    @Test
    public void portListsAreCheckedWhole() {
        assertEquals(Set.of(1, 65535), Responder.ports(" 1, 65535 ,", "ports"));
        for (String bad : new String[] {"0", "65536", "x", "1,2,3,4,5,6,7,8,9"}) {
            try {
                Responder.ports(bad, "ports");
                fail(bad);
            } catch (IllegalArgumentException expected) {
                assertTrue(expected.getMessage(), expected.getMessage().startsWith("ports: "));
            }
        }
        assertEquals(Set.of(), Responder.documentPorts("{\"version\":\"v\"}"));
        assertEquals(Set.of(9199), Responder.documentPorts("{\"responder\":{\"ports\":[9199]}}"));
    }

    @Test
    public void theLimitRefillsAtItsRateAndCountsOnlyAnswers() {
        AtomicLong now = new AtomicLong();
        RateLimit limit = new RateLimit(10, 3, now::get);
        InetAddress a = InetAddress.getLoopbackAddress();
        int n = 0;
        for (int i = 0; i < 10; i++) {
            n += limit.allow(a) ? 1 : 0;
        }
        assertEquals("a second's worth at once", 3, n);
        now.addAndGet(400_000_000L); // 1.2 tokens at 3/s
        assertTrue(limit.allow(a));
        assertTrue(!limit.allow(a));
    }
}
