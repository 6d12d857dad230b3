package io.sonde.exporter.internal;

import java.io.IOException;
import java.io.Writer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

import io.sonde.api.FailureReason;
import io.sonde.api.ProbeResult;
import io.sonde.api.ResultSchema;
import io.sonde.api.Target;

/**
 * The per-target probe metrics of DESIGN.md, kept compactly and written straight to the
 * exposition, for any kind: the standard families every kind has, and the families each kind's
 * {@link ResultSchema} asks for, projected from its results' values. With 10,000 targets these are
 * about 230,000 samples: simpleclient's generic children would cost about 1.5 KB a target and
 * allocate an object per sample at every scrape, so each target keeps its numbers in one array
 * laid out by its kind's compiled schema, written without intermediate objects. Every other family
 * goes through simpleclient.
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

    /**
     * A kind's result schema laid out for recording: each family's samples get consecutive slots
     * of a target's number array (a changes family two: the last value and the count), an info
     * family's labels consecutive slots of its text array.
     */
    static final class Compiled {
        final ResultSchema schema;
        final ResultSchema.Family[] families;
        final ResultSchema.Source[][] sources;
        final String[][] labelParts; // per family and sample: ,label="value" (or ,name=" for info labels)
        final int[] offset;
        final int numbers;
        final int texts;
        final String samples; // the value with role LATENCY_SAMPLES, or null
        final String sent;
        final String received;
        /** Whether anything here reads a result's values: a kind with no family and no role read needs none made. */
        final boolean readsValues;

        Compiled(ResultSchema schema) {
            this.schema = schema;
            List<ResultSchema.Family> fs = schema.metrics();
            families = fs.toArray(new ResultSchema.Family[0]);
            sources = new ResultSchema.Source[families.length][];
            labelParts = new String[families.length][];
            offset = new int[families.length];
            int n = 0;
            int t = 0;
            for (int i = 0; i < families.length; i++) {
                ResultSchema.Family f = families[i];
                sources[i] = f.sources().values().stream().map(ResultSchema::source).toArray(ResultSchema.Source[]::new);
                labelParts[i] = new String[sources[i].length];
                int j = 0;
                for (String key : f.sources().keySet()) {
                    labelParts[i][j++] = f.type() == ResultSchema.Sample.INFO ? "," + key + "=\""
                            : f.label() == null ? "" : "," + f.label() + "=\"" + escape(key) + "\"";
                }
                if (f.type() == ResultSchema.Sample.INFO) {
                    offset[i] = t;
                    t += sources[i].length;
                } else {
                    offset[i] = n;
                    n += f.type() == ResultSchema.Sample.CHANGES ? 2 : sources[i].length;
                }
            }
            numbers = n;
            texts = t;
            samples = schema.withRole(ResultSchema.Role.LATENCY_SAMPLES).map(ResultSchema.Value::name).orElse(null);
            sent = schema.withRole(ResultSchema.Role.SENT).map(ResultSchema.Value::name).orElse(null);
            received = schema.withRole(ResultSchema.Role.RECEIVED).map(ResultSchema.Value::name).orElse(null);
            readsValues = families.length > 0 || samples != null || (sent != null && received != null);
        }

        /** Records one result's values into a target's arrays. */
        void record(ProbeResult r, Map<String, Object> values, double[] number, String[] text) {
            for (int i = 0; i < families.length; i++) {
                ResultSchema.Source[] src = sources[i];
                int o = offset[i];
                switch (families[i].type()) {
                    case GAUGE -> {
                        for (int j = 0; j < src.length; j++) {
                            number[o + j] = ResultSchema.number(src[j].read(values, r, -1));
                        }
                    }
                    case COUNTER -> {
                        for (int j = 0; j < src.length; j++) {
                            double x = ResultSchema.number(src[j].read(values, r, -1));
                            if (!Double.isNaN(x)) {
                                number[o + j] = Double.isNaN(number[o + j]) ? x : number[o + j] + x;
                            }
                        }
                    }
                    case CHANGES -> {
                        double x = ResultSchema.number(src[0].read(values, r, -1));
                        if (!Double.isNaN(x)) {
                            if (Double.isNaN(number[o + 1])) {
                                number[o + 1] = 0;
                            } else if (x != number[o]) {
                                number[o + 1]++;
                            }
                            number[o] = x;
                        }
                    }
                    case INFO -> {
                        for (int j = 0; j < src.length; j++) {
                            text[o + j] = ResultSchema.text(src[j].read(values, r, -1));
                        }
                    }
                }
            }
        }
    }

    /** Compiled schemas by schema (equal schemas share one); a series keeps its own and asks here only when it changes. */
    private final Map<ResultSchema, Compiled> compiled = new ConcurrentHashMap<>();

    /** Everything known of one target; guarded by itself. */
    private static final class Series {
        final String kind;
        final String labels; // target="...",kind="..." and the target's own labels, in name order
        final java.util.Set<String> tags; // the target's, whose labels these are
        final long[] buckets = new long[LATENCY_BUCKETS.length + 1]; // the last one is +Inf only
        long[] failures; // by reason, from the first failure on: most targets never fail
        double latencySum;
        long total;
        long timeouts;
        int success = -1; // -1: no probe yet
        volatile Compiled schema; // the kind's, from its first result on (read without the lock to skip making unread values)
        double[] numbers; // by the schema's layout; NaN: absent
        String[] texts;
        ProbeResult last;
        io.sonde.agent.spi.Health.State state; // by the health model, from the last result; null before it
        java.time.Instant since; // when the last run of results in that state began

        Series(Target t) {
            kind = t.kind();
            tags = t.tags();
            StringBuilder l = new StringBuilder("target=\"").append(escape(t.name())).append("\",kind=\"").append(escape(t.kind())).append('"');
            io.sonde.agent.spi.TargetKeys.labels(tags).forEach((name, value) -> l.append(',').append(name).append("=\"").append(escape(value)).append('"'));
            labels = l.toString();
        }

        /** @return whether this series is the target's: the same kind and tags (so the same labels) */
        boolean of(Target t) {
            return kind.equals(t.kind()) && (tags == t.tags() || tags.equals(t.tags()));
        }
    }

    /** By target name (names are unique among targets); a name that changes kind gets a new series. */
    private final Map<String, Series> series = new ConcurrentHashMap<>();

    void record(ProbeResult result) {
        record(result, null);
    }

    /** @param next when the scheduler probes the target next, or null when it did not say */
    void record(ProbeResult result, io.sonde.agent.spi.NextProbe next) {
        Target t = result.target();
        Series s = series.get(t.name());
        if (s == null || !s.of(t)) { // a new target, or its kind or labels changed: a new series
            s = series.compute(t.name(), (k, old) -> old != null && old.of(t) ? old : new Series(t));
        }
        ResultSchema schema = result.schema();
        Compiled known = s.schema; // read without the lock: only to know whether the values are wanted
        Map<String, Object> values = known != null && known.schema == schema && !known.readsValues ? Map.of() : result.values();
        synchronized (s) {
            if (s.schema == null || s.schema.schema != schema) {
                Compiled c = compiled.computeIfAbsent(schema, Compiled::new);
                if (s.schema != c) { // a new kind's first result, or its plugin changed what it measures
                    s.schema = c;
                    s.numbers = new double[c.numbers];
                    java.util.Arrays.fill(s.numbers, Double.NaN);
                    s.texts = new String[c.texts];
                }
            }
            Compiled c = s.schema;
            s.total++;
            s.last = result;
            c.record(result, values, s.numbers, s.texts);
            double loss = Double.NaN;
            if (c.sent != null && c.received != null) {
                double sent = ResultSchema.number(values.get(c.sent));
                double received = ResultSchema.number(values.get(c.received));
                if (sent > 0) {
                    loss = (sent - Math.min(sent, received)) / sent;
                }
            }
            boolean sampled = false;
            if (c.samples != null && values.get(c.samples) instanceof List<?> rtts) {
                // every reply is a latency sample
                sampled = true;
                for (Object rtt : rtts) {
                    if (rtt instanceof Duration d) {
                        observe(s, d.toNanos() / 1e9);
                    }
                }
            }
            io.sonde.agent.spi.Health.State state = io.sonde.agent.spi.Health.of(result.isSuccessful(), loss,
                    result.responseTime() == null ? Double.NaN : result.responseTime().toNanos() / 1e9, thresholds(t),
                    next != null && next.backoff());
            if (state != s.state) {
                s.since = result.startedAt();
            }
            s.state = state;
            if (result.isSuccessful()) {
                if (!sampled) {
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

    private static void observe(Series s, double seconds) {
        int b = 0;
        while (b < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[b]) {
            b++;
        }
        s.buckets[b]++;
        s.latencySum += seconds;
    }

    /** @return the target's thresholds; a target that was not checked (none reaches here) has none */
    private static io.sonde.agent.spi.Health.Thresholds thresholds(Target t) {
        try {
            return io.sonde.agent.spi.Health.Thresholds.of(t);
        } catch (IllegalArgumentException e) {
            return io.sonde.agent.spi.Health.Thresholds.NONE;
        }
    }

    void remove(Target t) {
        series.computeIfPresent(t.name(), (k, s) -> s.kind.equals(t.kind()) ? null : s);
    }

    /** One family as the kinds declare it: its first declaration's type and help, and every kind's declaration of it. */
    private record Declared(ResultSchema.Family first, List<Compiled> kinds, List<Integer> index) {
    }

    /**
     * Writes the standard families and every family the kinds of the targets ask for, in the text
     * format, version 0.0.4. A family two kinds declare is written once, under its first
     * declaration (kinds in name order); a declaration of another type under the same name is left out.
     */
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
        declared(w, line);
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

    /** The families the kinds declare, each written once, its targets grouped by kind. */
    private void declared(Writer w, StringBuilder line) throws IOException {
        Map<Compiled, List<Series>> byKind = new IdentityHashMap<>();
        Map<Compiled, String> kindName = new IdentityHashMap<>();
        for (Series s : series.values()) {
            Compiled c;
            synchronized (s) {
                c = s.schema;
            }
            if (c != null && c.families.length > 0) {
                byKind.computeIfAbsent(c, k -> new ArrayList<>()).add(s);
                kindName.merge(c, s.kind, (a, b) -> a.compareTo(b) <= 0 ? a : b);
            }
        }
        if (byKind.isEmpty()) {
            return;
        }
        List<Compiled> kinds = new ArrayList<>(byKind.keySet());
        kinds.sort((a, b) -> kindName.get(a).compareTo(kindName.get(b)));
        Map<String, Declared> families = new LinkedHashMap<>();
        for (Compiled c : kinds) {
            for (int i = 0; i < c.families.length; i++) {
                ResultSchema.Family f = c.families[i];
                Declared d = families.computeIfAbsent(f.name(), n -> new Declared(f, new ArrayList<>(), new ArrayList<>()));
                if (d.first().type() == f.type() && java.util.Objects.equals(d.first().label(), f.label())) {
                    d.kinds().add(c);
                    d.index().add(i);
                }
            }
        }
        for (Declared d : families.values()) {
            ResultSchema.Family f = d.first();
            header(w, f.name(), f.type() == ResultSchema.Sample.COUNTER || f.type() == ResultSchema.Sample.CHANGES ? "counter"
                    : "gauge", f.help());
            for (int k = 0; k < d.kinds().size(); k++) {
                Compiled c = d.kinds().get(k);
                int i = d.index().get(k);
                for (Series s : byKind.get(c)) {
                    line.setLength(0);
                    synchronized (s) {
                        if (s.schema == c) {
                            samples(line, s, c, i);
                        }
                    }
                    w.append(line);
                }
            }
        }
    }

    /** Appends the samples of family {@code i} of a target's kind: none for values it has not measured. */
    private static void samples(StringBuilder l, Series s, Compiled c, int i) {
        ResultSchema.Family f = c.families[i];
        int o = c.offset[i];
        String[] parts = c.labelParts[i];
        switch (f.type()) {
            case INFO -> {
                if (s.texts[o] != null) {
                    l.append(f.name()).append('{').append(s.labels);
                    for (int j = 0; j < parts.length; j++) {
                        String v = s.texts[o + j];
                        l.append(parts[j]).append(v == null ? "" : escape(v)).append('"');
                    }
                    l.append("} 1\n");
                }
            }
            case CHANGES -> {
                if (!Double.isNaN(s.numbers[o + 1])) {
                    number(l.append(f.name()).append('{').append(s.labels).append("} "), s.numbers[o + 1]).append('\n');
                }
            }
            default -> {
                for (int j = 0; j < parts.length; j++) {
                    double v = s.numbers[o + j];
                    if (!Double.isNaN(v)) {
                        number(l.append(f.name()).append('{').append(s.labels).append(parts[j]).append("} "), v).append('\n');
                    }
                }
            }
        }
    }

    /** A whole number as one, an infinity as the text format writes it, anything else as Java writes a double. */
    static StringBuilder number(StringBuilder l, double v) {
        if (Double.isInfinite(v)) {
            return l.append(v > 0 ? "+Inf" : "-Inf"); // a plugin's value: Java's "Infinity" would spoil the whole scrape
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return l.append((long) v);
        }
        return l.append(v);
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
