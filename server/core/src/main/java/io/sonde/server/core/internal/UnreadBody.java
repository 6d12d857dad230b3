package io.sonde.server.core.internal;

import java.io.IOException;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardFilterPattern;

import io.sonde.server.spi.Api;

/**
 * Reads what an answered request left of its body (an endpoint that needs none, a refusal before
 * the body was read), up to a bound: the connection stays usable for the client's next request,
 * instead of being closed under it.
 */
@Component(service = Filter.class)
@HttpWhiteboardFilterPattern("/api/*")
public final class UnreadBody implements Filter {

    static final long MAX = 1 << 20;

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain) throws IOException, ServletException {
        try {
            chain.doFilter(request, response);
        } finally {
            if (request.getContentLengthLong() != 0 && !request.isAsyncStarted()) {
                try {
                    Api.drain(request.getInputStream(), MAX);
                } catch (IllegalStateException e) {
                    // the body was read as a reader: read through already
                }
            }
        }
    }
}
