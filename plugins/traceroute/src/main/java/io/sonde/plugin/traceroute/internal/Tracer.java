package io.sonde.plugin.traceroute.internal;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.sonde.api.FailureReason;
import io.sonde.api.Target;
import io.sonde.sockets.Family;
import io.sonde.sockets.NativeException;
import io.sonde.sockets.NativeSocket;
import io.sonde.sockets.Received;
import io.sonde.sockets.SocketError;

/**
 * Runs traces without privilege: UDP probes, ICMP answers from the socket error queue
 * (IP_RECVERR). One thread sends (a TTL step per trace every {@link #TICK_MS}) and ends traces;
 * one thread waits on every trace's socket at once. No thread per trace.
 */
final class Tracer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Tracer.class);
    static final long TICK_MS = 2;
    private static final int WAIT_MS = 20;

    private final List<Trace> active = new CopyOnWriteArrayList<>();
    /** Where the receiver waits while no trace is in flight, instead of polling nothing every {@value #WAIT_MS} ms. */
    private final Object idle = new Object();
    private final ScheduledThreadPoolExecutor clock;
    private final Thread receiver;
    private volatile boolean running = true;
    /** The tick that sends, running only while a trace is in flight (guarded by {@link #idle}). */
    private java.util.concurrent.ScheduledFuture<?> ticking;

    Tracer() {
        clock = new ScheduledThreadPoolExecutor(1, io.sonde.base.DaemonThreads.named("sonde-traceroute-send"));
        receiver = io.sonde.base.DaemonThreads.of("sonde-traceroute-receive", this::receive);
        receiver.start();
    }

    /**
     * Where a trace's probes come from.
     *
     * @param address      the source address, or null for the system's choice
     * @param port         the source port (the same each round keeps each flow on its path), or 0 for any
     * @param trafficClass the TOS / traffic class byte, or -1 for none
     */
    record Origin(InetAddress address, int port, int trafficClass) {
        static final Origin ANY = new Origin(null, 0, -1);
    }

    CompletableFuture<TracerouteResult> trace(Target target, InetAddress address, int port, int maxHops, int queries,
            int flows, Duration hopTimeout, Instant startedAt, Origin origin) {
        NativeSocket socket;
        try {
            socket = NativeSocket.udp(Family.of(address));
        } catch (NativeException e) {
            return CompletableFuture.completedFuture(new TracerouteResult(target, startedAt, Duration.ZERO,
                    FailureReason.ERROR, "cannot open a UDP socket: " + e.getMessage(), address, List.of(), false));
        }
        try {
            socket.enableErrorQueue();
            socket.enableTimestamps();
            if (origin.trafficClass() >= 0) {
                socket.setTrafficClass(origin.trafficClass());
            }
            if ((origin.port() > 0 && !socket.bind(origin.address(), origin.port()))) {
                // the port is someone else's now: this round from another (its flows may take other paths)
                LOG.debug("traceroute to {}: source port {} in use, another this round", address, origin.port());
                if (origin.address() != null) {
                    socket.bind(origin.address(), 0);
                }
            } else if (origin.port() == 0 && origin.address() != null) {
                socket.bind(origin.address(), 0);
            }
        } catch (NativeException e) {
            socket.close();
            return CompletableFuture.completedFuture(new TracerouteResult(target, startedAt, Duration.ZERO,
                    FailureReason.ERROR, "cannot set up the UDP socket: " + e.getMessage(), address, List.of(), false));
        }
        Trace t = new Trace(target, address, port, maxHops, queries, flows, hopTimeout,
                ThreadLocalRandom.current().nextLong(), startedAt, socket);
        t.future.whenComplete((r, e) -> {
            if (t.future.isCancelled()) {
                end(t);
            }
        });
        active.add(t);
        synchronized (idle) {
            if (ticking == null && running) {
                ticking = clock.scheduleWithFixedDelay(this::tick, 0, TICK_MS, TimeUnit.MILLISECONDS);
            }
            idle.notifyAll();
        }
        return t.future;
    }

    /** Sends each trace's next TTL and ends the traces that are complete. */
    private void tick() {
        long now = System.nanoTime();
        for (Trace t : active) {
            try {
                int ttl = t.nextTtl();
                if (ttl > 0) {
                    t.socket.setTtl(ttl);
                    for (int q = 0; q < t.slots; q++) { // flow 0's queries first, then one per further flow
                        if (t.wanted(ttl, q)) {
                            byte[] p = Trace.payload(t.nonce, ttl, q);
                            t.sent(ttl, q, Trace.epochNow());
                            t.socket.send(p, p.length, t.address, t.portOf(q));
                        }
                    }
                }
                if (t.complete(now)) {
                    end(t);
                }
            } catch (NativeException e) {
                LOG.debug("traceroute to {} failed", t.address, e);
                end(t);
            } catch (RuntimeException e) {
                LOG.warn("traceroute to {} failed", t.address, e);
                end(t);
            }
        }
        synchronized (idle) {
            if (active.isEmpty() && ticking != null) {
                ticking.cancel(false); // nothing in flight: no wake-ups until the next trace
                ticking = null;
            }
        }
    }

    private void end(Trace t) {
        if (active.remove(t)) {
            t.socket.close();
            t.finish();
        }
    }

    private void receive() {
        byte[] buffer = new byte[2048];
        while (running) {
            synchronized (idle) {
                while (running && active.isEmpty()) {
                    try {
                        idle.wait(1000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
            Trace[] traces = active.toArray(new Trace[0]);
            NativeSocket[] sockets = new NativeSocket[traces.length];
            for (int i = 0; i < traces.length; i++) {
                sockets[i] = traces[i].socket;
            }
            int[] ready;
            try {
                ready = NativeSocket.awaitAny(sockets, WAIT_MS);
            } catch (NativeException e) {
                continue; // a socket closed under us: the next round takes a fresh list
            }
            for (int i = 0; i < traces.length; i++) {
                if (ready[i] != 0) {
                    drain(traces[i], buffer, ready[i]);
                }
            }
        }
    }

    private void drain(Trace t, byte[] buffer, int firstReady) {
        boolean v6 = Family.of(t.address) == Family.IPV6;
        try {
            // poll() again rather than reading until EAGAIN, which JNA turns into an exception
            for (int ready = firstReady, n = 0; ready != 0 && n < 1024;
                    ready = t.socket.await(0), n++) {
                if ((ready & NativeSocket.ERROR) != 0) {
                    Received r = t.socket.receive(buffer, true);
                    SocketError e = r == null ? null : r.error();
                    if (e != null && (e.origin() == SocketError.ORIGIN_ICMP || e.origin() == SocketError.ORIGIN_ICMP6)) {
                        int[] id = t.identify(buffer, r.length());
                        if (id != null) {
                            t.answer(id[0], id[1], e.offender(), r.kernelTimeNanos(), v6, e.type(), e.code());
                        }
                    }
                }
                if ((ready & NativeSocket.READABLE) != 0) {
                    t.socket.receive(buffer, false); // a UDP answer from the destination itself: ignore
                }
            }
        } catch (NativeException e) {
            // closed while draining
        }
    }

    @Override
    public void close() {
        running = false;
        synchronized (idle) {
            idle.notifyAll();
        }
        clock.shutdownNow();
        try {
            receiver.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Trace t : active) {
            end(t);
        }
    }
}
