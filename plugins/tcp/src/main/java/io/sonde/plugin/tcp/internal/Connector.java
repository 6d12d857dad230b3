package io.sonde.plugin.tcp.internal;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Iterator;
import java.util.PriorityQueue;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import io.sonde.api.FailureReason;

/**
 * Non-blocking TCP connects on one selector thread: any number in flight, no thread each. Each
 * connect completes its future with the time from {@code connect()} to an established connection,
 * or with the classified failure; the socket is closed either way.
 */
final class Connector implements AutoCloseable {

    /** What one connect came to. */
    record Outcome(Duration elapsed, FailureReason failure, String message) {
    }

    private final Selector selector;
    private final Thread thread;
    private final Queue<Attempt> incoming = new ConcurrentLinkedQueue<>();
    private final Queue<Attempt> cancels = new ConcurrentLinkedQueue<>();
    private final PriorityQueue<Attempt> deadlines = new PriorityQueue<>((a, b) -> Long.compare(a.deadline, b.deadline));
    private final AtomicBoolean wakeupPending = new AtomicBoolean();
    private volatile boolean open = true;

    Connector(String name) throws IOException {
        selector = Selector.open();
        thread = io.sonde.base.DaemonThreads.of(name, this::loop);
        thread.start();
    }

    /**
     * Connects to {@code address}; the future never fails, it completes with an outcome. Cancelling
     * the future abandons the connect and closes its socket. Only queues the request: every socket
     * operation happens on the selector thread, so a caller pays for one wake-up at most.
     *
     * @param reset close with a reset (SO_LINGER 0) rather than a FIN: no TIME_WAIT socket is left
     *              on this host, at the price of a "connection reset" on the peer
     */
    CompletableFuture<Outcome> connect(InetSocketAddress address, Duration timeout, boolean reset) {
        return connect(address, timeout, reset, null, -1);
    }

    /**
     * As {@link #connect(InetSocketAddress, Duration, boolean)}, from {@code source} (null: the
     * system's choice) with the IP TOS byte {@code trafficClass} (-1: none).
     */
    CompletableFuture<Outcome> connect(InetSocketAddress address, Duration timeout, boolean reset, java.net.InetAddress source,
            int trafficClass) {
        CompletableFuture<Outcome> future = new CompletableFuture<>();
        if (!open) {
            future.complete(new Outcome(Duration.ZERO, FailureReason.ERROR, "the TCP prober is stopping"));
            return future;
        }
        Attempt attempt = new Attempt(address, future, timeout.toNanos(), reset);
        attempt.source = source;
        attempt.trafficClass = trafficClass;
        future.whenComplete((o, e) -> {
            if (future.isCancelled()) {
                attempt.cancelled = true;
                cancels.add(attempt);
                wake();
            }
        });
        incoming.add(attempt);
        if (!open) {
            drainIncoming(); // closed meanwhile: the selector thread may have drained the queue before this came
        } else {
            wake();
        }
        return future;
    }

    /** Fails the attempts not yet taken up; each is polled, and completed, by one thread only. */
    private void drainIncoming() {
        for (Attempt a; (a = incoming.poll()) != null;) {
            a.complete(new Outcome(Duration.ZERO, FailureReason.ERROR, "the TCP prober stopped"));
        }
    }

    private void wake() {
        if (wakeupPending.compareAndSet(false, true)) {
            selector.wakeup();
        }
    }

