package io.sonde.agent.spi;

import io.sonde.api.Target;
import io.sonde.api.TargetOption;
import io.sonde.api.TargetProblem;
import io.sonde.api.TargetSchema;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The generic keys of a target description ({@link TargetSchema#GENERIC_KEYS}) and their one rule:
 * what the agent checks for every target, whatever its kind, and what a server checks before it
 * hands a target to agents. The kind's own keys are its {@link TargetSchema}'s. Pure: nothing is
 * probed or looked up.
 *
 * @since 1.4
 */
public final class TargetKeys {

    /** The shortest interval a target may set. */
    public static final long MIN_INTERVAL_MS = 10;

    /** The longest interval a target may set: a day. */
    public static final long MAX_INTERVAL_MS = Duration.ofDays(1).toMillis();

    private TargetKeys() {
    }

    /**
     * The generic keys of one description as read, and what is wrong with them.
     *
     * @param name       the name, stripped; {@code null} if missing
     * @param kind       the kind, {@link Target#canonicalKind canonical}; {@code null} if missing
     * @param host       the host, stripped; {@code null} if missing
     * @param port       the port, 0 where none (or a bad one) is set
     * @param intervalMs the interval set, {@code null} where none (or a bad one) is set
     * @param timeoutMs  the timeout set, {@code null} where none (or a bad one) is set
     * @param tags       the tags
     * @param problems   what is wrong, each with its key; empty when nothing is
     */
    public record Generic(String name, String kind, String host, int port, Long intervalMs, Long timeoutMs, Set<String> tags,
            List<TargetProblem> problems) {
        /** Copies the collections. */
        public Generic {
            tags = Collections.unmodifiableSet(new LinkedHashSet<>(tags));
            problems = List.copyOf(problems);
        }
    }

    /**
     * Reads and checks the generic keys: name (or {@code fallbackName}), kind and host present,
     * no control characters in the name, port 1–65535, interval {@value #MIN_INTERVAL_MS} ms to a
     * day, timeout at least 1 ms and within the interval in force, ip_version 4 or 6, and
     * {@link Backoff}'s keys.
     *
     * @param raw               the description's keys and values: strings, numbers or lists
     * @param fallbackName      the name where the description has none (from a file name), or {@code null}
     * @param defaultIntervalMs the interval of a target that sets none, or {@code null} where it is
     *                          not known here (a server: the agent's setting): then a timeout is
     *                          checked against an interval the description sets, and only then
     * @return the keys read and the problems found
     */
    public static Generic check(Map<String, ?> raw, String fallbackName, Long defaultIntervalMs) {
        List<TargetProblem> problems = new ArrayList<>();

        String name = text(raw.get("name"));
        if (name == null || name.isBlank()) {
            name = fallbackName;
        }
        if (name == null || name.isBlank()) {
            problems.add(new TargetProblem("name", "missing; every target needs a unique name"));
            name = null;
        } else {
            name = name.strip();
            if (!name.chars().allMatch(c -> c >= 0x20 && c != 0x7f)) {
                problems.add(new TargetProblem("name", "contains control characters"));
            }
        }

        String kind = text(raw.get("kind"));
        if (kind == null || kind.isBlank()) {
            problems.add(new TargetProblem("kind", "missing; the probe type, for example icmp, tcp or http"));
            kind = null;
        } else {
            kind = Target.canonicalKind(kind);
        }

        String host = text(raw.get("host"));
        if (host == null || host.isBlank()) {
            problems.add(new TargetProblem("host", "missing"));
            host = null;
        } else {
            host = host.strip();
        }

        int port = 0;
        Object rawPort = raw.get("port");
        if (!isAbsent(rawPort)) {
            Long p = whole(rawPort, "port", problems);
            if (p != null) {
                if (p < 1 || p > 65535) {
                    problems.add(new TargetProblem("port", p + " is not a port number (1-65535)"));
                } else {
                    port = p.intValue();
                }
            }
        }

        Long interval = null;
        Object rawInterval = raw.get("interval_ms");
        if (!isAbsent(rawInterval)) {
            Long ms = whole(rawInterval, "interval_ms", problems);
            if (ms != null) {
                if (ms < MIN_INTERVAL_MS || ms > MAX_INTERVAL_MS) {
                    problems.add(new TargetProblem("interval_ms", ms + " is out of range (" + MIN_INTERVAL_MS + "-" + MAX_INTERVAL_MS + ")"));
                } else {
                    interval = ms;
                }
            }
        }
        Long inForce = interval != null ? interval : defaultIntervalMs;

        Long timeout = null;
        Object rawTimeout = raw.get("timeout_ms");
        if (!isAbsent(rawTimeout)) {
            Long ms = whole(rawTimeout, "timeout_ms", problems);
            if (ms != null) {
                if (ms < 1) {
                    problems.add(new TargetProblem("timeout_ms", ms + " must be at least 1"));
                } else if (inForce != null && ms > inForce) {
                    problems.add(new TargetProblem("timeout_ms", ms + " exceeds the interval (" + inForce
                            + " ms); a probe must end before the next one starts"));
                } else {
                    timeout = ms;
                }
            }
        }

        Object rawVersion = raw.get(Target.IP_VERSION);
        if (!isAbsent(rawVersion)) {
            String v = text(rawVersion).strip();
            if (!v.equals("4") && !v.equals("6") && !v.equals(BOTH)) {
                problems.add(new TargetProblem(Target.IP_VERSION, "'" + v + "' is not 4, 6 or both"));
            }
        }

        for (TargetOption o : java.util.stream.Stream.concat(Backoff.KEYS.stream(), Health.KEYS.stream()).toList()) {
            Object v = raw.get(o.name());
            if (!isAbsent(v)) {
                String problem = o.problem(text(v).strip());
                if (problem != null) {
                    problems.add(new TargetProblem(o.name(), problem));
                }
            }
        }
        Set<String> tags = tags(raw.get("tags"));
        for (String tag : tags) {
            int eq = tag.indexOf('=');
            String problem = eq < 0 ? null : labelNameProblem(tag.substring(0, eq));
            if (problem != null) {
                problems.add(new TargetProblem("tags", "'" + tag + "': a tag name=value is a label, and " + problem));
            }
        }
        Object rawLabels = raw.get(LABELS);
        if (!isAbsent(rawLabels)) {
            labels(rawLabels, tags, problems);
        }
        int labelCount = labels(tags).size();
        if (labelCount > MAX_LABELS && problems.stream().noneMatch(p -> LABELS.equals(p.key()))) {
            problems.add(new TargetProblem(LABELS, labelCount + " labels with the tags written name=value, at most " + MAX_LABELS));
        }
        return new Generic(name, kind, host, port, interval, timeout, tags, problems);
    }

    /**
     * {@code ip_version = both}: the target is probed over IPv4 and over IPv6, as two targets named
     * {@code <name>/ipv4} and {@code <name>/ipv6}, each with the label {@code ip_version} (4 or 6).
     *
     * @since 1.3
     */
    public static final String BOTH = "both";

    /** The label of each of a dual-stack target's two halves. @since 1.3 */
    public static final String IP_VERSION_LABEL = "ip_version";

    /**
     * @param raw a target's keys as written
     * @return with {@code ip_version = both} and a name, the keys of its IPv4 and its IPv6 halves
     *         (name, {@code ip_version}, the {@code ip_version} label); else the keys as they are
     * @since 1.3
     */
    public static List<Map<String, Object>> dualStack(Map<String, ?> raw, String fallbackName) {
        Object v = raw == null ? null : raw.get(Target.IP_VERSION);
        String name = raw == null ? null : text(raw.get("name"));
        if (name == null || name.isBlank()) {
            name = fallbackName;
        }
        if (isAbsent(v) || !BOTH.equals(text(v).strip()) || name == null || name.isBlank()) {
            @SuppressWarnings("unchecked")
            Map<String, Object> same = (Map<String, Object>) raw;
            return java.util.Collections.singletonList(same);
        }
        List<Map<String, Object>> halves = new ArrayList<>(2);
        for (String family : List.of("4", "6")) {
            Map<String, Object> half = new java.util.LinkedHashMap<>(raw);
            half.put("name", name.strip() + "/ipv" + family);
            half.put(Target.IP_VERSION, family);
            Set<String> tags = new LinkedHashSet<>();
            for (String t : tags(raw.get("tags"))) {
                if (!t.startsWith(IP_VERSION_LABEL + "=")) {
                    tags.add(t);
                }
            }
            tags.add(IP_VERSION_LABEL + "=" + family);
            half.put("tags", new ArrayList<>(tags));
            Object labels = raw.get(LABELS); // an ip_version label of the target's own gives way to the half's
            if (labels instanceof Map<?, ?> m) {
                Map<Object, Object> kept = new java.util.LinkedHashMap<>(m);
                kept.remove(IP_VERSION_LABEL);
                half.put(LABELS, kept);
            } else if (labels instanceof String text) {
                List<String> kept = new ArrayList<>();
                for (String part : text.split(",")) {
                    int eq = part.indexOf('=');
                    if (eq < 0 || !part.substring(0, eq).strip().equals(IP_VERSION_LABEL)) {
                        kept.add(part);
                    }
                }
                half.put(LABELS, String.join(",", kept));
            }
            halves.add(half);
        }
        return halves;
    }

    /** The generic key of a target's labels, each kept as a tag {@code key=value}. @since 1.5 */
    public static final String LABELS = "labels";

    /** Most labels one target may carry. @since 1.5 */
    public static final int MAX_LABELS = 16;

    private static final java.util.regex.Pattern LABEL_NAME = java.util.regex.Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,63}");

    /**
     * Label names a target may not set: the ones the agent's metrics and the server's exports
     * set themselves, and Prometheus's own ({@code job}, {@code instance}, {@code __*}).
     *
     * @since 1.2
     */
    public static final Set<String> RESERVED_LABELS = Set.of("target", "kind", "agent", "agent_id", "le", "quantile", "reason",
            "state", "job", "instance");

    /**
     * @param name a label name as written
     * @return what is wrong with it as a target's label name, or null when nothing is
     * @since 1.2
     */
    public static String labelNameProblem(String name) {
        if (!LABEL_NAME.matcher(name).matches()) {
            return "'" + name + "' is not a label name (a letter or _, then letters, digits, _; at most 64)";
        }
        if (name.startsWith("__") || RESERVED_LABELS.contains(name)) {
            return "'" + name + "' is a label name Sonde or Prometheus sets itself (" + String.join(", ",
                    new java.util.TreeSet<>(RESERVED_LABELS)) + ", __*)";
        }
        return null;
    }

    /**
     * A target's labels: its tags written {@code name=value} (the {@value #LABELS} key keeps each
     * label so) whose name is a label name.
     *
     * @param tags a target's tags
     * @return the labels by name, in name order
     * @since 1.2
     */
    public static java.util.SortedMap<String, String> labels(Collection<String> tags) {
        java.util.TreeMap<String, String> labels = new java.util.TreeMap<>();
        for (String tag : tags) {
            int eq = tag.indexOf('=');
            if (eq > 0 && labelNameProblem(tag.substring(0, eq)) == null) {
                labels.put(tag.substring(0, eq), tag.substring(eq + 1));
            }
        }
        return labels;
    }

    /**
     * Reads {@value #LABELS}: an object of names and texts (from JSON), a map, or {@code a=1,b=2}
     * text (from a {@code .cfg} file); each label is added to {@code tags} as {@code name=value}.
     */
    private static void labels(Object raw, Set<String> tags, List<TargetProblem> problems) {
        Map<String, Object> pairs = new java.util.LinkedHashMap<>();
        if (raw instanceof Map<?, ?> m) {
            m.forEach((k, v) -> pairs.put(String.valueOf(k), v));
        } else if (raw instanceof String s) {
            for (String part : s.split(",")) {
                if (part.isBlank()) {
                    continue;
                }
                int eq = part.indexOf('=');
                if (eq < 0) {
                    problems.add(new TargetProblem(LABELS, "'" + part.strip() + "' is not name=value"));
                    return;
                }
                pairs.put(part.substring(0, eq).strip(), part.substring(eq + 1).strip());
            }
        } else {
            problems.add(new TargetProblem(LABELS, "must be an object of names and texts, or name=value,name=value"));
            return;
        }
        if (pairs.size() > MAX_LABELS) {
            problems.add(new TargetProblem(LABELS, pairs.size() + " labels, at most " + MAX_LABELS));
            return;
        }
        for (Map.Entry<String, Object> e : pairs.entrySet()) {
            String value = e.getValue() instanceof String || e.getValue() instanceof Number ? text(e.getValue()).strip() : null;
            String nameProblem = labelNameProblem(e.getKey());
            if (nameProblem != null) {
                problems.add(new TargetProblem(LABELS, nameProblem));
            } else if (value == null || value.isEmpty() || value.length() > 200
                    || !value.chars().allMatch(c -> c >= 0x20 && c != 0x7f && c != ',')) {
                problems.add(new TargetProblem(LABELS + "." + e.getKey(), "must be a text of 1-200 characters without ',' or control characters"));
            } else {
                tags.add(e.getKey() + "=" + value);
            }
        }
    }

    /** @return whether a value counts as not set: absent, or blank text */
    public static boolean isAbsent(Object value) {
        return value == null || (value instanceof String s && s.isBlank());
    }

    /**
     * Reads a whole number from text or a number.
     *
     * @param problems where a value that is no whole number is recorded, under {@code key}
     * @return the number, or {@code null} when it is none
     */
    public static Long whole(Object value, String key, List<TargetProblem> problems) {
        if (value instanceof Number n) {
            double d = n.doubleValue();
            if (d != Math.rint(d) || Double.isInfinite(d)) {
                problems.add(new TargetProblem(key, "'" + value + "' is not a whole number"));
                return null;
            }
            return n.longValue();
        }
        String s = String.valueOf(value).strip();
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            problems.add(new TargetProblem(key, "'" + s + "' is not a whole number"));
            return null;
        }
    }

    /** @return a value as text: whole numbers without a fraction, {@code null} for {@code null} */
    public static String text(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof String s) {
            return s;
        }
        if (value instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
            return Long.toString(n.longValue());
        }
        return String.valueOf(value);
    }

    /** @return tags from a comma-separated text, a collection or an array, stripped, blanks left out, in order */
    public static Set<String> tags(Object value) {
        Set<String> tags = new LinkedHashSet<>();
        if (value instanceof Collection<?> c) {
            c.forEach(v -> addTag(tags, String.valueOf(v)));
        } else if (value instanceof Object[] a) {
            for (Object v : a) {
                addTag(tags, String.valueOf(v));
            }
        } else if (value != null) {
            for (String part : String.valueOf(value).split(",")) {
                addTag(tags, part);
            }
        }
        return tags;
    }

    private static void addTag(Set<String> tags, String tag) {
        String t = tag.strip();
        if (!t.isEmpty()) {
            tags.add(t);
        }
    }
}
