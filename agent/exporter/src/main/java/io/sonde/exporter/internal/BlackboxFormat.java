package io.sonde.exporter.internal;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.sonde.api.ProbeResult;
import io.sonde.api.ResultSchema;

/**
 * The answer of {@code /probe} in blackbox_exporter's metric names, families sorted by name as it
 * sorts them, so that dashboards and alerts written for it keep working: the endpoint's own
 * families, then those the kind's {@link ResultSchema#probeMetrics()} declares.
 */
final class BlackboxFormat {

    /** One probe made on request. */
    record OnDemand(String kind, ProbeResult result, double lookupSeconds, InetAddress address, double durationSeconds) {
    }


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
        // the kind's own families, as its schema declares them
        Map<String, Object> values = r.values();
        for (ResultSchema.Family f : r.schema().probeMetrics()) {
            if (samples.containsKey(f.name())) {
                continue; // the endpoint's own measurement wins
            }
            help.put(f.name(), f.help());
            if (f.type() == ResultSchema.Sample.INFO) {
                StringBuilder line = new StringBuilder(f.name()).append('{');
                boolean first = true;
                for (Map.Entry<String, String> l : f.sources().entrySet()) {
                    String v = ResultSchema.text(ResultSchema.find(values, l.getValue(), r, p.lookupSeconds()));
                    if (first && v == null) {
                        break;
                    }
                    line.append(first ? "" : ",").append(l.getKey()).append("=\"").append(v == null ? "" : ProbeMetrics.escape(v))
                            .append('"');
                    first = false;
                }
                if (!first) {
                    add(f.name(), line.append("} 1").toString());
                }
                continue;
            }
            for (Map.Entry<String, String> source : f.sources().entrySet()) {
                double v = ResultSchema.number(ResultSchema.find(values, source.getValue(), r, p.lookupSeconds()));
                if (!Double.isNaN(v)) {
                    add(f.name(), f.name() + (f.label() == null ? "" : "{" + f.label() + "=\"" + ProbeMetrics.escape(source.getKey())
                            + "\"}") + " " + number(v));
                }
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




    private static String number(double v) {
        if (Double.isInfinite(v)) {
            return v > 0 ? "+Inf" : "-Inf";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.toString(v);
    }
}
