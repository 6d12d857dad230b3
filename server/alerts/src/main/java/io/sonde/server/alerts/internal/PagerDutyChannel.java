package io.sonde.server.alerts.internal;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import io.sonde.wire.WireException;

/**
 * PagerDuty, through the Events API v2 ({@code POST /v2/enqueue}): a firing alert triggers, a
 * reminder triggers again (PagerDuty folds it into the open incident), a resolved one resolves,
 * all with the same {@code dedup_key} (rule and subject). A test triggers and resolves at once.
 * PagerDuty answers 202. The integration's routing key is a secret.
 */
final class PagerDutyChannel implements Channel {

    static final String URL = "https://events.pagerduty.com/v2/enqueue";
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9_+-]{20,64}");

    @Override
    public String type() {
        return "pagerduty";
    }

    @Override
    public List<String> keys() {
        return List.of("routing_key", "url");
    }

    @Override
    public Set<String> secrets() {
        return Set.of("routing_key");
    }

    @Override
    public void check(JsonObject body) throws WireException {
        ChannelKeys.matching(body, "routing_key", KEY, "an Events API v2 integration key (20 to 64 letters and digits)");
        ChannelKeys.url(body, "url", URL);
    }

    @Override
    public String where(JsonObject config) {
        return "pagerduty " + ChannelKeys.host(URI.create(config.get("url").getAsString()));
    }

    /** @return PagerDuty's severity for Sonde's */
    static String severity(String sonde) {
        return switch (sonde) {
            case "critical" -> "critical";
            case "info" -> "info";
            default -> "warning";
        };
    }

    /** @return the event: trigger or resolve */
    static JsonObject event(JsonObject config, Message m, String title, String text, boolean resolve) {
        JsonObject o = new JsonObject();
        o.addProperty("routing_key", config.get("routing_key").getAsString());
        o.addProperty("event_action", resolve ? "resolve" : "trigger");
        o.addProperty("dedup_key", m.dedupKey());
        if (!resolve) {
            JsonObject p = new JsonObject();
            p.addProperty("summary", ChannelKeys.cut(title, 1024));
            p.addProperty("source", m.get("subject").isEmpty() ? "sonde" : m.get("subject"));
            p.addProperty("severity", severity(m.get("severity")));
            p.addProperty("timestamp", (m.firedAt() != null ? m.firedAt() : Instant.now()).toString());
            p.addProperty("component", m.get("subject"));
            p.addProperty("group", m.get("rule"));
            p.addProperty("class", m.get("type"));
            JsonObject details = new JsonObject();
            details.addProperty("text", text);
            for (String[] f : SlackChannel.facts(m)) {
                details.addProperty(f[0].toLowerCase(java.util.Locale.ROOT), f[1]);
            }
            details.addProperty("detail", m.get("detail"));
            p.add("custom_details", details);
            o.add("payload", p);
            if (!m.get("link").isEmpty()) {
                JsonObject link = new JsonObject();
                link.addProperty("href", m.get("link"));
                link.addProperty("text", "Open in Sonde");
                JsonArray links = new JsonArray();
                links.add(link);
                o.add("links", links);
            }
            o.addProperty("client", "Sonde");
            if (!m.get("server").isEmpty()) {
                o.addProperty("client_url", m.get("server") + "/ui/#/alerts");
            }
        }
        return o;
    }

    @Override
    public void send(JsonObject config, Message m, String title, String text, Transport transport) throws IOException, InterruptedException {
        URI url = URI.create(config.get("url").getAsString());
        ChannelKeys.expect2xx(transport.post(url, "application/json",
                event(config, m, title, text, m.resolved()).toString().getBytes(StandardCharsets.UTF_8)));
        if (m.test()) {
            ChannelKeys.expect2xx(transport.post(url, "application/json", event(config, m, title, text, true).toString().getBytes(StandardCharsets.UTF_8)));
        }
    }
}
