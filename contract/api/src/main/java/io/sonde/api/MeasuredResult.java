package io.sonde.api;

import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The result of a probe of any kind: the generic outcome and the kind's values by name, against
 * the kind's {@link ResultSchema}. What a plugin returns; a plugin may keep a record of its own as
 * a convenience and make this of it, but nothing outside the plugin needs that record's type.
 *
 * @param schema the kind's result schema
 * @param values the measured values by name; kept in the given order
 * @since 1.9
 */
public record MeasuredResult(
        Target target,
        Instant startedAt,
        Duration responseTime,
        FailureReason failureReason,
        String errorMessage,
        ResultSchema schema,
        Map<String, Object> values) implements ProbeResult {

    /** Keeps an unmodifiable copy of the values (nulls left out); a null schema is {@link ResultSchema#NONE}. */
    public MeasuredResult {
        Objects.requireNonNull(target, "target");
        schema = schema == null ? ResultSchema.NONE : schema;
        Map<String, Object> copy = new LinkedHashMap<>();
        if (values != null) {
            values.forEach((k, v) -> {
                if (v != null) {
                    copy.put(k, v);
                }
            });
        }
        values = Collections.unmodifiableMap(copy);
    }

    /** @return a successful result */
    public static MeasuredResult success(Target target, Instant startedAt, Duration responseTime, ResultSchema schema,
            Map<String, Object> values) {
        return new MeasuredResult(target, startedAt, responseTime, null, null, schema, values);
    }

    /** @return a failed result */
    public static MeasuredResult failure(Target target, Instant startedAt, Duration responseTime, FailureReason reason,
            String message, ResultSchema schema, Map<String, Object> values) {
        return new MeasuredResult(target, startedAt, responseTime, Objects.requireNonNull(reason, "reason"), message, schema,
                values);
    }
}
