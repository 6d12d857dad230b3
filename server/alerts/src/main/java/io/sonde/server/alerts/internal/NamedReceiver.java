package io.sonde.server.alerts.internal;

import java.util.ArrayList;
import java.util.List;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

/**
 * A receiver defined once on the server ({@code PUT /api/v1/receivers/{name}}) and named by alert
 * rules ({@code "notify": [{"receiver": "ops-slack"}]}): its channel, the channel's keys, and the
 * title and text templates of its messages.
 *
 * @param name    its name
 * @param channel its kind
 * @param config  the checked definition, defaults written, secrets included: what is stored
 * @param title   the title's template
 * @param text    the text's template
 */
record NamedReceiver(String name, Channel channel, JsonObject config, Template title, Template text) {

    static final int MAX_NAME = 100;

    /**
     * Checks a definition whole.
     *
     * @param previous the stored definition of that name, or null: a secret the body leaves out (or null) is kept from it
     * @throws WireException naming the key at fault
     */
    static NamedReceiver parse(String name, JsonObject body, JsonObject previous) throws WireException {
        if (name == null || name.isBlank() || name.length() > MAX_NAME || !name.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
            throw AlertRule.invalid("name: '" + WireCodec.abbreviate(String.valueOf(name))
                    + "' is not a receiver's name (1-100 letters, digits, '.', '_' and '-', a letter or digit first)");
        }
        JsonObject c = body.deepCopy();
        JsonElement n = c.remove("name");
        if (n != null && !n.isJsonNull() && !(n.isJsonPrimitive() && n.getAsString().equals(name))) {
            throw AlertRule.invalid("name: '" + WireCodec.abbreviate(n.toString()) + "' differs from the name in the path, '" + name + "'");
        }
        c.remove("secrets_set"); // as GET shows it: PUT back what was read
        JsonElement t = c.get("type");
        if (t == null || !t.isJsonPrimitive()) {
            throw AlertRule.invalid("type: missing (" + types() + ")");
        }
        Channel channel = Channel.of(t.getAsString());
        if (channel == null) {
            throw AlertRule.invalid("type: '" + WireCodec.abbreviate(t.getAsString()) + "' is not a receiver's type (" + types() + ")");
        }
        List<String> keys = new ArrayList<>(List.of("type", "title", "text"));
        keys.addAll(channel.keys());
        for (String k : c.keySet()) {
            if (!keys.contains(k)) {
                throw AlertRule.invalid(WireCodec.abbreviate(k) + ": not a key of a " + channel.type() + " receiver (" + String.join(", ", keys) + ")");
            }
        }
        if (previous != null && previous.has("type") && previous.get("type").getAsString().equals(channel.type())) {
            for (String secret : channel.secrets()) {
                if ((!c.has(secret) || c.get(secret).isJsonNull()) && previous.has(secret)) {
                    c.add(secret, previous.get(secret));
                }
            }
        }
        channel.check(c);
        Template title = Template.parse("title", ChannelKeys.string(c, "title", Message.TITLE, Template.MAX_LENGTH));
        Template text = Template.parse("text", c.has("text") && c.get("text").isJsonPrimitive() && c.get("text").getAsString().isEmpty() ? ""
                : ChannelKeys.stringWithLines(c, "text", Message.TEXT, Template.MAX_LENGTH));
        return new NamedReceiver(name, channel, c, title, text);
    }

    static String types() {
        return String.join(", ", Channel.ALL.stream().map(Channel::type).toList());
    }

    /** @return the definition as the API shows it: every secret left out, the names of those set listed in {@code secrets_set} */
    JsonObject shown() {
        JsonObject o = new JsonObject();
        o.addProperty("name", name);
        JsonArray set = new JsonArray();
        for (String k : config.keySet()) {
            if (channel.secrets().contains(k)) {
                set.add(k);
            } else {
                o.add(k, config.get(k));
            }
        }
        o.add("secrets_set", set);
        return o;
    }

    /** @return where it sends, never a secret */
    String where() {
        return "receiver '" + name + "' (" + channel.where(config) + ")";
    }
}
