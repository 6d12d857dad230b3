package io.sonde.exporter.internal;

import java.io.IOException;
import java.io.Writer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

import java.time.Duration;

import io.sonde.api.FailureReason;
import io.sonde.api.HttpGetResult;
import io.sonde.api.PingResult;
import io.sonde.api.PluginResult;
import io.sonde.api.TracerouteResult;
import io.sonde.api.ProbeResult;
import io.sonde.api.Target;

/**
 * The per-target probe metrics of DESIGN.md, kept compactly and written straight to the
 * exposition. With 10,000 targets these are 230,000 samples: simpleclient's generic children would
 * cost about 1.5 KB a target and allocate an object per sample at every scrape, so these families
 * are stored as plain counters per target (about 300 bytes) and written without intermediate
 * objects. Every other family goes through simpleclient.
 */
final class ProbeMetrics {

    /** Latency buckets from 100 µs to 10 s, about three per decade. */
    static final double[] LATENCY_BUCKETS = {
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
    };
    private static final String[] LE = new String[LATENCY_BUCKETS.length];
    private static final FailureReason[] REASONS = FailureReason.values();

    static {
        for (int i = 0; i < LE.length; i++) {
            LE[i] = ",le=\"" + java.math.BigDecimal.valueOf(LATENCY_BUCKETS[i]).stripTrailingZeros().toPlainString() + "\"} ";
        }
    }

    /** Everything known of one target; guarded by itself. */
    private static final class Series {
        final String kind;
        final String labels; // target="...",kind="..."
        final long[] buckets = new long[LATENCY_BUCKETS.length + 1]; // the last one is +Inf only
        long[] failures; // by reason, from the first failure on: most targets never fail
        double latencySum;
        long total;
        long timeouts;
        int success = -1; // -1: no probe yet
        // ICMP rounds only; packetsSent < 0 until the first
        long packetsSent = -1;
        long packetsReceived;
        double jitter;
        double stddev;
        // traceroute only; hops < 0 until the first trace
        int hops = -1;
        long routeHash;
        long routeChanges;
        // HTTP only, from the first request on
        Http http;
        // third-party kinds: the numbers of the last PluginResult, by metric name
        Map<String, Double> plugin;
        ProbeResult last;
        io.sonde.api.Health.State state; // by the health model, from the last result; null before it
        java.time.Instant since; // when the last run of results in that state began

        Series(Target t) {
            kind = t.kind();
            labels = "target=\"" + escape(t.name()) + "\",kind=\"" + escape(t.kind()) + "\"";
        }
    }

    /** The last HTTP answer of a target. */
    private static final class Http {
        final double[] phases = new double[PHASES.length];
        int status;
        long bodySize;
        String version;
        String tls;
        double certExpiry = -1;
        double leafExpiry = -1;
    }

    static final String[] PHASES = {"dns", "connect", "tls", "processing", "transfer"};

    /** By target name (names are unique among targets); a name that changes kind gets a new series. */
    private final Map<String, Series> series = new ConcurrentHashMap<>();

    void record(ProbeResult result) {
        record(result, null);
    }

    /** @param next when the scheduler probes the target next, or null when it did not say */
    void record(ProbeResult result, io.sonde.api.NextProbe next) {
        Target t = result.target();
        Series s = series.get(t.name());
        if (s == null || !s.kind.equals(t.kind())) {
            s = series.compute(t.name(), (k, old) -> old != null && old.kind.equals(t.kind()) ? old : new Series(t));
        }
        synchronized (s) {
            s.total++;
            s.last = result;
            if (result instanceof PingResult ping) {
                // every reply is a latency sample; loss is sent minus received
                s.packetsSent = Math.max(0, s.packetsSent) + ping.sent();
                s.packetsReceived += ping.received();
                for (Duration rtt : ping.rtts()) {
                    observe(s, rtt.toNanos() / 1e9);
                }
                s.jitter = ping.jitter().toNanos() / 1e9;
                s.stddev = ping.stddev().toNanos() / 1e9;
            }
            if (result instanceof TracerouteResult trace) {
                long hash = routeHash(trace);
                if (s.hops >= 0 && hash != s.routeHash) {
                    s.routeChanges++;
                }
                s.routeHash = hash;
                s.hops = trace.hops().size();
            }
            if (result instanceof HttpGetResult h) {
                Http x = s.http == null ? (s.http = new Http()) : s.http;
                for (int i = 0; i < PHASES.length; i++) {
                    Duration d = h.phases().get(PHASES[i]);
                    x.phases[i] = d == null ? 0 : d.toNanos() / 1e9;
                }
                x.status = h.statusCode();
                x.bodySize = h.bodySize();
                x.version = h.httpVersion();
                x.tls = h.tlsVersion();
                x.certExpiry = h.certExpiry() == null ? -1 : h.certExpiry().getEpochSecond();
                x.leafExpiry = h.leafCertExpiry() == null ? -1 : h.leafCertExpiry().getEpochSecond();
            }
            if (result instanceof PluginResult p) {
                s.plugin = pluginValues(p);
            }
            double loss = result instanceof PingResult ping && ping.sent() > 0 ? (ping.sent() - ping.received()) / (double) ping.sent()
                    : Double.NaN;
            io.sonde.api.Health.State state = io.sonde.api.Health.of(result.isSuccessful(), loss,
                    result.responseTime() == null ? Double.NaN : result.responseTime().toNanos() / 1e9, thresholds(t),
                    next != null && next.backoff());
            if (state != s.state) {
                s.since = result.startedAt();
            }
            s.state = state;
            if (result.isSuccessful()) {
                if (!(result instanceof PingResult)) {
                    observe(s, result.responseTime() == null ? 0 : result.responseTime().toNanos() / 1e9);
                }
                s.success = 1;
            } else {
                s.success = 0;
                if (result.failureReason() == FailureReason.TIMEOUT) {
                    s.timeouts++;
                } else {
                    if (s.failures == null) {
                        s.failures = new long[REASONS.length];
                    }
                    s.failures[result.failureReason().ordinal()]++;
                }
            }
        }
    }

