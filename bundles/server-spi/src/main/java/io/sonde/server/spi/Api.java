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

    /** Writes {@code document} as JSON with {@code status}. */
    public static void json(HttpServletResponse response, int status, Object document) throws IOException {
        byte[] body = GSON.toJson(document).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        response.setStatus(status);
        response.setContentType("application/json");
        response.setCharacterEncoding("UTF-8");
        response.setHeader("Cache-Control", "no-store");
        if (status >= 400) {
            // the request's body may be left unread: the client must not send its next request on
            // this connection, or it would find it closed under it
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
        return WireCodec.read(request.getInputStream(), isGzip(request), maxBytes, type);
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

    /** The status a wrong document is answered with. */
    public static int status(WireException e) {
        return e.problem() == WireException.Problem.TOO_LARGE ? 413 : 400;
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
