package io.sonde.api;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;

/**
 * A UDP echo probe: time from sending a datagram to receiving its echo.
 *
 * @param address the resolved address probed, or {@code null} if resolution failed
 */
public record UdpConnectResult(
        Target target,
        Instant startedAt,
        Duration responseTime,
        FailureReason failureReason,
        String errorMessage,
        InetSocketAddress address) implements ProbeResult {
}
