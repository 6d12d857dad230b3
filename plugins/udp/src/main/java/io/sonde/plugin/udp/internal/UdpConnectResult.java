package io.sonde.plugin.udp.internal;

import io.sonde.api.FailureReason;
import io.sonde.api.ProbeResult;
import io.sonde.api.ResultSchema;
import io.sonde.api.Target;

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

    /**
     * The first bytes of every datagram the udp kind sends: the magic, then a sequence number and
     * a nonce (8 bytes each, big-endian), then padding up to the target's size. An echo server
     * sends it back unchanged; the agent's responder echoes only datagrams that start so.
     *
     * @since 1.5
     */
    public static final String ECHO_MAGIC = "SONDE-UD";

    /** The shortest datagram of the udp kind: the magic, the sequence and the nonce. @since 1.5 */
    public static final int ECHO_MIN_BYTES = 24;

    /** UDP's values and families, as its plugin describes them. @since 1.9 */
    public static final ResultSchema SCHEMA = new ResultSchema("1", java.util.List.of(
            ResultSchema.Value.of("address", ResultSchema.Type.ADDRESS, "", ResultSchema.Role.ADDRESS, "the address probed"),
            ResultSchema.Value.of("port", ResultSchema.Type.NUMBER, "", ResultSchema.Role.NONE, "the port probed")),
            java.util.List.of(), java.util.List.of());

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
        return v;
    }
}
