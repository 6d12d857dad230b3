package io.sonde.api;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * One round of ICMP echo requests to a target.
 *
 * @param responseTime average round-trip time of the replies
 * @param address      the resolved address, or {@code null} if resolution failed
 * @param sent         echo requests sent
 * @param rtts         round-trip time of every reply received, in order of sequence number
 * @param duplicates   replies received more than once
 * @param replyTtl     TTL (IPv4) or hop limit (IPv6) of the last reply, or -1 if unknown
 */
public record PingResult(
        Target target,
        Instant startedAt,
        Duration responseTime,
        FailureReason failureReason,
        String errorMessage,
        InetAddress address,
        int sent,
        List<Duration> rtts,
        int duplicates,
        int replyTtl) implements ProbeResult {

    /** Takes an immutable copy of the RTTs. */
    public PingResult {
        rtts = rtts == null ? List.of() : List.copyOf(rtts);
    }

    /** @return replies received */
    public int received() {
        return rtts.size();
    }

    /** @return fraction of requests that got no reply, 0 to 1 */
    public double loss() {
        return sent == 0 ? 0 : 1.0 - (double) received() / sent;
    }

    /** @return the shortest RTT, or {@link Duration#ZERO} without replies */
    public Duration min() {
        return rtts.stream().min(Duration::compareTo).orElse(Duration.ZERO);
    }

    /** @return the longest RTT, or {@link Duration#ZERO} without replies */
    public Duration max() {
        return rtts.stream().max(Duration::compareTo).orElse(Duration.ZERO);
    }

    /** @return the mean RTT, or {@link Duration#ZERO} without replies */
    public Duration avg() {
        return rtts.isEmpty() ? Duration.ZERO
                : Duration.ofNanos(rtts.stream().mapToLong(Duration::toNanos).sum() / rtts.size());
    }

    /** @return the population standard deviation of the RTTs, or {@link Duration#ZERO} with fewer than two */
    public Duration stddev() {
        if (rtts.size() < 2) {
            return Duration.ZERO;
        }
        double mean = rtts.stream().mapToLong(Duration::toNanos).average().orElse(0);
        double var = rtts.stream().mapToDouble(d -> (d.toNanos() - mean) * (d.toNanos() - mean)).sum() / rtts.size();
        return Duration.ofNanos(Math.round(Math.sqrt(var)));
    }

    /**
     * @return mean absolute difference between consecutive RTTs, or {@link Duration#ZERO} with
     *         fewer than two replies
     */
    public Duration jitter() {
        if (rtts.size() < 2) {
            return Duration.ZERO;
        }
        long sum = 0;
        for (int i = 1; i < rtts.size(); i++) {
            sum += Math.abs(rtts.get(i).toNanos() - rtts.get(i - 1).toNanos());
        }
        return Duration.ofNanos(sum / (rtts.size() - 1));
    }
}
