package io.sonde.server.alerts.internal;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * An Alertmanager: the alert through its v2 API ({@code POST /api/v2/alerts}, a list of one), with
 * the rule as {@code alertname} and the target or agent as a label; Alertmanager routes, groups and
 * templates it. A firing alert is also sent again every minute (the evaluator's refresh), or the
 * Alertmanager would resolve it after its {@code resolve_timeout}.
 */
final class AlertmanagerChannel extends UrlChannel {

    AlertmanagerChannel() {
        super("alertmanager", false);
    }

    /** @return the alert as Alertmanager's v2 API takes it: a list of one */
    static JsonArray alerts(JsonObject payload) {
        JsonObject labels = new JsonObject();
        JsonElement own = payload.get("labels"); // the target's labels, so that Alertmanager routes by them; Sonde's own set after
        if (own != null && own.isJsonObject()) {
            own.getAsJsonObject().entrySet().forEach(e -> labels.add(e.getKey(), e.getValue()));
        }
        labels.addProperty("alertname", payload.get("rule").getAsString());
        labels.addProperty("sonde_rule_type", payload.get("type").getAsString());
        labels.addProperty("severity", payload.get("severity").getAsString());
        for (String k : new String[] {"target", "agent"}) {
            if (payload.has(k) && !payload.get(k).isJsonNull()) {
                labels.addProperty(k, payload.get(k).getAsString());
            }
        }
        JsonObject annotations = new JsonObject();
        annotations.addProperty("summary", payload.get("summary").getAsString());
        annotations.addProperty("description", payload.has("detail") && !payload.get("detail").isJsonNull() ? payload.get("detail").getAsString() : "");
        JsonObject alert = new JsonObject();
        alert.add("labels", labels);
        alert.add("annotations", annotations);
        if (payload.has("starts_at") && !payload.get("starts_at").isJsonNull()) {
            alert.addProperty("startsAt", payload.get("starts_at").getAsString());
        }
        if (payload.has("ends_at") && !payload.get("ends_at").isJsonNull()) {
            alert.addProperty("endsAt", payload.get("ends_at").getAsString());
        }
        if (payload.has("link") && !payload.get("link").isJsonNull()) {
            alert.addProperty("generatorURL", payload.get("link").getAsString());
        }
        JsonArray a = new JsonArray();
        a.add(alert);
        return a;
    }

    @Override
    public void send(JsonObject config, Message m, String title, String text, Transport transport) throws IOException, InterruptedException {
        JsonObject payload = JsonParser.parseString(m.payload()).getAsJsonObject();
        if (!m.get("link").isEmpty()) {
            payload.addProperty("link", m.get("link"));
        }
        ChannelKeys.expect2xx(transport.post(URI.create(ChannelKeys.base(config.get("url").getAsString()) + "/api/v2/alerts"), "application/json",
                alerts(payload).toString().getBytes(StandardCharsets.UTF_8)));
    }
}
