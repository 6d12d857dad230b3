package io.sonde.server.alerts.internal;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;

import io.sonde.server.spi.AgentSelector;
import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

// Over 500 lines: a record and its one parser, every rule type's keys and defaults checked whole in one place.
/**
 * An alert rule as the API takes it ({@code PUT /api/v1/alert-rules/{name}}), checked whole by
 * {@link #parse} and kept in its canonical form, every default written out.
 *
 * @param name       its name
 * @param type       what it watches
 * @param target     a target's name, or {@code *} (target types); null for agent types
 * @param targets    with {@code *}: the tags the targets (as defined on the server) must match, or null for all
 * @param agents     the vantage agents whose results count (target types), or the agents watched (agent types)
 * @param pending    how long the condition must hold before the alert fires ({@code for})
 * @param recoverFor how long the recovery must hold before it resolves
 * @param window     the results looked at in each evaluation: those of this last stretch of time
 * @param threshold  the rule's limit in its type's unit (loss %, latency ms, days, changes an hour, seconds)
 * @param recovery   the limit to come back under (over, for TLS) before it resolves: hysteresis
 * @param percentile the latency percentile compared (50, 90 or 99)
 * @param minVantage how many vantage agents must see the condition at once
 * @param repeat     how often its receivers are told again while it fires
 * @param severity   {@code info}, {@code warning} or {@code critical}
 * @param receivers  its receivers (the key notify)
 * @param value      a value rule's value: a name of the kind's results ({@code days_left}, or {@code phases.handshake}); else null
 * @param below      whether a value rule is bad below its threshold (else above)
 */
