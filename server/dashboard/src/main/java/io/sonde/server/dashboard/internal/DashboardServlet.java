package io.sonde.server.dashboard.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardResource;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

/**
 * The dashboard's pages: {@code /ui} leads to {@code /ui/}, the application (its
 * views chosen by the URL's fragment: {@code #/now}, {@code #/fleet}, {@code #/target/web}, ...), and
 * {@code /ui/login}. The pages are plain HTML loading ES modules from {@code /ui/assets/}; every
 * datum comes from the API with the session's cookie, and is put into the page as text, never as
 * markup. A content security policy allows scripts and styles from the server only.
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern({"/ui", "/ui/*"})
@HttpWhiteboardResource(pattern = "/ui/assets/*", prefix = "/ui/assets")
public final class DashboardServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    /** Scripts, styles, pictures and requests from the server only; no frames, no plugins, no inline script. */
    static final String POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self';"
            + " object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String path = request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
        switch (path) {
            case "/ui" -> response.sendRedirect("/ui/");
            case "/ui/" -> page(response, "/ui/index.html");
            case "/ui/login" -> page(response, "/ui/login.html");
            default -> {
                response.setStatus(404);
                response.setContentType("application/json");
                response.getOutputStream().write("{\"error\": \"no such page\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
        }
    }

    private static void page(HttpServletResponse response, String resource) throws IOException {
        response.setContentType("text/html");
        response.setCharacterEncoding("UTF-8");
        response.setHeader("Content-Security-Policy", POLICY);
        response.setHeader("X-Content-Type-Options", "nosniff");
        response.setHeader("X-Frame-Options", "DENY");
        response.setHeader("Referrer-Policy", "no-referrer");
        response.setHeader("Cache-Control", "no-store");
        try (InputStream in = DashboardServlet.class.getResourceAsStream(resource); OutputStream out = response.getOutputStream()) {
            in.transferTo(out);
        }
    }
}
