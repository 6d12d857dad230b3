package io.sonde.server.alerts.internal;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * One notification as the receivers' channels say it: the outbox's document (what {@link Notifier#payload}
 * made) read into named fields, the ones a receiver's templates may use.
 *
 * @param payload  the outbox's document, as a webhook gets it
 * @param delivery the outbox's id of the message (0 for a test or a refresh): the same on every try
 * @param fields   every field of {@link #FIELDS}, an absent one as an empty string
 * @param resolved whether it tells of an alert resolved (else firing, a reminder, or a test)
 * @param test     whether it is a test an administrator asked for (PagerDuty and Opsgenie get it resolved at once)
 * @param dedupKey the same for every message of one alert (rule and subject): what PagerDuty and Opsgenie match on
 * @param firedAt  when the alert fired, or null
 */
record Message(String payload, long delivery, Map<String, String> fields, boolean resolved, boolean test, String dedupKey, Instant firedAt) {

    /** The fields a template may name, documented in docs/alerts.md. */
    static final List<String> FIELDS = List.of("status", "rule", "type", "severity", "subject", "target", "agent", "summary", "detail",
            "value", "threshold", "unit", "since", "ended", "link", "server", "labels");

    /** A template's field of one label: {@code {{labels.site}}}. */
    static final String LABEL_FIELD = "labels.";

    /** @return whether a template may name the field: one of {@link #FIELDS}, or {@code labels.<a label name>} */
    static boolean isField(String name) {
        return FIELDS.contains(name) || name.startsWith(LABEL_FIELD) && io.sonde.agent.spi.TargetKeys.labelNameProblem(name.substring(LABEL_FIELD.length())) == null;
    }

    /** The longest dedup key PagerDuty keeps (255); Opsgenie's alias takes 512. */
    static final int MAX_KEY = 255;

    /** The default title: {@code [firing] web is down from 2 of 3 vantage agents}. */
    static final String TITLE = "[{{status}}] {{summary}}";
    /** The default text. */
    static final String TEXT = "{{summary}}\nRule {{rule}} ({{type}}), severity {{severity}}, since {{since}}\n{{detail}}\n{{link}}";

    /**
     * @param payload   the outbox's document
     * @param publicUrl the server's address as people reach it ({@code public_url}), or empty: then no link
     * @param delivery  the outbox's id of the message
     */
    static Message of(String payload, String publicUrl, long delivery) {
        JsonObject p = JsonParser.parseString(payload).getAsJsonObject();
        Map<String, String> f = new LinkedHashMap<>();
        for (String k : FIELDS) {
            f.put(k, "");
        }
        boolean test = p.has("test") && p.get("test").getAsBoolean();
        String status = text(p, "status");
        boolean resolved = status.equals("resolved");
        f.put("status", test ? "test" : p.has("repeat") && p.get("repeat").getAsBoolean() && !resolved ? "still firing" : status);
        f.put("rule", text(p, "rule"));
        f.put("type", text(p, "type"));
        f.put("severity", text(p, "severity"));
        String target = text(p, "target");
        String agent = text(p, "agent");
        f.put("target", target);
        f.put("agent", agent);
        String subject = target.isEmpty() ? agent : target;
        f.put("subject", subject);
        f.put("summary", text(p, "summary"));
        f.put("detail", text(p, "detail"));
        f.put("value", number(p, "value"));
        f.put("threshold", number(p, "threshold"));
        f.put("unit", text(p, "unit"));
        String fired = text(p, "fired_at");
        if (fired.isEmpty()) {
            fired = text(p, "starts_at");
        }
        f.put("since", fired);
        f.put("ended", text(p, "ends_at"));
        JsonElement labels = p.get("labels");
        if (labels != null && labels.isJsonObject()) {
            StringBuilder all = new StringBuilder();
            for (Map.Entry<String, JsonElement> e : new java.util.TreeMap<>(labels.getAsJsonObject().asMap()).entrySet()) {
                String v = e.getValue().isJsonPrimitive() ? e.getValue().getAsString() : "";
                f.put(LABEL_FIELD + e.getKey(), v);
                all.append(all.length() == 0 ? "" : ", ").append(e.getKey()).append('=').append(v);
            }
            f.put("labels", all.toString());
        }
        String base = publicUrl == null ? "" : publicUrl.strip();
        while (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        f.put("server", base);
        if (!base.isEmpty() && !subject.isEmpty()) {
            f.put("link", base + "/ui/#/" + (target.isEmpty() ? "agent/" : "target/") + URLEncoder.encode(subject, StandardCharsets.UTF_8)
                    .replace("+", "%20"));
        } else if (!base.isEmpty()) {
            f.put("link", base + "/ui/#/alerts");
        }
        String key = test ? "sonde/test/" + text(p, "test_id") : "sonde/" + f.get("rule") + "/" + subject;
        if (key.length() > MAX_KEY) {
            key = "sonde/" + java.util.HexFormat.of().formatHex(sha256(key));
        }
        return new Message(payload, delivery, Map.copyOf(f), resolved, test, key, fired.isEmpty() ? null : Instant.parse(fired));
    }

    private static byte[] sha256(String s) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    private static String text(JsonObject p, String key) {
        JsonElement e = p.get(key);
        return e == null || e.isJsonNull() ? "" : e.getAsString();
    }

    private static String number(JsonObject p, String key) {
        JsonElement e = p.get(key);
        if (e == null || e.isJsonNull()) {
            return "";
        }
        double v = e.getAsDouble();
        if (!Double.isFinite(v)) {
            return "";
        }
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v)
                : java.math.BigDecimal.valueOf(v).round(new java.math.MathContext(4)).stripTrailingZeros().toPlainString();
    }

    /** @return the field's value, empty when absent */
    String get(String field) {
        return fields.getOrDefault(field, "");
    }

    /** @return the value against the threshold in words ({@code 12.5 % (threshold 5 %)}), or empty when the rule has none */
    String measure() {
        if (get("threshold").isEmpty()) {
            return "";
        }
        String unit = get("unit").isEmpty() ? "" : " " + get("unit");
        return (get("value").isEmpty() ? "no value" : get("value") + unit) + " (threshold " + get("threshold") + unit + ")";
    }

    /** @return the document of a test message, sent by "send a test" straight to one receiver */
    static String test(String receiver, Instant now) {
        JsonObject o = new JsonObject();
        o.addProperty("version", 1);
        o.addProperty("test", true);
        o.addProperty("test_id", now.toEpochMilli() + "-" + Long.toHexString(new java.security.SecureRandom().nextLong()));
        o.addProperty("status", "firing");
        o.addProperty("repeat", false);
        o.addProperty("rule", "test");
        o.addProperty("type", "test");
        o.addProperty("severity", "info");
        o.addProperty("target", "test");
        o.addProperty("summary", "A test of receiver " + receiver + " from Sonde: nothing is wrong");
        o.addProperty("detail", "sent by an administrator with \"send a test\"");
        o.addProperty("fired_at", now.toString());
        o.addProperty("starts_at", now.toString());
        return o.toString();
    }
}
