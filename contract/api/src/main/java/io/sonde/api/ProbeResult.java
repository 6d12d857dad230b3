package io.sonde.api;

import java.time.Duration;
import java.time.Instant;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The outcome of one probe of one target. Implemented by the result records of this package only;
 * a prober returns a {@link MeasuredResult} with its kind's {@link ResultSchema} (or one of the
 * records of this package, each of which carries its kind's schema).
 */
@ProviderType
public interface ProbeResult {

    /** @return the target that was probed */
    Target target();

    /** @return wall-clock time at which the probe started */
    Instant startedAt();

    /**
     * @return the measured response time of a successful probe; for a failed one, the time until
     *         the failure was known
     */
    Duration responseTime();

    /** @return why the probe failed, or {@code null} if it succeeded */
    FailureReason failureReason();

    /** @return a human-readable reason for the failure, or {@code null} if it succeeded */
    String errorMessage();

    /** @return {@code true} if the probe succeeded */
    default boolean isSuccessful() {
        return failureReason() == null;
    }

    /**
     * @return what the values of this result are, and the metric families the kind wants from
     *         them; {@link ResultSchema#NONE} for a result with only the standard measurements
     * @since 1.9
     */
    default ResultSchema schema() {
        return ResultSchema.NONE;
    }

    /**
     * @return the measured values by name, as {@link #schema()} declares them: numbers, booleans,
     *         texts, {@link java.time.Duration}s, {@link Instant}s, {@link java.net.InetAddress}es,
     *         and lists and maps of them; absent when not measured. Readers never need the
     *         result's type.
     * @since 1.9
     */
    default java.util.Map<String, Object> values() {
        return java.util.Map.of();
    }
}
