package io.sonde.server.alerts.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;

/**
 * Microsoft Teams, through a Workflows webhook ("post to a channel when a webhook request is
 * received"): a message with one Adaptive Card (1.4) — the title, the text, the facts, a button to
 * the target's page. The workflow answers 202. Its URL holds its signature: a secret.
 */
final class TeamsChannel extends UrlChannel {

    TeamsChannel() {
        super("teams", true);
    }

    private static JsonObject block(String text, boolean title, String color) {
        JsonObject o = new JsonObject();
        o.addProperty("type", "TextBlock");
        o.addProperty("text", text);
        o.addProperty("wrap", true);
        if (title) {
            o.addProperty("weight", "Bolder");
            o.addProperty("size", "Medium");
        }
        if (color != null) {
            o.addProperty("color", color);
        }
        return o;
    }

    /** @return the workflow's document: a message with the card as its one attachment */
    static JsonObject payload(Message m, String title, String text) {
        JsonObject card = new JsonObject();
        card.addProperty("$schema", "http://adaptivecards.io/schemas/adaptive-card.json");
        card.addProperty("type", "AdaptiveCard");
        card.addProperty("version", "1.4");
        JsonArray body = new JsonArray();
        body.add(block(title, true, m.resolved() ? "Good" : m.test() ? "Accent" : "Attention"));
        if (!text.isBlank()) {
            body.add(block(text, false, null));
        }
        JsonArray facts = new JsonArray();
        for (String[] f : SlackChannel.facts(m)) {
            JsonObject fact = new JsonObject();
            fact.addProperty("title", f[0]);
            fact.addProperty("value", f[1]);
            facts.add(fact);
        }
        JsonObject set = new JsonObject();
        set.addProperty("type", "FactSet");
        set.add("facts", facts);
        body.add(set);
        card.add("body", body);
        if (!m.get("link").isEmpty()) {
            JsonObject open = new JsonObject();
            open.addProperty("type", "Action.OpenUrl");
            open.addProperty("title", "Open in Sonde");
            open.addProperty("url", m.get("link"));
            JsonArray actions = new JsonArray();
            actions.add(open);
            card.add("actions", actions);
        }
        JsonObject attachment = new JsonObject();
        attachment.addProperty("contentType", "application/vnd.microsoft.card.adaptive");
        attachment.add("contentUrl", JsonNull.INSTANCE);
        attachment.add("content", card);
        JsonArray attachments = new JsonArray();
        attachments.add(attachment);
        JsonObject o = new JsonObject();
        o.addProperty("type", "message");
        o.add("attachments", attachments);
        return o;
    }

    @Override
    public void send(JsonObject config, Message m, String title, String text, Transport transport) throws IOException, InterruptedException {
        ChannelKeys.expect2xx(transport.post(url(config), "application/json",
                payload(m, title, text).toString().getBytes(StandardCharsets.UTF_8)));
    }
}
