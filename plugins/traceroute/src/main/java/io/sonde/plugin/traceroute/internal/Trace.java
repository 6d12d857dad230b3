package io.sonde.plugin.traceroute.internal;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import io.sonde.api.FailureReason;
import io.sonde.api.Target;
import io.sonde.sockets.NativeSocket;

/**
 * One traceroute round: UDP probes with rising TTL over one socket, so source and destination
 * address and port, the flow, stay the same for every probe (Paris-style: per-flow load balancers
 * keep the whole round on one path). Each probe's payload says which TTL and query it was; the
 * ICMP errors come back through the socket's error queue with that payload.
 */
final class Trace {

    static final int PAYLOAD = 16;
    private static final int MAGIC = 0x54524143; // "TRAC"

    final Target target;
    final InetAddress address;
    final int port;
    final int maxHops;
    final int queries;
    final long hopTimeoutNanos;
    final long nonce;
    final Instant startedAt;
    final long startNanos = System.nanoTime();
    final NativeSocket socket;
    final CompletableFuture<TracerouteResult> future = new CompletableFuture<>();

    private final InetAddress[] hopAddress;
    private final long[][] rtt; // [ttl-1][query], -1 while unanswered
    private final long[][] sentAt; // epoch nanos
    private final long[] ttlSentNanos; // nanoTime of the TTL's first probe, 0 before
    private int nextTtl = 1;
    private int reachedTtl = -1;
    private String stop; // why the trace ended early (an unreachable), or null
    private int stopTtl = -1;
    private boolean done;

    Trace(Target target, InetAddress address, int port, int maxHops, int queries, Duration hopTimeout, long nonce,
            Instant startedAt, NativeSocket socket) {
        this.target = target;
        this.address = address;
        this.port = port;
        this.maxHops = maxHops;
        this.queries = queries;
        this.hopTimeoutNanos = hopTimeout.toNanos();
        this.nonce = nonce;
        this.startedAt = startedAt;
        this.socket = socket;
        hopAddress = new InetAddress[maxHops];
        rtt = new long[maxHops][queries];
        sentAt = new long[maxHops][queries];
        ttlSentNanos = new long[maxHops];
        for (long[] r : rtt) {
            java.util.Arrays.fill(r, -1);
        }
    }

    /** @return the next TTL to send, or -1 when no more should go out */
    synchronized int nextTtl() {
        if (done || nextTtl > maxHops || (reachedTtl > 0 && nextTtl > reachedTtl) || stop != null) {
            return -1;
        }
        return nextTtl++;
    }

    synchronized void sent(int ttl, int query, long epochNanos) {
        sentAt[ttl - 1][query] = epochNanos;
        if (ttlSentNanos[ttl - 1] == 0) {
            ttlSentNanos[ttl - 1] = System.nanoTime();
        }
    }

