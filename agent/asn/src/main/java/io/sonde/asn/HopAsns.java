package io.sonde.asn;

import java.net.InetAddress;
import java.util.Map;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;

/**
 * Adds AS numbers to the hops and paths of a result's details, by the shapes the probe contract
 * gives them, whatever the kind: a list of hops (objects with {@code ttl} and {@code address}) gets
 * {@code asn} and {@code as_name} on each hop whose address the table knows; a list of paths
 * (objects with {@code flows} and {@code hops}, addresses) gets {@code asns} beside each path's
 * {@code hops}, null where none is known. What a result already carries (its agent's own table) is
 * kept; only what it left unknown is filled.
 */
public final class HopAsns {

    /** An address literal's characters: IPv4 dotted, or IPv6 with at least one colon. */
    private static final java.util.regex.Pattern V4 = java.util.regex.Pattern.compile("[0-9.]+");
    private static final java.util.regex.Pattern V6 = java.util.regex.Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

    private HopAsns() {
    }

    /** @return whether the text can only be an address literal, so that resolving it asks no name service */
    static boolean literal(String text) {
        return !text.isEmpty() && (V4.matcher(text).matches() || V6.matcher(text).matches());
    }

    /** @return the details with AS numbers added, a copy; the details themselves when there is nothing to add */
    public static JsonObject annotate(JsonObject details, AsnLookup lookup) {
        if (details == null || lookup == null) {
            return details;
        }
        JsonObject out = null;
        for (Map.Entry<String, JsonElement> e : details.entrySet()) {
            if (!e.getValue().isJsonArray() || e.getValue().getAsJsonArray().isEmpty()) {
                continue;
            }
            JsonArray list = e.getValue().getAsJsonArray();
            JsonElement first = list.get(0);
            if (!first.isJsonObject()) {
                continue;
            }
            JsonObject f = first.getAsJsonObject();
            boolean hops = f.has("ttl") && f.has("address");
            boolean paths = f.has("flows") && f.has("hops");
            if (!hops && !paths) {
                continue;
            }
            JsonArray copy = list.deepCopy();
            for (JsonElement x : copy) {
                if (!x.isJsonObject()) {
                    continue;
                }
                JsonObject o = x.getAsJsonObject();
                if (hops && !o.has("asn")) {
                    Origin origin = origin(o.get("address"), lookup);
                    if (origin != null) {
                        o.addProperty("asn", origin.asn());
                        if (!origin.name().isEmpty()) {
                            o.addProperty("as_name", origin.name());
                        }
                    }
                } else if (paths && o.get("hops") != null && o.get("hops").isJsonArray()) {
                    JsonArray hopList = o.getAsJsonArray("hops");
                    JsonArray had = o.get("asns") != null && o.get("asns").isJsonArray() ? o.getAsJsonArray("asns") : null;
                    JsonArray asns = new JsonArray();
                    for (int i = 0; i < hopList.size(); i++) {
                        JsonElement known = had != null && i < had.size() ? had.get(i) : JsonNull.INSTANCE;
                        if (!known.isJsonNull()) {
                            asns.add(known); // the agent's own table said
                            continue;
                        }
                        Origin origin = origin(hopList.get(i), lookup);
                        asns.add(origin == null ? JsonNull.INSTANCE : new JsonPrimitive(origin.asn()));
                    }
                    o.add("asns", asns);
                }
            }
            if (out == null) {
                out = details.deepCopy();
            }
            out.add(e.getKey(), copy);
        }
        return out == null ? details : out;
    }

    /** @return the origin of an address given as JSON text (a literal, never a name to resolve), or null */
    public static Origin origin(JsonElement address, AsnLookup lookup) {
        if (address == null || !address.isJsonPrimitive()) {
            return null;
        }
        String text = address.getAsString();
        if (!literal(text)) {
            return null; // not a literal: never looked up in DNS
        }
        try {
            return lookup.lookup(InetAddress.getByName(text));
        } catch (java.net.UnknownHostException e) {
            return null;
        }
    }
}