    private void loop() {
        try {
            while (open) {
                long waitMs = 0;
                Attempt first = deadlines.peek();
                if (first != null) {
                    waitMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(first.deadline - System.nanoTime()) + 1);
                }
                selector.select(waitMs);
                wakeupPending.set(false);
                register();
                for (Iterator<SelectionKey> it = selector.selectedKeys().iterator(); it.hasNext();) {
                    SelectionKey key = it.next();
                    it.remove();
                    finish((Attempt) key.attachment());
                }
                expire();
            }
        } catch (IOException | ClosedSelectorException e) {
            // closed: fall through and fail what is left
        } finally {
            failAll("the TCP prober stopped");
        }
    }

    /** Opens and connects the queued attempts. */
    private void register() {
        for (Attempt a; (a = incoming.poll()) != null;) {
            if (a.cancelled) {
                a.done = true;
                continue;
            }
            try {
                a.channel = io.sonde.sockets.Marking.channel(a.address.getAddress()); // of the family: the mark applies
                a.channel.configureBlocking(false);
                if (a.reset) {
                    a.channel.setOption(StandardSocketOptions.SO_LINGER, 0);
                }
                if (a.trafficClass >= 0) {
                    a.channel.setOption(StandardSocketOptions.IP_TOS, a.trafficClass);
                }
                if (a.source != null) {
                    a.channel.bind(new InetSocketAddress(a.source, 0));
                }
                a.start = System.nanoTime();
                a.deadline = a.start + a.timeoutNanos;
                // On loopback and very near hosts the handshake is over by the time connect() returns
                // (it still says "in progress"): one look saves a round through the selector.
                if (a.channel.connect(a.address) || a.channel.finishConnect()) {
                    a.complete(new Outcome(Duration.ofNanos(System.nanoTime() - a.start), null, null));
                    continue;
                }
                a.key = a.channel.register(selector, SelectionKey.OP_CONNECT, a);
                deadlines.add(a);
            } catch (IOException | RuntimeException e) {
                a.complete(classify(e, a.address, a.start == 0 ? 0 : System.nanoTime() - a.start));
            }
        }
    }

    private void finish(Attempt a) {
        if (a.done) {
            return;
        }
        long end;
        try {
            if (!a.channel.finishConnect()) {
                return;
            }
            end = System.nanoTime();
            a.complete(new Outcome(Duration.ofNanos(end - a.start), null, null));
        } catch (IOException | RuntimeException e) {
            a.complete(classify(e, a.address, System.nanoTime() - a.start));
        }
        // it leaves the deadline queue when it reaches the head: removal from the middle is linear
    }

    private void expire() {
        long now = System.nanoTime();
        for (Attempt a; (a = deadlines.peek()) != null;) {
            if (a.done) {
                deadlines.poll();
            } else if (a.cancelled) {
                deadlines.poll();
                a.complete(null);
            } else if (a.deadline - now <= 0) {
                deadlines.poll();
                a.complete(new Outcome(Duration.ofNanos(now - a.start), FailureReason.TIMEOUT,
                        "no answer from " + a.address + " within " + TimeUnit.NANOSECONDS.toMillis(a.deadline - a.start) + " ms"));
            } else {
                break;
            }
        }
        // cancelled attempts not yet due are closed now rather than at their deadline
        for (Attempt a; (a = cancels.poll()) != null;) {
            a.complete(null);
        }
    }

    /** On the selector thread as it ends: fails what is queued and what is in flight. */
    private void failAll(String message) {
        drainIncoming();
        for (Attempt a; (a = deadlines.poll()) != null;) {
            a.complete(new Outcome(Duration.ofNanos(System.nanoTime() - a.start), FailureReason.ERROR, message));
        }
    }

    /** Tells refused, unreachable and other failures apart. */
    static Outcome classify(Throwable e, InetSocketAddress address, long elapsedNanos) {
        Duration elapsed = Duration.ofNanos(Math.max(0, elapsedNanos));
        String detail = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (e instanceof java.net.BindException) {
            return new Outcome(elapsed, FailureReason.ERROR, "the source address (source_address or source_interface) cannot be used: "
                    + detail);
        }
        if (e instanceof ConnectException && detail.toLowerCase(java.util.Locale.ROOT).contains("refused")) {
            return new Outcome(elapsed, FailureReason.REFUSED, "connection to " + address + " refused");
        }
        if (e instanceof NoRouteToHostException || (e instanceof SocketException
                && (detail.contains("unreachable") || detail.contains("No route")))) {
            return new Outcome(elapsed, FailureReason.UNREACHABLE, address + ": " + detail);
        }
        if (e instanceof java.nio.channels.UnresolvedAddressException) {
            return new Outcome(elapsed, FailureReason.DNS, "cannot resolve " + address.getHostString());
        }
        return new Outcome(elapsed, FailureReason.ERROR, "connect to " + address + " failed: " + detail);
    }

    /**
     * Stops the selector thread, which fails what is in flight as it ends; the attempts and the
     * deadline queue are never touched from this thread while it runs. Closing the selector ends a
     * thread that did not stop within two seconds.
     */
    @Override
    public void close() {
        open = false;
        selector.wakeup();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            selector.close(); // a thread still in select() ends with ClosedSelectorException, then fails the rest
        } catch (IOException e) {
            // the selector's own descriptors: nothing is left to do with them
        }
        drainIncoming();
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    /** One connect in flight; touched by the selector thread, except {@link #cancelled}. */
    private static final class Attempt {
        final InetSocketAddress address;
        final CompletableFuture<Outcome> future;
        final long timeoutNanos;
        final boolean reset;
        java.net.InetAddress source;
        int trafficClass = -1;
        volatile boolean cancelled;
        SocketChannel channel;
        long start;
        long deadline;
        boolean done;
        SelectionKey key;

        Attempt(InetSocketAddress address, CompletableFuture<Outcome> future, long timeoutNanos, boolean reset) {
            this.address = address;
            this.future = future;
            this.timeoutNanos = timeoutNanos;
            this.reset = reset;
        }

        /** Closes the socket and completes the future; {@code null} when abandoned. */
        void complete(Outcome outcome) {
            if (done) {
                return;
            }
            done = true;
            if (key != null) {
                key.cancel();
            }
            if (channel != null) {
                closeQuietly(channel);
            }
            if (outcome != null) {
                future.complete(outcome);
            }
        }
    }
}
