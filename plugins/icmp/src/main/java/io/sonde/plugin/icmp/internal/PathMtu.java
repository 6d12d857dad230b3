package io.sonde.plugin.icmp.internal;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import io.sonde.api.FailureReason;
import io.sonde.api.MeasuredResult;
import io.sonde.api.ResultSchema;
import io.sonde.api.Target;
import io.sonde.api.TargetOption;
import io.sonde.sockets.Family;
import io.sonde.sockets.NativeException;
import io.sonde.sockets.NativeSocket;
import io.sonde.sockets.Received;
import io.sonde.sockets.SocketError;

/**
 * Path MTU discovery ({@code kind=mtu}): the largest packet that reaches the target whole, found by
 * echo requests sent with the don't-fragment bit (IP_PMTUDISC_PROBE: the kernel's cached path MTU is
 * not used) on a socket of the probe's own. A router that cannot forward a request says so with
 * ICMP "fragmentation needed" (IPv6 "packet too big") and the MTU it can take; that MTU is tried
 * next and the router is kept as the hop that limits the path. Silence is taken as "too big"
 * (a black hole) and the size halved towards the last that passed. The first request is
 * {@code max_mtu} bytes; the local interface's MTU bounds it at once.
 */
final class PathMtu {

    static final TargetOption MAX_MTU = TargetOption.integer("max_mtu", 9000, 1280, 65_535,
            "The largest packet tried, bytes (the interface's MTU bounds it)");
    static final TargetOption STEP_TIMEOUT = TargetOption.integer("step_timeout_ms", 1000, 10, 60_000,
            "How long one size waits for its echo before it counts as too big");

    /** Steps at most: bisection over 64 KiB takes 17. */
    static final int MAX_STEPS = 24;

    static final ResultSchema SCHEMA = new ResultSchema("1", List.of(
            ResultSchema.Value.of("path_mtu", ResultSchema.Type.NUMBER, "bytes", ResultSchema.Role.NONE,
                    "the largest packet that reached the target whole"),
            ResultSchema.Value.of("limited_by", ResultSchema.Type.ADDRESS, "", ResultSchema.Role.NONE,
                    "the hop that said the packets were too big, absent when none did"),
            ResultSchema.Value.of("steps", ResultSchema.Type.NUMBER, "", ResultSchema.Role.NONE, "sizes tried")),
            List.of(ResultSchema.Family.of("probe_path_mtu_bytes", ResultSchema.Sample.GAUGE,
                    "The largest packet that reached the target whole, bytes", "path_mtu")),
            List.of());

    private enum Outcome { REPLY, TOO_BIG, SILENT }

    private final Target target;
    private final InetAddress address;
    private final Family family;
    private final int overhead;
    private final long nonce = ThreadLocalRandom.current().nextLong();
    private final byte[] buffer = new byte[70_000];
    private int reported;
    private InetAddress offender;

    PathMtu(Target target, InetAddress address) {
        this.target = target;
        this.address = address;
        this.family = Family.of(address);
        this.overhead = (family == Family.IPV4 ? 20 : 40) + IcmpCodec.HEADER;
    }

