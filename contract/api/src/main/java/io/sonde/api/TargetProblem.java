package io.sonde.api;

import java.util.Objects;

/**
 * One thing wrong with a target's settings, found by a {@link Prober#check(Target) prober's check}.
 *
 * @param key    the configuration key at fault, for example {@code count}; {@code null} for the entry as a whole
 * @param reason what is wrong, as a sentence part without the key: {@code "5 requests 100 ms apart do not fit in ..."}
 * @since 1.3
 */
public record TargetProblem(String key, String reason) {

    /** Requires a reason. */
    public TargetProblem {
        Objects.requireNonNull(reason, "reason");
    }

    /** @return {@code key 'count': reason}, or the reason alone for the entry as a whole: as the agent says it */
    @Override
    public String toString() {
        return key == null ? reason : "key '" + key + "': " + reason;
    }
}
