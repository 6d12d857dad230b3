package io.sonde.plugin.tcp.internal;

import io.sonde.api.FailureReason;
import io.sonde.api.ProbeResult;
import io.sonde.api.ResultSchema;
import io.sonde.api.Target;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;

/**
 * A TCP connect probe: time from the first SYN to an established connection; with an exchange
 * ({@code expect.N}, {@code send.N}), the time to its end.
 *
 * @param address          the resolved address connected to, or {@code null} if resolution failed
 * @param failedDueToRegex whether a line the exchange expected never came (blackbox_exporter's
 *                         {@code probe_failed_due_to_regex})
 */
public record TcpConnectResult(
        Target target,
        Instant startedAt,
        Duration responseTime,
        FailureReason failureReason,
        String errorMessage,
        InetSocketAddress address,
        boolean failedDueToRegex) implements ProbeResult {

    /** A connect alone: nothing to fail a regular expression. */
    public TcpConnectResult(Target target, Instant startedAt, Duration responseTime, FailureReason failureReason, String errorMessage,
            InetSocketAddress address) {
        this(target, startedAt, responseTime, failureReason, errorMessage, address, false);
    }

    /** TCP's values and families, as its plugin describes them. @since 1.9 */
    public static final ResultSchema SCHEMA = new ResultSchema("1", java.util.List.of(
            ResultSchema.Value.of("address", ResultSchema.Type.ADDRESS, "", ResultSchema.Role.ADDRESS, "the address probed"),
            ResultSchema.Value.of("port", ResultSchema.Type.NUMBER, "", ResultSchema.Role.NONE, "the port probed"),
            ResultSchema.Value.local("failed_due_to_regex", ResultSchema.Type.BOOLEAN, "", "whether a line the exchange expected never came")),
            java.util.List.of(), java.util.List.of(ResultSchema.Family.of("probe_failed_due_to_regex",
                    ResultSchema.Sample.GAUGE, "Indicates if probe failed due to regex", "failed_due_to_regex")));

    @Override
    public ResultSchema schema() {
        return SCHEMA;
    }

    @Override
    public java.util.Map<String, Object> values() {
        java.util.Map<String, Object> v = new java.util.LinkedHashMap<>();
        if (address != null && address.getAddress() != null) {
            v.put("address", address.getAddress());
            v.put("port", address.getPort());
        }
        v.put("failed_due_to_regex", failedDueToRegex);
        return v;
    }
}
