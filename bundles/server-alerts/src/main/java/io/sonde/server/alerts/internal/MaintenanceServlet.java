package io.sonde.server.alerts.internal;

import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;

import io.sonde.server.spi.Api;
import io.sonde.server.spi.Definition;
import io.sonde.server.spi.Store;
import io.sonde.server.spi.StoreException;
import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

/**
 * Maintenance windows: {@code /api/v1/maintenance[/{name}]} — read by anyone who reads the
 * dashboard ({@code ?target=NAME}: the windows that take that target), defined (PUT) and deleted
 * by admins. Each is shown with whether it is open now and its current or next opening. A bad
 * window is answered 400 naming the key.
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern({"/api/v1/maintenance", "/api/v1/maintenance/*"})
public final class MaintenanceServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(MaintenanceServlet.class);
    static final int MAX_BODY = 64 * 1024;
    static final int MAX_WINDOWS = 1000;

    private final transient AlertService alerts;
    private final transient Store store;

    @Activate
    public MaintenanceServlet(@Reference AlertService alerts) {
        this.alerts = alerts;
        this.store = alerts.store();
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!Api.requireRead(request, response)) {
            return;
        }
        String name = Api.pathName(request);
        Instant now = Instant.now();
        try {
            List<Maintenance> windows = alerts.maintenance();
            if (name != null) {
                Optional<Maintenance> m = windows.stream().filter(w -> w.name().equals(name)).findFirst();
                if (m.isEmpty()) {
                    Api.error(response, 404, "no maintenance window named '" + WireCodec.abbreviate(name) + "'");
                } else {
                    Api.json(response, 200, m.get().shown(now));
                }
                return;
            }
            String target = request.getParameter("target");
            List<String> tags = target == null ? List.of() : alerts.targetTags().getOrDefault(target, List.of());
            JsonArray items = new JsonArray();
            for (Maintenance m : windows) {
                if (target == null || m.coversSubject(target, true, tags)) {
                    items.add(m.shown(now));
                }
            }
            JsonObject o = new JsonObject();
            o.add("items", items);
            Api.json(response, 200, o);
        } catch (StoreException e) {
            Api.storeFailed(response, e, 400);
        }
    }

    @Override
    protected void doPut(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!Api.requireAdmin(request, response)) {
            return;
        }
        String name = Api.pathName(request);
        if (name == null) {
            Api.error(response, 405, "PUT a maintenance window at its own path, /api/v1/maintenance/{name}");
            return;
        }
        try {
            JsonObject body = Api.read(request, MAX_BODY, JsonObject.class);
            if (body == null) {
                throw AlertRule.invalid("the body: a JSON object is needed");
            }
            Instant now = Instant.now();
            Maintenance m = Maintenance.parse(name, body, now);
            if (store.definitionCount(Definition.MAINTENANCE) >= MAX_WINDOWS && store.definition(Definition.MAINTENANCE, name).isEmpty()) {
                Api.error(response, 409, "the server keeps at most " + MAX_WINDOWS + " maintenance windows; delete one first");
                return;
            }
            boolean replaced = store.putDefinition(new Definition(Definition.MAINTENANCE, name, m.json().toString(), now));
            JsonObject shown = m.shown(now);
            LOG.info("Maintenance window '{}' {}: next {} to {}", name, replaced ? "replaced" : "defined", shown.get("next_starts_at"),
                    shown.get("next_ends_at"));
            Api.json(response, replaced ? 200 : 201, shown);
        } catch (WireException e) {
            Api.error(response, Api.status(e), e.getMessage());
        } catch (StoreException e) {
            Api.storeFailed(response, e, 400);
        }
    }

    @Override
    protected void doDelete(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!Api.requireAdmin(request, response)) {
            return;
        }
        String name = Api.pathName(request);
        if (name == null) {
            Api.error(response, 405, "DELETE a maintenance window at /api/v1/maintenance/{name}");
            return;
        }
        try {
            if (!store.deleteDefinition(Definition.MAINTENANCE, name)) {
                Api.error(response, 404, "no maintenance window named '" + WireCodec.abbreviate(name) + "'");
                return;
            }
            LOG.info("Maintenance window '{}' deleted", name);
            response.setStatus(204);
        } catch (StoreException e) {
            Api.storeFailed(response, e, 400);
        }
    }
}
