package io.sonde.server.core.internal;

import java.io.IOException;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardFilterPattern;

/**
 * The headers every answer of the server carries: HSTS (the server speaks TLS; a browser that met
 * it once never tries it in clear), no content sniffing; and for the API's documentation
 * (swagger-ui, a third party's page) a Content-Security-Policy of its own that lets it load only
 * from the server, and be framed by no one. The dashboard's pages set their own, stricter policy.
 */
@Component(service = Filter.class, property = "service.ranking:Integer=200") // first: every answer, a refusal too
@HttpWhiteboardFilterPattern("/*")
public final class SecurityHeaders implements Filter {

    static final String HSTS = "max-age=31536000";
    /** swagger-ui sets style attributes; everything else comes from the server itself. */
    static final String DOCS_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self';"
            + " connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
        HttpServletRequest request = (HttpServletRequest) req;
        HttpServletResponse response = (HttpServletResponse) res;
        response.setHeader("Strict-Transport-Security", HSTS);
        response.setHeader("X-Content-Type-Options", "nosniff");
        String path = request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
        if (path.equals("/api/docs") || path.startsWith("/api/docs/")) {
            response.setHeader("Content-Security-Policy", DOCS_POLICY);
            response.setHeader("X-Frame-Options", "DENY");
            response.setHeader("Referrer-Policy", "no-referrer");
        }
        chain.doFilter(req, res);
    }
}
