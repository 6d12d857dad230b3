package io.sonde.plugin.http.internal;

import io.sonde.api.FailureReason;
import io.sonde.api.ProbeResult;
import io.sonde.api.ResultSchema;
import io.sonde.api.Target;

import java.util.List;
import java.util.LinkedHashMap;
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
 * @param failedDueToRegex whether a regular expression on the body or a header failed it (blackbox_exporter's
 *                        {@code probe_failed_due_to_regex}); other content failures (size, JSON, version) are not
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
        Instant leafCertExpiry,
        boolean failedDueToRegex) implements ProbeResult {

    /** Takes an immutable copy of the phases. */
    public HttpGetResult {
        phases = phases == null ? Map.of() : Map.copyOf(phases);
    }

    /** A result whose content failure, if any, was a regular expression's. */
    public HttpGetResult(Target target, Instant startedAt, Duration responseTime, FailureReason failureReason, String errorMessage,
            int statusCode, Map<String, Duration> phases, long bodySize, String httpVersion, String tlsVersion, Instant certExpiry,
            Instant leafCertExpiry) {
        this(target, startedAt, responseTime, failureReason, errorMessage, statusCode, phases, bodySize, httpVersion, tlsVersion,
                certExpiry, leafCertExpiry, failureReason == FailureReason.BODY_MISMATCH);
    }

    /** 0001-01-01T00:00:00Z, Go's zero time, which blackbox_exporter says for a chain it did not verify. */
    static final Instant GO_ZERO_TIME = Instant.ofEpochSecond(-62_135_596_800L);

    /** HTTP's values and families, as its plugin describes them. @since 1.9 */
    public static final ResultSchema SCHEMA = new ResultSchema("1", List.of(
            ResultSchema.Value.of("status_code", ResultSchema.Type.NUMBER, "", ResultSchema.Role.STATUS_CODE,
                    "status code of the final response, absent if none came"),
            ResultSchema.Value.of("phases", ResultSchema.Type.DURATION_MAP, "seconds", ResultSchema.Role.PHASES,
                    "duration of each phase: dns, connect, tls, processing, transfer"),
            ResultSchema.Value.of("body_bytes", ResultSchema.Type.NUMBER, "bytes", ResultSchema.Role.NONE, "body bytes received"),
            ResultSchema.Value.of("http_version", ResultSchema.Type.TEXT, "", ResultSchema.Role.NONE, "protocol version of the response"),
            ResultSchema.Value.of("tls_version", ResultSchema.Type.TEXT, "", ResultSchema.Role.NONE, "negotiated TLS version"),
            ResultSchema.Value.of("cert_expiry", ResultSchema.Type.TIMESTAMP, "", ResultSchema.Role.CERT_EXPIRY,
                    "earliest expiry in the peer's certificate chain"),
            ResultSchema.Value.of("leaf_cert_expiry", ResultSchema.Type.TIMESTAMP, "", ResultSchema.Role.NONE,
                    "expiry of the peer's own certificate"),
            ResultSchema.Value.local("http_version_number", ResultSchema.Type.NUMBER, "", "HTTP/1.1 as 1.1, HTTP/2 as 2"),
            ResultSchema.Value.local("ssl", ResultSchema.Type.BOOLEAN, "", "whether the final response came over TLS"),
            ResultSchema.Value.local("failed_due_to_regex", ResultSchema.Type.BOOLEAN, "",
                    "whether a regular expression on the body or a header failed it"),
            ResultSchema.Value.local("verified_chain_expiry", ResultSchema.Type.TIMESTAMP, "",
                    "the earliest expiry of the verified chain; Go's zero time when not verified"),
            ResultSchema.Value.local("tls_version_go", ResultSchema.Type.TEXT, "", "the TLS version in Go's words, TLS 1.3")),
            List.of(ResultSchema.Family.labelled("probe_http_duration_seconds", ResultSchema.Sample.GAUGE,
                    "Duration of each phase of the last request, redirects added up", "phase", "dns", "phases.dns|0",
                    "connect", "phases.connect|0", "tls", "phases.tls|0", "processing", "phases.processing|0", "transfer",
                    "phases.transfer|0"),
                    ResultSchema.Family.of("probe_http_status_code", ResultSchema.Sample.GAUGE,
                            "Status code of the last response, 0 if none came", "status_code|0"),
                    ResultSchema.Family.of("probe_http_response_body_bytes", ResultSchema.Sample.GAUGE, "Body bytes of the last response",
                            "body_bytes"),
                    ResultSchema.Family.labelled("probe_tls_cert_expiry_timestamp_seconds", ResultSchema.Sample.GAUGE,
                            "When the earliest-expiring certificate of the chain expires (cert=\"earliest\") and the server's own"
                                    + " (cert=\"leaf\"), Unix time", "cert", "earliest", "cert_expiry", "leaf", "leaf_cert_expiry"),
                    ResultSchema.Family.info("probe_http_version_info", "Protocol and TLS version of the last response", "version",
                            "http_version", "tls_version", "tls_version")),
            List.of(ResultSchema.Family.labelled("probe_http_duration_seconds", ResultSchema.Sample.GAUGE,
                    "Duration of http request by phase, summed over all redirects", "phase", "connect", "phases.connect|0",
                    "processing", "phases.processing|0", "resolve", "@lookup|phases.dns|0", "tls", "phases.tls|0", "transfer",
                    "phases.transfer|0"),
                    ResultSchema.Family.of("probe_http_status_code", ResultSchema.Sample.GAUGE, "Response HTTP status code", "status_code|0"),
                    ResultSchema.Family.of("probe_http_content_length", ResultSchema.Sample.GAUGE, "Length of http content response",
                            "body_bytes"),
                    ResultSchema.Family.of("probe_http_uncompressed_body_length", ResultSchema.Sample.GAUGE,
                            "Length of uncompressed response body", "body_bytes"),
                    ResultSchema.Family.of("probe_http_ssl", ResultSchema.Sample.GAUGE, "Indicates if SSL was used for the final redirect",
                            "ssl"),
                    ResultSchema.Family.of("probe_failed_due_to_regex", ResultSchema.Sample.GAUGE, "Indicates if probe failed due to regex",
                            "failed_due_to_regex"),
                    ResultSchema.Family.of("probe_http_version", ResultSchema.Sample.GAUGE, "Returns the version of HTTP of the probe response",
                            "http_version_number|0"),
                    ResultSchema.Family.of("probe_ssl_earliest_cert_expiry", ResultSchema.Sample.GAUGE,
                            "Returns last SSL chain expiry in unixtime", "cert_expiry"),
                    ResultSchema.Family.of("probe_ssl_last_chain_expiry_timestamp_seconds", ResultSchema.Sample.GAUGE,
                            "Returns last SSL chain expiry in timestamp", "verified_chain_expiry"),
                    ResultSchema.Family.info("probe_tls_version_info", "Returns the TLS version used or NaN when unknown", "version",
                            "tls_version_go")));

    @Override
    public ResultSchema schema() {
        return SCHEMA;
    }

    @Override
    public Map<String, Object> values() {
        Map<String, Object> v = new LinkedHashMap<>();
        if (statusCode > 0) {
            v.put("status_code", statusCode);
        }
        v.put("phases", phases);
        v.put("body_bytes", bodySize);
        put(v, "http_version", httpVersion);
        put(v, "tls_version", tlsVersion);
        put(v, "cert_expiry", certExpiry);
        put(v, "leaf_cert_expiry", leafCertExpiry);
        if (httpVersion != null) {
            String n = httpVersion.startsWith("HTTP/") ? httpVersion.substring(5) : httpVersion;
            try {
                v.put("http_version_number", Double.parseDouble(n));
            } catch (NumberFormatException e) {
                // not a number: shown as 0
            }
        }
        v.put("ssl", tlsVersion != null && statusCode > 0); // TLS carried an answer (a handshake the server then refused did not)
        v.put("failed_due_to_regex", failedDueToRegex);
        if (certExpiry != null) {
            boolean verified = !Boolean.parseBoolean(target.option("insecure_skip_verify", "false"));
            v.put("verified_chain_expiry", verified ? certExpiry : GO_ZERO_TIME);
        }
        if (tlsVersion != null) {
            v.put("tls_version_go", tlsVersion.startsWith("TLSv") ? "TLS " + tlsVersion.substring(4) : tlsVersion);
        }
        return v;
    }

    private static void put(Map<String, Object> v, String key, Object value) {
        if (value != null) {
            v.put(key, value);
        }
    }
}
