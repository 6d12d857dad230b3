package io.sonde.core.internal;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

import io.sonde.api.Target;

/**
 * Turns one raw configuration entry (a ConfigAdmin dictionary or one entry of a targets file) into
 * a {@link Target}, or into the list of what is wrong with it. Pure but for the host check it is
 * given, which may ask the name service.
 */
final class TargetValidator {

    /** Kinds that ship with Sonde, valid even while their plugin is not installed. */
    static final Set<String> BUILT_IN_KINDS = Set.of("icmp", "traceroute", "tcp", "udp", "http", "dns");

    /** Names from the Latency Probe's configuration, accepted as aliases. */
    static final Map<String, String> KIND_ALIASES = Map.of("tcpconnect", "tcp", "echo", "udp");

    static final long MIN_INTERVAL_MS = 10;
    static final long MAX_INTERVAL_MS = Duration.ofDays(1).toMillis();

    /** Restricts a target to IPv4 ({@code 4}) or IPv6 ({@code 6}); any by default. */
    static final String IP_VERSION = "ip_version";

    private static final Set<String> GENERIC_KEYS =
            Set.of("name", "kind", "host", "port", "interval_ms", "timeout_ms", "tags");

    /** Interval and timeout of targets that set none. */
    record Defaults(Duration interval, Duration timeout) {
    }

    /** The outcome: a target, or the problems that prevent one. */
    record Outcome(Target target, List<ConfigProblem> problems) {
        boolean ok() {
            return target != null;
        }
    }

    private TargetValidator() {
    }

