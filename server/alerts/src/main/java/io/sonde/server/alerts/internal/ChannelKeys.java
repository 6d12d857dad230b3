package io.sonde.server.alerts.internal;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpResponse;
import java.util.regex.Pattern;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;

import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

/** What the channels share: checking a definition's keys, and reading a receiver's answer. */
final class ChannelKeys {

    private ChannelKeys() {
    }

    /**
     * @return the key's string, stripped, written back into {@code body}; {@code fallback} (written too) when absent
     * @throws WireException when it is not a string, is empty, has control characters or is longer than {@code max}
     */
    static String string(JsonObject body, String key, String fallback, int max) throws WireException {
        return string(body, key, fallback, max, false);
    }

    /** @return as {@link #string(JsonObject, String, String, int)}, line breaks and tabs allowed (a template's text) */
    static String stringWithLines(JsonObject body, String key, String fallback, int max) throws WireException {
        return string(body, key, fallback, max, true);
    }

    private static String string(JsonObject body, String key, String fallback, int max, boolean lines) throws WireException {
        JsonElement e = body.get(key);
        if (e == null || e.isJsonNull()) {
            if (fallback == null) {
                throw AlertRule.invalid(key + ": missing");
            }
            body.addProperty(key, fallback);
            return fallback;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw AlertRule.invalid(key + ": " + WireCodec.abbreviate(e.toString()) + " is not a string");
        }
        String v = e.getAsString().strip();
        if (v.isEmpty()) {
            if (fallback == null) {
                throw AlertRule.invalid(key + ": empty");
            }
            body.addProperty(key, fallback);
            return fallback;
        }
        if (v.length() > max) {
            throw AlertRule.invalid(key + ": " + v.length() + " characters, at most " + max);
        }
        if (!v.chars().allMatch(c -> (c >= 0x20 && c != 0x7f) || (lines && (c == '\n' || c == '\t')))) {
            throw AlertRule.invalid(key + ": has control characters");
        }
        body.addProperty(key, v);
        return v;
    }

    /** @return a string that must match {@code pattern} ({@code what} says what it is, for the error) */
    static String matching(JsonObject body, String key, Pattern pattern, String what) throws WireException {
        String v = string(body, key, null, 500);
        if (!pattern.matcher(v).matches()) {
            throw AlertRule.invalid(key + ": not " + what); // the value may be a secret: not repeated
        }
        return v;
    }

    /**
     * @return an http(s) URL with a host, written back stripped; {@code fallback} when absent (null: required)
     */
    static URI url(JsonObject body, String key, String fallback) throws WireException {
        String v = string(body, key, fallback, 2000);
        URI u;
        try {
            u = new URI(v);
        } catch (URISyntaxException e) {
            throw AlertRule.invalid(key + ": not a URL: " + e.getReason());
        }
        if (u.getScheme() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https")) || u.getHost() == null) {
            throw AlertRule.invalid(key + ": not an http(s) URL with a host");
        }
        return u;
    }

    /** @return a whole number in [min, max]; {@code fallback} (written) when absent */
    static int integer(JsonObject body, String key, int fallback, int min, int max) throws WireException {
        JsonElement e = body.get(key);
        if (e == null || e.isJsonNull()) {
            body.addProperty(key, fallback);
            return fallback;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber() || e.getAsDouble() != Math.rint(e.getAsDouble())
                || e.getAsDouble() < min || e.getAsDouble() > max) {
            throw AlertRule.invalid(key + ": " + WireCodec.abbreviate(e.toString()) + " is not a whole number from " + min + " to " + max);
        }
        body.add(key, new JsonPrimitive(e.getAsInt()));
        return e.getAsInt();
    }

    /** @return scheme, host and port of a URL: where it goes, without the path or query that may hold a secret */
    static String host(URI u) {
        return u.getScheme() + "://" + u.getHost() + (u.getPort() < 0 ? "" : ":" + u.getPort());
    }

    /** @return a URL's base without trailing slashes */
    static String base(String url) {
        String b = url;
        while (b.endsWith("/")) {
            b = b.substring(0, b.length() - 1);
        }
        return b;
    }

    /** @throws IOException when the answer is not 2xx, with its status and the start of its body */
    static HttpResponse<String> expect2xx(HttpResponse<String> response) throws IOException {
        if (response.statusCode() / 100 != 2) {
            String text = response.body() == null ? "" : response.body().strip();
            throw new IOException("answered " + response.statusCode() + (text.isEmpty() ? "" : ": " + WireCodec.abbreviate(text)));
        }
        return response;
    }

    /** @return text as HTML text (and attribute values): {@code & < > "} as entities, the ones Telegram's HTML takes too */
    static String html(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** @return {@code text} cut to {@code max} characters, with an ellipsis when cut */
    static String cut(String text, int max) {
        return text.length() <= max ? text : text.substring(0, max - 1) + "…";
    }
}
