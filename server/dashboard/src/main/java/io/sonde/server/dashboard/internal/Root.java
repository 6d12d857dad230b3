package io.sonde.server.dashboard.internal;

import java.io.IOException;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

/**
 * The server's root, {@code /}: leads to the dashboard; any other path no servlet takes is answered 404 as the API answers,
 * whatever the method (a path nobody serves is not a method the path refuses).
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern("/")
public final class Root extends HttpServlet {

    private static final long serialVersionUID = 1L;

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String path = request.getRequestURI();
        if (path.equals("/") && (request.getMethod().equals("GET") || request.getMethod().equals("HEAD"))) {
            response.sendRedirect("/ui/");
            return;
        }
        response.setStatus(404);
        response.setContentType("application/json");
        response.getOutputStream().write("{\"error\": \"no such path\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
