package io.sonde.server.alerts.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

/**
 * Slack, through an incoming webhook: a header with the title, the text as mrkdwn, the facts as
 * fields, a button to the target's page; {@code text} carries the title for notifications and
 * clients without blocks. Slack answers 200 {@code ok}. The webhook's URL holds its token: a secret.
 */
final class SlackChannel extends UrlChannel {

    SlackChannel() {
        super("slack", true);
    }

    /** @return text with Slack's three control characters escaped, as its mrkdwn requires */
    static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    static JsonObject text(String type, String text) {
        JsonObject o = new JsonObject();
        o.addProperty("type", type);
        o.addProperty("text", text);
        return o;
    }

    /** @return the webhook's document (Block Kit) */
    static JsonObject payload(Message m, String title, String text) {
        JsonObject o = new JsonObject();
        o.addProperty("text", ChannelKeys.cut(title, 3000));
        JsonArray blocks = new JsonArray();
        JsonObject header = new JsonObject();
        header.addProperty("type", "header");
        header.add("text", text("plain_text", ChannelKeys.cut(title, 150)));
        blocks.add(header);
        if (!text.isBlank()) {
            JsonObject section = new JsonObject();
            section.addProperty("type", "section");
            section.add("text", text("mrkdwn", ChannelKeys.cut(escape(text), 3000)));
            blocks.add(section);
        }
        JsonArray fields = new JsonArray();
        for (String[] f : facts(m)) {
            fields.add(text("mrkdwn", ChannelKeys.cut("*" + f[0] + "*\n" + escape(f[1]), 2000)));
        }
        JsonObject facts = new JsonObject();
        facts.addProperty("type", "section");
        facts.add("fields", fields);
        blocks.add(facts);
        if (!m.get("link").isEmpty()) {
            JsonObject button = new JsonObject();
            button.addProperty("type", "button");
            button.add("text", text("plain_text", "Open in Sonde"));
            button.addProperty("url", m.get("link"));
            JsonArray elements = new JsonArray();
            elements.add(button);
            JsonObject actions = new JsonObject();
            actions.addProperty("type", "actions");
            actions.add("elements", elements);
            blocks.add(actions);
        }
        o.add("blocks", blocks);
        return o;
    }

    /** @return the facts every channel shows beside the text: name and value, those with a value (at most 10, Slack's bound) */
    static List<String[]> facts(Message m) {
        List<String[]> out = new java.util.ArrayList<>();
        out.add(new String[] {"Status", m.get("status")});
        out.add(new String[] {"Severity", m.get("severity")});
        out.add(new String[] {m.get("target").isEmpty() ? "Agent" : "Target", m.get("subject")});
        out.add(new String[] {"Rule", m.get("rule") + " (" + m.get("type") + ")"});
        if (!m.measure().isEmpty()) {
            out.add(new String[] {"Value", m.measure()});
        }
        if (!m.get("since").isEmpty()) {
            out.add(new String[] {"Since", m.get("since")});
        }
        if (!m.get("ended").isEmpty()) {
            out.add(new String[] {"Resolved", m.get("ended")});
        }
        return out;
    }

    @Override
    public void send(JsonObject config, Message m, String title, String text, Transport transport) throws IOException, InterruptedException {
        ChannelKeys.expect2xx(transport.post(url(config), "application/json",
                payload(m, title, text).toString().getBytes(StandardCharsets.UTF_8)));
    }
}
