package io.sonde.server.alerts.internal;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import io.sonde.server.spi.AlertState;

/**
 * Delivers one notification: to a webhook as the Sonde document, signed with HMAC-SHA256 so that
 * the receiver can tell it came from this server; to an Alertmanager as one alert through its v2
 * API ({@code POST /api/v2/alerts}). Delivered means answered 2xx.
 */
final class Notifier {

    /** The header with the signature: {@code sha256=} and the hex HMAC of {@code timestamp + "." + body}. */
    static final String SIGNATURE = "X-Sonde-Signature";
    /** The header with the signing time, seconds since the epoch: a receiver refuses old ones (replays). */
    static final String TIMESTAMP = "X-Sonde-Timestamp";
    /** The header with the delivery's id: the same on a retry, so a receiver can drop a duplicate. */
    static final String DELIVERY = "X-Sonde-Delivery";
    static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final HttpClient client;
    private final byte[] key;

    Notifier(byte[] key) {
        this.key = key.clone();
        this.client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).followRedirects(HttpClient.Redirect.NEVER).build();
    }

    /** @return the document that tells of an alert, as a webhook gets it and as the outbox keeps it */
    static JsonObject payload(AlertRule rule, AlertState s, StateMachine.Event event, String summary) {
        JsonObject o = new JsonObject();
        o.addProperty("version", 1);
        boolean resolved = event == StateMachine.Event.RESOLVED;
        o.addProperty("status", resolved ? "resolved" : "firing");
        o.addProperty("repeat", event == StateMachine.Event.REPEAT);
        o.addProperty("rule", rule.name());
        o.addProperty("type", rule.type().id);
        o.addProperty("severity", rule.severity());
        o.addProperty(rule.type().aboutTargets ? "target" : "agent", s.subject());
        o.addProperty("value", Double.isFinite(s.value()) ? s.value() : null);
        o.addProperty("summary", summary);
        o.addProperty("detail", s.detail());
        Instant started = resolved ? null : s.firedAt();
        o.addProperty("starts_at", started == null ? null : started.toString());
        o.addProperty("ends_at", resolved ? s.resolvedAt().toString() : null);
        return o;
    }

    /** @return the HMAC-SHA256 signature header's value for a body signed at {@code timestamp} */
    static String sign(byte[] key, long timestamp, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update((timestamp + ".").getBytes(StandardCharsets.US_ASCII));
            return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    /** @return the alert as Alertmanager's v2 API takes it: a list of one */
    static JsonArray alertmanager(JsonObject payload) {
        JsonObject labels = new JsonObject();
        labels.addProperty("alertname", payload.get("rule").getAsString());
        labels.addProperty("sonde_rule_type", payload.get("type").getAsString());
        labels.addProperty("severity", payload.get("severity").getAsString());
        for (String k : new String[] {"target", "agent"}) {
            if (payload.has(k)) {
                labels.addProperty(k, payload.get(k).getAsString());
            }
        }
        JsonObject annotations = new JsonObject();
        annotations.addProperty("summary", payload.get("summary").getAsString());
        annotations.addProperty("description", payload.get("detail").getAsString());
        JsonObject alert = new JsonObject();
        alert.add("labels", labels);
        alert.add("annotations", annotations);
        JsonElement starts = payload.get("starts_at");
        if (starts != null && !starts.isJsonNull()) {
            alert.addProperty("startsAt", starts.getAsString());
        }
        JsonElement ends = payload.get("ends_at");
        if (ends != null && !ends.isJsonNull()) {
            alert.addProperty("endsAt", ends.getAsString());
        }
        JsonArray a = new JsonArray();
        a.add(alert);
        return a;
    }

    /**
     * Sends a notification.
     *
     * @throws IOException saying why it was not delivered
     */
    void send(AlertRule.Receiver receiver, long delivery, String payload) throws IOException, InterruptedException {
        byte[] body;
        HttpRequest.Builder b;
        if (receiver.kind().equals("alertmanager")) {
            String base = receiver.url().endsWith("/") ? receiver.url().substring(0, receiver.url().length() - 1) : receiver.url();
            body = alertmanager(JsonParser.parseString(payload).getAsJsonObject()).toString().getBytes(StandardCharsets.UTF_8);
            b = HttpRequest.newBuilder(URI.create(base + "/api/v2/alerts"));
        } else {
            body = payload.getBytes(StandardCharsets.UTF_8);
            long ts = Instant.now().getEpochSecond();
            b = HttpRequest.newBuilder(URI.create(receiver.url())).header(TIMESTAMP, Long.toString(ts)).header(SIGNATURE, sign(key, ts, body))
                    .header(DELIVERY, Long.toString(delivery));
        }
        HttpRequest request = b.timeout(TIMEOUT).header("Content-Type", "application/json").header("User-Agent", "sonde-server")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 != 2) {
            String text = response.body() == null ? "" : response.body().strip();
            throw new IOException("answered " + response.statusCode() + (text.isEmpty() ? "" : ": " + (text.length() > 200 ? text.substring(0, 200) : text)));
        }
    }
}
