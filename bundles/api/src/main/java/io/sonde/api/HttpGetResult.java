package io.sonde.api;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * An HTTP(S) request to a target.
 *
 * @param statusCode      status code of the final response, or 0 if none came
 * @param phases          duration of each phase: {@code dns}, {@code connect}, {@code tls},
 *                        {@code processing}, {@code transfer}
 * @param bodySize        bytes of response body received
 * @param httpVersion     protocol version of the response, for example {@code HTTP/1.1}
 * @param tlsVersion      negotiated TLS version, or {@code null} for plain HTTP
 * @param certExpiry      earliest expiry in the peer's certificate chain, or {@code null}
 * @param leafCertExpiry  expiry of the peer's own certificate, or {@code null}
 */
public record HttpGetResult(
        Target target,
        Instant startedAt,
        Duration responseTime,
        FailureReason failureReason,
        String errorMessage,
        int statusCode,
        Map<String, Duration> phases,
        long bodySize,
        String httpVersion,
        String tlsVersion,
        Instant certExpiry,
        Instant leafCertExpiry) implements ProbeResult {

    /** Takes an immutable copy of the phases. */
    public HttpGetResult {
        phases = phases == null ? Map.of() : Map.copyOf(phases);
    }
}
