package io.sonde.server.alerts.internal;

import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

/**
 * A silence: while it lasts, the alerts it matches tell no one (they are still evaluated and
 * shown). Its matchers compare the rule's name, the subject (target or agent) and the severity,
 * each exactly or with {@code *} for any run of characters; a key left out matches everything.
 *
 * @param id       its id
 * @param matchers key to pattern: {@code rule}, {@code subject}, {@code severity}
 * @param startsAt when it begins
 * @param endsAt   when it ends
 * @param comment  why, for people
 * @param createdAt when it was made
 */
record Silence(String id, Map<String, String> matchers, Instant startsAt, Instant endsAt, String comment, Instant createdAt) {

    static final java.util.List<String> MATCHER_KEYS = java.util.List.of("rule", "subject", "severity");

    boolean activeAt(Instant now) {
        return !now.isBefore(startsAt) && now.isBefore(endsAt);
    }

    boolean matches(String rule, String subject, String severity) {
        return match("rule", rule) && match("subject", subject) && match("severity", severity);
    }

    private boolean match(String key, String value) {
        String p = matchers.get(key);
        return p == null || io.sonde.server.spi.Glob.matches(p, value);
    }

    /** Checks a new silence as the API takes it: {@code matchers}, {@code ends_at} or {@code duration}, optional {@code starts_at}, {@code comment}. */
    static Silence parse(String id, JsonObject body, Instant now) throws WireException {
        for (String key : body.keySet()) {
            if (!java.util.List.of("matchers", "starts_at", "ends_at", "duration", "comment").contains(key)) {
                throw AlertRule.invalid(WireCodec.abbreviate(key) + ": not a key of a silence (matchers, starts_at, ends_at or duration, comment)");
            }
        }
        JsonElement m = body.get("matchers");
        if (m == null || !m.isJsonObject() || m.getAsJsonObject().size() == 0) {
            throw AlertRule.invalid("matchers: missing: an object of rule, subject and/or severity, each a value or a pattern with *");
        }
        Map<String, String> matchers = new TreeMap<>();
        for (Map.Entry<String, JsonElement> e : m.getAsJsonObject().entrySet()) {
            if (!MATCHER_KEYS.contains(e.getKey())) {
                throw AlertRule.invalid("matchers." + WireCodec.abbreviate(e.getKey()) + ": not a matcher (rule, subject, severity)");
            }
            if (!e.getValue().isJsonPrimitive() || !e.getValue().getAsJsonPrimitive().isString() || e.getValue().getAsString().isEmpty()
                    || e.getValue().getAsString().length() > 512) {
                throw AlertRule.invalid("matchers." + e.getKey() + ": not a value or pattern (1-512 characters)");
            }
            matchers.put(e.getKey(), e.getValue().getAsString());
        }
        Instant starts = instant(body, "starts_at", now);
        Instant ends;
        if (body.has("duration")) {
            if (body.has("ends_at")) {
                throw AlertRule.invalid("duration: give ends_at or duration, not both");
            }
            ends = starts.plus(AlertRule.duration("duration", text(body, "duration")));
        } else {
            ends = instant(body, "ends_at", null);
            if (ends == null) {
                throw AlertRule.invalid("ends_at: missing (or give a duration: 2h)");
            }
        }
        if (!ends.isAfter(starts)) {
            throw AlertRule.invalid("ends_at: " + ends + " is not after starts_at, " + starts);
        }
        if (ends.isAfter(now.plus(java.time.Duration.ofDays(366)))) {
            throw AlertRule.invalid("ends_at: " + ends + " is more than a year away");
        }
        String comment = body.has("comment") && !body.get("comment").isJsonNull() ? text(body, "comment") : "";
        if (comment.length() > 1000) {
            throw AlertRule.invalid("comment: longer than 1000 characters");
        }
        return new Silence(id, matchers, starts, ends, comment, now);
    }

    /** @return a text field's value, or an error naming it */
    private static String text(JsonObject body, String key) throws WireException {
        JsonElement e = body.get(key);
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw AlertRule.invalid(key + ": " + (e == null ? "missing" : WireCodec.abbreviate(e.toString()) + " is not a text"));
        }
        return e.getAsString();
    }

    private static Instant instant(JsonObject body, String key, Instant fallback) throws WireException {
        JsonElement e = body.get(key);
        if (e == null || e.isJsonNull()) {
            return fallback;
        }
        try {
            return Instant.parse(e.getAsString());
        } catch (RuntimeException ex) {
            throw AlertRule.invalid(key + ": '" + WireCodec.abbreviate(e.toString()) + "' is not a time (RFC 3339 in UTC: 2026-12-02T18:00:00Z)");
        }
    }

    JsonObject json() {
        JsonObject o = new JsonObject();
        o.addProperty("id", id);
        JsonObject m = new JsonObject();
        matchers.forEach(m::addProperty);
        o.add("matchers", m);
        o.addProperty("starts_at", startsAt.toString());
        o.addProperty("ends_at", endsAt.toString());
        o.addProperty("comment", comment);
        o.addProperty("created_at", createdAt.toString());
        return o;
    }

    static Silence fromJson(JsonObject o) {
        Map<String, String> m = new TreeMap<>();
        o.getAsJsonObject("matchers").entrySet().forEach(e -> m.put(e.getKey(), e.getValue().getAsString()));
        return new Silence(o.get("id").getAsString(), m, Instant.parse(o.get("starts_at").getAsString()),
                Instant.parse(o.get("ends_at").getAsString()), o.get("comment").getAsString(), Instant.parse(o.get("created_at").getAsString()));
    }
}
