package io.sonde.api;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What a kind's results hold and which Prometheus metric families it wants from them: the
 * counterpart of {@link TargetSchema} for what comes out of a probe. Each measured value has a
 * name, a type, a unit and a role (what it means to a reader that does not know the kind: the
 * replies' round-trip times, packets sent and received, per-phase timings, the path hop by hop, a
 * certificate's expiry, ...). A result carries its values by name ({@link ProbeResult#values()});
 * the agent's exporter, its uplink, the server and the dashboard read them through this schema
 * and never through the result's type.
 *
 * <p>A metric family projects values: a gauge shows the last result's value, a counter adds the
 * values of every result, a {@code changes} counter counts the results whose value differed from
 * the one before, an info family shows text values as labels with the value 1. A family's samples
 * name their sources: a value's name, {@code name.key} for an entry of a map value or
 * {@code name.N} for an element of a list, {@code @response_time} for the result's response time,
 * {@code @lookup} for the name look-up of a probe made on request ({@code /probe}), a number for a
 * constant; {@code a|b} takes the first source present. A list's number is its size, a duration's
 * its seconds, an instant's its Unix time in seconds, a boolean's 1 or 0.
 *
 * <p>Every kind gets the standard families without declaring them ({@link #STANDARD_FAMILIES}, and
 * in {@code /probe} {@link #PROBE_FAMILIES}):
 * latency (of the values with role {@link Role#LATENCY_SAMPLES} when the kind has them, else of
 * the response time of successful probes), probes, timeouts, failures by reason, success and the
 * health state.
 *
 * @param version      the schema's version, changed by its plugin whenever the values or families change
 * @param values       the values a result may hold
 * @param metrics      the families of {@code /metrics}, kept per target (labels {@code target} and {@code kind} added)
 * @param probeMetrics the families of {@code /probe}, of one probe made on request, named as blackbox_exporter names them
 * @since 1.9
 */
public record ResultSchema(String version, List<Value> values, List<Family> metrics, List<Family> probeMetrics) {

    /** The schema of a kind that declares none: results with no declared values, only the standard families. */
    public static final ResultSchema NONE = new ResultSchema("0", List.of(), List.of(), List.of());

    /** Families of {@code /metrics} every kind has, written by the exporter itself: no kind's family takes one of these names. */
    public static final Set<String> STANDARD_FAMILIES = Set.of("probe_latency_seconds", "probe_total", "probe_timeout_total",
            "probe_failure_total", "probe_success", "sonde_target_state");

    /** Families of {@code /probe} the endpoint writes itself, as blackbox_exporter does: no kind's probe family takes one of these names. */
    public static final Set<String> PROBE_FAMILIES = Set.of("probe_success", "probe_duration_seconds", "probe_dns_lookup_time_seconds",
            "probe_ip_protocol", "probe_ip_addr_hash");

    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]{0,62}");
    private static final Pattern METRIC = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]{0,127}");
    private static final Pattern LABEL = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]{0,62}");
    private static final Set<String> RESERVED_LABELS = Set.of("target", "kind", "le", "reason", "state");

    /** What a value holds. */
    public enum Type {
        /** a number (integer or not) */
        NUMBER,
        /** a {@link Duration}, shown in seconds */
        DURATION,
        /** an {@link Instant}, shown as Unix time in seconds */
        TIMESTAMP,
        /** a text */
        TEXT,
        /** true or false */
        BOOLEAN,
        /** an IP address ({@link InetAddress} or its text) */
        ADDRESS,
        /** a list of {@link Duration}s */
        DURATIONS,
        /** a map of names to {@link Duration}s */
        DURATION_MAP,
        /** a list of hops, each a map with {@code ttl}, {@code address} (text or null), {@code sent} and {@code rtts} */
        HOPS,
        /**
         * the distinct paths several flows took: a list of maps, each with {@code flows} (the numbers
         * of the flows that took it, a list) and {@code hops} (the address answering at each TTL from
         * 1, text or null when none did). @since 2.2
         */
        PATHS
    }

    /** What a value means to a reader that does not know the kind. */
    public enum Role {
        /** nothing that readers of every kind use */
        NONE,
        /** the round-trip time of every reply of a probe (type {@link Type#DURATIONS}) */
        LATENCY_SAMPLES,
        /** packets or queries sent (type {@link Type#NUMBER}) */
        SENT,
        /** replies received (type {@link Type#NUMBER}) */
        RECEIVED,
        /** the duration of each phase of a probe (type {@link Type#DURATION_MAP}) */
        PHASES,
        /** the path to the target, hop by hop (type {@link Type#HOPS}) */
        PATH,
        /** when a certificate expires (type {@link Type#TIMESTAMP}) */
        CERT_EXPIRY,
        /** the peer's answer code, for example an HTTP status (type {@link Type#NUMBER}) */
        STATUS_CODE,
        /** the address that was probed (type {@link Type#ADDRESS}) */
        ADDRESS,
        /** the distinct paths to the target when probes went on several flows (type {@link Type#PATHS}) @since 2.2 */
        BRANCHES
    }

    /**
     * One measured value.
     *
     * @param name  its name in {@link ProbeResult#values()}: lower case, digits and underscores
     * @param type  what it holds
     * @param unit  its unit ({@code seconds}, {@code bytes}, ...), or empty
     * @param role  what it means to readers of every kind
     * @param help  one line for people
     * @param local whether it stays on the agent (a figure derived for metrics, never sent to the server)
     */
    public record Value(String name, Type type, String unit, Role role, String help, boolean local) {

        /** Checks the name; a null unit is empty, a null role {@link Role#NONE}. */
        public Value {
            if (name == null || !NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("value name '" + name + "' is not lower case letters, digits and _ (at most 63)");
            }
            Objects.requireNonNull(type, "type of value " + name);
            unit = unit == null ? "" : unit;
            role = role == null ? Role.NONE : role;
            help = help == null ? "" : help;
        }

        /** @return a value sent to the server */
        public static Value of(String name, Type type, String unit, Role role, String help) {
            return new Value(name, type, unit, role, help, false);
        }

        /** @return a value that stays on the agent */
        public static Value local(String name, Type type, String unit, String help) {
            return new Value(name, type, unit, Role.NONE, help, true);
        }
    }

    /** How a family shows its values. */
    public enum Sample {
        /** the last result's value */
        GAUGE,
        /** the sum of every result's value */
        COUNTER,
        /** how many results had a value different from the result before */
        CHANGES,
        /** 1, with text values as labels */
        INFO
    }

    /**
     * One metric family.
     *
     * @param name    its name
     * @param type    how it shows its values
     * @param help    its help text
     * @param label   the label that tells its samples apart, or null for a family of one sample
     * @param sources for a family of one sample, {@code "" → source}; with a label, each label
     *                value to its source, in order; for {@link Sample#INFO}, each label name to its
     *                source (the sample is written when the first source is present, the others
     *                empty when absent)
     */
    public record Family(String name, Sample type, String help, String label, Map<String, String> sources) {

        /** Checks the names; keeps the sources' order. */
        public Family {
            if (name == null || !METRIC.matcher(name).matches()) {
                throw new IllegalArgumentException("metric family name '" + name + "' is not a Prometheus metric name");
            }
            Objects.requireNonNull(type, "type of family " + name);
            help = help == null ? "" : help;
            if (label != null && (!LABEL.matcher(label).matches() || RESERVED_LABELS.contains(label))) {
                throw new IllegalArgumentException("family " + name + ": label '" + label + "' is not a label name or is one the exporter sets");
            }
            if (sources == null || sources.isEmpty()) {
                throw new IllegalArgumentException("family " + name + " has no source");
            }
            if (type == Sample.INFO) {
                for (String l : sources.keySet()) {
                    if (!LABEL.matcher(l).matches() || RESERVED_LABELS.contains(l)) {
                        throw new IllegalArgumentException("family " + name + ": label '" + l + "' is not a label name or is one the exporter sets");
                    }
                }
            } else if (label == null && (sources.size() != 1 || !sources.containsKey(""))) {
                throw new IllegalArgumentException("family " + name + " has several sources but no label to tell them apart");
            }
            sources = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(sources));
        }

        /** @return a family of one sample from {@code source} */
        public static Family of(String name, Sample type, String help, String source) {
            return new Family(name, type, help, null, Map.of("", source));
        }

        /** @return a family with a sample per label value: pairs of label value and source */
        public static Family labelled(String name, Sample type, String help, String label, String... pairs) {
            return new Family(name, type, help, label, pairs(name, pairs));
        }

        /** @return an info family: pairs of label name and source */
        public static Family info(String name, String help, String... pairs) {
            return new Family(name, Sample.INFO, help, null, pairs(name, pairs));
        }

        private static Map<String, String> pairs(String name, String... pairs) {
            if (pairs.length == 0 || pairs.length % 2 != 0) {
                throw new IllegalArgumentException("family " + name + ": sources come in pairs");
            }
            Map<String, String> m = new LinkedHashMap<>();
            for (int i = 0; i < pairs.length; i += 2) {
                m.put(pairs[i], pairs[i + 1]);
            }
            return m;
        }
    }

    /** Copies the lists; refuses two values of one name and families named like standard ones or twice. */
    public ResultSchema {
        version = version == null || version.isBlank() ? "0" : version;
        values = values == null ? List.of() : List.copyOf(values);
        metrics = metrics == null ? List.of() : List.copyOf(metrics);
        probeMetrics = probeMetrics == null ? List.of() : List.copyOf(probeMetrics);
        Set<String> names = new HashSet<>();
        for (Value v : values) {
            if (!names.add(v.name())) {
                throw new IllegalArgumentException("value " + v.name() + " is declared twice");
            }
        }
        for (List<Family> families : List.of(metrics, probeMetrics)) {
            Set<String> seen = new HashSet<>();
            Set<String> reserved = families == metrics ? STANDARD_FAMILIES : PROBE_FAMILIES;
            for (Family f : families) {
                if (reserved.contains(f.name())) {
                    throw new IllegalArgumentException("family " + f.name() + " is one of the standard families every kind has");
                }
                if (!seen.add(f.name())) {
                    throw new IllegalArgumentException("family " + f.name() + " is declared twice");
                }
            }
        }
    }

    /** @return the value of that name, if declared */
    public Optional<Value> value(String name) {
        for (Value v : values) {
            if (v.name().equals(name)) {
                return Optional.of(v);
            }
        }
        return Optional.empty();
    }

    /** @return the first value with that role, if any */
    public Optional<Value> withRole(Role role) {
        for (Value v : values) {
            if (v.role() == role) {
                return Optional.of(v);
            }
        }
        return Optional.empty();
    }

    /**
     * A family's source, read from a result: what {@link #source(String)} makes of its text once,
     * so that a reader of many results does not parse it at each.
     */
    @FunctionalInterface
    public interface Source {
        /**
         * @param values a result's values
         * @param result the result, for {@code @response_time}
         * @param lookup the look-up's seconds for {@code @lookup}, negative for none
         * @return what the source names, or null when absent
         */
        Object read(Map<String, ?> values, ProbeResult result, double lookup);
    }

    /** @return the source a family's text names, parsed: a name, {@code name.key}, {@code name.N}, {@code @...}, a number, {@code a|b} */
    public static Source source(String text) {
        int bar = text.indexOf('|');
        if (bar >= 0) {
            Source first = source(text.substring(0, bar));
            Source second = source(text.substring(bar + 1));
            return (v, r, l) -> {
                Object o = first.read(v, r, l);
                return o != null ? o : second.read(v, r, l);
            };
        }
        if (text.isEmpty()) {
            return (v, r, l) -> null;
        }
        char c = text.charAt(0);
        if (c >= '0' && c <= '9') {
            Double constant = Double.valueOf(text);
            return (v, r, l) -> constant;
        }
        if (text.equals("@response_time")) {
            return (v, r, l) -> r == null ? null : r.responseTime();
        }
        if (text.equals("@lookup")) {
            return (v, r, l) -> l >= 0 ? Double.valueOf(l) : null;
        }
        int dot = text.indexOf('.');
        if (dot < 0) {
            return (v, r, l) -> v.get(text);
        }
        String name = text.substring(0, dot);
        String key = text.substring(dot + 1);
        int index = !key.isEmpty() && key.length() < 9 && key.chars().allMatch(Character::isDigit) ? Integer.parseInt(key) : -1;
        return (v, r, l) -> {
            Object outer = v.get(name);
            if (outer instanceof Map<?, ?> m) {
                return m.get(key);
            }
            if (index >= 0 && outer instanceof List<?> list) {
                return index < list.size() ? list.get(index) : null;
            }
            return null;
        };
    }

    /**
     * @param values    a result's values
     * @param source    a source as a family names it
     * @param result    the result, for {@code @response_time}
     * @param lookup    the look-up's seconds for {@code @lookup}, negative for none
     * @return what the source names, or null when absent
     */
    public static Object find(Map<String, ?> values, String source, ProbeResult result, double lookup) {
        return source(source).read(values, result, lookup);
    }

    /** @return the number a value shows as, or NaN for none (absent, text) */
    public static double number(Object v) {
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        if (v instanceof Duration d) {
            return d.toNanos() / 1e9;
        }
        if (v instanceof Instant i) {
            return i.getEpochSecond() + i.getNano() / 1e9;
        }
        if (v instanceof Boolean b) {
            return b ? 1 : 0;
        }
        if (v instanceof List<?> l) {
            return l.size();
        }
        return Double.NaN;
    }

    /**
     * @return the text a value shows as in a label, or null for none; an IPv6 address in the form
     *         of RFC 5952 ({@code fd00:18::2}, as ping, traceroute and ip show it), not the JDK's
     *         {@code fd00:18:0:0:0:0:0:2}
     */
    public static String text(Object v) {
        if (v == null) {
            return null;
        }
        if (v instanceof java.net.Inet6Address a) {
            return rfc5952(a);
        }
        if (v instanceof InetAddress a) {
            return a.getHostAddress();
        }
        return v.toString();
    }

    /** Lower-case groups without leading zeros, the longest run of two or more zero groups (the first of equals) as "::". */
    private static String rfc5952(java.net.Inet6Address a) {
        byte[] b = a.getAddress();
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = (b[2 * i] & 0xff) << 8 | (b[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8; i++) {
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = j;
        }
        StringBuilder out = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                out.append("::");
                i += bestLength - 1;
                continue;
            }
            if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
                out.append(':');
            }
            out.append(Integer.toHexString(groups[i]));
        }
        String host = a.getHostAddress();
        int scope = host.indexOf('%');
        return scope >= 0 ? out.append(host, scope, host.length()).toString() : out.toString();
    }
}
