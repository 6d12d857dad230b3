package io.sonde.server.statuspages.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

import io.sonde.server.spi.StoreException;

/**
 * The public status pages, served without login: {@code /status/{name}} (HTML, no script),
 * {@code /status/{name}/status.json}, {@code /status/{name}/status.css} and
 * {@code /status/{name}/badge/{target}.svg} for a target the page shows. Each answer comes from
 * the page's last build ({@link StatusPages}): requests never reach the store one by one. A name
 * that is no page, and a target the page does not show, are the same 404: a page tells nothing
 * beyond what it selects.
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern("/status/*")
public final class PublicStatusServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    /** Nothing but the page's own style sheet; framed by no one. */
    static final String POLICY = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none';"
            + " frame-ancestors 'none'";
    static final int MAX_PATH = 600;

    private final transient StatusPages pages;

    @Activate
    public PublicStatusServlet(@Reference StatusPages pages) {
        this.pages = pages;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String path = request.getPathInfo();
        response.setHeader("Content-Security-Policy", POLICY);
        response.setHeader("Referrer-Policy", "no-referrer");
        if (path == null || path.length() < 2 || path.length() > MAX_PATH) {
            notFound(response);
            return;
        }
        String rest = path.substring(1);
        int slash = rest.indexOf('/');
        String name = slash < 0 ? rest : rest.substring(0, slash);
        String what = slash < 0 ? "" : rest.substring(slash + 1);
        if (!name.matches("[a-z0-9][a-z0-9-]{0,63}")) {
            notFound(response);
            return;
        }
        try {
            if (what.equals("status.css")) {
                send(response, "text/css; charset=utf-8", Html.CSS, 3600);
                return;
            }
            Optional<PageModel.Built> built = pages.page(name);
            if (built.isEmpty()) {
                notFound(response);
                return;
            }
            if (what.isEmpty()) {
                send(request, response, "text/html; charset=utf-8", built.get().html());
            } else if (what.equals("status.json")) {
                send(request, response, "application/json", built.get().json());
            } else if (what.startsWith("badge/") && what.endsWith(".svg")) {
                PageModel.Shown t = built.get().targets().get(what.substring("badge/".length(), what.length() - ".svg".length()));
                if (t == null) {
                    notFound(response);
                } else {
                    send(response, "image/svg+xml; charset=utf-8", Html.badge(t), 60);
                }
            } else {
                notFound(response);
            }
        } catch (StoreException e) {
            response.setStatus(503);
            response.setHeader("Retry-After", "10");
            send(response, "text/plain; charset=utf-8", "The status page cannot be built now: the server's store does not answer.\n", 0, 503);
        }
    }

    /** Sends a page's rendering, gzipped where the client takes it. */
    private static void send(HttpServletRequest request, HttpServletResponse response, String type, PageModel.Rendered r) throws IOException {
        String accept = request.getHeader("Accept-Encoding");
        boolean gzip = accept != null && accept.toLowerCase(java.util.Locale.ROOT).contains("gzip");
        byte[] bytes = gzip ? r.gzip() : r.plain();
        response.setStatus(200);
        response.setContentType(type);
        response.setHeader("Cache-Control", "public, max-age=10");
        response.setHeader("Vary", "Accept-Encoding");
        if (gzip) {
            response.setHeader("Content-Encoding", "gzip");
        }
        response.setContentLength(bytes.length);
        response.getOutputStream().write(bytes);
    }

    private static void notFound(HttpServletResponse response) throws IOException {
        send(response, "text/plain; charset=utf-8", "No such status page.\n", 10, 404);
    }

    private static void send(HttpServletResponse response, String type, String body, int maxAge) throws IOException {
        send(response, type, body, maxAge, 200);
    }

    private static void send(HttpServletResponse response, String type, String body, int maxAge, int status) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        response.setContentType(type);
        response.setHeader("Cache-Control", maxAge == 0 ? "no-store" : "public, max-age=" + maxAge);
        response.setContentLength(bytes.length);
        response.getOutputStream().write(bytes);
    }
}
