package io.sonde.api;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;

/**
 * A TCP connect probe: time from the first SYN to an established connection.
 *
 * @param address the resolved address connected to, or {@code null} if resolution failed
 */
public record TcpConnectResult(
        Target target,
        Instant startedAt,
        Duration responseTime,
        FailureReason failureReason,
        String errorMessage,
        InetSocketAddress address) implements ProbeResult {
}
