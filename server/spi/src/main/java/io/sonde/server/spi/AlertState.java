package io.sonde.server.spi;

import java.time.Instant;
import java.util.Objects;

/**
 * Where one alert rule stands for one subject (a target, or an agent), kept in the store so that
 * another server instance over the same database carries on where this one stopped.
 *
 * @param rule       the rule's name
 * @param subject    what it is about: a target's name, or an agent's id
 * @param state      {@code ok}, {@code pending}, {@code firing}, {@code resolving} (firing, recovered
 *                   but not yet for long enough) or {@code nodata}
 * @param since      when it entered this state
 * @param value      the value last evaluated (the rule's unit), or NaN
 * @param firedAt    when it last began firing, or null if it is not firing (kept through nodata)
 * @param notifiedAt when its receivers were last told it fires, or null if they were not (silenced)
 * @param resolvedAt when it last resolved, or null
 * @param detail     a sentence for people: which vantage agents see what
 * @since 1.4
 */
public record AlertState(String rule, String subject, String state, Instant since, double value, Instant firedAt,
        Instant notifiedAt, Instant resolvedAt, String detail) {

    /** Requires rule, subject, state and since. */
    public AlertState {
        Objects.requireNonNull(rule, "rule");
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(since, "since");
        detail = detail == null ? "" : detail;
    }
}