    /** The last result of each target, with its count of probes, for GET /status. */
    Map<String, Object> lastResults() { // a StatusReport's answer
        Map<String, Object> out = new java.util.TreeMap<>();
        for (Map.Entry<String, Series> e : series.entrySet()) {
            Series s = e.getValue();
            synchronized (s) {
                if (s.last == null) {
                    continue;
                }
                Map<String, Object> m = new java.util.LinkedHashMap<>();
                m.put("at", s.last.startedAt() == null ? null : s.last.startedAt().toString());
                m.put("success", s.last.isSuccessful());
                m.put("reason", s.last.isSuccessful() ? null : s.last.failureReason().label());
                m.put("message", s.last.errorMessage());
                m.put("seconds", s.last.responseTime() == null ? null : s.last.responseTime().toNanos() / 1e9);
                m.put("probes", s.total);
                // "health", not "state": the scheduler's section has its own state (active or backoff) per target
                m.put("health", s.state == null ? null : s.state.label());
                m.put("health_since", s.since == null ? null : s.since.toString());
                out.put(e.getKey(), m);
            }
        }
        return out;
    }

    /** Families this class writes itself: a plugin's number never takes one of these names. */
    private static final java.util.Set<String> OWN_FAMILIES = java.util.Set.of("probe_latency_seconds", "probe_total",
            "probe_timeout_total", "probe_failure_total", "probe_success", "probe_packets_sent_total",
            "probe_packets_received_total", "probe_jitter_seconds", "probe_rtt_stddev_seconds", "probe_http_duration_seconds",
            "probe_http_status_code", "probe_http_response_body_bytes", "probe_tls_cert_expiry_timestamp_seconds",
            "probe_http_version_info", "probe_traceroute_hops", "probe_traceroute_route_hash",
            "probe_traceroute_route_changes_total", "sonde_target_state");
    private static final java.util.regex.Pattern METRIC_PART = java.util.regex.Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");

    /**
     * The numbers (and booleans, as 1 and 0) of a plugin's result data, each named
     * {@code probe_<kind>_<key>}; keys that are not valid in a metric name are left out.
     */
    static Map<String, Double> pluginValues(PluginResult p) {
        Map<String, Double> values = new java.util.TreeMap<>();
        String kind = p.target().kind().replace('-', '_').replace('.', '_');
        if (!METRIC_PART.matcher(kind).matches()) {
            return values;
        }
        for (Map.Entry<String, Object> e : p.data().entrySet()) {
            Object v = e.getValue();
            double value;
            if (v instanceof Number n) {
                value = n.doubleValue();
            } else if (v instanceof Boolean b) {
                value = b ? 1 : 0;
            } else {
                continue;
            }
            String name = "probe_" + kind + "_" + e.getKey();
            if (METRIC_PART.matcher(e.getKey()).matches() && !OWN_FAMILIES.contains(name)) {
                values.put(name, value);
            }
        }
        return values;
    }

