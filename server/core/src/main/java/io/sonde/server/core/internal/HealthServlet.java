package io.sonde.server.core.internal;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

import io.sonde.server.spi.Api;
import io.sonde.server.spi.ResultIngest;
import io.sonde.server.spi.Store;
import io.sonde.server.spi.StoreException;

/**
 * {@code /healthz}: 200 when every part of the server has started, the store answers and ingest is there; else 503 saying
 * what is missing. A deployment may send requests once it says ok: no path of the API is still on its way. It is a
 * readiness check: a server whose database is away says 503 and waits for it, and restarting it would not help.
 * {@code /livez} says only that the server answers requests, for a liveness check.
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern({"/healthz", "/livez"})
public final class HealthServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private transient volatile Store store;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private transient volatile ResultIngest ingest;

    private final transient Readiness readiness;

    @Activate
    public HealthServlet(BundleContext context, @Reference ServiceComponentRuntime scr) {
        this.readiness = new Readiness(context, scr);
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (request.getRequestURI().equals("/livez")) {
            Api.json(response, 200, Map.of("status", "ok"));
            return;
        }
        Map<String, Object> body = new LinkedHashMap<>();
        boolean ok = true;
        Store s = store;
        if (s == null) {
            ok = false;
            body.put("store", "not available");
        } else {
            try {
                s.check();
                body.put("store", "ok");
            } catch (StoreException e) {
                ok = false;
                body.put("store", e.getMessage());
            }
        }
        if (ingest == null) {
            ok = false;
            body.put("ingest", "not available");
        } else {
            body.put("ingest", "ok");
        }
        List<String> waiting = readiness.waiting();
        if (!waiting.isEmpty()) {
            ok = false;
            body.put("starting", waiting);
        }
        body.put("status", ok ? "ok" : "unavailable");
        Api.json(response, ok ? 200 : 503, body);
    }
}
