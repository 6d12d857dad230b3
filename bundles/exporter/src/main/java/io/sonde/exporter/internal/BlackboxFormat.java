package io.sonde.exporter.internal;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.sonde.api.FailureReason;
import io.sonde.api.HttpGetResult;
import io.sonde.api.PingResult;
import io.sonde.api.PluginResult;
import io.sonde.api.ProbeResult;
import io.sonde.api.TracerouteResult;

/**
 * The answer of {@code /probe} in blackbox_exporter's metric names, families sorted by name as it
 * sorts them, so that dashboards and alerts written for it keep working.
 */
final class BlackboxFormat {

    /** One probe made on request. */
    record OnDemand(String kind, ProbeResult result, double lookupSeconds, InetAddress address, double durationSeconds) {
    }

    /** 0001-01-01T00:00:00Z in Unix seconds. */
    static final long GO_ZERO_TIME = -62_135_596_800L;

    private final Map<String, List<String>> samples = new TreeMap<>();
    private final Map<String, String> help = new TreeMap<>();

    private BlackboxFormat() {
    }

    static String write(OnDemand probe) {
        BlackboxFormat f = new BlackboxFormat();
        f.all(probe);
        StringBuilder out = new StringBuilder(1024);
        for (Map.Entry<String, List<String>> e : f.samples.entrySet()) {
            out.append("# HELP ").append(e.getKey()).append(' ').append(f.help.get(e.getKey())).append('\n');
            out.append("# TYPE ").append(e.getKey()).append(" gauge\n");
            for (String s : e.getValue()) {
                out.append(s).append('\n');
            }
        }
        return out.toString();
    }

    private void all(OnDemand p) {
        ProbeResult r = p.result(); // null when no result came: the host did not resolve, or the probe ran out of time
        gauge("probe_success", "Displays whether or not the probe was a success", r != null && r.isSuccessful() ? 1 : 0);
        gauge("probe_duration_seconds", "Returns how long the probe took to complete in seconds", p.durationSeconds());
        if (p.lookupSeconds() >= 0) {
            gauge("probe_dns_lookup_time_seconds", "Returns the time taken for probe dns lookup in seconds", p.lookupSeconds());
        }
        if (p.address() != null) {
            gauge("probe_ip_protocol", "Specifies whether probe ip protocol is IP4 or IP6",
                    p.address() instanceof Inet4Address ? 4 : 6);
            gauge("probe_ip_addr_hash", "Specifies the hash of IP address. It's useful to detect if the IP address changes.",
                    addressHash(p.address()));
        }
        if (r == null) {
            return;
        }
        if (r instanceof HttpGetResult h) {
            http(h, p.lookupSeconds());
        } else if (r instanceof PingResult ping) {
            icmp(ping, p.lookupSeconds());
        } else if (r instanceof TracerouteResult trace) {
            gauge("probe_traceroute_hops", "Hops of the trace, the destination included when reached", trace.hops().size());
        } else if (r instanceof PluginResult plugin) {
            plugin(plugin, p.lookupSeconds());
        } else if ("tcp".equals(p.kind())) {
            gauge("probe_failed_due_to_regex", "Indicates if probe failed due to regex", 0);
        }
    }

