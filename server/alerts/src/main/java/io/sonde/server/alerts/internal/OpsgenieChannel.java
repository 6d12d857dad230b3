package io.sonde.server.alerts.internal;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import io.sonde.wire.WireException;

/**
 * Opsgenie, through its Alert API: a firing alert creates one ({@code POST /v2/alerts}) with the
 * rule and subject as its {@code alias}, so that a reminder is counted on the open alert; a resolved
 * one closes it by that alias ({@code POST /v2/alerts/{alias}/close?identifierType=alias}). A test
 * creates and closes. Opsgenie answers 202. The API key (header {@code Authorization: GenieKey ...})
 * is a secret; {@code url} is {@code https://api.eu.opsgenie.com} for the EU instance.
 */
final class OpsgenieChannel implements Channel {

    static final String URL = "https://api.opsgenie.com";
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9-]{20,64}");

    @Override
    public String type() {
        return "opsgenie";
    }

    @Override
    public List<String> keys() {
        return List.of("api_key", "url");
    }

    @Override
    public Set<String> secrets() {
        return Set.of("api_key");
    }

    @Override
    public void check(JsonObject body) throws WireException {
        ChannelKeys.matching(body, "api_key", KEY, "an Opsgenie API key (20 to 64 letters, digits and -)");
        ChannelKeys.url(body, "url", URL);
    }

    @Override
    public String where(JsonObject config) {
        return "opsgenie " + ChannelKeys.host(URI.create(config.get("url").getAsString()));
    }

    /** @return Opsgenie's priority for Sonde's severity */
    static String priority(String severity) {
        return switch (severity) {
            case "critical" -> "P1";
            case "info" -> "P5";
            default -> "P3";
        };
    }

    static JsonObject create(Message m, String title, String text) {
        JsonObject o = new JsonObject();
        o.addProperty("message", ChannelKeys.cut(title, 130));
        o.addProperty("alias", m.dedupKey());
        o.addProperty("description", ChannelKeys.cut(text + (m.get("link").isEmpty() ? "" : "\n" + m.get("link")), 15000));
        o.addProperty("priority", priority(m.get("severity")));
        o.addProperty("source", "Sonde");
        o.addProperty("entity", ChannelKeys.cut(m.get("subject"), 512));
        JsonArray tags = new JsonArray();
        tags.add("sonde");
        tags.add(ChannelKeys.cut(m.get("type"), 50));
        tags.add(ChannelKeys.cut(m.get("severity"), 50));
        o.add("tags", tags);
        JsonObject details = new JsonObject();
        for (String[] f : SlackChannel.facts(m)) {
            details.addProperty(f[0].toLowerCase(java.util.Locale.ROOT), ChannelKeys.cut(f[1], 8000));
        }
        o.add("details", details);
        return o;
    }

    static JsonObject close(Message m, String title) {
        JsonObject o = new JsonObject();
        o.addProperty("source", "Sonde");
        o.addProperty("user", "Sonde");
        o.addProperty("note", ChannelKeys.cut(title, 25000));
        return o;
    }

    @Override
    public void send(JsonObject config, Message m, String title, String text, Transport transport) throws IOException, InterruptedException {
        String base = ChannelKeys.base(config.get("url").getAsString());
        String auth = "GenieKey " + config.get("api_key").getAsString();
        if (!m.resolved()) {
            ChannelKeys.expect2xx(transport.post(URI.create(base + "/v2/alerts"), "application/json",
                    create(m, title, text).toString().getBytes(StandardCharsets.UTF_8), "Authorization", auth));
        }
        if (m.resolved() || m.test()) {
            ChannelKeys.expect2xx(transport.post(URI.create(base + "/v2/alerts/" + URLEncoder.encode(m.dedupKey(), StandardCharsets.UTF_8)
                    .replace("+", "%20") + "/close?identifierType=alias"), "application/json",
                    close(m, title).toString().getBytes(StandardCharsets.UTF_8), "Authorization", auth));
        }
    }
}
