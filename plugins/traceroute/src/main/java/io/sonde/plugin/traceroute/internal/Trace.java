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
 * One traceroute round: UDP probes with rising TTL over one socket. A flow is a destination port
 * ({@code port + flow}): every probe of a flow has the same source and destination address and
 * port, so per-flow load balancers keep it on one path (Paris-style); several flows (Dublin-style)
 * show the paths of equal-cost routes. Flow 0 sends {@code queries} probes per TTL, each other flow
 * one, after flow 0's (routers limit their ICMP answers: flow 0 gets them first). Each probe's
 * payload says which TTL and slot (flow 0's queries, then one per further flow) it was; the ICMP
 * errors come back through the socket's error queue with that payload.
 */
final class Trace {

    static final int PAYLOAD = 16;
    private static final int MAGIC = 0x54524143; // "TRAC"

    final Target target;
    final InetAddress address;
    final int port;
    final int maxHops;
    final int queries;
    final int flows;
    /** probes per TTL: flow 0's queries, then one per further flow */
    final int slots;
    final long hopTimeoutNanos;
    final long nonce;
    final Instant startedAt;
    final long startNanos = System.nanoTime();
    final NativeSocket socket;
    final CompletableFuture<TracerouteResult> future = new CompletableFuture<>();

    private final InetAddress[][] from; // [ttl-1][slot]: who answered, null while none did
    private final long[][] rtt; // [ttl-1][slot], -1 while unanswered
    private final long[][] sentAt; // epoch nanos
    private final long[] ttlSentNanos; // nanoTime of the TTL's first probe, 0 before
    private final int[] reachedTtl; // [flow]: the TTL at which the destination answered, -1 before
    private int nextTtl = 1;
    private String stop; // why the trace ended early (an unreachable), or null
    private int stopTtl = -1;
    private boolean done;

    Trace(Target target, InetAddress address, int port, int maxHops, int queries, int flows, Duration hopTimeout,
            long nonce, Instant startedAt, NativeSocket socket) {
        this.target = target;
        this.address = address;
        this.port = port;
        this.maxHops = maxHops;
        this.queries = queries;
        this.flows = flows;
        this.slots = queries + flows - 1;
        this.hopTimeoutNanos = hopTimeout.toNanos();
        this.nonce = nonce;
        this.startedAt = startedAt;
        this.socket = socket;
        from = new InetAddress[maxHops][slots];
        rtt = new long[maxHops][slots];
        sentAt = new long[maxHops][slots];
        ttlSentNanos = new long[maxHops];
        reachedTtl = new int[flows];
        java.util.Arrays.fill(reachedTtl, -1);
        for (long[] r : rtt) {
            java.util.Arrays.fill(r, -1);
        }
    }

    /** @return the flow a slot's probe went on */
    int flowOf(int slot) {
        return slot < queries ? 0 : slot - queries + 1;
    }

    /** @return the destination port of a slot's probe: its flow's */
    int portOf(int slot) {
        return port + flowOf(slot);
    }

    /** @return the next TTL to send, or -1 when no more should go out */
    synchronized int nextTtl() {
        if (done || nextTtl > maxHops || stop != null) {
            return -1;
        }
        for (int f = 0; f < flows; f++) {
            if (reachedTtl[f] < 0 || nextTtl <= reachedTtl[f]) {
                return nextTtl++;
            }
        }
        return -1; // every flow reached the destination before this TTL
    }

    /** @return whether the slot's flow still goes on at that TTL (it has not reached the destination nearer) */
    synchronized boolean wanted(int ttl, int slot) {
        int reached = reachedTtl[flowOf(slot)];
        return reached < 0 || ttl <= reached;
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
        b[10] = (byte) (query >> 8); // the slot
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
        if (n != nonce || magic != MAGIC || ttl < 1 || ttl > maxHops || query >= slots) {
            return null;
        }
        return new int[] {ttl, query};
    }

    /**
     * An ICMP answer to probe ({@code ttl}, slot {@code query}) from {@code from}.
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
        this.from[ttl - 1][query] = from;
        boolean unreachable = v6 ? type == 1 : type == 3;
        if (unreachable) {
            boolean portUnreachable = v6 ? code == 4 : code == 3;
            int flow = flowOf(query);
            if (portUnreachable && address.equals(from)) {
                if (reachedTtl[flow] < 0 || ttl < reachedTtl[flow]) {
                    reachedTtl[flow] = ttl;
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
        int last = stop != null ? stopTtl : lastWanted();
        for (int t = 1; t <= last; t++) {
            if (ttlSentNanos[t - 1] == 0) {
                return false; // not yet sent
            }
            boolean pending = false;
            for (int q = 0; q < slots; q++) {
                pending |= rtt[t - 1][q] < 0 && sentAt[t - 1][q] != 0;
            }
            if (pending && now - ttlSentNanos[t - 1] < hopTimeoutNanos) {
                return false;
            }
        }
        return true;
    }

    /** @return the farthest TTL some flow still needs: the largest TTL a flow reached at, or max hops while one has not */
    private int lastWanted() {
        int last = 0;
        for (int f = 0; f < flows; f++) {
            if (reachedTtl[f] < 0) {
                return maxHops;
            }
            last = Math.max(last, reachedTtl[f]);
        }
        return last;
    }

    /** @return the last TTL of a flow's path: where it reached the destination, where the trace stopped, or the last sent */
    private int lastOf(int flow) {
        int last = reachedTtl[flow] > 0 ? reachedTtl[flow] : stopTtl > 0 ? stopTtl : lastSent();
        return stopTtl > 0 ? Math.min(last, stopTtl) : last;
    }

    /** Ends the trace and completes its future; the caller closes the socket. */
    synchronized TracerouteResult finish() {
        done = true;
        int last = lastOf(0);
        List<TracerouteResult.Hop> hops = new ArrayList<>(last);
        for (int t = 1; t <= last; t++) {
            List<Duration> rtts = new ArrayList<>();
            int sent = 0;
            InetAddress hop = null;
            for (int q = 0; q < queries; q++) {
                if (sentAt[t - 1][q] != 0) {
                    sent++;
                }
                if (rtt[t - 1][q] >= 0) {
                    rtts.add(Duration.ofNanos(rtt[t - 1][q]));
                    hop = hop == null ? from[t - 1][q] : hop;
                }
            }
            hops.add(new TracerouteResult.Hop(t, hop, rtts, sent));
        }
        List<TracerouteResult.FlowPath> paths = flows > 1 ? paths() : List.of();
        boolean reached = false;
        for (int f = 0; f < flows; f++) {
            reached |= reachedTtl[f] > 0;
        }
        Duration total = Duration.ofNanos(System.nanoTime() - startNanos);
        FailureReason reason = reached ? null : stop != null ? FailureReason.UNREACHABLE : FailureReason.TIMEOUT;
        String message = reached ? null : stop != null ? stop
                : address.getHostAddress() + " not reached within " + maxHops + " hops";
        TracerouteResult r = new TracerouteResult(target, startedAt, total, reason, message, address, hops, reached, paths);
        future.complete(r);
        return r;
    }

    /**
     * The distinct paths the flows took. A hop that did not answer a flow is no difference: a flow
     * joins the first path (of those with more answering hops) that agrees with it wherever both
     * have an address, and fills that path's silent hops; a flow that did not reach the destination
     * ends at its last answering hop and agrees with a longer path that begins the same. Only a
     * different address at some TTL, or the destination reached at another TTL, makes a path of
     * its own.
     */
    private List<TracerouteResult.FlowPath> paths() {
        List<InetAddress[]> perFlow = new ArrayList<>(flows);
        Integer[] order = new Integer[flows];
        int[] answered = new int[flows];
        for (int f = 0; f < flows; f++) {
            InetAddress[] p = new InetAddress[lastOf(f)];
            int end = 0;
            for (int t = 1; t <= p.length; t++) {
                for (int q = 0; q < slots; q++) {
                    if (flowOf(q) == f && from[t - 1][q] != null && p[t - 1] == null) {
                        p[t - 1] = from[t - 1][q];
                        answered[f]++;
                        end = t;
                    }
                }
            }
            perFlow.add(reachedTtl[f] > 0 ? p : java.util.Arrays.copyOf(p, end)); // no silent tail
            order[f] = f;
        }
        java.util.Arrays.sort(order, (a, b) -> answered[b] != answered[a] ? answered[b] - answered[a] : a - b);
        List<InetAddress[]> hops = new ArrayList<>();
        List<List<Integer>> members = new ArrayList<>();
        for (int f : order) {
            InetAddress[] p = perFlow.get(f);
            int joined = -1;
            for (int i = 0; i < hops.size() && joined < 0; i++) {
                if (agree(hops.get(i), p)) {
                    joined = i;
                }
            }
            if (joined < 0) {
                hops.add(p.clone());
                members.add(new ArrayList<>(List.of(f)));
            } else {
                InetAddress[] into = hops.get(joined);
                if (p.length > into.length) {
                    into = java.util.Arrays.copyOf(into, p.length);
                    hops.set(joined, into);
                }
                for (int t = 0; t < p.length; t++) {
                    into[t] = into[t] == null ? p[t] : into[t];
                }
                members.get(joined).add(f);
            }
        }
        List<TracerouteResult.FlowPath> out = new ArrayList<>(hops.size());
        for (int i = 0; i < hops.size(); i++) {
            List<Integer> m = members.get(i);
            java.util.Collections.sort(m);
            out.add(new TracerouteResult.FlowPath(m, java.util.Arrays.asList(hops.get(i))));
        }
        out.sort((a, b) -> a.flows().get(0) - b.flows().get(0)); // flow 0's path first
        return out;
    }

    /** @return whether two paths agree wherever both have an address, the shorter not ending at the destination */
    private boolean agree(InetAddress[] a, InetAddress[] b) {
        int n = Math.min(a.length, b.length);
        for (int t = 0; t < n; t++) {
            if (a[t] != null && b[t] != null && !a[t].equals(b[t])) {
                return false;
            }
        }
        if (a.length == b.length) {
            return true;
        }
        InetAddress[] shorter = a.length < b.length ? a : b;
        return shorter.length == 0 || !address.equals(shorter[shorter.length - 1]);
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
