package io.sonde.plugin.icmp.internal;

import io.sonde.api.FailureReason;
import io.sonde.api.ProbeResult;
import io.sonde.api.ResultSchema;
import io.sonde.api.Target;

import java.util.Map;
import java.util.LinkedHashMap;
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
        double sum = 0;
        for (Duration d : rtts) {
            sum += d.toNanos();
        }
        double mean = sum / rtts.size();
        double var = 0;
        for (Duration d : rtts) {
            double x = d.toNanos() - mean;
            var += x * x;
        }
        return Duration.ofNanos(Math.round(Math.sqrt(var / rtts.size())));
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

    /** ICMP's values and families, as its plugin describes them. @since 1.9 */
    public static final ResultSchema SCHEMA = new ResultSchema("1", List.of(
            ResultSchema.Value.of("address", ResultSchema.Type.ADDRESS, "", ResultSchema.Role.ADDRESS, "the resolved address"),
            ResultSchema.Value.of("sent", ResultSchema.Type.NUMBER, "packets", ResultSchema.Role.SENT, "echo requests sent"),
            ResultSchema.Value.of("received", ResultSchema.Type.NUMBER, "packets", ResultSchema.Role.RECEIVED, "echo replies received"),
            ResultSchema.Value.of("rtts", ResultSchema.Type.DURATIONS, "seconds", ResultSchema.Role.LATENCY_SAMPLES,
                    "round-trip time of every reply, in order of sequence number"),
            ResultSchema.Value.of("duplicates", ResultSchema.Type.NUMBER, "packets", ResultSchema.Role.NONE, "replies received more than once"),
            ResultSchema.Value.of("reply_ttl", ResultSchema.Type.NUMBER, "", ResultSchema.Role.NONE, "TTL or hop limit of the last reply"),
            ResultSchema.Value.local("jitter", ResultSchema.Type.DURATION, "seconds", "mean difference between consecutive round-trip times"),
            ResultSchema.Value.local("stddev", ResultSchema.Type.DURATION, "seconds", "standard deviation of the round-trip times")),
            List.of(ResultSchema.Family.of("probe_packets_sent_total", ResultSchema.Sample.COUNTER, "ICMP echo requests sent", "sent"),
                    ResultSchema.Family.of("probe_packets_received_total", ResultSchema.Sample.COUNTER,
                            "ICMP echo replies received (duplicates not counted)", "received"),
                    ResultSchema.Family.of("probe_jitter_seconds", ResultSchema.Sample.GAUGE,
                            "Mean difference between consecutive round-trip times of the last round", "jitter"),
                    ResultSchema.Family.of("probe_rtt_stddev_seconds", ResultSchema.Sample.GAUGE,
                            "Standard deviation of the round-trip times of the last round", "stddev")),
            List.of(ResultSchema.Family.labelled("probe_icmp_duration_seconds", ResultSchema.Sample.GAUGE,
                    "Duration of icmp request by phase", "phase", "resolve", "@lookup|0", "rtt", "rtts.0",
                    "setup", "0"), // one socket shared by all probes: nothing to set up
                    ResultSchema.Family.of("probe_icmp_reply_hop_limit", ResultSchema.Sample.GAUGE,
                            "Replied packet hop limit (TTL for ipv4)", "reply_ttl")));

    @Override
    public ResultSchema schema() {
        return SCHEMA;
    }

    @Override
    public Map<String, Object> values() {
        Map<String, Object> v = new LinkedHashMap<>();
        if (address != null) {
            v.put("address", address);
        }
        v.put("sent", sent);
        v.put("received", received());
        v.put("rtts", rtts);
        if (duplicates > 0) {
            v.put("duplicates", duplicates);
        }
        if (replyTtl >= 0) {
            v.put("reply_ttl", replyTtl);
        }
        if (sent > 0) {
            v.put("jitter", jitter());
            v.put("stddev", stddev());
        }
        return v;
    }
}
