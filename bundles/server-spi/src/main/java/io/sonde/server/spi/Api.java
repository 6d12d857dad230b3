package io.sonde.server.spi;

import java.io.IOException;
import java.io.OutputStream;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import io.sonde.wire.ErrorDocument;
import io.sonde.wire.WireCodec;

/** How every servlet of the server answers: JSON documents, errors as {@code {"error": "..."}}. */
public final class Api {

    private Api() {
    }

    /** Writes {@code document} as JSON with {@code status}. */
    public static void json(HttpServletResponse response, int status, Object document) throws IOException {
        byte[] body = WireCodec.json(document);
        response.setStatus(status);
        response.setContentType("application/json");
        response.setCharacterEncoding("UTF-8");
        response.setHeader("Cache-Control", "no-store");
        response.setContentLength(body.length);
        try (OutputStream out = response.getOutputStream()) {
            out.write(body);
        }
    }

    /** Writes an error document saying {@code message}. */
    public static void error(HttpServletResponse response, int status, String message) throws IOException {
        json(response, status, new ErrorDocument(message));
    }

    /** @return the principal the authentication filter found, or null */
    public static Principal principal(HttpServletRequest request) {
        Object p = request.getAttribute(Principal.ATTRIBUTE);
        return p instanceof Principal pr ? pr : null;
    }

    /** Answers 403 and returns false unless the request is the admin's. */
    public static boolean requireAdmin(HttpServletRequest request, HttpServletResponse response) throws IOException {
        Principal p = principal(request);
        if (p != null && p.admin()) {
            return true;
        }
        error(response, p == null ? 401 : 403, p == null ? "a credential is needed" : "this needs the admin credential");
        return false;
    }
}
