package io.sonde.server.spi;

import java.io.IOException;
import java.io.OutputStream;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import io.sonde.wire.ErrorDocument;
import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

/** How every servlet of the server answers: JSON documents, errors as {@code {"error": "..."}}. */
public final class Api {

    /** The protocol's conventions, and absent values written as {@code null}: {@code "next": null}. */
    private static final com.google.gson.Gson GSON = WireCodec.gson().newBuilder().serializeNulls().create();

    private Api() {
    }

    /** Writes {@code document} as JSON with {@code status}; an error closes the connection (its request's body may be unread). */
    public static void json(HttpServletResponse response, int status, Object document) throws IOException {
        json(response, status, document, status >= 400);
    }

    /**
     * Writes {@code document} as JSON with {@code status}.
     *
     * @param close whether the connection ends with this answer: when the request's body may be
     *              left unread, the client must not send its next request on it
     * @since 1.8
     */
    public static void json(HttpServletResponse response, int status, Object document, boolean close) throws IOException {
        byte[] body = io.sonde.wire.WireCodec.text(GSON, document).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        response.setStatus(status);
        response.setContentType("application/json");
        response.setCharacterEncoding("UTF-8");
        response.setHeader("Cache-Control", "no-store");
        if (close) {
            response.setHeader("Connection", "close");
        }
        response.setContentLength(body.length);
        try (OutputStream out = response.getOutputStream()) {
            out.write(body);
        }
    }

    /** Writes an error document saying {@code message}. */
    public static void error(HttpServletResponse response, int status, String message) throws IOException {
        json(response, status, new ErrorDocument(message));
    }

    /**
     * Reads a JSON request body, gzip if its Content-Encoding says so, at most {@code maxBytes}.
     *
     * @throws WireException when it is not such a document
     */
    public static <T> T read(HttpServletRequest request, long maxBytes, Class<T> type) throws IOException, WireException {
        java.io.InputStream in = request.getInputStream();
        T doc;
        try {
            doc = WireCodec.read(in, isGzip(request), maxBytes, type);
        } catch (WireException e) {
            drain(in, DRAIN_BYTES); // the sender reads why, not a connection closed under its upload
            throw e;
        }
        String nul = nulAt(doc);
        if (nul != null) {
            throw new WireException(WireException.Problem.INVALID, nul + ": holds a NUL character (\\u0000), which no text here takes");
        }
        return doc;
    }

    /** The most of a refused body read to answer it: beyond, the connection closes. */
    static final long DRAIN_BYTES = 1 << 20;

    /** Reads and drops what is left of a request body, up to {@code max} bytes. @since 1.6 */
    public static void drain(java.io.InputStream body, long max) {
        drained(body, max);
    }

    /**
     * Reads and drops what is left of a request body, up to {@code max} bytes.
     *
     * @return whether the body was read to its end (not beyond {@code max}, the sender still there)
     * @since 1.8
     */
    public static boolean drained(java.io.InputStream body, long max) {
        byte[] buf = new byte[8192];
        long left = max;
        try {
            int n = 0;
            while (left >= 0 && (n = body.read(buf, 0, (int) Math.min(buf.length, left + 1))) > 0) {
                left -= n;
            }
            return n < 0 && left >= 0;
        } catch (IOException e) {
            return false; // the sender went
        }
    }

    /** @return where a document read from JSON holds a NUL character in a text (no database takes one), or null */
    private static String nulAt(Object doc) {
        com.google.gson.JsonElement tree = doc instanceof com.google.gson.JsonElement e ? e : WireCodec.gson().toJsonTree(doc);
        return nulAt(tree, "$");
    }

