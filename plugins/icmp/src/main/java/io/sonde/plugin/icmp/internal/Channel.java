package io.sonde.plugin.icmp.internal;

import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.sonde.sockets.Family;
import io.sonde.sockets.NativeException;
import io.sonde.sockets.NativeSocket;
import io.sonde.sockets.Received;
import io.sonde.sockets.SocketError;

/**
 * The one ICMP socket of an address family, shared by every target of that family, and the one
 * thread that receives on it and hands each reply to its round by sequence number. If the socket
 * fails (closed, ENOBUFS, a permission taken away) it is opened again.
 */
final class Channel implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Channel.class);
    private static final int WAIT_MS = 200;
    private static final long REOPEN_PAUSE_MS = 1000;

    /** How a request went out, to find its reply. */
    static final class Pending {
        final Round round;
        final int index;
        /** Set just before the request goes out, so that the RTT holds no bookkeeping of ours. */
        volatile long sentEpochNanos;
        volatile long sentNanoTime;

        Pending(Round round, int index) {
            this.round = round;
            this.index = index;
        }

        Round round() {
            return round;
        }

        int index() {
            return index;
        }

        void stamp() {
            sentNanoTime = System.nanoTime();
            Instant now = Instant.now();
            sentEpochNanos = now.getEpochSecond() * 1_000_000_000L + now.getNano();
        }
    }

    /**
     * What the channel's socket sets on every request: the don't-fragment bit, a traffic class
     * (DSCP), a source address. Targets that ask for the same share a channel.
     *
     * @param trafficClass the TOS / traffic class byte, or -1 for none
     * @param source       the source address, or null for the system's choice
     */
    record Options(boolean dontFragment, int trafficClass, java.net.InetAddress source) {
        static final Options DEFAULT = new Options(false, -1, null);

        boolean isDefault() {
            return equals(DEFAULT);
        }
    }

    final Family family;
    final Options options;
    private final Mode forced;
    private volatile NativeSocket socket;
    private volatile Mode mode;
    private volatile String unavailable;
    /** Whether the last open failed on the target's settings (a source address not on this host yet, say). */
    private volatile boolean refused;
    private final int identifier = ThreadLocalRandom.current().nextInt(1, 0xffff);
    private final AtomicInteger sequence = new AtomicInteger(ThreadLocalRandom.current().nextInt(0xffff));
    /** Requests awaiting their reply, by sequence number: 16 bits, so at most 65,536 in flight per socket. */
    private final Map<Integer, Pending> pending = new ConcurrentHashMap<>();
    private final byte[] sendBuffer = new byte[64];
    private final Thread receiver;
    private volatile boolean running = true;
    /**
     * Rounds in flight by their timeout: within one timeout, deadlines come in the order rounds
     * start, so each queue's head is its next to expire. The receiver ends expired rounds between
     * reads, so a round costs no timer of its own (no task to schedule, cancel and wake a thread for).
     */
    private final Map<Long, java.util.Queue<Round>> deadlines = new ConcurrentHashMap<>();

    /**
     * @param forced a mode to use instead of detecting one (for tests), or null
     */
    Channel(Family family, Mode forced) {
        this(family, forced, Options.DEFAULT);
    }

    Channel(Family family, Mode forced, Options options) {
        this.family = family;
        this.forced = forced;
        this.options = options;
        open();
        receiver = io.sonde.base.DaemonThreads.of("sonde-icmp-receive-" + family.name().toLowerCase(java.util.Locale.ROOT), this::receive);
        receiver.start();
    }

    Mode mode() {
        return mode;
    }

    /** The socket in use now, or null. */
    NativeSocket socket() {
        return socket;
    }

    /** Why ICMP cannot be sent, when {@link #mode()} is {@link Mode#NONE}. */
    String unavailable() {
        return unavailable;
    }

    /** Tries datagram sockets, then raw ones; says what to change if neither can be had. */
    private synchronized void open() {
        NativeSocket s = null;
        Mode m = Mode.NONE;
        String why = null;
        if (forced == null || forced == Mode.DATAGRAM) {
            try {
                s = NativeSocket.icmp(family, false);
                m = Mode.DATAGRAM;
            } catch (NativeException e) {
                why = e.getMessage();
            }
        }
        if (s == null && (forced == null || forced == Mode.RAW)) {
            try {
                s = NativeSocket.icmp(family, true);
                m = Mode.RAW;
            } catch (NativeException e) {
                why = e.getMessage();
            }
        }
        if (s != null) {
            try {
                s.enableTimestamps();
                s.enableReceiveTtl();
                s.enableErrorQueue();
                s.setReceiveBuffer(1 << 20);
                s.passOnlyIcmpTypes(IcmpCodec.echoReplyType(family), IcmpCodec.unreachableType(family));
            } catch (NativeException e) {
                LOG.warn("ICMP socket option not available: {}", e.getMessage());
            }
            try { // what targets ask for is no option: a socket that cannot have it is none
                if (options.dontFragment()) {
                    s.setPathMtuDiscovery(NativeSocket.PMTUDISC_PROBE);
                } else if (family == Family.IPV4) {
                    // without it, no don't-fragment bit at all: a large request is fragmented where it must be, not lost
                    // once to teach the kernel the path's MTU (Linux's default, IP_PMTUDISC_WANT, sets the bit)
                    s.setPathMtuDiscovery(NativeSocket.PMTUDISC_DONT);
                }
                if (options.trafficClass() >= 0) {
                    s.setTrafficClass(options.trafficClass());
                }
                if (options.source() != null) {
                    s.bind(options.source(), 0);
                }
            } catch (NativeException e) {
                s.close();
                socket = null;
                mode = Mode.NONE;
                refused = true;
                unavailable = "the ICMP socket cannot take the target's " + (options.source() != null ? "source address "
                        + options.source().getHostAddress() + " (source_address or source_interface)" : "dont_fragment or dscp")
                        + ": " + e.getMessage();
                return;
            }
        } else if (forced == null || forced == Mode.PING) {
            if (PingCommand.available(family)) {
                m = Mode.PING;
            }
        }
        socket = s;
        mode = m;
        refused = false;
        unavailable = m == Mode.NONE ? Mode.advice(family, why) : null;
    }

    /**
     * Opens the socket again if the target's settings were refused last time: an address that
     * comes to this host later (an interface coming up) is taken at the next probe.
     */
    synchronized void retryIfRefused() {
        if (refused && socket == null && running) {
            open();
        }
    }

    /** Closes the socket and opens a new one, after a failure. */
    private synchronized void reopen(String reason) {
        NativeSocket old = socket;
        if (old != null) {
            old.close();
        }
        LOG.warn("ICMP {} socket failed ({}); opening a new one", family, reason);
        open();
    }

    /** Sends request {@code index} of {@code round}; a failure is recorded on the round. */
    void send(Round round, int index) {
        NativeSocket s = socket;
        if (s == null) {
            round.sendFailed(unavailable != null ? unavailable : "no ICMP socket");
            return;
        }
        Pending p = new Pending(round, index);
        int seq = claim(sequence, pending, p);
        if (seq < 0) {
            round.sendFailed("more than " + (0xffff + 1) + " echo requests in flight on one ICMP " + family
                    + " socket; spread the targets' intervals or lower their count");
            return;
        }
        round.sequence(index, seq);
        synchronized (sendBuffer) {
            // a large request gets a buffer of its own: they are few, and the shared one stays small
            byte[] out = IcmpCodec.HEADER + round.size <= sendBuffer.length ? sendBuffer : new byte[IcmpCodec.HEADER + round.size];
            int length = IcmpCodec.echoRequest(family, out, identifier, seq, round.nonce, index, round.size);
            round.sent(index); // before: on loopback the reply can be in before send() returns
            try {
                p.stamp();
                s.send(out, length, round.address, 0);
            } catch (NativeException e) {
                round.unsent(index);
                pending.remove(seq);
                round.sendFailed("sending to " + round.address.getHostAddress() + " failed: " + e.getMessage());
                if (e.errno() == NativeException.EBADF || e.errno() == NativeException.ENOBUFS || e.denied()) {
                    reopen(e.getMessage());
                }
            }
        }
    }

    /**
     * Takes the next sequence number no request in flight holds: a request never overwrites
     * another's, which would show as a false loss of both.
     *
     * @return the number, or -1 if all 65,536 are in flight
     */
    static int claim(AtomicInteger sequence, Map<Integer, Pending> pending, Pending p) {
        for (int tries = 0; tries <= 0xffff; tries++) {
            int seq = sequence.incrementAndGet() & 0xffff;
            if (pending.putIfAbsent(seq, p) == null) {
                return seq;
            }
        }
        return -1;
    }

    /** Ends {@code round} at its deadline (the receiver's sweep), unless it finishes before. */
    void expireAt(Round round, long timeoutNanos) {
        round.deadline = System.nanoTime() + timeoutNanos;
        deadlines.computeIfAbsent(timeoutNanos, k -> new java.util.concurrent.ConcurrentLinkedQueue<>()).add(round);
    }

    /**
     * Ends the rounds whose deadline passed.
     *
     * @return milliseconds the receiver may wait for a reply before the next sweep is due
     */
    long sweep(long now) {
        long wait = WAIT_MS;
        for (Map.Entry<Long, java.util.Queue<Round>> e : deadlines.entrySet()) {
            java.util.Queue<Round> q = e.getValue();
            for (Round r; (r = q.peek()) != null;) {
                if (r.finished()) {
                    q.poll();
                } else if (r.deadline - now <= 0) {
                    q.poll();
                    r.finishNow();
                } else {
                    wait = Math.min(wait, TimeUnit.NANOSECONDS.toMillis(r.deadline - now) + 1);
                    break;
                }
            }
            // a round that starts while the receiver waits expires no sooner than its timeout from now
            wait = Math.min(wait, Math.max(1, TimeUnit.NANOSECONDS.toMillis(e.getKey()) / 4));
        }
        return wait;
    }

    /** Forgets the requests of a finished round. */
    void forget(Round round) {
        for (int seq : round.sequences()) {
            if (seq >= 0) {
                pending.computeIfPresent(seq, (k, p) -> p.round() == round ? null : p);
            }
        }
    }

    private void receive() {
        byte[] buffer = new byte[IcmpCodec.HEADER + IcmpCodec.MAX_PAYLOAD + 128]; // a reply as large as a request may be
        while (running) {
            NativeSocket s = socket;
            if (s == null || !s.isOpen()) {
                sleep(sweep(System.nanoTime()));
                continue;
            }
            try {
                // take what is ready, asking poll() again rather than reading until EAGAIN: through
                // JNA each EAGAIN is an exception, dearer than the system call
                long wait = sweep(System.nanoTime());
                for (int ready = s.await((int) wait), n = 0; ready != 0 && n < 1024; ready = s.await(0), n++) {
                    if ((ready & NativeSocket.READABLE) != 0) {
                        Received r = s.receive(buffer, false);
                        if (r != null) {
                            handle(s, buffer, r);
                        }
                    }
                    if ((ready & NativeSocket.ERROR) != 0) {
                        Received r = s.receive(buffer, true);
                        if (r != null) {
                            handleError(s, buffer, r);
                        }
                    }
                }
            } catch (NativeException e) {
                if (!running) {
                    return;
                }
                if (s == socket) {
                    reopen(e.getMessage());
                }
                sleep(REOPEN_PAUSE_MS);
            }
        }
    }

    private void handle(NativeSocket s, byte[] buffer, Received r) {
        IcmpCodec.Parsed p = IcmpCodec.parse(family, s.raw(), buffer, r.length(), r.ttl());
        if (p == null || p.kind() == IcmpCodec.Kind.OTHER) {
            return;
        }
        if (s.raw() && p.identifier() != identifier) {
            return; // another program's ping: raw sockets see every ICMP packet
        }
        Pending q = pending.get(p.sequence());
        if (q == null) {
            return;
        }
        if (p.kind() == IcmpCodec.Kind.UNREACHABLE) {
            q.round().unreachable(q.round().address.getHostAddress() + " is unreachable (ICMP code " + p.code()
                    + " from " + (r.source() == null ? "?" : r.source().getHostAddress()) + ")");
            return;
        }
        if (!IcmpCodec.payloadMatches(buffer, p.payloadOffset(), p.payloadLength(), q.round().nonce, q.index())
                || !q.round().address.equals(r.source())) {
            return; // not our reply, or corrupted
        }
        long rtt = r.kernelTimeNanos() > 0 ? r.kernelTimeNanos() - q.sentEpochNanos : System.nanoTime() - q.sentNanoTime;
        if (q.round().reply(q.index(), rtt, p.ttl())) {
            q.round().finishNow();
        }
    }

    private void handleError(NativeSocket s, byte[] buffer, Received r) {
        SocketError e = r.error();
        // the error queue returns the ICMP request we sent (without its IP header, raw or not):
        // its sequence says whose it was
        int at = 0;
        if (e == null || r.length() - at < IcmpCodec.HEADER || (buffer[at] & 0xff) != IcmpCodec.echoRequestType(family)
                || (s.raw() && IcmpCodec.getShort(buffer, at + 4) != identifier)) {
            return;
        }
        Pending q = pending.get(IcmpCodec.getShort(buffer, at + 6));
        if (q != null && (e.origin() == SocketError.ORIGIN_ICMP || e.origin() == SocketError.ORIGIN_ICMP6)) {
            q.round().unreachable(q.round().address.getHostAddress() + " is unreachable (ICMP type " + e.type()
                    + " code " + e.code() + " from " + (e.offender() == null ? "?" : e.offender().getHostAddress()) + ")");
        }
    }

    @Override
    public void close() {
        running = false;
        NativeSocket s = socket;
        if (s != null) {
            s.close();
        }
        try {
            receiver.join(2 * WAIT_MS + 500);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
