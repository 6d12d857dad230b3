package io.sonde.server.query.internal;

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
 * {@code /api/docs/}, the folder of swagger-ui's resources, as the page: the resources alone would
 * answer the folder with an empty listing. Everything under it goes on to the resources.
 */
@Component(service = Filter.class)
@HttpWhiteboardFilterPattern("/api/docs/*")
public final class ApiDocsFolder implements Filter {

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain) throws IOException, ServletException {
        if (request instanceof HttpServletRequest r && response instanceof HttpServletResponse w && "/api/docs/".equals(r.getRequestURI())) {
            w.sendRedirect("/api/docs/index.html");
            return;
        }
        chain.doFilter(request, response);
    }
}
