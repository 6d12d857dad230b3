package io.sonde.plugin.udp.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.PriorityQueue;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import io.sonde.api.FailureReason;

/**
 * All echoes on one selector thread: each probe has its own connected datagram channel (so that
 * the kernel reports port unreachable to it), sent and read on this thread, closed when the echo
 * is in, refused, timed out or cancelled. No thread per probe.
 */
final class Echoer implements AutoCloseable {

    /** How a probe ended: {@code failure} null on success. */
    record Outcome(Duration elapsed, FailureReason failure, String message) {
    }

    static final byte[] MAGIC = UdpConnectResult.ECHO_MAGIC.getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private final class Echo {
        final InetSocketAddress to;
        final int size;
        java.net.InetAddress source;
        int trafficClass = -1;
        final long deadline;
        final CompletableFuture<Outcome> future = new CompletableFuture<>();
        long sequence;
        final long nonce = ThreadLocalRandom.current().nextLong();
        volatile DatagramChannel channel;
        long sentAt;

        Echo(InetSocketAddress to, int size, long deadline) {
            this.to = to;
            this.size = size;
            this.deadline = deadline;
        }

        void finish(FailureReason failure, String message) {
            long now = System.nanoTime();
            future.complete(new Outcome(Duration.ofNanos(now - (sentAt > 0 ? sentAt : now)), failure, message));
            close();
        }

        void close() {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException e) {
                    // closing
                }
            }
        }
    }

    private final Selector selector;
    private final Thread thread;
    private final Queue<Echo> incoming = new ConcurrentLinkedQueue<>();
    private final PriorityQueue<Echo> byDeadline = new PriorityQueue<>((a, b) -> Long.compare(a.deadline, b.deadline));
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(65536);
    private long sequences;
    private volatile boolean running = true;

    Echoer(String name) throws IOException {
        selector = Selector.open();
        thread = io.sonde.base.DaemonThreads.of(name, this::loop);
        thread.start();
    }

    CompletableFuture<Outcome> echo(InetSocketAddress to, int size, long deadlineNanos) {
        return echo(to, size, deadlineNanos, null, -1);
    }

    /** As {@link #echo(InetSocketAddress, int, long)}, from {@code source} (null: any) with IP TOS {@code trafficClass} (-1: none). */
    CompletableFuture<Outcome> echo(InetSocketAddress to, int size, long deadlineNanos, java.net.InetAddress source, int trafficClass) {
        Echo e = new Echo(to, Math.max(24, Math.min(65_000, size)), deadlineNanos);
        e.source = source;
        e.trafficClass = trafficClass;
        incoming.add(e);
        selector.wakeup();
        return e.future;
    }

    private void loop() {
        try {
            while (running) {
                Echo head = byDeadline.peek();
                long wait = head == null ? 1000 : Math.max(1, TimeUnit.NANOSECONDS.toMillis(head.deadline - System.nanoTime()) + 1);
                selector.select(wait);
                for (Echo e = incoming.poll(); e != null; e = incoming.poll()) {
                    start(e);
                }
                for (SelectionKey k : selector.selectedKeys()) {
                    read((Echo) k.attachment());
                }
                selector.selectedKeys().clear();
                long now = System.nanoTime();
                while (!byDeadline.isEmpty() && (byDeadline.peek().deadline <= now || byDeadline.peek().future.isDone())) {
                    Echo e = byDeadline.poll();
                    if (!e.future.isDone()) {
                        e.finish(FailureReason.TIMEOUT, null);
                    } else {
                        e.close(); // cancelled, or ended before its deadline
                    }
                }
            }
        } catch (IOException | ClosedSelectorException e) {
            // closing
        } finally {
            for (Echo e : byDeadline) {
                e.finish(FailureReason.ERROR, "the UDP prober stopped");
            }
            for (Echo e = incoming.poll(); e != null; e = incoming.poll()) {
                e.finish(FailureReason.ERROR, "the UDP prober stopped");
            }
        }
    }

    private void start(Echo e) {
        if (e.future.isDone()) {
            return;
        }
        byDeadline.add(e);
        ByteBuffer out = ByteBuffer.allocate(e.size);
        e.future.whenComplete((r, x) -> {
            if (e.future.isCancelled()) {
                e.close(); // at once, not when its deadline comes round;
                selector.wakeup(); // the descriptor goes when the selector next drops cancelled keys
            }
        });
        try {
            e.channel = DatagramChannel.open(e.to.getAddress() instanceof java.net.Inet6Address
                    ? java.net.StandardProtocolFamily.INET6 : java.net.StandardProtocolFamily.INET);
            if (e.future.isCancelled()) {
                e.close(); // cancelled while it was being opened
                return;
            }
            e.channel.configureBlocking(false);
            if (e.trafficClass >= 0) {
                e.channel.setOption(java.net.StandardSocketOptions.IP_TOS, e.trafficClass);
            }
            if (e.source != null) {
                e.channel.bind(new InetSocketAddress(e.source, 0));
            }
            e.channel.connect(e.to);
            e.channel.register(selector, SelectionKey.OP_READ, e);
            e.sequence = ++sequences;
            out.put(MAGIC).putLong(e.sequence).putLong(e.nonce);
            while (out.hasRemaining()) {
                out.put((byte) (out.position() & 0xff));
            }
            out.flip();
            e.sentAt = System.nanoTime();
            e.channel.write(out);
        } catch (PortUnreachableException x) {
            e.finish(FailureReason.REFUSED, "port unreachable: nothing listens on " + e.to);
        } catch (java.net.BindException x) {
            e.finish(FailureReason.ERROR, "the source address (source_address or source_interface) cannot be used: " + x.getMessage());
        } catch (IOException x) {
            e.finish(FailureReason.ERROR, "sending to " + e.to + ": " + x);
        }
    }

    private void read(Echo e) {
        if (e.future.isDone()) {
            return;
        }
        try {
            while (true) {
                buffer.clear();
                int n = e.channel.read(buffer);
                if (n <= 0) {
                    return;
                }
                long now = System.nanoTime();
                buffer.flip();
                if (n >= UdpConnectResult.ECHO_MIN_BYTES && matches(buffer, e.sequence, e.nonce)) {
                    e.future.complete(new Outcome(Duration.ofNanos(now - e.sentAt), null, null));
                    e.close();
                    return;
                }
                // not our echo: wait on
            }
        } catch (PortUnreachableException x) {
            e.finish(FailureReason.REFUSED, "port unreachable: nothing listens on " + e.to);
        } catch (IOException x) {
            e.finish(FailureReason.ERROR, "reading from " + e.to + ": " + x);
        }
    }

    private static boolean matches(ByteBuffer b, long sequence, long nonce) {
        for (int i = 0; i < MAGIC.length; i++) {
            if (b.get(i) != MAGIC[i]) {
                return false;
            }
        }
        return b.getLong(MAGIC.length) == sequence && b.getLong(MAGIC.length + 8) == nonce;
    }

    @Override
    public void close() {
        running = false;
        try {
            selector.close();
        } catch (IOException e) {
            // closing
        }
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
