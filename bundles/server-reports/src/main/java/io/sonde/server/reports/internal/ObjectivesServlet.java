package io.sonde.server.reports.internal;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
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
import com.google.gson.JsonParser;

import io.sonde.server.spi.Api;
import io.sonde.server.spi.Definition;
import io.sonde.server.spi.Store;
import io.sonde.server.spi.StoreException;
import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

/**
 * Service level objectives: {@code /api/v1/objectives[/{name}]} — read by anyone who reads the
 * dashboard, defined (PUT) and deleted by admins; a bad one is answered 400 naming the key. How
 * each stands is {@code /api/v1/reports/objectives}.
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern({"/api/v1/objectives", "/api/v1/objectives/*"})
public final class ObjectivesServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ObjectivesServlet.class);
    static final int MAX_BODY = 16 * 1024;
    static final int MAX_OBJECTIVES = 1000;

    private final transient Store store;

    @Activate
    public ObjectivesServlet(@Reference Store store) {
        this.store = store;
    }

    /** @return the objectives stored, by name; one that cannot be read (stored by another version) is logged and left out */
    static List<Objective> stored(Store store) throws StoreException {
        List<Objective> out = new ArrayList<>();
        for (Definition d : store.definitions(Definition.OBJECTIVE)) {
            try {
                out.add(Objective.parse(d.name(), JsonParser.parseString(d.body()).getAsJsonObject()));
            } catch (WireException | RuntimeException e) {
                LOG.warn("Reports: stored objective '{}' is skipped: {}", d.name(), e.getMessage());
            }
        }
        return out;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!Api.requireRead(request, response)) {
            return;
        }
        String name = Api.pathName(request);
        try {
            List<Objective> all = stored(store);
            if (name != null) {
                Optional<Objective> o = all.stream().filter(x -> x.name().equals(name)).findFirst();
                if (o.isEmpty()) {
                    Api.error(response, 404, "no objective named '" + WireCodec.abbreviate(name) + "'");
                } else {
                    Api.json(response, 200, o.get().json());
                }
                return;
            }
            JsonArray items = new JsonArray();
            all.forEach(o -> items.add(o.json()));
            JsonObject body = new JsonObject();
            body.add("items", items);
            Api.json(response, 200, body);
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
            Api.error(response, 405, "PUT an objective at its own path, /api/v1/objectives/{name}");
            return;
        }
        try {
            JsonObject body = Api.read(request, MAX_BODY, JsonObject.class);
            if (body == null) {
                throw Objective.invalid("the body: a JSON object is needed");
            }
            Objective o = Objective.parse(name, body);
            if (store.definitionCount(Definition.OBJECTIVE) >= MAX_OBJECTIVES && store.definition(Definition.OBJECTIVE, name).isEmpty()) {
                Api.error(response, 409, "the server keeps at most " + MAX_OBJECTIVES + " objectives; delete one first");
                return;
            }
            boolean replaced = store.putDefinition(new Definition(Definition.OBJECTIVE, name, o.json().toString(), Instant.now()));
            LOG.info("Objective {} {}", o, replaced ? "replaced" : "defined");
            Api.json(response, replaced ? 200 : 201, o.json());
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
            Api.error(response, 405, "DELETE an objective at /api/v1/objectives/{name}");
            return;
        }
        try {
            if (!store.deleteDefinition(Definition.OBJECTIVE, name)) {
                Api.error(response, 404, "no objective named '" + WireCodec.abbreviate(name) + "'");
                return;
            }
            LOG.info("Objective '{}' deleted", name);
            response.setStatus(204);
        } catch (StoreException e) {
            Api.storeFailed(response, e, 400);
        }
    }
}
