package io.sonde.plugin.grpc.internal;

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
 * What a {@code grpc} result holds and the families it shows; nothing outside this bundle knows
 * this kind. The /probe names are blackbox_exporter's for its grpc prober.
 */
final class GrpcResults {

    /** The four answers of grpc.health.v1, in the order of the protocol's enum; SERVICE_UNKNOWN is also what NOT_FOUND means. */
    static final List<String> SERVING_STATUSES = List.of("UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN");

    private static final ResultSchema.Family HEALTHCHECK_RESPONSE = labelled("probe_grpc_healthcheck_response", Sample.GAUGE,
            "1 for the serving status the last health check answered, 0 for the others", "serving_status",
            "UNKNOWN", "is_unknown", "SERVING", "is_serving", "NOT_SERVING", "is_not_serving", "SERVICE_UNKNOWN", "is_service_unknown");
    private static final ResultSchema.Family STATUS_CODE = of("probe_grpc_status_code", Sample.GAUGE,
            "The gRPC status code of the last health check (0 is OK)", "status_code");
    private static final ResultSchema.Family SSL = of("probe_grpc_ssl", Sample.GAUGE,
            "1 if the last health check went over TLS", "tls");

    static final ResultSchema SCHEMA = new ResultSchema("1", List.of(
            Value.of("address", Type.ADDRESS, "", Role.ADDRESS, "the address connected to"),
            Value.of("port", Type.NUMBER, "", Role.NONE, "the port connected to"),
            Value.of("serving_status", Type.TEXT, "", Role.NONE,
                    "what the server answered: SERVING, NOT_SERVING, UNKNOWN, or SERVICE_UNKNOWN for a service it does not know"),
            Value.of("status_code", Type.NUMBER, "", Role.STATUS_CODE, "the gRPC status code of the Check call (0 is OK)"),
            Value.of("phases", Type.DURATION_MAP, "seconds", Role.PHASES,
                    "duration of each phase: resolve (the name), connect (TCP, TLS and HTTP/2 until the channel is ready), check (the call)"),
            Value.of("tls", Type.BOOLEAN, "", Role.NONE, "whether the call went over TLS"),
            Value.of("protocol", Type.TEXT, "", Role.NONE, "the negotiated TLS protocol, for example TLSv1.3"),
            Value.of("cipher", Type.TEXT, "", Role.NONE, "the negotiated TLS cipher suite"),
            Value.of("cert_expiry", Type.TIMESTAMP, "", Role.CERT_EXPIRY, "the earliest expiry in the certificate chain the server sent"),
            local("is_serving", Type.NUMBER, "", "1 if the answer was SERVING"),
            local("is_not_serving", Type.NUMBER, "", "1 if the answer was NOT_SERVING"),
            local("is_unknown", Type.NUMBER, "", "1 if the answer was UNKNOWN"),
            local("is_service_unknown", Type.NUMBER, "", "1 if the server does not know the service")),
            List.of(HEALTHCHECK_RESPONSE, STATUS_CODE, SSL,
                    labelled("probe_grpc_duration_seconds", Sample.GAUGE, "Duration of each phase of the last health check", "phase",
                            "resolve", "phases.resolve", "connect", "phases.connect", "check", "phases.check"),
                    labelled("probe_tls_cert_expiry_timestamp_seconds", Sample.GAUGE,
                            "When the earliest-expiring certificate of the chain expires (cert=\"earliest\"), Unix time", "cert",
                            "earliest", "cert_expiry")),
            List.of(HEALTHCHECK_RESPONSE, STATUS_CODE, SSL,
                    labelled("probe_grpc_duration_seconds", Sample.GAUGE, "Duration of gRPC request by phase", "phase",
                            "resolve", "@lookup", "connect", "phases.connect", "check", "phases.check"),
                    of("probe_ssl_earliest_cert_expiry", Sample.GAUGE, "Returns earliest SSL cert expiry date", "cert_expiry")));

    private GrpcResults() {
    }
}
