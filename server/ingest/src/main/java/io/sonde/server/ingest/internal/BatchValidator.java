package io.sonde.server.ingest.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import io.sonde.wire.ResultBatch;
import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;
import io.sonde.wire.WireResult;

/**
 * The rules a batch must keep before any of it is stored; the first broken one is named with the
 * field's path, for example {@code results[3].seq: -1 is not a sequence number (1 to 1099511627775)}.
 */
final class BatchValidator {

    /**
     * What a kind's name is: the agent's kinds are lower case ({@code Target.canonicalKind}), and
     * the server takes any kind an agent runs, built in or installed since; nothing else is asked
     * of a kind's name, so that a plugin dropped into an agent loses none of its results.
     */
    static final String KIND = "[a-z0-9][a-z0-9_.-]{0,63}";
    private static final java.util.regex.Pattern KIND_PATTERN = java.util.regex.Pattern.compile(KIND);
    static final long MAX_SEQ = (1L << 40) - 1;
    static final int MAX_TARGET = 256;
    static final int MAX_ERROR = 4096;
    static final int MAX_DETAILS = io.sonde.wire.WireResult.MAX_DETAILS_BYTES;
    static final double MAX_RESPONSE_SECONDS = 3600;
    static final String EPOCH = "[A-Za-z0-9_-]{1,64}";

    private final int maxResults;
    private final Duration maxFuture;
    private final Duration maxAge;

    BatchValidator(int maxResults, Duration maxFuture, Duration maxAge) {
        this.maxResults = maxResults;
        this.maxFuture = maxFuture;
        this.maxAge = maxAge;
    }

    private static WireException invalid(String message) {
        return new WireException(WireException.Problem.INVALID, message);
    }

    void validate(ResultBatch b, String agentId, Instant now) throws WireException {
        WireCodec.checkSchema(b.schema(), "batch");
        if (!agentId.equals(b.agentId())) {
            throw invalid("agent_id: '" + (b.agentId() == null ? "null" : WireCodec.abbreviate(b.agentId()))
                    + "' is not the agent of the URL and credential ('" + agentId + "')");
        }
        if (b.epoch() == null || !b.epoch().matches(EPOCH)) {
            throw invalid("epoch: " + (b.epoch() == null ? "missing" : "'" + WireCodec.abbreviate(b.epoch())
                    + "' is not a spool epoch (1 to 64 letters, digits, _ or -)"));
        }
        List<WireResult> results = b.results();
        if (results == null || results.isEmpty()) {
            throw invalid("results: missing or empty");
        }
        if (results.size() > maxResults) {
            throw new WireException(WireException.Problem.TOO_LARGE, "results: " + results.size()
                    + " results, at most " + maxResults + " in one batch");
        }
        Instant latest = now.plus(maxFuture);
        Instant earliest = now.minus(maxAge);
        long previous = 0;
        for (int i = 0; i < results.size(); i++) {
            WireResult r = results.get(i);
            if (r == null) {
                throw invalid(at(i) + ": null");
            }
            if (r.seq() < 1 || r.seq() > MAX_SEQ) {
                throw invalid(at(i) + ".seq: " + r.seq() + " is not a sequence number (1 to " + MAX_SEQ + ")");
            }
            if (r.seq() <= previous) {
                throw invalid(at(i) + ".seq: " + r.seq() + " does not rise above the one before (" + previous + ")");
            }
            previous = r.seq();
            if (r.target() == null || r.target().isEmpty() || r.target().length() > MAX_TARGET) {
                throw invalid(at(i) + ".target: " + (r.target() == null || r.target().isEmpty() ? "missing"
                        : r.target().length() + " characters, at most " + MAX_TARGET));
            }
            int control = controlAt(r.target());
            if (control >= 0) {
                throw invalid(at(i) + ".target: a control character (U+" + String.format(java.util.Locale.ROOT, "%04X",
                        (int) r.target().charAt(control)) + ") at position " + (control + 1) + "; a target's name is text");
            }
            if (r.kind() == null || !KIND_PATTERN.matcher(r.kind()).matches()) {
                throw invalid(at(i) + ".kind: " + (r.kind() == null ? "missing" : "'" + WireCodec.abbreviate(r.kind())
                        + "' is not a kind's name (1 to 64 of a-z, 0-9, _, . and -, starting with a letter or digit)"));
            }
            if (r.startedAt() == null) {
                throw invalid(at(i) + ".started_at: missing");
            }
            if (r.startedAt().isAfter(latest)) {
                throw invalid(at(i) + ".started_at: " + r.startedAt() + " is more than " + maxFuture.toSeconds()
                        + " s in the future (the server's time is " + now + "); check the agent's clock");
            }
            if (r.startedAt().isBefore(earliest)) {
                throw invalid(at(i) + ".started_at: " + r.startedAt() + " is older than " + maxAge.toDays() + " days");
            }
            if (r.nextProbe() != null && (r.nextProbe().isBefore(r.startedAt())
                    || r.nextProbe().isAfter(r.startedAt().plus(java.time.Duration.ofDays(2))))) {
                throw invalid(at(i) + ".next_probe: " + r.nextProbe() + " is not within two days after started_at (" + r.startedAt() + ")");
            }
            if (r.success() && r.failureReason() != null) {
                throw invalid(at(i) + ".failure_reason: a successful result has none");
            }
            if (!r.success() && (r.failureReason() == null || !WireResult.FAILURE_REASONS.contains(r.failureReason()))) {
                throw invalid(at(i) + ".failure_reason: " + (r.failureReason() == null ? "missing on a failed result"
                        : "'" + WireCodec.abbreviate(r.failureReason()) + "' is not one of " + WireResult.FAILURE_REASONS));
            }
            double rt = r.responseTimeSeconds();
            if (!Double.isFinite(rt) || rt < 0 || rt > MAX_RESPONSE_SECONDS) {
                throw invalid(at(i) + ".response_time_seconds: " + rt + " is not a response time (0 to " + (int) MAX_RESPONSE_SECONDS + " s)");
            }
            if (r.error() != null && r.error().length() > MAX_ERROR) {
                throw invalid(at(i) + ".error: " + r.error().length() + " characters, at most " + MAX_ERROR);
            }
            if (r.details() != null && jsonLength(r.details(), MAX_DETAILS) > MAX_DETAILS) {
                throw invalid(at(i) + ".details: larger than " + MAX_DETAILS + " bytes");
            }
            checkLabels(r, i);
        }
    }

