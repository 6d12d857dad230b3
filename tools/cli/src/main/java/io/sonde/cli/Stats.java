package io.sonde.cli;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.sonde.api.ProbeResult;
import io.sonde.api.ResultSchema;

/**
 * The rows of an mtr-style table, kept over every result of one target: a row per hop for a kind
 * whose results have a path, a row for the target otherwise. Each row counts what was sent and answered, and the
 * round-trip times: last, average, best, worst, standard deviation (Welford's running form). Given
 * an IP-to-AS table, hops get an AS column (as {@code mtr -z}).
 */
final class Stats {

    /** The table hops are looked up in, or null for no AS column. */
    private final io.sonde.asn.AsnLookup asns;

    Stats() {
        this(null);
    }

    /** @param asns where each hop's AS is looked up, or null for no AS column */
    Stats(io.sonde.asn.AsnLookup asns) {
        this.asns = asns;
    }

    /** One row: a hop or the target. */
    static final class Row {
        final String label;
        /** The hop's AS ("AS64500 NAME"), "-" where the table has none, or null for a row that is no hop. */
        String as;
        long sent;
        long received;
        double last = Double.NaN;
        double mean;
        double m2;
        double best = Double.POSITIVE_INFINITY;
        double worst = Double.NEGATIVE_INFINITY;

        Row(String label) {
            this.label = label;
        }

        void sample(Duration rtt) {
            double ms = rtt.toNanos() / 1e6;
            received++;
            last = ms;
            double delta = ms - mean;
            mean += delta / received;
            m2 += delta * (ms - mean);
            best = Math.min(best, ms);
            worst = Math.max(worst, ms);
        }

        double lossPercent() {
            return sent == 0 ? 0 : 100.0 * (sent - Math.min(received, sent)) / sent;
        }

        double stddev() {
            return received < 2 ? 0 : Math.sqrt(m2 / (received - 1));
        }
    }

    private final Map<String, Row> rows = new LinkedHashMap<>();
    private long results;
    private String lastError;

    /**
     * Counts one result in, whatever its kind, by the roles of its values: a row per hop for a
     * kind with a path, else a row for the target, its samples the replies' round-trip times when
     * the kind has them, else the response time of each successful probe.
     */
    synchronized void add(ProbeResult r) {
        results++;
        lastError = r.isSuccessful() ? null : r.failureReason().label() + ": " + r.errorMessage();
        ResultSchema schema = r.schema();
        Map<String, Object> values = r.values();
        Object path = schema.withRole(ResultSchema.Role.PATH).map(v -> values.get(v.name())).orElse(null);
        if (path instanceof List<?> hops) {
            for (Object o : hops) {
                if (o instanceof Map<?, ?> hop) {
                    Object address = hop.get("address");
                    String label = String.format("%2d. %s", (int) ResultSchema.number(hop.get("ttl")),
                            address == null ? "???" : ResultSchema.text(address));
                    Row row = rows.computeIfAbsent(label, Row::new);
                    if (asns != null && row.as == null) {
                        io.sonde.asn.Origin origin = address instanceof java.net.InetAddress a ? asns.lookup(a)
                                : address == null ? null : io.sonde.asn.HopAsns.origin(new com.google.gson.JsonPrimitive(address.toString()), asns);
                        row.as = origin == null ? "-" : "AS" + origin.asn() + (origin.name() == null || origin.name().isEmpty() ? "" : " " + origin.name());
                    }
                    double sent = ResultSchema.number(hop.get("sent"));
                    row.sent += Double.isNaN(sent) ? 0 : (long) sent;
                    samples(row, hop.get("rtts"));
                }
            }
            return;
        }
        Row row = rows.computeIfAbsent(r.target().host() + (r.target().port() > 0 ? ":" + r.target().port() : ""), Row::new);
        Object samples = schema.withRole(ResultSchema.Role.LATENCY_SAMPLES).map(v -> values.get(v.name())).orElse(null);
        double sent = schema.withRole(ResultSchema.Role.SENT).map(v -> ResultSchema.number(values.get(v.name()))).orElse(Double.NaN);
        if (samples instanceof List<?> && !Double.isNaN(sent)) {
            row.sent += (long) sent;
            samples(row, samples);
        } else {
            row.sent++;
            if (r.isSuccessful()) {
                row.sample(r.responseTime());
            }
        }
    }

    private static void samples(Row row, Object rtts) {
        if (rtts instanceof List<?> list) {
            for (Object rtt : list) {
                if (rtt instanceof Duration d) {
                    row.sample(d);
                }
            }
        }
    }

    synchronized long results() {
        return results;
    }

    synchronized String lastError() {
        return lastError;
    }

    /** The table: Host, Loss%, Sent, Last, Avg, Best, Worst, StDev (milliseconds). */
    synchronized String table() {
        List<String[]> lines = new ArrayList<>();
        boolean asColumn = asns != null && rows.values().stream().anyMatch(r -> r.as != null);
        lines.add(asColumn ? new String[] {"Host", "AS", "Loss%", "Sent", "Last", "Avg", "Best", "Worst", "StDev"}
                : new String[] {"Host", "Loss%", "Sent", "Last", "Avg", "Best", "Worst", "StDev"});
        for (Row r : rows.values()) {
            boolean any = r.received > 0;
            String[] cells = {r.label, String.format("%.1f%%", r.lossPercent()), Long.toString(r.sent),
                    any ? ms(r.last) : "-", any ? ms(r.mean) : "-", any ? ms(r.best) : "-", any ? ms(r.worst) : "-",
                    any ? ms(r.stddev()) : "-"};
            if (asColumn) {
                String[] withAs = new String[cells.length + 1];
                withAs[0] = cells[0];
                withAs[1] = r.as == null ? "-" : r.as;
                System.arraycopy(cells, 1, withAs, 2, cells.length - 1);
                cells = withAs;
            }
            lines.add(cells);
        }
        return render(lines);
    }

    private static String ms(double v) {
        return String.format("%.2f", v);
    }

    /** Columns padded to their widest cell; columns of numbers right-aligned, others left-aligned. */
    static String render(List<String[]> lines) {
        int columns = lines.get(0).length;
        int[] width = new int[columns];
        boolean[] numeric = new boolean[columns];
        java.util.Arrays.fill(numeric, true);
        for (int row = 0; row < lines.size(); row++) {
            String[] l = lines.get(row);
            for (int i = 0; i < l.length; i++) {
                width[i] = Math.max(width[i], l[i].length());
                if (row > 0 && !l[i].matches("-|-?[0-9][0-9.]*%?")) {
                    numeric[i] = false;
                }
            }
        }
        numeric[0] = false; // the label: host names and addresses look like numbers too
        StringBuilder b = new StringBuilder();
        for (String[] l : lines) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < l.length; i++) {
                String cell = numeric[i] ? String.format("%" + width[i] + "s", l[i]) : String.format("%-" + width[i] + "s", l[i]);
                line.append(i == 0 ? "" : "  ").append(cell);
            }
            b.append(line.toString().stripTrailing()).append('\n');
        }
        return b.toString();
    }
}