    /**
     * @param raw         the entry's keys and values; values are strings, numbers or lists
     * @param fallbackName name to use when the entry has none (from a file name), or {@code null}
     * @param defaults    interval and timeout for targets that set none
     * @param source      where the entry comes from, for messages
     * @param origin      the file the target comes from, as {@link Target#source()} holds it
     * @param kindKnown   tells whether a kind that is not built in has a prober installed
     * @param hostCheck   whether the host of a built-in kind has an address (of the family asked for)
     */
    static Outcome validate(Map<String, ?> raw, String fallbackName, Defaults defaults, String source, String origin,
            Predicate<String> kindKnown, HostNames.Check hostCheck) {
        List<ConfigProblem> problems = new ArrayList<>();

        String name = text(raw.get("name"));
        if (name == null || name.isBlank()) {
            name = fallbackName;
        }
        if (name == null || name.isBlank()) {
            problems.add(new ConfigProblem(source, "name", "missing; every target needs a unique name"));
        } else {
            name = name.strip();
            if (!name.chars().allMatch(c -> c >= 0x20 && c != 0x7f)) {
                problems.add(new ConfigProblem(source, "name", "contains control characters"));
            }
        }

        String kind = text(raw.get("kind"));
        if (kind == null || kind.isBlank()) {
            problems.add(new ConfigProblem(source, "kind",
                    "missing; one of " + String.join(", ", sorted(BUILT_IN_KINDS)) + " or a plugin's type"));
            kind = null;
        } else {
            kind = kind.strip().toLowerCase(Locale.ROOT);
            kind = KIND_ALIASES.getOrDefault(kind, kind);
            if (!BUILT_IN_KINDS.contains(kind) && !kindKnown.test(kind)) {
                problems.add(new ConfigProblem(source, "kind", "unknown kind '" + kind + "': not one of "
                        + String.join(", ", sorted(BUILT_IN_KINDS))
                        + " and no installed plugin registers probe.type=" + kind));
                kind = null;
            }
        }

        String host = text(raw.get("host"));
        if (host == null || host.isBlank()) {
            problems.add(new ConfigProblem(source, "host", "missing"));
            host = null;
        } else {
            host = host.strip();
            String hostProblem = "http".equals(kind) ? checkUrl(host) : checkHost(host);
            if (hostProblem != null) {
                problems.add(new ConfigProblem(source, "host", hostProblem));
            } else if (!"http".equals(kind) && host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
        }

        int port = 0;
        Object rawPort = raw.get("port");
        boolean portRequired = "tcp".equals(kind) || "udp".equals(kind);
        if (isAbsent(rawPort)) {
            if (portRequired) {
                problems.add(new ConfigProblem(source, "port", "missing; " + kind + " targets need a port (1-65535)"));
            }
        } else {
            Long p = whole(rawPort, "port", source, problems);
            if (p != null) {
                if (p < 1 || p > 65535) {
                    problems.add(new ConfigProblem(source, "port", p + " is not a port number (1-65535)"));
                } else {
                    port = p.intValue();
                }
            }
        }

        Duration interval = defaults.interval();
        Object rawInterval = raw.get("interval_ms");
        if (!isAbsent(rawInterval)) {
            Long ms = whole(rawInterval, "interval_ms", source, problems);
            if (ms != null) {
                if (ms < MIN_INTERVAL_MS || ms > MAX_INTERVAL_MS) {
                    problems.add(new ConfigProblem(source, "interval_ms",
                            ms + " is out of range (" + MIN_INTERVAL_MS + "-" + MAX_INTERVAL_MS + ")"));
                } else {
                    interval = Duration.ofMillis(ms);
                }
            }
        }

        Duration timeout = defaults.timeout().compareTo(interval) > 0 ? interval : defaults.timeout();
        Object rawTimeout = raw.get("timeout_ms");
        if (!isAbsent(rawTimeout)) {
            Long ms = whole(rawTimeout, "timeout_ms", source, problems);
            if (ms != null) {
                if (ms < 1) {
                    problems.add(new ConfigProblem(source, "timeout_ms", ms + " must be at least 1"));
                } else if (ms > interval.toMillis()) {
                    problems.add(new ConfigProblem(source, "timeout_ms", ms
                            + " exceeds the interval (" + interval.toMillis() + " ms); a probe must end before the next one starts"));
                } else {
                    timeout = Duration.ofMillis(ms);
                }
            }
        }

        Set<String> tags = tags(raw.get("tags"));

        if ("icmp".equals(kind)) {
            Long count = optionalWhole(raw, "count", 1, 1000, source, problems);
            Long spacing = optionalWhole(raw, "packet_interval_ms", 1, 60_000, source, problems);
            long c = count == null ? 3 : count;
            long s = spacing == null ? 100 : spacing;
            if ((c - 1) * s >= timeout.toMillis() && problems.isEmpty()) {
                problems.add(new ConfigProblem(source, "count", c + " requests " + s
                        + " ms apart do not fit in the timeout of " + timeout.toMillis() + " ms, which bounds the round"));
            }
        } else if ("udp".equals(kind)) {
            optionalWhole(raw, "size", 24, 65_000, source, problems);
        } else if ("http".equals(kind)) {
            checkHttp(raw, source, problems);
        } else if ("dns".equals(kind)) {
            // the DNS plugin checks its other keys (query_type, expect_rcode, ...) when it probes
            if (isAbsent(raw.get("query")) || text(raw.get("query")).isBlank()) {
                problems.add(new ConfigProblem(source, "query", "missing; dns targets need the name to look up"));
            }
        } else if ("traceroute".equals(kind)) {
            optionalWhole(raw, "max_hops", 1, 255, source, problems);
            optionalWhole(raw, "queries", 1, 10, source, problems);
            optionalWhole(raw, "hop_timeout_ms", 1, 60_000, source, problems);
        }

        int ipVersion = 0;
        Object rawVersion = raw.get(IP_VERSION);
        if (!isAbsent(rawVersion)) {
            String v = text(rawVersion).strip();
            if (v.equals("4") || v.equals("6")) {
                ipVersion = Integer.parseInt(v);
            } else {
                problems.add(new ConfigProblem(source, IP_VERSION, "'" + v + "' is neither 4 nor 6"));
            }
        }
        // ask the name service last, and only about an entry that is otherwise good
        if (problems.isEmpty() && BUILT_IN_KINDS.contains(kind)) {
            String address = "http".equals(kind) ? urlHost(host) : host;
            String hostProblem = hostCheck.problem(address, ipVersion);
            if (hostProblem != null) {
                problems.add(new ConfigProblem(source, "host", hostProblem));
            }
        }

        Map<String, String> options = new LinkedHashMap<>();
        for (Map.Entry<String, ?> e : raw.entrySet()) {
            String key = e.getKey();
            if (GENERIC_KEYS.contains(key) || isFrameworkKey(key) || e.getValue() == null) {
                continue;
            }
            String value = String.valueOf(e.getValue()).strip();
            options.put(key, value.length() <= 8 ? value.intern() : value); // "3", "100", "reset": shared
        }

        if (!problems.isEmpty()) {
            return new Outcome(null, List.copyOf(problems));
        }
        return new Outcome(new Target(name, kind, host, port, interval, timeout, tags, options, origin), List.of());
    }

    /** The keys of {@code kind=http}: method, expected status, body pattern, trust and redirects. */
    private static void checkHttp(Map<String, ?> raw, String source, List<ConfigProblem> problems) {
        String method = text(raw.get("method"));
        if (!isAbsent(method) && !Set.of("GET", "HEAD").contains(method.strip().toUpperCase(Locale.ROOT))) {
            problems.add(new ConfigProblem(source, "method", "'" + method.strip() + "' is not GET or HEAD"));
        }
        String expect = text(raw.get("expect_status"));
        if (!isAbsent(expect)) {
            for (String part : expect.split(",")) {
                String p = part.strip().toLowerCase(Locale.ROOT);
                if (!p.matches("[1-5]xx|[1-5]\\d\\d|[1-5]\\d\\d\\s*-\\s*[1-5]\\d\\d")) {
                    problems.add(new ConfigProblem(source, "expect_status", "'" + part.strip()
                            + "' is not a status code (200), a class (2xx) or a range (200-204)"));
                    break;
                }
            }
        }
        String regex = text(raw.get("body_regex"));
        if (!isAbsent(regex)) {
            try {
                java.util.regex.Pattern.compile(regex.strip());
            } catch (java.util.regex.PatternSyntaxException e) {
                problems.add(new ConfigProblem(source, "body_regex", "is not a regular expression: "
                        + e.getDescription() + " near index " + e.getIndex()));
            }
        }
        for (String key : List.of("follow_redirects", "insecure_skip_verify")) {
            String v = text(raw.get(key));
            if (!isAbsent(v) && !v.strip().equalsIgnoreCase("true") && !v.strip().equalsIgnoreCase("false")) {
                problems.add(new ConfigProblem(source, key, "'" + v.strip() + "' is neither true nor false"));
            }
        }
        String ca = text(raw.get("ca_file"));
        if (!isAbsent(ca) && !java.nio.file.Files.isReadable(java.nio.file.Path.of(ca.strip()))) {
            problems.add(new ConfigProblem(source, "ca_file", "'" + ca.strip() + "' is not a readable file"));
        }
    }

    /** A kind-specific whole number in {@code min..max}, or null if absent or wrong (then a problem is recorded). */
    private static Long optionalWhole(Map<String, ?> raw, String key, long min, long max, String source,
            List<ConfigProblem> problems) {
        Object v = raw.get(key);
        if (isAbsent(v)) {
            return null;
        }
        Long n = whole(v, key, source, problems);
        if (n != null && (n < min || n > max)) {
            problems.add(new ConfigProblem(source, key, n + " is out of range (" + min + "-" + max + ")"));
            return null;
        }
        return n;
    }

    /** Keys that ConfigAdmin, FileInstall or DS add to every configuration. */
    static boolean isFrameworkKey(String key) {
        return key.startsWith("service.") || key.startsWith("felix.") || key.startsWith("component.");
    }

    private static String checkHost(String host) {
        if (host.contains("://")) {
            return "'" + host + "' looks like a URL; give a host name or address";
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (Character.isWhitespace(c) || c == '/' || c == '?' || c == '#' || c == '@') {
                return "'" + host + "' is not a host name or address";
            }
        }
        return null;
    }

    private static String checkUrl(String url) {
        try {
            URI uri = new URI(url);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https")) {
                return "'" + url + "' is not an http:// or https:// URL";
            }
            if (uri.getHost() == null || uri.getHost().isEmpty()) {
                return "'" + url + "' has no host";
            }
            return null;
        } catch (URISyntaxException e) {
            return "'" + url + "' is not a URL: " + e.getReason();
        }
    }

    /** The host of a URL that {@link #checkUrl} accepted, without IPv6 brackets. */
    private static String urlHost(String url) {
        String h = URI.create(url).getHost();
        return h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
    }

    private static boolean isAbsent(Object value) {
        return value == null || (value instanceof String s && s.isBlank());
    }

    /** Parses a whole number from a string or number; records a problem and returns null otherwise. */
    static Long whole(Object value, String key, String source, List<ConfigProblem> problems) {
        if (value instanceof Number n) {
            double d = n.doubleValue();
            if (d != Math.rint(d) || Double.isInfinite(d)) {
                problems.add(new ConfigProblem(source, key, "'" + value + "' is not a whole number"));
                return null;
            }
            return n.longValue();
        }
        String s = String.valueOf(value).strip();
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            problems.add(new ConfigProblem(source, key, "'" + s + "' is not a whole number"));
            return null;
        }
    }

    static String text(Object value) {
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

    /** Tags from a comma-separated string, a collection or an array. */
    static Set<String> tags(Object value) {
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

    private static List<String> sorted(Collection<String> c) {
        return c.stream().sorted().toList();
    }
}