    /** A number that changes when the path does: CRC-32 of the hop addresses in order. */
    static long routeHash(TracerouteResult trace) {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        for (TracerouteResult.Hop h : trace.hops()) {
            crc.update((h.address() == null ? "*" : h.address().getHostAddress()).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            crc.update(',');
        }
        return crc.getValue();
    }

    private static void observe(Series s, double seconds) {
        int b = 0;
        while (b < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[b]) {
            b++;
        }
        s.buckets[b]++;
        s.latencySum += seconds;
    }

    /** @return the target's thresholds; a target that was not checked (none reaches here) has none */
    private static io.sonde.api.Health.Thresholds thresholds(Target t) {
        try {
            return io.sonde.api.Health.Thresholds.of(t);
        } catch (IllegalArgumentException e) {
            return io.sonde.api.Health.Thresholds.NONE;
        }
    }

    void remove(Target t) {
        series.computeIfPresent(t.name(), (k, s) -> s.kind.equals(t.kind()) ? null : s);
    }

    /** Writes the five probe families in the text format, version 0.0.4. */
    void write(Writer w) throws IOException {
        if (series.isEmpty()) {
            return;
        }
        StringBuilder line = new StringBuilder(256);
        family(w, line, "probe_latency_seconds", "histogram", "Latency of successful probes", (s, l) -> {
            long cumulative = 0;
            for (int i = 0; i < LATENCY_BUCKETS.length; i++) {
                cumulative += s.buckets[i];
                l.append("probe_latency_seconds_bucket{").append(s.labels).append(LE[i]).append(cumulative).append('\n');
            }
            cumulative += s.buckets[LATENCY_BUCKETS.length];
            l.append("probe_latency_seconds_bucket{").append(s.labels).append(",le=\"+Inf\"} ").append(cumulative).append('\n');
            put(l, "probe_latency_seconds_count", s, cumulative);
            put(l, "probe_latency_seconds_sum", s, s.latencySum);
        });
        family(w, line, "probe_total", "counter", "Probes attempted", (s, l) -> put(l, "probe_total", s, s.total));
        family(w, line, "probe_timeout_total", "counter", "Probes that got no answer within their timeout",
                (s, l) -> put(l, "probe_timeout_total", s, s.timeouts));
        family(w, line, "probe_failure_total", "counter", "Probes that failed other than by timeout, by reason", (s, l) -> {
            for (int r = 0; s.failures != null && r < REASONS.length; r++) {
                if (s.failures[r] > 0) {
                    l.append("probe_failure_total{").append(s.labels).append(",reason=\"")
                            .append(REASONS[r].label()).append("\"} ").append(s.failures[r]).append('\n');
                }
            }
        });
        if (series.values().stream().anyMatch(x -> x.packetsSent >= 0)) {
            icmp(w, line);
        }
        if (series.values().stream().anyMatch(x -> x.hops >= 0)) {
            traceroute(w, line);
        }
        if (series.values().stream().anyMatch(x -> x.http != null)) {
            http(w, line);
        }
        java.util.SortedSet<String> pluginFamilies = new java.util.TreeSet<>();
        for (Series x : series.values()) {
            Map<String, Double> values = x.plugin;
            if (values != null) {
                pluginFamilies.addAll(values.keySet());
            }
        }
        for (String name : pluginFamilies) {
            family(w, line, name, "gauge", "Reported by the plugin of this kind with its last result", (s, l) -> {
                Double v = s.plugin == null ? null : s.plugin.get(name);
                if (v != null) {
                    put(l, name, s, v.doubleValue());
                }
            });
        }
        family(w, line, "sonde_target_state", "gauge",
                "The target's state by the health model (up, degraded, down, backoff), 1 for the state it is in", (s, l) -> {
                    if (s.state != null) {
                        l.append("sonde_target_state{").append(s.labels).append(",state=\"").append(s.state.label()).append("\"} 1\n");
                    }
                });
        family(w, line, "probe_success", "gauge", "1 if the last probe succeeded, else 0", (s, l) -> {
            if (s.success >= 0) {
                put(l, "probe_success", s, s.success);
            }
        });
    }

    /** The ICMP families, for the targets that have had a round. */
    private void icmp(Writer w, StringBuilder line) throws IOException {
        family(w, line, "probe_packets_sent_total", "counter", "ICMP echo requests sent", (s, l) -> {
            if (s.packetsSent >= 0) {
                put(l, "probe_packets_sent_total", s, s.packetsSent);
            }
        });
        family(w, line, "probe_packets_received_total", "counter", "ICMP echo replies received (duplicates not counted)",
                (s, l) -> {
                    if (s.packetsSent >= 0) {
                        put(l, "probe_packets_received_total", s, s.packetsReceived);
                    }
                });
        family(w, line, "probe_jitter_seconds", "gauge",
                "Mean difference between consecutive round-trip times of the last round", (s, l) -> {
                    if (s.packetsSent >= 0) {
                        put(l, "probe_jitter_seconds", s, s.jitter);
                    }
                });
        family(w, line, "probe_rtt_stddev_seconds", "gauge", "Standard deviation of the round-trip times of the last round",
                (s, l) -> {
                    if (s.packetsSent >= 0) {
                        put(l, "probe_rtt_stddev_seconds", s, s.stddev);
                    }
                });
    }

    /** The HTTP families, for the targets that have had a request. */
    private void http(Writer w, StringBuilder line) throws IOException {
        family(w, line, "probe_http_duration_seconds", "gauge",
                "Duration of each phase of the last request, redirects added up", (s, l) -> {
                    for (int i = 0; s.http != null && i < PHASES.length; i++) {
                        l.append("probe_http_duration_seconds{").append(s.labels).append(",phase=\"").append(PHASES[i])
                                .append("\"} ").append(s.http.phases[i]).append('\n');
                    }
                });
        family(w, line, "probe_http_status_code", "gauge", "Status code of the last response, 0 if none came", (s, l) -> {
            if (s.http != null) {
                put(l, "probe_http_status_code", s, s.http.status);
            }
        });
        family(w, line, "probe_http_response_body_bytes", "gauge", "Body bytes of the last response", (s, l) -> {
            if (s.http != null) {
                put(l, "probe_http_response_body_bytes", s, s.http.bodySize);
            }
        });
        String expiry = "probe_tls_cert_expiry_timestamp_seconds";
        family(w, line, expiry, "gauge", "When the earliest-expiring certificate of the chain expires"
                + " (cert=\"earliest\") and the server's own (cert=\"leaf\"), Unix time", (s, l) -> {
                    if (s.http != null && s.http.certExpiry >= 0) {
                        l.append(expiry).append('{').append(s.labels).append(",cert=\"earliest\"} ")
                                .append((long) s.http.certExpiry).append('\n');
                        l.append(expiry).append('{').append(s.labels).append(",cert=\"leaf\"} ")
                                .append((long) s.http.leafExpiry).append('\n');
                    }
                });
        family(w, line, "probe_http_version_info", "gauge", "Protocol and TLS version of the last response", (s, l) -> {
            if (s.http != null && s.http.version != null) {
                l.append("probe_http_version_info{").append(s.labels).append(",version=\"").append(escape(s.http.version))
                        .append("\",tls_version=\"").append(s.http.tls == null ? "" : escape(s.http.tls)).append("\"} 1\n");
            }
        });
    }

    /** The traceroute families, for the targets that have had a trace. */
    private void traceroute(Writer w, StringBuilder line) throws IOException {
        family(w, line, "probe_traceroute_hops", "gauge", "Hops of the last trace, the destination included when reached",
                (s, l) -> {
                    if (s.hops >= 0) {
                        put(l, "probe_traceroute_hops", s, s.hops);
                    }
                });
        family(w, line, "probe_traceroute_route_hash", "gauge",
                "CRC-32 of the hop addresses of the last trace: changes when the path does", (s, l) -> {
                    if (s.hops >= 0) {
                        put(l, "probe_traceroute_route_hash", s, s.routeHash);
                    }
                });
        family(w, line, "probe_traceroute_route_changes_total", "counter",
                "Traces whose path differed from the trace before", (s, l) -> {
                    if (s.hops >= 0) {
                        put(l, "probe_traceroute_route_changes_total", s, s.routeChanges);
                    }
                });
    }

    /**
     * Writes one family: its header, then for each target, under the target's lock, what
     * {@code samples} appends to the reused line (nothing for a target the family does not concern).
     */
    private void family(Writer w, StringBuilder line, String name, String type, String help,
            BiConsumer<Series, StringBuilder> samples) throws IOException {
        header(w, name, type, help);
        for (Series s : series.values()) {
            line.setLength(0);
            synchronized (s) {
                samples.accept(s, line);
            }
            w.append(line);
        }
    }

    private static void put(StringBuilder line, String name, Series s, long value) {
        line.append(name).append('{').append(s.labels).append("} ").append(value).append('\n');
    }

    private static void put(StringBuilder line, String name, Series s, double value) {
        line.append(name).append('{').append(s.labels).append("} ").append(value).append('\n');
    }

    private static void header(Writer w, String name, String type, String help) throws IOException {
        w.append("# HELP ").append(name).append(' ').append(help).append('\n');
        w.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    /** Escapes a label value: backslash, double quote and line feed. */
    static String escape(String v) {
        if (v.indexOf('\\') < 0 && v.indexOf('"') < 0 && v.indexOf('\n') < 0) {
            return v;
        }
        StringBuilder b = new StringBuilder(v.length() + 8);
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            switch (c) {
                case '\\' -> b.append("\\\\");
                case '"' -> b.append("\\\"");
                case '\n' -> b.append("\\n");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
