package io.sonde.server.statuspages.internal;

import java.io.IOException;
import java.time.Instant;

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
 * Status pages as admins define them: {@code /api/v1/status-pages[/{name}]} — read by anyone who
 * reads the dashboard, defined (PUT) and deleted by admins; a bad page is answered 400 naming the
 * key. The page itself is public at {@code /status/{name}}.
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern({"/api/v1/status-pages", "/api/v1/status-pages/*"})
public final class StatusPagesServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(StatusPagesServlet.class);
    static final int MAX_BODY = 64 * 1024;
    static final int MAX_PAGES = 100;

    private final transient Store store;
    private final transient StatusPages pages;

    @Activate
    public StatusPagesServlet(@Reference Store store, @Reference StatusPages pages) {
        this.store = store;
        this.pages = pages;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!Api.requireRead(request, response)) {
            return;
        }
        String name = Api.pathName(request);
        try {
            if (name != null) {
                var d = store.definition(Definition.STATUS_PAGE, name);
                if (d.isEmpty()) {
                    Api.error(response, 404, "no status page named '" + WireCodec.abbreviate(name) + "'");
                } else {
                    Api.json(response, 200, JsonParser.parseString(d.get().body()));
                }
                return;
            }
            JsonArray items = new JsonArray();
            for (Definition d : store.definitions(Definition.STATUS_PAGE)) {
                items.add(JsonParser.parseString(d.body()));
            }
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
            Api.error(response, 405, "PUT a status page at its own path, /api/v1/status-pages/{name}");
            return;
        }
        try {
            JsonObject body = Api.read(request, MAX_BODY, JsonObject.class);
            if (body == null) {
                throw StatusPage.invalid("the body: a JSON object is needed");
            }
            StatusPage page = StatusPage.parse(name, body);
            if (store.definitionCount(Definition.STATUS_PAGE) >= MAX_PAGES && store.definition(Definition.STATUS_PAGE, name).isEmpty()) {
                Api.error(response, 409, "the server keeps at most " + MAX_PAGES + " status pages; delete one first");
                return;
            }
            boolean replaced = store.putDefinition(new Definition(Definition.STATUS_PAGE, name, page.json().toString(), Instant.now()));
            pages.changed(name);
            LOG.info("Status page '{}' {}: public at /status/{}", name, replaced ? "replaced" : "defined", name);
            Api.json(response, replaced ? 200 : 201, page.json());
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
            Api.error(response, 405, "DELETE a status page at /api/v1/status-pages/{name}");
            return;
        }
        try {
            if (!store.deleteDefinition(Definition.STATUS_PAGE, name)) {
                Api.error(response, 404, "no status page named '" + WireCodec.abbreviate(name) + "'");
                return;
            }
            pages.changed(name);
            LOG.info("Status page '{}' deleted", name);
            response.setStatus(204);
        } catch (StoreException e) {
            Api.storeFailed(response, e, 400);
        }
    }
}
