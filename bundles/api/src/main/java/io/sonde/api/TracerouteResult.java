package io.sonde.api;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A traceroute towards a target.
 *
 * @param responseTime total time of the trace
 * @param address      the resolved destination address, or {@code null} if resolution failed
 * @param hops         every hop, nearest first; the target itself is the last hop when reached
 * @param reached      whether the destination answered
 */
public record TracerouteResult(
        Target target,
        Instant startedAt,
        Duration responseTime,
        FailureReason failureReason,
        String errorMessage,
        InetAddress address,
        List<Hop> hops,
        boolean reached) implements ProbeResult {

    /** Takes an immutable copy of the hops. */
    public TracerouteResult {
        hops = hops == null ? List.of() : List.copyOf(hops);
    }

    /**
     * One hop of a trace.
     *
     * @param ttl     the TTL or hop limit of the queries
     * @param address the address that answered, or {@code null} if none did
     * @param rtts    round-trip time of each answered query
     * @param sent    queries sent to this hop
     */
    public record Hop(int ttl, InetAddress address, List<Duration> rtts, int sent) {

        /** Takes an immutable copy of the RTTs. */
        public Hop {
            rtts = rtts == null ? List.of() : List.copyOf(rtts);
        }
    }
}