    private void http(HttpGetResult h, double lookup) {
        String phases = "probe_http_duration_seconds";
        help.put(phases, "Duration of http request by phase, summed over all redirects");
        double resolve = lookup >= 0 ? lookup : seconds(h.phases().get("dns"));
        add(phases, phases + "{phase=\"connect\"} " + number(seconds(h.phases().get("connect"))));
        add(phases, phases + "{phase=\"processing\"} " + number(seconds(h.phases().get("processing"))));
        add(phases, phases + "{phase=\"resolve\"} " + number(resolve));
        add(phases, phases + "{phase=\"tls\"} " + number(seconds(h.phases().get("tls"))));
        add(phases, phases + "{phase=\"transfer\"} " + number(seconds(h.phases().get("transfer"))));
        gauge("probe_http_status_code", "Response HTTP status code", h.statusCode());
        gauge("probe_http_content_length", "Length of http content response", h.bodySize());
        gauge("probe_http_uncompressed_body_length", "Length of uncompressed response body", h.bodySize());
        gauge("probe_http_ssl", "Indicates if SSL was used for the final redirect", h.tlsVersion() != null ? 1 : 0);
        gauge("probe_failed_due_to_regex", "Indicates if probe failed due to regex",
                h.failureReason() == FailureReason.BODY_MISMATCH ? 1 : 0);
        gauge("probe_http_version", "Returns the version of HTTP of the probe response",
                h.httpVersion() == null ? 0 : httpVersion(h.httpVersion()));
        if (h.certExpiry() != null) {
            gauge("probe_ssl_earliest_cert_expiry", "Returns last SSL chain expiry in unixtime", h.certExpiry().getEpochSecond());
            // the earliest expiry of the verified chain; without verification there is none, and
            // blackbox_exporter then says Go's zero time, which dashboards may test for
            boolean verified = !Boolean.parseBoolean(h.target().option("insecure_skip_verify", "false"));
            gauge("probe_ssl_last_chain_expiry_timestamp_seconds", "Returns last SSL chain expiry in timestamp",
                    verified ? h.certExpiry().getEpochSecond() : GO_ZERO_TIME);
        }
        if (h.tlsVersion() != null) {
            help.put("probe_tls_version_info", "Returns the TLS version used or NaN when unknown");
            add("probe_tls_version_info", "probe_tls_version_info{version=\"" + tlsVersion(h.tlsVersion()) + "\"} 1");
        }
    }

    private void icmp(PingResult ping, double lookup) {
        String phases = "probe_icmp_duration_seconds";
        help.put(phases, "Duration of icmp request by phase");
        add(phases, phases + "{phase=\"resolve\"} " + number(Math.max(0, lookup)));
        if (!ping.rtts().isEmpty()) {
            add(phases, phases + "{phase=\"rtt\"} " + number(seconds(ping.rtts().get(0))));
        }
        add(phases, phases + "{phase=\"setup\"} 0"); // one socket shared by all probes: nothing to set up
        if (ping.replyTtl() > 0) {
            gauge("probe_icmp_reply_hop_limit", "Replied packet hop limit (TTL for ipv4)", ping.replyTtl());
        }
    }

    private void plugin(PluginResult plugin, double lookup) {
        String kind = plugin.target().kind();
        if ("dns".equals(kind)) {
            String phases = "probe_dns_duration_seconds";
            help.put(phases, "Duration of DNS request by phase");
            add(phases, phases + "{phase=\"request\"} " + number(seconds(plugin.responseTime())));
            add(phases, phases + "{phase=\"resolve\"} " + number(Math.max(0, lookup)));
        }
        for (Map.Entry<String, Double> e : ProbeMetrics.pluginValues(plugin).entrySet()) {
            if (!samples.containsKey(e.getKey())) { // the endpoint's own measurement wins
                gauge(e.getKey(), "Reported by the " + kind + " plugin", e.getValue());
            }
        }
    }

    private void gauge(String name, String text, double value) {
        help.put(name, text);
        add(name, name + " " + number(value));
    }

    private void add(String family, String line) {
        samples.computeIfAbsent(family, k -> new ArrayList<>()).add(line);
    }

    /** FNV-1a, 32 bits, of the address bytes: blackbox_exporter's probe_ip_addr_hash. */
    static long addressHash(InetAddress address) {
        int h = 0x811c9dc5;
        for (byte b : address.getAddress()) {
            h ^= b & 0xff;
            h *= 0x01000193;
        }
        return h & 0xffffffffL;
    }

    /** "HTTP/1.1" as 1.1, "HTTP/2" as 2. */
    static double httpVersion(String version) {
        String v = version.startsWith("HTTP/") ? version.substring(5) : version;
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** The JDK's "TLSv1.3" in Go's words, "TLS 1.3". */
    static String tlsVersion(String jdk) {
        return jdk.startsWith("TLSv") ? "TLS " + jdk.substring(4) : jdk;
    }

    private static double seconds(Duration d) {
        return d == null ? 0 : d.toNanos() / 1e9;
    }

    private static String number(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.toString(v);
    }
}
