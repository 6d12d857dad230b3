package io.sonde.server.spi;

import java.time.Instant;
import java.util.regex.Pattern;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;

/**
 * A named value of a stored result's details, as a number, for any kind: what series of a value
 * and alert rules on a value read. A name is a value of the kind's result schema, or
 * {@code name.entry} for an entry of a map value ({@code phases.handshake}).
 *
 * @since 1.7
 */
public final class ResultValues {

    /** What a value's name is: lower case, digits and _, and {@code .entry} for a map's. */
    public static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]{0,62}(\\.[A-Za-z0-9_-]{1,64})?");

    private ResultValues() {
    }

    /**
     * @return the number the value is: a number, a boolean as 1 or 0, an ISO-8601 time as Unix
     *         seconds, a list as its size; NaN when the result does not have it, it is text or it
     *         is not finite
     */
    public static double number(JsonObject details, String name) {
        if (details == null) {
            return Double.NaN;
        }
        int dot = name.indexOf('.');
        JsonElement e = details.get(dot < 0 ? name : name.substring(0, dot));
        if (dot >= 0) {
            e = e != null && e.isJsonObject() ? e.getAsJsonObject().get(name.substring(dot + 1)) : null;
        }
        if (e == null || e.isJsonNull()) {
            return Double.NaN;
        }
        if (e.isJsonArray()) {
            return e.getAsJsonArray().size();
        }
        if (!e.isJsonPrimitive()) {
            return Double.NaN;
        }
        JsonPrimitive p = e.getAsJsonPrimitive();
        if (p.isNumber()) {
            double d = p.getAsDouble();
            return Double.isFinite(d) ? d : Double.NaN; // 1e400 is no number anyone can chart or compare
        }
        if (p.isBoolean()) {
            return p.getAsBoolean() ? 1 : 0;
        }
        try {
            Instant t = Instant.parse(p.getAsString());
            return t.getEpochSecond() + t.getNano() / 1e9;
        } catch (java.time.format.DateTimeParseException ex) {
            return Double.NaN;
        }
    }
}
