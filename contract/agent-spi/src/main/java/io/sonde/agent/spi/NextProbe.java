package io.sonde.agent.spi;

import java.time.Instant;

/**
 * When the scheduler probes a target next, told to every sink with each result: where a result
 * stands until then, and whether the target is backed off (down and probed less often). The server
 * learns from it that a backed-off target's silence is not missing data.
 *
 * @param at      when the next probe of the target starts
 * @param backoff whether the target is probed at a stretched interval because it keeps failing
 * @since 1.8
 */
public record NextProbe(Instant at, boolean backoff) {

    /** Requires the time. */
    public NextProbe {
        java.util.Objects.requireNonNull(at, "at");
    }
}
