package io.sonde.server.spi;

import java.util.Collection;
import java.util.Map;
import java.util.TreeMap;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import io.sonde.api.TargetSchema;
import io.sonde.wire.WireCodec;

/**
 * The probe kinds agents announce with their status, each with the options its targets take: the
 * server checks a target definition against the schema of its kind as the agents that run it know
 * it, so that a misspelt key is a 400 at {@code PUT}, not a refusal by every agent later.
 *
 * @since 1.5
 */
public final class AnnouncedKinds {

    /** Most kinds one agent announces. */
    public static final int MAX_KINDS = 200;

    private AnnouncedKinds() {
    }

    /**
     * @param kinds what a status carries: kind to schema
     * @return the kinds whose name and schema are good, at most {@link #MAX_KINDS}: one odd plugin
     *         leaves its kind unannounced, it does not cost the agent its status
     */
    public static JsonObject check(JsonObject kinds) {
        JsonObject out = new JsonObject();
        for (Map.Entry<String, JsonElement> e : kinds.entrySet()) {
            if (out.size() == MAX_KINDS) {
                break;
            }
            if (e.getKey().matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}") && schema(e.getValue()) != null) {
                out.add(e.getKey(), e.getValue());
            }
        }
        return out;
    }

    /** @return the schema, or null when the element is not one */
    static TargetSchema schema(JsonElement e) {
        if (e == null || !e.isJsonObject()) {
            return null;
        }
        try {
            return WireCodec.gson().fromJson(e, TargetSchema.class);
        } catch (RuntimeException ex) {
            return null;
        }
    }

    /**
     * @param announced each agent's announcement ({@link Store#announcedKinds}), as JSON text
     * @return each kind's schema as the agents announce it (where several differ, the one the most
     *         agents announce, so that a newer plugin on one agent does not decide alone)
     */
    public static Map<String, TargetSchema> merge(Collection<String> announced) {
        return vote(announced, kind -> {
            JsonObject options = kind.deepCopy();
            options.remove("results"); // the options alone: agents that differ only in their results' schema agree here
            return options;
        }, AnnouncedKinds::schema);
    }

    /**
     * @param announced each agent's announcement ({@link Store#announcedKinds}), as JSON text
     * @return each kind's result schema as the agents announce it (where several differ, the one
     *         the most agents announce); a kind whose agents announce no good schema is absent
     * @since 1.7
     */
    public static Map<String, io.sonde.api.ResultSchema> results(Collection<String> announced) {
        return vote(announced, kind -> kind.get("results"), AnnouncedKinds::resultSchema);
    }

    /**
     * Each kind's part of the announcements, read by {@code read}, by majority: the text most
     * agents announce wins; a part that does not read is no vote.
     */
    private static <T> Map<String, T> vote(Collection<String> announced, java.util.function.Function<JsonObject, JsonElement> part,
            java.util.function.Function<JsonElement, T> read) {
        Map<String, Map<String, Integer>> votes = new TreeMap<>();
        Map<String, T> parsed = new java.util.HashMap<>();
        for (String json : announced) {
            JsonObject kinds;
            try {
                kinds = JsonParser.parseString(json).getAsJsonObject();
            } catch (RuntimeException e) {
                continue;
            }
            for (Map.Entry<String, JsonElement> e : kinds.entrySet()) {
                JsonElement p = e.getValue().isJsonObject() ? part.apply(e.getValue().getAsJsonObject()) : null;
                T t = p == null ? null : read.apply(p);
                if (t != null) {
                    String text = p.toString();
                    votes.computeIfAbsent(e.getKey(), k -> new TreeMap<>()).merge(text, 1, Integer::sum);
                    parsed.putIfAbsent(e.getKey() + "\u0000" + text, t);
                }
            }
        }
        Map<String, T> out = new TreeMap<>();
        votes.forEach((kind, byText) -> {
            String best = byText.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
            out.put(kind, parsed.get(kind + "\u0000" + best));
        });
        return out;
    }

    /** @return the result schema, or null when the element is not a good one (its own checks refuse it) */
    static io.sonde.api.ResultSchema resultSchema(JsonElement e) {
        if (e == null || !e.isJsonObject()) {
            return null;
        }
        try {
            return WireCodec.gson().fromJson(e, io.sonde.api.ResultSchema.class);
        } catch (RuntimeException ex) {
            return null;
        }
    }

    /**
     * @param schema a kind's result schema, or null
     * @param role   a role
     * @return the name of the kind's first value with that role, or null
     * @since 1.7
     */
    public static String valueWith(io.sonde.api.ResultSchema schema, io.sonde.api.ResultSchema.Role role) {
        return schema == null ? null : schema.withRole(role).map(io.sonde.api.ResultSchema.Value::name).orElse(null);
    }
}
