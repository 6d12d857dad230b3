package io.sonde.server.query.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardResource;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

/**
 * The API's description: {@code /api/v1/openapi.json}, and swagger-ui from its WebJar at
 * {@code /api/docs/}, started on that document.
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern({"/api/v1/openapi.json", "/api/docs/swagger-initializer.js", "/api/docs"})
@HttpWhiteboardResource(pattern = "/api/docs/*", prefix = "/META-INF/resources/webjars/swagger-ui/5.34.1")
public final class ApiDocs extends HttpServlet {

    private static final long serialVersionUID = 1L;
    static final String INITIALIZER = "window.onload = function () {\n"
            + "  window.ui = SwaggerUIBundle({url: '/api/v1/openapi.json', dom_id: '#swagger-ui', deepLinking: true,\n"
            + "    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout'});\n"
            + "};\n";

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        switch (request.getServletPath()) {
            case "/api/docs" -> response.sendRedirect("/api/docs/index.html");
            case "/api/docs/swagger-initializer.js" -> {
                response.setContentType("application/javascript");
                response.setCharacterEncoding("UTF-8");
                response.getOutputStream().write(INITIALIZER.getBytes(StandardCharsets.UTF_8));
            }
            default -> {
                response.setContentType("application/json");
                try (InputStream in = ApiDocs.class.getResourceAsStream("/io/sonde/server/query/openapi.json");
                        OutputStream out = response.getOutputStream()) {
                    in.transferTo(out);
                }
            }
        }
    }
}
