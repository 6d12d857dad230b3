package io.sonde.server.alerts.internal;

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
 * The notification receivers (admin only): {@code /api/v1/receivers[/{name}]} (GET, PUT, DELETE)
 * and {@code POST /api/v1/receivers/{name}/test}, which sends a test message at once and answers
 * whether it was delivered ({@code {"sent": false, "error": ...}} when the receiver refused it). A
 * receiver's secrets (tokens, keys, passwords, webhook URLs) are never shown: {@code secrets_set}
 * names those it has, and a PUT that leaves one out keeps it. A receiver alert rules name is not
 * deleted (409, naming the rules).
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern({"/api/v1/receivers", "/api/v1/receivers/*"})
public final class ReceiversServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ReceiversServlet.class);
    static final int MAX_BODY = 64 * 1024;
    static final int MAX_RECEIVERS = 500;
    static final String TEST = "/test";

    private final transient AlertService alerts;
    private final transient Store store;

    @Activate
    public ReceiversServlet(@Reference AlertService alerts) {
        this.alerts = alerts;
        this.store = alerts.store();
    }

    private NamedReceiver stored(Definition d) throws WireException {
        return NamedReceiver.parse(d.name(), JsonParser.parseString(d.body()).getAsJsonObject(), null);
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!Api.requireAdmin(request, response)) {
            return;
        }
        String name = Api.pathName(request);
        try {
            if (name != null) {
                Optional<Definition> d = store.definition(Definition.RECEIVER, name);
                if (d.isEmpty()) {
                    Api.error(response, 404, "no receiver named '" + WireCodec.abbreviate(name) + "'");
                    return;
                }
                Api.json(response, 200, shown(d.get()));
                return;
            }
            JsonArray items = new JsonArray();
            for (Definition d : store.definitions(Definition.RECEIVER)) {
                items.add(shown(d));
            }
            JsonObject o = new JsonObject();
            o.add("items", items);
            Api.json(response, 200, o);
        } catch (StoreException e) {
            Api.storeFailed(response, e, 400);
        } catch (WireException e) {
            Api.error(response, 409, "the stored receiver no longer parses: " + e.getMessage() + "; PUT it again");
        }
    }

    private JsonObject shown(Definition d) throws WireException {
        JsonObject o = stored(d).shown();
        o.addProperty("updated_at", d.updatedAt().toString());
        return o;
    }

    @Override
    protected void doPut(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!Api.requireAdmin(request, response)) {
            return;
        }
        String name = Api.pathName(request);
        if (name == null || name.endsWith(TEST)) {
            Api.error(response, 405, "PUT a receiver at its own path, /api/v1/receivers/{name}");
            return;
        }
        Api.answer(response, () -> {
            JsonObject body = Api.read(request, MAX_BODY, JsonObject.class);
            if (body == null) {
                throw AlertRule.invalid("the body: a JSON object is needed");
            }
            Optional<Definition> before = store.definition(Definition.RECEIVER, name);
            if (before.isEmpty() && store.definitionCount(Definition.RECEIVER) >= MAX_RECEIVERS) {
                Api.error(response, 409, "the server keeps at most " + MAX_RECEIVERS + " receivers; delete one first");
                return;
            }
            NamedReceiver r = NamedReceiver.parse(name, body,
                    before.map(d -> JsonParser.parseString(d.body()).getAsJsonObject()).orElse(null));
            boolean replaced = store.putDefinition(new Definition(Definition.RECEIVER, name, r.config().toString(), Instant.now()));
            LOG.info("Receiver '{}' {}: {}", name, replaced ? "replaced" : "defined", r.channel().where(r.config()));
            Api.json(response, replaced ? 200 : 201, r.shown());
        });
    }

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!Api.requireAdmin(request, response)) {
            return;
        }
        String path = Api.pathName(request);
        if (path == null || !path.endsWith(TEST) || path.length() == TEST.length()) {
            Api.error(response, 405, "POST /api/v1/receivers/{name}/test sends a test; PUT a receiver at /api/v1/receivers/{name}");
            return;
        }
        String name = path.substring(0, path.length() - TEST.length());
        Api.drain(request.getInputStream(), MAX_BODY);
        try {
            Optional<Definition> d = store.definition(Definition.RECEIVER, name);
            if (d.isEmpty()) {
                Api.error(response, 404, "no receiver named '" + WireCodec.abbreviate(name) + "'");
                return;
            }
            NamedReceiver r = stored(d.get());
            JsonObject o = new JsonObject();
            o.addProperty("receiver", name);
            o.addProperty("where", r.channel().where(r.config()));
            try {
                alerts.test(r);
                o.addProperty("sent", true);
                LOG.info("Receiver '{}': a test was delivered to {}", name, r.where());
            } catch (IOException e) {
                o.addProperty("sent", false);
                o.addProperty("error", e.getMessage());
                LOG.warn("Receiver '{}': a test was not delivered to {}: {}", name, r.where(), e.getMessage());
            }
            Api.json(response, 200, o);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            Api.error(response, 503, "the server is stopping");
        } catch (WireException e) {
            Api.error(response, 409, "the stored receiver no longer parses: " + e.getMessage() + "; PUT it again");
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
            Api.error(response, 405, "DELETE a receiver at /api/v1/receivers/{name}");
            return;
        }
        Api.answer(response, () -> {
            List<String> users = new ArrayList<>();
            for (AlertRule rule : alerts.rules()) {
                if (rule.receivers().stream().anyMatch(r -> r.named() && r.url().equals(name))) {
                    users.add(rule.name());
                }
            }
            if (!users.isEmpty()) {
                Api.error(response, 409, "receiver '" + WireCodec.abbreviate(name) + "' is named by the alert rules " + String.join(", ", users)
                        + ": take it out of their notify first");
                return;
            }
            if (!store.deleteDefinition(Definition.RECEIVER, name)) {
                Api.error(response, 404, "no receiver named '" + WireCodec.abbreviate(name) + "'");
                return;
            }
            LOG.info("Receiver '{}' deleted", name);
            response.setStatus(204);
        });
    }
}
