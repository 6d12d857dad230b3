package io.sonde.wire;

import java.time.Instant;
import java.util.List;

import com.google.gson.JsonObject;

/**
 * One probe result as it travels from an agent to the server. Its identity is the agent's id, the
 * batch's spool {@code epoch} and {@code seq}.
 *
 * @param seq                   the result's sequence number within its spool epoch, from 1
 * @param target                the target's name
 * @param kind                  the probe type, for example {@code tcp}
 * @param startedAt             when the probe started, as the agent measured it
 * @param success               whether the probe succeeded
 * @param failureReason         the failure reason's label ({@code timeout}, {@code refused}, ...),
 *                              or {@code null} when it succeeded
 * @param error                 the failure's message, or {@code null}
 * @param responseTimeSeconds   the response time (of a failure: the time until it was known)
 * @param details               the kind's own measurements (ping RTTs, hops, HTTP phases, plugin data)
 * @param nextProbe             when the agent probes the target next, or null from an agent that
 *                              does not say: the result stands until then (since 1.2)
 * @param backoff               whether the agent probes the target less often because it keeps
 *                              failing (since 1.2)
 * @param labels                the target's labels when it was probed, by name; null or empty
 *                              when it has none, or from an agent that does not say (since 1.7)
 */
public record WireResult(
        long seq,
        String target,
        String kind,
        Instant startedAt,
        boolean success,
        String failureReason,
        String error,
        double responseTimeSeconds,
        JsonObject details,
        Instant nextProbe,
        boolean backoff,
        java.util.Map<String, String> labels) {

    /** A result without labels (as agents before 1.7 send). @since 1.7 */
    public WireResult(long seq, String target, String kind, Instant startedAt, boolean success, String failureReason, String error,
            double responseTimeSeconds, JsonObject details, Instant nextProbe, boolean backoff) {
        this(seq, target, kind, startedAt, success, failureReason, error, responseTimeSeconds, details, nextProbe, backoff, null);
    }

    /** @return the labels, never null @since 1.7 */
    public java.util.Map<String, String> labelsOrEmpty() {
        return labels == null ? java.util.Map.of() : labels;
    }

    /** Most labels a result may carry. @since 1.7 */
    public static final int MAX_LABELS = 16;

    /** Longest label value a result may carry. @since 1.7 */
    public static final int MAX_LABEL_VALUE = 200;

    /** The most JSON a result's details may be: a server reads no more of them. @since 1.3 */
    public static final int MAX_DETAILS_BYTES = 64 * 1024;

    /** A result that says nothing of the next probe (as agents before 1.2 send). */
    public WireResult(long seq, String target, String kind, Instant startedAt, boolean success, String failureReason, String error,
            double responseTimeSeconds, JsonObject details) {
        this(seq, target, kind, startedAt, success, failureReason, error, responseTimeSeconds, details, null, false, null);
    }

    /**
     * Every failure reason a result may carry, in the order of their codes (a reason's code is its
     * index plus one; 0 is success).
     */
    public static final List<String> FAILURE_REASONS =
            List.of("timeout", "refused", "unreachable", "dns", "tls", "status", "body_mismatch", "error");
}
