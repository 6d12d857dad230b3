package io.sonde.agent.spi;

import io.sonde.api.Target;
import io.sonde.api.TargetOption;

import java.time.Duration;
import java.util.List;

/**
 * The generic keys that slow the probing of a failing target, the seeds' circuit breaker: after
 * {@link #AFTER} consecutive failures a target is probed at doubling intervals up to
 * {@link #MAX_MS}; one success restores its interval. Set per target, or for every target in
 * {@code io.sonde.agent}; the core checks them, the scheduler applies them.
 *
 * @since 1.3
 */
public final class Backoff {

    /** {@code on} (default) or {@code off}. */
    public static final TargetOption ENABLED = TargetOption.choice("backoff", "on",
            "Whether a failing target is probed less often: on or off", "on", "off");

    /** Consecutive failures before the interval starts to double. */
    public static final TargetOption AFTER = TargetOption.integer("backoff_after", 3, 1, 1_000_000,
            "Consecutive failures before a target is probed at doubling intervals");

    /** The longest interval backoff stretches to, in milliseconds. */
    public static final TargetOption MAX_MS = TargetOption.integer("backoff_max_ms", 300_000, 10, 86_400_000,
            "The longest interval a failing target is stretched to, in milliseconds");

    /** The three keys, for the validator. */
    public static final List<TargetOption> KEYS = List.of(ENABLED, AFTER, MAX_MS);

    private Backoff() {
    }

    /**
     * @param target   the target
     * @param failures its consecutive failures so far
     * @return the interval to probe it at after {@code failures} failures in a row: its own until
     *         {@link #AFTER} is reached, then doubled for each further failure, at most
     *         {@link #MAX_MS} (and never below its own)
     */
    public static Duration interval(Target target, long failures) {
        Duration base = target.interval();
        if (!"on".equals(ENABLED.value(target))) {
            return base;
        }
        long after = AFTER.longValue(target);
        if (failures < after) {
            return base;
        }
        long max = Math.max(MAX_MS.longValue(target), base.toMillis());
        long doublings = Math.min(failures - after + 1, 40);
        long ms = base.toMillis() << doublings;
        return Duration.ofMillis(ms <= 0 || ms > max ? max : ms);
    }
}
