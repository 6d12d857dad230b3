package io.sonde.server.alerts.internal;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import io.sonde.wire.WireException;

/**
 * Telegram, through a bot ({@code POST /bot{token}/sendMessage}): the title in bold and the text,
 * as HTML (escaped), to one chat. Telegram answers 200 with {@code "ok": true}; anything else is a
 * failure, its {@code description} said. The bot token is a secret (it is in the URL's path: logs
 * show only the host).
 */
final class TelegramChannel implements Channel {

    static final String URL = "https://api.telegram.org";
    private static final Pattern TOKEN = Pattern.compile("[0-9]{1,20}:[A-Za-z0-9_-]{20,100}");
    private static final Pattern CHAT = Pattern.compile("-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{3,64}");

    @Override
    public String type() {
        return "telegram";
    }

    @Override
    public List<String> keys() {
        return List.of("bot_token", "chat_id", "url");
    }

    @Override
    public Set<String> secrets() {
        return Set.of("bot_token");
    }

    @Override
    public void check(JsonObject body) throws WireException {
        ChannelKeys.matching(body, "bot_token", TOKEN, "a bot token as BotFather gives it (digits, ':', then letters and digits)");
        if (body.has("chat_id") && body.get("chat_id").isJsonPrimitive() && body.get("chat_id").getAsJsonPrimitive().isNumber()) {
            body.addProperty("chat_id", body.get("chat_id").getAsJsonPrimitive().getAsBigDecimal().toPlainString());
        }
        String chat = ChannelKeys.string(body, "chat_id", null, 100);
        if (!CHAT.matcher(chat).matches()) {
            throw AlertRule.invalid("chat_id: '" + chat + "' is not a chat's id (a number, -100... for a group) or a channel's @name");
        }
        ChannelKeys.url(body, "url", URL);
    }

    @Override
    public String where(JsonObject config) {
        return "telegram " + ChannelKeys.host(URI.create(config.get("url").getAsString()));
    }

    /** @return escaped HTML cut to {@code max} characters, never inside an entity ({@code &amp;}) nor leaving {@code <b>} open */
    static String cut(String escaped, int max) {
        if (escaped.length() <= max) {
            return escaped;
        }
        String c = escaped.substring(0, max - 1);
        int amp = c.lastIndexOf('&');
        if (amp >= 0 && c.indexOf(';', amp) < 0) {
            c = c.substring(0, amp);
        }
        if (c.contains("<b>") && !c.contains("</b>")) {
            int open = c.indexOf("<b>");
            c = c.substring(0, open) + c.substring(open + 3); // the title alone was too long: plain then
        }
        return c + "…";
    }

    static JsonObject payload(JsonObject config, Message m, String title, String text) {
        JsonObject o = new JsonObject();
        String chat = config.get("chat_id").getAsString();
        if (chat.startsWith("@")) {
            o.addProperty("chat_id", chat);
        } else {
            o.addProperty("chat_id", Long.parseLong(chat));
        }
        String body = "<b>" + ChannelKeys.html(ChannelKeys.cut(title, 500)) + "</b>" + (text.isBlank() ? "" : "\n" + ChannelKeys.html(text));
        o.addProperty("text", cut(body, 4096));
        o.addProperty("parse_mode", "HTML");
        o.addProperty("disable_web_page_preview", true);
        return o;
    }

    @Override
    public void send(JsonObject config, Message m, String title, String text, Transport transport) throws IOException, InterruptedException {
        URI uri = URI.create(ChannelKeys.base(config.get("url").getAsString()) + "/bot" + config.get("bot_token").getAsString() + "/sendMessage");
        var response = ChannelKeys.expect2xx(transport.post(uri, "application/json",
                payload(config, m, title, text).toString().getBytes(StandardCharsets.UTF_8)));
        boolean ok;
        try {
            ok = JsonParser.parseString(response.body()).getAsJsonObject().get("ok").getAsBoolean();
        } catch (RuntimeException e) {
            throw new IOException("answered 200 without Telegram's {\"ok\": true}");
        }
        if (!ok) {
            throw new IOException("answered ok: false");
        }
    }
}
