package io.sonde.scheduler.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import io.sonde.api.FailureReason;
import io.sonde.api.MeasuredResult;
import io.sonde.api.ProbeResult;
import io.sonde.api.ResultSchema;
import io.sonde.api.Target;

/**
 * One result as every sink sees it: a plugin's own result type may make its values anew at each
 * {@link #values()} (a record computes them from its fields); here they are made once, by the first
 * sink that asks, and the others read the same map. A result that already holds its values
 * ({@link MeasuredResult}) is handed on as it is.
 */
final class SharedResult implements ProbeResult {

    private final ProbeResult result;
    private volatile Map<String, Object> values;

    private SharedResult(ProbeResult result) {
        this.result = result;
    }

    /** @return the result, its values made at most once for all sinks */
    static ProbeResult of(ProbeResult result) {
        return result instanceof MeasuredResult || result instanceof SharedResult ? result : new SharedResult(result);
    }

    @Override
    public Target target() {
        return result.target();
    }

    @Override
    public Instant startedAt() {
        return result.startedAt();
    }

    @Override
    public Duration responseTime() {
        return result.responseTime();
    }

    @Override
    public FailureReason failureReason() {
        return result.failureReason();
    }

    @Override
    public String errorMessage() {
        return result.errorMessage();
    }

    @Override
    public ResultSchema schema() {
        return result.schema();
    }

    @Override
    public Map<String, Object> values() {
        Map<String, Object> v = values;
        if (v == null) { // two sinks asking at once may both make them: the same values, no harm
            v = java.util.Collections.unmodifiableMap(result.values()); // in the result's order, read-only for every sink
            values = v;
        }
        return v;
    }

    @Override
    public String toString() {
        return result.toString();
    }
}
