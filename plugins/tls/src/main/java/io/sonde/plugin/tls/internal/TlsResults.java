package io.sonde.plugin.tls.internal;

import static io.sonde.api.ResultSchema.Family.info;
import static io.sonde.api.ResultSchema.Family.labelled;
import static io.sonde.api.ResultSchema.Family.of;
import static io.sonde.api.ResultSchema.Value.local;

import java.util.List;

import io.sonde.api.ResultSchema;
import io.sonde.api.ResultSchema.Role;
import io.sonde.api.ResultSchema.Sample;
import io.sonde.api.ResultSchema.Type;
import io.sonde.api.ResultSchema.Value;

/**
 * What a {@code tls} result holds and the families it shows: the kind's own description, which
 * the exporter, the uplink, the server and the dashboard read; nothing outside this bundle knows
 * this kind.
 */
final class TlsResults {

    /** 0001-01-01T00:00:00Z, Go's zero time: what blackbox_exporter says for a chain it did not verify. */
    static final java.time.Instant GO_ZERO_TIME = java.time.Instant.ofEpochSecond(-62_135_596_800L);

    static final ResultSchema SCHEMA = new ResultSchema("1", List.of(
            Value.of("address", Type.ADDRESS, "", Role.ADDRESS, "the address connected to"),
            Value.of("port", Type.NUMBER, "", Role.NONE, "the port connected to"),
            Value.of("phases", Type.DURATION_MAP, "seconds", Role.PHASES,
                    "duration of each phase: connect (TCP), starttls (the protocol's dialogue, when asked), handshake (TLS)"),
            Value.of("protocol", Type.TEXT, "", Role.NONE, "the negotiated protocol, for example TLSv1.3"),
            Value.of("cipher", Type.TEXT, "", Role.NONE, "the negotiated cipher suite"),
            Value.of("cert_expiry", Type.TIMESTAMP, "", Role.CERT_EXPIRY, "the earliest expiry in the certificate chain the server sent"),
            Value.of("leaf_cert_expiry", Type.TIMESTAMP, "", Role.NONE, "when the server's own certificate expires"),
            Value.of("leaf_subject", Type.TEXT, "", Role.NONE, "the subject of the server's own certificate"),
            Value.of("leaf_issuer", Type.TEXT, "", Role.NONE, "the issuer of the server's own certificate"),
            Value.of("chain_certificates", Type.NUMBER, "", Role.NONE, "certificates the server sent"),
            Value.of("verified", Type.BOOLEAN, "", Role.NONE,
                    "whether the chain verified against the trusted CAs and named the host (false only with insecure_skip_verify)"),
            Value.of("ocsp_stapled", Type.BOOLEAN, "", Role.NONE, "whether the server stapled an OCSP response"),
            local("protocol_go", Type.TEXT, "", "the protocol in Go's words, TLS 1.3"),
            local("verified_chain_expiry", Type.TIMESTAMP, "", "the earliest expiry of a verified chain; Go's zero time when not verified")),
            List.of(labelled("probe_tls_duration_seconds", Sample.GAUGE, "Duration of each phase of the last handshake", "phase",
                    "connect", "phases.connect", "starttls", "phases.starttls", "handshake", "phases.handshake"),
                    labelled("probe_tls_cert_expiry_timestamp_seconds", Sample.GAUGE,
                            "When the earliest-expiring certificate of the chain expires (cert=\"earliest\") and the server's own"
                                    + " (cert=\"leaf\"), Unix time", "cert", "earliest", "cert_expiry", "leaf", "leaf_cert_expiry"),
                    info("probe_tls_info", "Protocol and cipher of the last handshake", "version", "protocol", "cipher", "cipher"),
                    of("probe_tls_verified", Sample.GAUGE, "1 if the last chain verified and named the host", "verified"),
                    of("probe_tls_ocsp_stapled", Sample.GAUGE, "1 if the server stapled an OCSP response to the last handshake",
                            "ocsp_stapled"),
                    of("probe_tls_chain_certificates", Sample.GAUGE, "Certificates the server sent in the last handshake",
                            "chain_certificates")),
            // blackbox_exporter's names for a tcp module with tls: true (or starttls)
            List.of(of("probe_ssl_earliest_cert_expiry", Sample.GAUGE, "Returns last SSL chain expiry in unixtime", "cert_expiry"),
                    of("probe_ssl_last_chain_expiry_timestamp_seconds", Sample.GAUGE, "Returns last SSL chain expiry in timestamp",
                            "verified_chain_expiry"),
                    info("probe_tls_version_info", "Returns the TLS version used or NaN when unknown", "version", "protocol_go"),
                    info("probe_tls_cipher_info", "Returns the TLS cipher negotiated during handshake", "cipher", "cipher"),
                    of("probe_failed_due_to_regex", Sample.GAUGE, "Indicates if probe failed due to regex", "0")));

    private TlsResults() {
    }
}