    /** A result's labels by the agent's rule for a target's labels: names, Sonde's own names left alone, bounded. */
    private static void checkLabels(WireResult r, int i) throws WireException {
        if (r.labels() == null) {
            return;
        }
        if (r.labels().size() > WireResult.MAX_LABELS) {
            throw invalid(at(i) + ".labels: " + r.labels().size() + " labels, at most " + WireResult.MAX_LABELS);
        }
        for (java.util.Map.Entry<String, String> e : r.labels().entrySet()) {
            String problem = io.sonde.agent.spi.TargetKeys.labelNameProblem(e.getKey());
            if (problem != null) {
                throw invalid(at(i) + ".labels: " + WireCodec.abbreviate(problem));
            }
            String v = e.getValue();
            if (v == null || v.isEmpty() || v.length() > WireResult.MAX_LABEL_VALUE || controlAt(v) >= 0) {
                throw invalid(at(i) + ".labels." + e.getKey() + ": must be a text of 1-" + WireResult.MAX_LABEL_VALUE
                        + " characters without control characters");
            }
        }
    }

    private static String at(int i) {
        return "results[" + i + "]";
    }

    /** @return the index of the first control character (C0, DEL, C1), or -1 */
    static int controlAt(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isISOControl(s.charAt(i))) {
                return i;
            }
        }
        return -1;
    }

    /**
     * The length of the element written as JSON without spaces, counted without writing it (a
     * string's escapes left out), and no further than just past {@code limit}.
     */
    static long jsonLength(com.google.gson.JsonElement e, long limit) {
        if (e.isJsonObject()) {
            long n = e.getAsJsonObject().size() == 0 ? 2 : 1; // braces, and a comma after each entry but the last
            for (java.util.Map.Entry<String, com.google.gson.JsonElement> m : e.getAsJsonObject().entrySet()) {
                n += m.getKey().length() + 4 + jsonLength(m.getValue(), limit - n);
                if (n > limit) {
                    return n;
                }
            }
            return n;
        }
        if (e.isJsonArray()) {
            long n = e.getAsJsonArray().isEmpty() ? 2 : 1;
            for (com.google.gson.JsonElement x : e.getAsJsonArray()) {
                n += 1 + jsonLength(x, limit - n);
                if (n > limit) {
                    return n;
                }
            }
            return n;
        }
        if (e.isJsonPrimitive()) {
            com.google.gson.JsonPrimitive p = e.getAsJsonPrimitive();
            return p.isString() ? p.getAsString().length() + 2 : p.getAsString().length();
        }
        return 4; // null
    }
}