    /** Runs the discovery on the calling thread, within the target's timeout; never throws. */
    MeasuredResult run(Instant startedAt) {
        long start = System.nanoTime();
        long deadline = start + target.timeout().toNanos();
        NativeSocket opened;
        boolean raw;
        try {
            opened = NativeSocket.icmp(family, false);
            raw = false;
        } catch (NativeException e) {
            try {
                opened = NativeSocket.icmp(family, true);
                raw = true;
            } catch (NativeException f) {
                return result(startedAt, start, FailureReason.ERROR, "no ICMP socket to probe with: " + f.getMessage(), Map.of());
            }
        }
        try (NativeSocket socket = opened) {
            socket.setPathMtuDiscovery(NativeSocket.PMTUDISC_PROBE);
            socket.enableErrorQueue();
            socket.passOnlyIcmpTypes(IcmpCodec.echoReplyType(family));
            int floor = family == Family.IPV4 ? 68 : 1280;
            int lo = 0;
            int hi = MAX_MTU.intValue(target);
            int candidate = hi;
            int steps = 0;
            InetAddress limitedBy = null;
            long stepNanos = STEP_TIMEOUT.longValue(target) * 1_000_000L;
            while (steps < MAX_STEPS) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                steps++;
                reported = 0;
                offender = null;
                Outcome o = attempt(socket, raw, candidate, steps, Math.min(left, stepNanos));
                if (o == Outcome.REPLY) {
                    lo = candidate;
                    if (lo >= hi) {
                        break;
                    }
                    candidate = (lo + hi + 1) / 2;
                    continue;
                }
                if (o == Outcome.TOO_BIG && offender != null && !offender.equals(address) && !isLocal(offender)) {
                    limitedBy = offender;
                }
                int below = candidate - 1;
                hi = o == Outcome.TOO_BIG && reported >= floor && reported < candidate ? reported : below;
                if (hi < floor || hi <= lo) {
                    break;
                }
                // a reported MTU is tried as it is; silence halves the way to the last size that passed
                candidate = o == Outcome.TOO_BIG && reported >= floor && reported < candidate ? reported : (Math.max(lo, floor) + hi) / 2;
                if (candidate <= lo) {
                    candidate = lo + 1;
                }
            }
            Map<String, Object> values = new LinkedHashMap<>();
            values.put("steps", steps);
            if (limitedBy != null) {
                values.put("limited_by", limitedBy);
            }
            if (lo == 0) {
                return result(startedAt, start, FailureReason.TIMEOUT, "no echo reply from " + address.getHostAddress()
                        + " at any size down to " + floor + " bytes", values);
            }
            values.put("path_mtu", lo);
            return result(startedAt, start, null, null, values);
        } catch (NativeException e) {
            return result(startedAt, start, FailureReason.ERROR, e.getMessage(), Map.of());
        }
    }

    private static boolean isLocal(InetAddress a) {
        return a.isLoopbackAddress() || a.isAnyLocalAddress();
    }

    /** Sends one request of {@code size} bytes on the wire and waits for its reply or its error. */
    private Outcome attempt(NativeSocket socket, boolean raw, int size, int index, long waitNanos) throws NativeException {
        byte[] out = new byte[size - overhead + IcmpCodec.HEADER];
        int length = IcmpCodec.echoRequest(family, out, ThreadLocalRandom.current().nextInt(1, 0xffff), index & 0xffff, nonce, index,
                size - overhead);
        try {
            socket.send(out, length, address, 0);
        } catch (NativeException e) {
            if (e.errno() == SocketError.EMSGSIZE) { // larger than this host's interface: the kernel said so, and queued why
                drainErrors(socket);
                return Outcome.TOO_BIG;
            }
            throw e;
        }
        long until = System.nanoTime() + waitNanos;
        while (true) {
            long left = until - System.nanoTime();
            if (left <= 0) {
                return Outcome.SILENT;
            }
            int ready = socket.await((int) Math.max(1, left / 1_000_000));
            if ((ready & NativeSocket.ERROR) != 0 && drainErrors(socket)) {
                return Outcome.TOO_BIG;
            }
            if ((ready & NativeSocket.READABLE) != 0) {
                for (Received r = socket.receive(buffer, false); r != null; r = socket.receive(buffer, false)) {
                    IcmpCodec.Parsed p = IcmpCodec.parse(family, raw, buffer, r.length(), r.ttl());
                    if (p != null && p.kind() == IcmpCodec.Kind.ECHO_REPLY
                            && IcmpCodec.payloadMatches(buffer, p.payloadOffset(), p.payloadLength(), nonce, index)) {
                        return Outcome.REPLY;
                    }
                }
            }
        }
    }

    /** Reads the error queue; @return whether it said "too big", keeping the MTU and who said it. */
    private boolean drainErrors(NativeSocket socket) throws NativeException {
        boolean tooBig = false;
        for (Received r = socket.receive(buffer, true); r != null; r = socket.receive(buffer, true)) {
            SocketError e = r.error();
            if (e != null && e.errno() == SocketError.EMSGSIZE) {
                tooBig = true;
                if (e.info() > 0) {
                    reported = e.info();
                }
                if (e.origin() != SocketError.ORIGIN_LOCAL) {
                    offender = e.offender();
                }
            }
        }
        return tooBig;
    }

    private MeasuredResult result(Instant startedAt, long start, FailureReason reason, String message, Map<String, Object> values) {
        return new MeasuredResult(target, startedAt, Duration.ofNanos(System.nanoTime() - start), reason, message, SCHEMA, values);
    }
}
