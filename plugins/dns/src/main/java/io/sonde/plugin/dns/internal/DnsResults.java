package io.sonde.plugin.dns.internal;

import static io.sonde.api.ResultSchema.Family.labelled;
import static io.sonde.api.ResultSchema.Family.of;

import java.util.ArrayList;
import java.util.List;

import io.sonde.api.ResultSchema;
import io.sonde.api.ResultSchema.Role;
import io.sonde.api.ResultSchema.Sample;
import io.sonde.api.ResultSchema.Type;
import io.sonde.api.ResultSchema.Value;

/**
 * What a {@code dns} result holds and the families it shows, as blackbox_exporter's dns prober
 * names them: {@code probe_dns_<value>}, a gauge of the last answer.
 */
final class DnsResults {

    private static final List<Value> VALUES = List.of(
            Value.of("address", Type.ADDRESS, "", Role.ADDRESS, "the DNS server asked"),
            Value.of("query_succeeded", Type.NUMBER, "", Role.NONE, "1 if an answer came, else 0"),
            Value.of("rcode", Type.NUMBER, "", Role.STATUS_CODE, "the answer's response code"),
            Value.of("answer_rrs", Type.NUMBER, "", Role.NONE, "records in the answer section"),
            Value.of("authority_rrs", Type.NUMBER, "", Role.NONE, "records in the authority section"),
            Value.of("additional_rrs", Type.NUMBER, "", Role.NONE, "records in the additional section"),
            Value.of("serial", Type.NUMBER, "", Role.NONE, "the serial of an SOA answer"),
            Value.of("tcp_fallback", Type.NUMBER, "", Role.NONE, "1 if the UDP answer came truncated and TCP was asked"),
            Value.of("lookup_time_seconds", Type.NUMBER, "seconds", Role.NONE, "finding the server's address"),
            Value.of("dnssec", Type.TEXT, "", Role.NONE, "with dnssec on: secure, insecure or bogus"),
            Value.of("dnssec_status", Type.NUMBER, "", Role.NONE, "with dnssec on: 1 secure, 0 insecure, -1 bogus"));

    static final ResultSchema SCHEMA = new ResultSchema("2", VALUES, families(true), families(false));

    private DnsResults() {
    }

    /** Every number as a gauge {@code probe_dns_<name>}; /probe has the endpoint's own look-up time and the duration by phase. */
    private static List<ResultSchema.Family> families(boolean metrics) {
        List<ResultSchema.Family> out = new ArrayList<>();
        for (Value v : VALUES) {
            if (v.type() == Type.NUMBER && (metrics || !v.name().equals("lookup_time_seconds"))) {
                out.add(of("probe_dns_" + v.name(), Sample.GAUGE, v.help(), v.name()));
            }
        }
        if (!metrics) {
            out.add(labelled("probe_dns_duration_seconds", Sample.GAUGE, "Duration of DNS request by phase", "phase",
                    "request", "@response_time", "resolve", "@lookup|0"));
        }
        return List.copyOf(out);
    }
}
