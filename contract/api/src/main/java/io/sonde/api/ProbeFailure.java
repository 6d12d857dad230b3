package io.sonde.api;

import java.time.Duration;
import java.time.Instant;

/**
 * A probe that ended without a result of its own kind: the scheduler's timeout struck, or the
 * prober threw or was removed while the probe was in flight.
 */
public record ProbeFailure(
        Target target,
        Instant startedAt,
        Duration responseTime,
        FailureReason failureReason,
        String errorMessage) implements ProbeResult {
}
