package io.sonde.plugin.tcp.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.After;
import org.junit.Assume;
import org.junit.Test;

import io.sonde.api.FailureReason;
import io.sonde.api.Target;

/** Real sockets on loopback: open, closed and saturated ports, IPv4 and IPv6. */
public class TcpProberTest {

    private final TcpProber prober;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    public TcpProberTest() throws IOException {
        prober = new TcpProber();
    }

    @After
    public void tearDown() throws Exception {
        prober.deactivate();
        for (AutoCloseable c : toClose) {
            c.close();
        }
    }

    private static Target target(String host, int port, long timeoutMs) {
        return new Target("t", "tcp", host, port, Duration.ofSeconds(10), Duration.ofMillis(timeoutMs), Set.of(),
                Map.of(), "test");
    }

    private TcpConnectResult probe(Target t) throws Exception {
        return prober.probe(t).toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private ServerSocket listen(String address, int backlog) throws IOException {
        ServerSocket s = new ServerSocket();
        s.bind(new InetSocketAddress(InetAddress.getByName(address), 0), backlog);
        toClose.add(s);
        return s;
    }

    private static int closedPort(String address) throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName(address), 0));
            return s.getLocalPort();
        }
    }

    @Test
    public void openPortIPv4() throws Exception {
        ServerSocket s = listen("127.0.0.1", 50);
        TcpConnectResult r = probe(target("127.0.0.1", s.getLocalPort(), 2000));
        assertTrue(r.errorMessage(), r.isSuccessful());
        assertNull(r.failureReason());
        assertTrue(r.responseTime().toNanos() > 0);
        assertEquals(new InetSocketAddress("127.0.0.1", s.getLocalPort()), r.address());
    }

    @Test
    public void openPortIPv6() throws Exception {
        ServerSocket s;
        try {
            s = listen("::1", 50);
        } catch (SocketException e) {
            Assume.assumeNoException("no IPv6 loopback here", e);
            return;
        }
        TcpConnectResult r = probe(target("::1", s.getLocalPort(), 2000));
        assertTrue(r.errorMessage(), r.isSuccessful());
        assertEquals(InetAddress.getByName("::1"), r.address().getAddress());
    }

    @Test
    public void hostNameIsResolved() throws Exception {
        ServerSocket s = listen("127.0.0.1", 50);
        // localhost comes from /etc/hosts: no DNS traffic
        TcpConnectResult r = probe(target("localhost", s.getLocalPort(), 2000));
        assertNotNull(r.address());
        if (r.address().getAddress().isLoopbackAddress() && r.address().getAddress().getAddress().length == 4) {
            assertTrue(r.errorMessage(), r.isSuccessful());
        }
    }

    @Test
    public void closedPortIsRefused() throws Exception {
        int port = closedPort("127.0.0.1");
        TcpConnectResult r = probe(target("127.0.0.1", port, 2000));
        assertEquals(FailureReason.REFUSED, r.failureReason());
        assertTrue(r.errorMessage(), r.errorMessage().contains("refused"));
    }

    @Test
    public void fullBacklogTimesOut() throws Exception {
        // a listener that never accepts: once its queue is full the kernel drops further SYNs
        ServerSocket s = listen("127.0.0.1", 1);
        List<Socket> fillers = new ArrayList<>();
        TcpConnectResult last = null;
        for (int i = 0; i < 8; i++) {
            last = probe(target("127.0.0.1", s.getLocalPort(), 300));
            if (last.failureReason() == FailureReason.TIMEOUT) {
                break;
            }
            Socket f = new Socket();
            try {
                f.connect(new InetSocketAddress("127.0.0.1", s.getLocalPort()), 200);
            } catch (IOException e) {
                // the queue is already full
            }
            fillers.add(f);
        }
        for (Socket f : fillers) {
            f.close();
        }
        assertEquals(FailureReason.TIMEOUT, last.failureReason());
        assertTrue(last.errorMessage(), last.errorMessage().contains("within 300 ms"));
    }

    @Test
    public void cancellingAProbeReleasesItsSocket() throws Exception {
        ServerSocket s = listen("127.0.0.1", 1);
        List<Socket> fillers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Socket f = new Socket();
            try {
                f.connect(new InetSocketAddress("127.0.0.1", s.getLocalPort()), 200);
            } catch (IOException e) {
                // full
            }
            fillers.add(f);
        }
        long before = sockets();
        CompletableFuture<TcpConnectResult> f = prober.probe(target("127.0.0.1", s.getLocalPort(), 5000)).toCompletableFuture();
        // the connect is in flight on the selector thread: one socket more, until the cancel closes it
        assertTrue("the connect never opened its socket", until(() -> sockets() > before));
        f.cancel(true);
        assertTrue("the cancelled connect's socket is still open (" + sockets() + " > " + before + ")",
                until(() -> sockets() == before));
        for (Socket filler : fillers) {
            filler.close();
        }
    }

    /** Sockets this process has open, by /proc/self/fd. */
    static long sockets() {
        java.io.File[] fds = new java.io.File("/proc/self/fd").listFiles();
        long n = 0;
        for (java.io.File fd : fds == null ? new java.io.File[0] : fds) {
            try {
                if (java.nio.file.Files.readSymbolicLink(fd.toPath()).toString().startsWith("socket:")) {
                    n++;
                }
            } catch (IOException e) {
                // closed while listed
            }
        }
        return n;
    }

    /** Polls {@code condition} until it holds or ten seconds pass: a bound, not a measurement. */
    static boolean until(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            Thread.sleep(5);
        }
        return true;
    }

    @Test
    public void failuresAreToldApart() {
        InetSocketAddress a = new InetSocketAddress("127.0.0.1", 1);
        assertEquals(FailureReason.REFUSED, Connector.classify(new ConnectException("Connection refused"), a, 0).failure());
        assertEquals(FailureReason.UNREACHABLE, Connector.classify(new NoRouteToHostException("No route to host"), a, 0).failure());
        assertEquals(FailureReason.UNREACHABLE, Connector.classify(new SocketException("Network is unreachable"), a, 0).failure());
        assertEquals(FailureReason.DNS, Connector.classify(new java.nio.channels.UnresolvedAddressException(), a, 0).failure());
        assertEquals(FailureReason.ERROR, Connector.classify(new IOException("odd"), a, 0).failure());
    }

    @Test
    public void anAddressOfTheOtherFamilyIsANameFailure() throws Exception {
        ServerSocket s = listen("127.0.0.1", 50);
        Target t = target("127.0.0.1", s.getLocalPort(), 2000);
        TcpConnectResult r = probe(new Target(t.name(), t.kind(), t.host(), t.port(), t.interval(), t.timeout(),
                t.tags(), Map.of("ip_version", "6"), t.source()));
        assertEquals(FailureReason.DNS, r.failureReason());
        assertTrue(r.errorMessage(), r.errorMessage().contains("no IPv6 address"));
    }

    @Test
    public void thousandsInFlightOnOneThread() throws Exception {
        ServerSocket s = listen("127.0.0.1", 4096);
        Thread acceptor = new Thread(() -> {
            try {
                while (!s.isClosed()) {
                    s.accept().close();
                }
            } catch (IOException e) {
                // closed
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();
        List<CompletableFuture<TcpConnectResult>> all = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            all.add(prober.probe(target("127.0.0.1", s.getLocalPort(), 5000)).toCompletableFuture());
        }
        int ok = 0;
        for (CompletableFuture<TcpConnectResult> f : all) {
            if (f.get(30, TimeUnit.SECONDS).isSuccessful()) {
                ok++;
            }
        }
        assertEquals(2000, ok);
    }

    /** The listener sees the connection come from the source the target names, with and without an exchange. */
    @Test
    public void sourceAddressIsWhereTheConnectionComesFrom() throws Exception {
        ServerSocket s = listen("127.0.0.1", 50);
        java.util.List<InetAddress> peers = new java.util.concurrent.CopyOnWriteArrayList<>();
        Thread t = new Thread(() -> {
            while (!s.isClosed()) {
                try (Socket c = s.accept()) {
                    peers.add(c.getInetAddress());
                    c.getOutputStream().write("hello\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                } catch (IOException e) {
                    return;
                }
            }
        });
        t.setDaemon(true);
        t.start();
        Target connect = new Target("t", "tcp", "127.0.0.1", s.getLocalPort(), Duration.ofSeconds(10), Duration.ofSeconds(2), Set.of(),
                Map.of("source_address", "127.0.0.3", "dscp", "CS6"), "test");
        assertNull(probe(connect).errorMessage());
        Target exchange = new Target("t", "tcp", "127.0.0.1", s.getLocalPort(), Duration.ofSeconds(10), Duration.ofSeconds(2), Set.of(),
                Map.of("source_address", "127.0.0.4", "expect.1", "^hello"), "test");
        assertNull(probe(exchange).errorMessage());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (peers.size() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(List.of(InetAddress.getByName("127.0.0.3"), InetAddress.getByName("127.0.0.4")), peers);
        Target foreign = new Target("t", "tcp", "127.0.0.1", s.getLocalPort(), Duration.ofSeconds(10), Duration.ofSeconds(2), Set.of(),
                Map.of("source_address", "198.18.250.1"), "test");
        TcpConnectResult r = probe(foreign);
        assertEquals(FailureReason.ERROR, r.failureReason());
        assertTrue(r.errorMessage(), r.errorMessage().startsWith("the source address (source_address or source_interface) cannot be used"));
    }
}
