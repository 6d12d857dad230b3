package io.sonde.api;

import java.time.Duration;
import java.time.Instant;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The outcome of one probe of one target. Implemented by the result records of this package only;
 * a third-party prober returns a {@link PluginResult}.
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
}
