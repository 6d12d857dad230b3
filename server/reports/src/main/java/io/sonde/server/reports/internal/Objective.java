package io.sonde.server.reports.internal;

import java.util.List;
import java.util.Locale;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import io.sonde.server.spi.Glob;
import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

/**
 * A service level objective: the share of time a group of targets is to be available over a
 * rolling number of days ({@code 99.9} over 30). The group is the targets whose name matches
 * {@code targets} (a pattern, {@code *} any run of characters) and, where given, that carry
 * {@code tag} in their definition.
 *
 * @param name    its name
 * @param targets the pattern of the targets' names
 * @param tag     a tag the targets carry, or null
 * @param percent the availability to keep, above 0 and below 100
 * @param days    the rolling window, in days
 * @param comment what it is for, or ""
 * @param excludeMaintenance whether downtime inside maintenance windows is left out of its figures
 */
record Objective(String name, String targets, String tag, double percent, int days, String comment, boolean excludeMaintenance) {

    static final List<String> KEYS = List.of("name", "targets", "tag", "percent", "days", "comment", "exclude_maintenance");
    static final int MAX_NAME = 100;
    static final int MAX_DAYS = 400;

    /** Reads and checks an objective as PUT: each error names its key. */
    static Objective parse(String name, JsonObject body) throws WireException {
        if (name == null || name.isBlank() || name.length() > MAX_NAME || !name.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
            throw invalid("name: '" + WireCodec.abbreviate(String.valueOf(name))
                    + "' is not an objective's name (1-100 letters, digits, '.', '_' and '-', a letter or digit first)");
        }
        for (String key : body.keySet()) {
            if (!KEYS.contains(key)) {
                throw invalid(WireCodec.abbreviate(key) + ": not a key of an objective (" + String.join(", ", KEYS) + ")");
            }
        }
        JsonElement n = body.get("name");
        if (n != null && !n.isJsonNull() && !(n.isJsonPrimitive() && n.getAsString().equals(name))) {
            throw invalid("name: differs from the name in the path, '" + name + "'");
        }
        String targets = text(body, "targets", "*", 256);
        String tag = text(body, "tag", null, 100);
        String comment = text(body, "comment", "", 1000);
        JsonElement p = body.get("percent");
        if (p == null || p.isJsonNull()) {
            throw invalid("percent: missing: the availability to keep, as 99.9");
        }
        double percent;
        try {
            percent = p.getAsJsonPrimitive().isNumber() ? p.getAsDouble() : Double.NaN;
        } catch (RuntimeException e) {
            percent = Double.NaN;
        }
        if (!(percent > 0 && percent < 100)) {
            throw invalid("percent: '" + WireCodec.abbreviate(p.toString()) + "' is not a number above 0 and below 100 (99.9)");
        }
        int days = 30;
        JsonElement d = body.get("days");
        if (d != null && !d.isJsonNull()) {
            long v;
            try {
                v = d.getAsJsonPrimitive().isNumber() && d.getAsDouble() == Math.rint(d.getAsDouble()) ? d.getAsLong() : -1;
            } catch (RuntimeException e) {
                v = -1;
            }
            if (v < 1 || v > MAX_DAYS) {
                throw invalid("days: '" + WireCodec.abbreviate(d.toString()) + "' is not a whole number of days from 1 to " + MAX_DAYS);
            }
            days = (int) v;
        }
        JsonElement x = body.get("exclude_maintenance");
        if (x != null && !x.isJsonNull() && !(x.isJsonPrimitive() && x.getAsJsonPrimitive().isBoolean())) {
            throw invalid("exclude_maintenance: true or false, not " + WireCodec.abbreviate(x.toString()));
        }
        return new Objective(name, targets, tag, percent, days, comment, x != null && !x.isJsonNull() && x.getAsBoolean());
    }

    private static String text(JsonObject body, String key, String fallback, int max) throws WireException {
        JsonElement e = body.get(key);
        if (e == null || e.isJsonNull()) {
            return fallback;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw invalid(key + ": a string is needed, not " + WireCodec.abbreviate(e.toString()));
        }
        String s = e.getAsString().strip();
        if (s.length() > max) {
            throw invalid(key + ": longer than " + max + " characters");
        }
        if (s.isEmpty()) {
            if (fallback == null || !fallback.isEmpty()) {
                throw invalid(key + ": empty");
            }
        }
        for (char c : s.toCharArray()) {
            if (Character.isISOControl(c)) {
                throw invalid(key + ": holds a control character");
            }
        }
        return s;
    }

    static WireException invalid(String message) {
        return new WireException(WireException.Problem.INVALID, message);
    }

    /** @return whether the target is in the group */
    boolean covers(String target, List<String> targetTags) {
        return Glob.matches(targets, target) && (tag == null || targetTags.contains(tag));
    }

    /** @return the share of time down it allows, 0 to 1 */
    double allowedDown() {
        return (100 - percent) / 100;
    }

    /** @return it as stored and shown */
    JsonObject json() {
        JsonObject o = new JsonObject();
        o.addProperty("name", name);
        o.addProperty("targets", targets);
        if (tag != null) {
            o.addProperty("tag", tag);
        }
        o.addProperty("percent", percent);
        o.addProperty("days", days);
        o.addProperty("comment", comment);
        o.addProperty("exclude_maintenance", excludeMaintenance);
        return o;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s (%s%s: %s %% over %d days)", name, targets, tag == null ? "" : " tagged " + tag, percent, days);
    }
}
