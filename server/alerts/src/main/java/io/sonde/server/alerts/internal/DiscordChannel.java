package io.sonde.server.alerts.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import io.sonde.wire.WireException;

/**
 * Discord, through a channel's webhook: the title as the content, one embed with the text, the
 * facts as fields, red while firing and green when resolved, linked to the target's page; no
 * mentions are parsed. Discord answers 204. The webhook's URL holds its token: a secret.
 */
final class DiscordChannel extends UrlChannel {

    DiscordChannel() {
        super("discord", true);
    }

    static final int RED = 0xD9363E;
    static final int GREEN = 0x2E8B57;
    static final int BLUE = 0x3273DC;

    @Override
    public List<String> keys() {
        return List.of("url", "username");
    }

    @Override
    public void check(JsonObject body) throws WireException {
        ChannelKeys.url(body, "url", null);
        ChannelKeys.string(body, "username", "Sonde", 80);
    }

    /** @return the webhook's document */
    static JsonObject payload(JsonObject config, Message m, String title, String text) {
        JsonObject embed = new JsonObject();
        embed.addProperty("title", ChannelKeys.cut(title, 256));
        if (!text.isBlank()) {
            embed.addProperty("description", ChannelKeys.cut(text, 4096));
        }
        if (!m.get("link").isEmpty()) {
            embed.addProperty("url", m.get("link"));
        }
        embed.addProperty("color", m.resolved() ? GREEN : m.test() ? BLUE : RED);
        embed.addProperty("timestamp", (m.resolved() && !m.get("ended").isEmpty() ? m.get("ended")
                : m.firedAt() != null ? m.firedAt().toString() : Instant.now().toString()));
        JsonArray fields = new JsonArray();
        for (String[] f : SlackChannel.facts(m)) {
            JsonObject field = new JsonObject();
            field.addProperty("name", f[0]);
            field.addProperty("value", ChannelKeys.cut(f[1].isEmpty() ? "-" : f[1], 1024));
            field.addProperty("inline", true);
            fields.add(field);
        }
        embed.add("fields", fields);
        JsonArray embeds = new JsonArray();
        embeds.add(embed);
        JsonObject o = new JsonObject();
        o.addProperty("username", config.has("username") ? config.get("username").getAsString() : "Sonde");
        o.addProperty("content", ChannelKeys.cut(title, 2000));
        o.add("embeds", embeds);
        JsonObject mentions = new JsonObject();
        mentions.add("parse", new JsonArray()); // a target's name with @everyone in it pings no one
        o.add("allowed_mentions", mentions);
        return o;
    }

    @Override
    public void send(JsonObject config, Message m, String title, String text, Transport transport) throws IOException, InterruptedException {
        ChannelKeys.expect2xx(transport.post(url(config), "application/json",
                payload(config, m, title, text).toString().getBytes(StandardCharsets.UTF_8)));
    }
}
