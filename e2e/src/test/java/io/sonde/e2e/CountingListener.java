package io.sonde.e2e;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.atomic.AtomicLong;

/** A loopback TCP listener that counts the connections it accepts: what a tcp probe measured. */
final class CountingListener implements AutoCloseable {

    private final ServerSocket socket;
    final AtomicLong accepted = new AtomicLong();
    /** When each connection came (System.nanoTime), in order. */
    final java.util.List<Long> times = new java.util.concurrent.CopyOnWriteArrayList<>();

    CountingListener() throws IOException {
        socket = new ServerSocket();
        socket.bind(new InetSocketAddress("127.0.0.1", 0), 500);
        Thread t = new Thread(() -> {
            try {
                while (!socket.isClosed()) {
                    socket.accept().close();
                    times.add(System.nanoTime());
                    accepted.incrementAndGet();
                }
            } catch (IOException e) {
                // closed
            }
        }, "e2e-counting-acceptor");
        t.setDaemon(true);
        t.start();
    }

    int port() {
        return socket.getLocalPort();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