    static byte[] payload(long nonce, int ttl, int query) {
        byte[] b = new byte[PAYLOAD];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (nonce >>> (56 - 8 * i));
        }
        b[8] = (byte) (ttl >> 8);
        b[9] = (byte) ttl;
        b[10] = (byte) (query >> 8);
        b[11] = (byte) query;
        b[12] = (byte) (MAGIC >>> 24);
        b[13] = (byte) (MAGIC >>> 16);
        b[14] = (byte) (MAGIC >>> 8);
        b[15] = (byte) MAGIC;
        return b;
    }

    /** @return {ttl, query} if {@code b} is a payload of this trace, else null */
    int[] identify(byte[] b, int length) {
        if (length < PAYLOAD) {
            return null;
        }
        long n = 0;
        for (int i = 0; i < 8; i++) {
            n = (n << 8) | (b[i] & 0xff);
        }
        int magic = ((b[12] & 0xff) << 24) | ((b[13] & 0xff) << 16) | ((b[14] & 0xff) << 8) | (b[15] & 0xff);
        int ttl = ((b[8] & 0xff) << 8) | (b[9] & 0xff);
        int query = ((b[10] & 0xff) << 8) | (b[11] & 0xff);
        if (n != nonce || magic != MAGIC || ttl < 1 || ttl > maxHops || query >= queries) {
            return null;
        }
        return new int[] {ttl, query};
    }

    /**
     * An ICMP answer to probe ({@code ttl}, {@code query}) from {@code from}.
     *
     * @param type ICMP type: time exceeded (11 / 3 for IPv6), or unreachable (3 / 1)
     * @param code ICMP code; port unreachable from the destination means it was reached
     */
    synchronized void answer(int ttl, int query, InetAddress from, long kernelEpochNanos, boolean v6, int type, int code) {
        if (rtt[ttl - 1][query] >= 0 || sentAt[ttl - 1][query] == 0) {
            return;
        }
        long sent = sentAt[ttl - 1][query];
        rtt[ttl - 1][query] = Math.max(0, (kernelEpochNanos > 0 ? kernelEpochNanos : epochNow()) - sent);
        hopAddress[ttl - 1] = from;
        boolean unreachable = v6 ? type == 1 : type == 3;
        if (unreachable) {
            boolean portUnreachable = v6 ? code == 4 : code == 3;
            if (portUnreachable && address.equals(from)) {
                if (reachedTtl < 0 || ttl < reachedTtl) {
                    reachedTtl = ttl;
                }
            } else if (stop == null || ttl < stopTtl) {
                stop = "unreachable at hop " + ttl + " (ICMP code " + code + " from "
                        + (from == null ? "?" : from.getHostAddress()) + ")";
                stopTtl = ttl;
            }
        }
    }

    /** @return true when every probe that matters is answered or past the hop timeout */
    synchronized boolean complete(long now) {
        if (done) {
            return true;
        }
        if (now - startNanos >= target.timeout().toNanos()) {
            return true;
        }
        int last = reachedTtl > 0 ? reachedTtl : (stop != null ? stopTtl : maxHops);
        for (int t = 1; t <= last; t++) {
            if (ttlSentNanos[t - 1] == 0) {
                return false; // not yet sent
            }
            boolean pending = false;
            for (int q = 0; q < queries; q++) {
                pending |= rtt[t - 1][q] < 0;
            }
            if (pending && now - ttlSentNanos[t - 1] < hopTimeoutNanos) {
                return false;
            }
        }
        return true;
    }

    /** Ends the trace and completes its future; the caller closes the socket. */
    synchronized TracerouteResult finish() {
        done = true;
        int last = reachedTtl > 0 ? reachedTtl : stopTtl > 0 ? stopTtl : lastSent();
        List<TracerouteResult.Hop> hops = new ArrayList<>(last);
        for (int t = 1; t <= last; t++) {
            List<Duration> rtts = new ArrayList<>();
            int sent = 0;
            for (int q = 0; q < queries; q++) {
                if (sentAt[t - 1][q] != 0) {
                    sent++;
                }
                if (rtt[t - 1][q] >= 0) {
                    rtts.add(Duration.ofNanos(rtt[t - 1][q]));
                }
            }
            hops.add(new TracerouteResult.Hop(t, hopAddress[t - 1], rtts, sent));
        }
        boolean reached = reachedTtl > 0;
        Duration total = Duration.ofNanos(System.nanoTime() - startNanos);
        FailureReason reason = reached ? null : stop != null ? FailureReason.UNREACHABLE : FailureReason.TIMEOUT;
        String message = reached ? null : stop != null ? stop
                : address.getHostAddress() + " not reached within " + maxHops + " hops";
        TracerouteResult r = new TracerouteResult(target, startedAt, total, reason, message, address, hops, reached);
        future.complete(r);
        return r;
    }

    private int lastSent() {
        for (int t = maxHops; t >= 1; t--) {
            if (ttlSentNanos[t - 1] != 0) {
                return t;
            }
        }
        return 0;
    }

    static long epochNow() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }
}