record AlertRule(String name, Type type, String target, AgentSelector targets, AgentSelector agents, Duration pending,
        Duration recoverFor, Duration window, double threshold, double recovery, int percentile, int minVantage, Duration repeat,
        String severity, List<Receiver> receivers, String value, boolean below) {

    /** What a rule watches, and in which unit its threshold is. */
    enum Type {
        TARGET_DOWN("target_down", null, "", true),
        LOSS("loss", 5.0, "%", true),
        LATENCY("latency", null, "ms", true),
        TLS_EXPIRY("tls_expiry", 14.0, "days", true),
        ROUTE_CHANGE("route_change", 3.0, "changes in an hour", true),
        NEW_AS("new_as", 0.0, "ASes the path did not cross an hour ago", true),
        VALUE("value", null, "the value's own unit", true),
        AGENT_OFFLINE("agent_offline", null, "", false),
        CONFIG_STALE("config_stale", null, "", false);

        final String id;
        final Double defaultThreshold; // null: none taken (down, offline, stale) or one required (latency)
        final String unit;
        final boolean aboutTargets;

        Type(String id, Double defaultThreshold, String unit, boolean aboutTargets) {
            this.id = id;
            this.defaultThreshold = defaultThreshold;
            this.unit = unit;
            this.aboutTargets = aboutTargets;
        }

        boolean takesThreshold() {
            return this == LOSS || this == LATENCY || this == TLS_EXPIRY || this == ROUTE_CHANGE || this == NEW_AS || this == VALUE;
        }

        static Type of(String id) {
            for (Type t : values()) {
                if (t.id.equals(id)) {
                    return t;
                }
            }
            return null;
        }
    }

    /**
     * Where notifications go.
     *
     * @param kind {@code webhook} (JSON, signed with HMAC-SHA256), {@code alertmanager} (its v2 API), or
     *             {@code receiver}: one defined on the server by name ({@link NamedReceiver})
     * @param url  its URL, or the name of a {@code receiver}
     * @param match the labels an alert's target must have for it to be told (values may be {@code *}
     *              patterns); empty: every alert of the rule
     */
    record Receiver(String kind, String url, Map<String, String> match) {

        Receiver {
            match = match == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(match));
        }

        Receiver(String kind, String url) {
            this(kind, url, Map.of());
        }

        /** @return whether an alert whose subject has these labels goes to it */
        boolean takes(Map<String, String> labels) {
            for (Map.Entry<String, String> e : match.entrySet()) {
                String v = labels.get(e.getKey());
                if (v == null || !io.sonde.server.spi.Glob.matches(e.getValue(), v)) {
                    return false;
                }
            }
            return true;
        }

        /** The kind of a receiver named, defined at /api/v1/receivers. */
        static final String NAMED = "receiver";

        /** @return whether it names a receiver defined on the server */
        boolean named() {
            return kind.equals(NAMED);
        }

        /** @return an inline webhook or Alertmanager as a receiver of the default templates */
        NamedReceiver inline() throws WireException {
            JsonObject c = new JsonObject();
            c.addProperty("type", kind);
            c.addProperty("url", url);
            return NamedReceiver.parse("inline", c, null);
        }

        /** @return the receiver as the outbox keeps it: {@code {"webhook": url}} */
        String key() {
            JsonObject o = new JsonObject();
            o.addProperty(kind, url);
            return o.toString();
        }

        /** @return where it is, for logs and metrics: scheme, host and port, never a path that may hold a secret */
        String where() {
            if (named()) {
                return "receiver '" + url + "'";
            }
            URI u = URI.create(url);
            return kind + " " + u.getScheme() + "://" + u.getHost() + (u.getPort() < 0 ? "" : ":" + u.getPort());
        }

        static Receiver fromKey(String key) {
            JsonObject o = com.google.gson.JsonParser.parseString(key).getAsJsonObject();
            String kind = o.keySet().iterator().next();
            return new Receiver(kind, o.get(kind).getAsString());
        }
    }

    static final int MAX_NAME = 200;
    static final int MAX_RECEIVERS = 10;
    static final List<String> KEYS = List.of("name", "type", "target", "targets", "agents", "for", "recover_for", "window", "threshold",
            "recovery", "percentile", "min_vantage", "repeat", "severity", "notify", "value", "below");

    static final Set<String> SEVERITIES = Set.of("info", "warning", "critical");
    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m|h|d)");

    static WireException invalid(String message) {
        return new WireException(WireException.Problem.INVALID, message);
    }

    /** @return a duration written as {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h} or {@code 1d} */
    static Duration duration(String key, String text) throws WireException {
        Matcher m = DURATION.matcher(text.strip());
        if (!m.matches()) {
            throw invalid(key + ": '" + WireCodec.abbreviate(text) + "' is not a duration (a whole number and ms, s, m, h or d: 30s, 5m)");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }

    /** @return a duration as {@link #duration} reads it, in its largest whole unit */
    static String text(Duration d) {
        long ms = d.toMillis();
        if (ms % 86_400_000L == 0 && ms > 0) {
            return ms / 86_400_000L + "d";
        }
        if (ms % 3_600_000L == 0 && ms > 0) {
            return ms / 3_600_000L + "h";
        }
        if (ms % 60_000L == 0 && ms > 0) {
            return ms / 60_000L + "m";
        }
        if (ms % 1000L == 0) {
            return ms / 1000L + "s";
        }
        return ms + "ms";
    }

    private static String string(JsonObject body, String key, String fallback) throws WireException {
        JsonElement e = body.get(key);
        if (e == null || e.isJsonNull()) {
            return fallback;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw invalid(key + ": " + WireCodec.abbreviate(e.toString()) + " is not a string");
        }
        return e.getAsString();
    }

    private static Double number(JsonObject body, String key) throws WireException {
        JsonElement e = body.get(key);
        if (e == null || e.isJsonNull()) {
            return null;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber()) {
            throw invalid(key + ": " + WireCodec.abbreviate(e.toString()) + " is not a number");
        }
        double v = e.getAsDouble();
        if (!Double.isFinite(v) || v < 0 || v > 1e9) {
            throw invalid(key + ": " + e + " is out of range (0 to 1e9)");
        }
        return v;
    }

    private static Duration duration(JsonObject body, String key, Duration fallback, Duration min, Duration max) throws WireException {
        String t = string(body, key, null);
        if (t == null) {
            return fallback;
        }
        Duration d = duration(key, t);
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw invalid(key + ": '" + t + "' is out of range (" + text(min) + " to " + text(max) + ")");
        }
        return d;
    }

    private static AgentSelector selector(JsonObject body, String key) throws WireException {
        String t = string(body, key, "*");
        try {
            return AgentSelector.parse(t);
        } catch (AgentSelector.ParseException e) {
            throw invalid(key + ": " + e.getMessage());
        }
    }

    /**
     * Checks a rule whole.
     *
     * @param name its name, from the path
     * @param body what was sent
     * @return the rule
     * @throws WireException naming the key at fault
     */
    static AlertRule parse(String name, JsonObject body) throws WireException {
        if (name == null || name.isBlank() || name.length() > MAX_NAME || name.contains("/")
                || !name.chars().allMatch(c -> c >= 0x20 && c != 0x7f)) {
            throw invalid("name: '" + WireCodec.abbreviate(String.valueOf(name)) + "' is not a name (1-200 characters, no '/', no control characters)");
        }
        for (String key : body.keySet()) {
            if (!KEYS.contains(key)) {
                throw invalid(WireCodec.abbreviate(key) + ": not a key of an alert rule (" + String.join(", ", KEYS) + ")");
            }
        }
        String inBody = string(body, "name", name);
        if (!inBody.equals(name)) {
            throw invalid("name: '" + WireCodec.abbreviate(inBody) + "' differs from the name in the path, '" + name + "'");
        }
        String typeText = string(body, "type", null);
        if (typeText == null) {
            throw invalid("type: missing (target_down, loss, latency, tls_expiry, route_change, new_as, value, agent_offline or config_stale)");
        }
        Type type = Type.of(typeText);
        if (type == null) {
            throw invalid("type: '" + WireCodec.abbreviate(typeText)
                    + "' is not a rule type (target_down, loss, latency, tls_expiry, route_change, new_as, value, agent_offline or config_stale)");
        }
        String target = string(body, "target", null);
        AgentSelector targets = null;
        if (type.aboutTargets) {
            if (target == null || target.isBlank() || target.length() > 256) {
                throw invalid("target: missing: a target's name, or * for every target (with 'targets', a selector of their tags)");
            }
            if (body.has("targets") && !body.get("targets").isJsonNull()) {
                if (!target.equals("*")) {
                    throw invalid("targets: a selector of tags goes with target '*' only, not with one target ('" + WireCodec.abbreviate(target) + "')");
                }
                targets = selector(body, "targets");
            }
        } else if (target != null || body.has("targets")) {
            throw invalid((target != null ? "target" : "targets") + ": a " + type.id + " rule is about agents (select them with 'agents'), not targets");
        }
        Double threshold = number(body, "threshold");
        Double recovery = number(body, "recovery");
        if (!type.takesThreshold() && (threshold != null || recovery != null)) {
            throw invalid((threshold != null ? "threshold" : "recovery") + ": a " + type.id + " rule has none");
        }
        if (type.takesThreshold() && threshold == null) {
            if (type.defaultThreshold == null) {
                throw invalid("threshold: missing: the " + type.id + " limit, in " + type.unit);
            }
            threshold = type.defaultThreshold;
        }
        if (type == Type.LOSS && threshold != null && threshold > 100) {
            throw invalid("threshold: " + threshold + " is not a share of packets (0 to 100 %)");
        }
        String value = null;
        boolean below = false;
        if (type == Type.VALUE) {
            value = string(body, "value", null);
            if (value == null || !io.sonde.server.spi.ResultValues.NAME.matcher(value).matches()) {
                throw invalid("value: " + (value == null ? "missing: the name of a value of the target's kind, as GET /api/v1/kinds lists"
                        + " them (days_left, or phases.handshake for an entry of a map)" : "'" + WireCodec.abbreviate(value)
                        + "' is not a value's name (lower case, digits and _, and .entry for a map's)"));
            }
            JsonElement b = body.get("below");
            if (b != null && !b.isJsonNull()) {
                if (!b.isJsonPrimitive() || !b.getAsJsonPrimitive().isBoolean()) {
                    throw invalid("below: not true or false (true: bad below the threshold; false, the default: above)");
                }
                below = b.getAsBoolean();
            }
        } else if (body.has("value") || body.has("below")) {
            throw invalid((body.has("value") ? "value" : "below") + ": only a value rule has one");
        }
        if (recovery == null) {
            recovery = threshold;
        }
        boolean lowIsBad = type == Type.TLS_EXPIRY || below;
        if (threshold != null && (lowIsBad ? recovery < threshold : recovery > threshold)) {
            throw invalid("recovery: " + recovery + " must be " + (lowIsBad ? "at or above" : "at or below") + " the threshold, "
                    + threshold + " (it is where the alert resolves)");
        }
        int percentile = 90;
        Double p = number(body, "percentile");
        if (p != null) {
            if (type != Type.LATENCY) {
                throw invalid("percentile: only a latency rule has one");
            }
            if (p != 50 && p != 90 && p != 99) {
                throw invalid("percentile: " + p + " is not 50, 90 or 99");
            }
            percentile = p.intValue();
        }
        int minVantage = 1;
        Double mv = number(body, "min_vantage");
        if (mv != null) {
            if (!type.aboutTargets) {
                throw invalid("min_vantage: a " + type.id + " rule has no vantage agents");
            }
            if (mv != Math.rint(mv) || mv < 1 || mv > 1000) {
                throw invalid("min_vantage: " + mv + " is not a number of agents (1 to 1000)");
            }
            minVantage = mv.intValue();
        }
        Duration pending = duration(body, "for", Duration.ofMinutes(1), Duration.ZERO, Duration.ofDays(7));
        Duration recoverFor = duration(body, "recover_for", pending, Duration.ZERO, Duration.ofDays(7));
        Duration window = duration(body, "window", Duration.ofSeconds(60), Duration.ofSeconds(2), Duration.ofHours(1));
        Duration repeat = duration(body, "repeat", Duration.ofHours(4), Duration.ofMinutes(1), Duration.ofDays(30));
        String severity = string(body, "severity", "warning").toLowerCase(Locale.ROOT);
        if (!SEVERITIES.contains(severity)) {
            throw invalid("severity: '" + WireCodec.abbreviate(severity) + "' is not info, warning or critical");
        }
        List<Receiver> notify = new ArrayList<>();
        JsonElement n = body.get("notify");
        if (n != null && !n.isJsonNull()) {
            if (!n.isJsonArray()) {
                throw invalid("notify: not a list of receivers ([{\"receiver\": name}, {\"webhook\": url} or {\"alertmanager\": url}, ...])");
            }
            JsonArray a = n.getAsJsonArray();
            if (a.size() > MAX_RECEIVERS) {
                throw invalid("notify: " + a.size() + " receivers, at most " + MAX_RECEIVERS);
            }
            for (int i = 0; i < a.size(); i++) {
                notify.add(receiver("notify[" + i + "]", a.get(i)));
            }
        }
        return new AlertRule(name, type, type.aboutTargets ? target : null, targets, selector(body, "agents"), pending, recoverFor, window,
                threshold == null ? Double.NaN : threshold, recovery == null ? Double.NaN : recovery, percentile, minVantage, repeat, severity,
                List.copyOf(notify), value, below);
    }

    private static Receiver receiver(String where, JsonElement e) throws WireException {
        Map<String, String> match = Map.of();
        if (e.isJsonObject() && e.getAsJsonObject().has("match") && e.getAsJsonObject().size() == 2) {
            JsonObject o = e.getAsJsonObject().deepCopy();
            match = match(where + ".match", o.remove("match"));
            e = o;
        }
        if (!e.isJsonObject() || e.getAsJsonObject().size() != 1) {
            throw invalid(where + ": not a receiver ({\"receiver\": name}, {\"webhook\": url} or {\"alertmanager\": url}, and optionally"
                    + " \"match\": {label: pattern})");
        }
        Receiver r = receiverOnly(where, e);
        return new Receiver(r.kind(), r.url(), match);
    }

    /** Most labels one receiver's {@code match} names. */
    static final int MAX_MATCH = 16;

    private static Map<String, String> match(String where, JsonElement m) throws WireException {
        if (!m.isJsonObject() || m.getAsJsonObject().isEmpty()) {
            throw invalid(where + ": an object of label names and patterns is needed ({\"team\": \"db\", \"site\": \"fra*\"})");
        }
        if (m.getAsJsonObject().size() > MAX_MATCH) {
            throw invalid(where + ": " + m.getAsJsonObject().size() + " labels, at most " + MAX_MATCH);
        }
        Map<String, String> out = new java.util.TreeMap<>();
        for (Map.Entry<String, JsonElement> x : m.getAsJsonObject().entrySet()) {
            String problem = io.sonde.agent.spi.TargetKeys.labelNameProblem(x.getKey());
            if (problem != null) { // a label no target can have would never match
                throw invalid(where + ": " + WireCodec.abbreviate(problem));
            }
            JsonElement v = x.getValue();
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString() || v.getAsString().isEmpty() || v.getAsString().length() > 200) {
                throw invalid(where + "." + x.getKey() + ": a pattern of 1-200 characters is needed (a value, or with * for any text)");
            }
            out.put(x.getKey(), v.getAsString());
        }
        return out;
    }

    private static Receiver receiverOnly(String where, JsonElement e) throws WireException {
        Map.Entry<String, JsonElement> only = e.getAsJsonObject().entrySet().iterator().next();
        String kind = only.getKey();
        if (kind.equals(Receiver.NAMED)) {
            JsonElement n = only.getValue();
            if (!n.isJsonPrimitive() || !n.getAsJsonPrimitive().isString() || n.getAsString().isBlank() || n.getAsString().length() > NamedReceiver.MAX_NAME) {
                throw invalid(where + ".receiver: not the name of a receiver defined at /api/v1/receivers");
            }
            return new Receiver(kind, n.getAsString().strip());
        }
        if (!kind.equals("webhook") && !kind.equals("alertmanager")) {
            throw invalid(where + ": '" + WireCodec.abbreviate(kind) + "' is not a receiver (receiver, webhook or alertmanager; Slack, Teams,"
                    + " PagerDuty, Opsgenie, Telegram, Discord and email are defined at /api/v1/receivers and named here with {\"receiver\": name})");
        }
        if (!only.getValue().isJsonPrimitive() || !only.getValue().getAsJsonPrimitive().isString()) {
            throw invalid(where + "." + kind + ": not a URL");
        }
        String url = only.getValue().getAsString().strip();
        URI u;
        try {
            u = new URI(url);
        } catch (java.net.URISyntaxException ex) {
            throw invalid(where + "." + kind + ": '" + WireCodec.abbreviate(url) + "' is not a URL: " + ex.getReason());
        }
        if (u.getScheme() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https")) || u.getHost() == null
                || url.length() > 2000) {
            throw invalid(where + "." + kind + ": '" + WireCodec.abbreviate(url) + "' is not an http(s) URL with a host");
        }
        return new Receiver(kind, url);
    }

    /** @return the rule in its canonical form, every default written out: what is stored and shown */
    JsonObject json() {
        JsonObject o = new JsonObject();
        o.addProperty("name", name);
        o.addProperty("type", type.id);
        if (target != null) {
            o.addProperty("target", target);
        }
        if (targets != null) {
            o.addProperty("targets", targets.toString());
        }
        o.addProperty("agents", agents.toString());
        o.addProperty("for", text(pending));
        o.addProperty("recover_for", text(recoverFor));
        if (type.aboutTargets) {
            o.addProperty("window", text(window));
        }
        if (type.takesThreshold()) {
            o.add("threshold", new JsonPrimitive(threshold));
            o.add("recovery", new JsonPrimitive(recovery));
        }
        if (type == Type.LATENCY) {
            o.addProperty("percentile", percentile);
        }
        if (type == Type.VALUE) {
            o.addProperty("value", value);
            o.addProperty("below", below);
        }
        if (type.aboutTargets) {
            o.addProperty("min_vantage", minVantage);
        }
        o.addProperty("repeat", text(repeat));
        o.addProperty("severity", severity);
        JsonArray n = new JsonArray();
        for (Receiver r : receivers) {
            JsonObject x = new JsonObject();
            x.addProperty(r.kind(), r.url());
            if (!r.match().isEmpty()) {
                JsonObject m = new JsonObject();
                r.match().forEach(m::addProperty);
                x.add("match", m);
            }
            n.add(x);
        }
        o.add("notify", n);
        return o;
    }
}