    private static String nulAt(com.google.gson.JsonElement e, String at) {
        if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isString()) {
            return e.getAsString().indexOf('\0') >= 0 ? at : null;
        }
        if (e.isJsonArray()) {
            for (int i = 0; i < e.getAsJsonArray().size(); i++) {
                String found = nulAt(e.getAsJsonArray().get(i), at + "[" + i + "]");
                if (found != null) {
                    return found;
                }
            }
        } else if (e.isJsonObject()) {
            for (java.util.Map.Entry<String, com.google.gson.JsonElement> m : e.getAsJsonObject().entrySet()) {
                if (m.getKey().indexOf('\0') >= 0) {
                    return at + "." + WireCodec.abbreviate(m.getKey());
                }
                String found = nulAt(m.getValue(), at + "." + m.getKey());
                if (found != null) {
                    return found;
                }
            }
        }
        return null;
    }

    /** @return whether the request body is gzip by its Content-Encoding; other encodings are refused */
    public static boolean isGzip(HttpServletRequest request) throws WireException {
        String encoding = request.getHeader("Content-Encoding");
        if (encoding == null || encoding.isBlank() || encoding.equalsIgnoreCase("identity")) {
            return false;
        }
        if (encoding.strip().equalsIgnoreCase("gzip")) {
            return true;
        }
        throw new WireException(WireException.Problem.MALFORMED,
                "Content-Encoding '" + WireCodec.abbreviate(encoding) + "' is not supported (gzip or none)");
    }

    /** The earliest time a request may name. @since 1.6 */
    public static final java.time.Instant EARLIEST = java.time.Instant.parse("1970-01-01T00:00:00Z");
    /** The latest time a request may name: every computation on times within stays within a long of microseconds. @since 1.6 */
    public static final java.time.Instant LATEST = java.time.Instant.parse("9999-12-31T23:59:59Z");

    /**
     * Reads a time a request names: RFC 3339 (any offset) or Unix seconds, between
     * {@link #EARLIEST} and {@link #LATEST}.
     *
     * @param name what it is, for the error (a parameter or a field)
     * @throws WireException naming it, for anything else
     * @since 1.6
     */
    public static java.time.Instant time(String name, String text) throws WireException {
        String v = text.strip();
        java.time.Instant t;
        try {
            t = java.time.OffsetDateTime.parse(v).toInstant();
        } catch (java.time.DateTimeException e) {
            try {
                t = java.time.Instant.ofEpochSecond(Long.parseLong(v));
            } catch (NumberFormatException | java.time.DateTimeException n) {
                throw new WireException(WireException.Problem.INVALID, name + ": '" + WireCodec.abbreviate(v)
                        + "' is not an RFC 3339 time or Unix seconds");
            }
        }
        if (t.isBefore(EARLIEST) || t.isAfter(LATEST)) {
            throw new WireException(WireException.Problem.INVALID, name + ": " + WireCodec.abbreviate(v) + " is not between " + EARLIEST
                    + " and " + LATEST);
        }
        return t;
    }

    /** The status a wrong document is answered with. */
    public static int status(WireException e) {
        return e.problem() == WireException.Problem.TOO_LARGE ? 413 : 400;
    }

    /** What a servlet does to answer a request, throwing what the client is told instead. */
    @FunctionalInterface
    public interface Answer {
        void write() throws IOException, WireException, StoreException;
    }

    /**
     * Runs {@code answer}; a {@link WireException} it throws is answered with {@link #status} and
     * its message, a {@link StoreException} as {@link #storeFailed} says (refused: 400). The one
     * shape of every servlet's method.
     *
     * @since 1.19
     */
    public static void answer(HttpServletResponse response, Answer answer) throws IOException {
        try {
            answer.write();
        } catch (WireException e) {
            error(response, status(e), e.getMessage());
        } catch (StoreException e) {
            storeFailed(response, e, 400);
        }
    }

    /**
     * Answers a store failure: 503 with Retry-After when the store cannot be used now, else
     * {@code refusedStatus} with the store's reason.
     */
    public static void storeFailed(HttpServletResponse response, StoreException e, int refusedStatus) throws IOException {
        if (e.kind() == StoreException.Kind.UNAVAILABLE) {
            response.setHeader("Retry-After", "5");
            error(response, 503, e.getMessage());
        } else if (e.kind() == StoreException.Kind.CONFLICT) {
            error(response, 409, e.getMessage());
        } else if (e.kind() == StoreException.Kind.FORBIDDEN) {
            error(response, 403, e.getMessage());
        } else {
            error(response, refusedStatus, e.getMessage());
        }
    }

    /**
     * @return the name after the servlet's path ({@code /api/v1/targets/{name}}), decoded, or null
     *         for the path itself (the list)
     * @since 1.4
     */
    public static String pathName(HttpServletRequest request) {
        String info = request.getPathInfo();
        if (info == null || info.equals("/")) {
            return null;
        }
        return java.net.URLDecoder.decode(info.substring(1), java.nio.charset.StandardCharsets.UTF_8);
    }

    /** @return the principal the authentication filter found, or null */
    public static Principal principal(HttpServletRequest request) {
        Object p = request.getAttribute(Principal.ATTRIBUTE);
        return p instanceof Principal pr ? pr : null;
    }

    /**
     * Answers 401/403 and returns false unless the request may read what the dashboard shows: an
     * administrator's or a user's (a viewer's too), never an agent's.
     *
     * @since 1.4
     */
    public static boolean requireRead(HttpServletRequest request, HttpServletResponse response) throws IOException {
        Principal p = principal(request);
        if (p != null && p.mayRead()) {
            return true;
        }
        error(response, p == null ? 401 : 403, p == null ? "a credential is needed" : "an agent's credential does not read this");
        return false;
    }

    /** Answers 403 and returns false unless the request is the admin's. */
    public static boolean requireAdmin(HttpServletRequest request, HttpServletResponse response) throws IOException {
        Principal p = principal(request);
        if (p != null && p.admin()) {
            return true;
        }
        error(response, p == null ? 401 : 403, p == null ? "a credential is needed"
                : p.user() != null ? "user '" + p.user() + "' is a viewer: changes need the admin role" : "this needs the admin credential");
        return false;
    }
}
