package io.sonde.server.spi;

import java.io.IOException;
import java.time.Instant;
import java.util.Optional;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.osgi.annotation.versioning.ConsumerType;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

/**
 * The API of one type of named definitions, {@code /api/v1/<things>[/{name}]}: read (the list, or
 * one) by anyone who reads the dashboard, defined (PUT: 201 new, 200 replaced) and deleted (204)
 * by admins; a bad one is answered 400 naming the key, one past the most kept 409. A type says
 * what it is, how it is read and checked, and how it is shown.
 *
 * @since 1.16
 */
@ConsumerType
public abstract class DefinitionServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    private final transient Store store;
    private final String type;
    private final String what;
    private final String path;
    private final int maxBody;
    private final int maxCount;

    /**
     * @param store    where the definitions are kept
     * @param type     their type ({@link Definition#OBJECTIVE} ...)
     * @param what     what one is called in errors and logs: "objective", "status page"
     * @param path     the path of the list: /api/v1/objectives
     * @param maxBody  the most bytes a definition's body may have
     * @param maxCount the most definitions of the type the server keeps
     */
    protected DefinitionServlet(Store store, String type, String what, String path, int maxBody, int maxCount) {
        this.store = store;
        this.type = type;
        this.what = what;
        this.path = path;
        this.maxBody = maxBody;
        this.maxCount = maxCount;
    }

    /** @return the store the definitions are kept in */
    protected final Store store() {
        return store;
    }

    /** @return what one is called in errors and logs */
    protected final String what() {
        return what;
    }

    /**
     * Reads and checks a definition as PUT.
     *
     * @return what to store
     * @throws WireException naming the key, for a bad one
     */
    protected abstract JsonObject parse(String name, JsonObject body) throws WireException;

    /** @return a stored definition as GET shows it (by default as stored); null leaves it out of the list */
    protected JsonElement shown(Definition d, HttpServletRequest request) throws WireException, StoreException {
        return JsonParser.parseString(d.body());
    }

    /** Told after a definition was stored ({@code stored} non-null) or deleted (null): logs, caches. */
    protected void changed(String name, JsonObject stored, boolean replaced) {
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!Api.requireRead(request, response)) {
            return;
        }
        String name = Api.pathName(request);
        Api.answer(response, () -> {
            if (name != null) {
                Optional<Definition> d = store().definition(type, name);
                JsonElement shown = d.isEmpty() ? null : shown(d.get(), request);
                if (shown == null) {
                    Api.error(response, 404, "no " + what() + " named '" + WireCodec.abbreviate(name) + "'");
                } else {
                    Api.json(response, 200, shown);
                }
                return;
            }
            JsonArray items = new JsonArray();
            for (Definition d : store().definitions(type)) {
                JsonElement shown = shown(d, request);
                if (shown != null) {
                    items.add(shown);
                }
            }
            JsonObject body = new JsonObject();
            body.add("items", items);
            Api.json(response, 200, body);
        });
    }

    @Override
    protected void doPut(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!Api.requireAdmin(request, response)) {
            return;
        }
        String name = Api.pathName(request);
        if (name == null) {
            Api.error(response, 405, "PUT a " + what() + " at its own path, " + path + "/{name}");
            return;
        }
        Api.answer(response, () -> {
            JsonObject body = Api.read(request, maxBody, JsonObject.class);
            if (body == null) {
                throw new WireException(WireException.Problem.INVALID, "the body: a JSON object is needed");
            }
            JsonObject stored = parse(name, body);
            if (store().definitionCount(type) >= maxCount && store().definition(type, name).isEmpty()) {
                Api.error(response, 409, "the server keeps at most " + maxCount + " " + what() + "s; delete one first");
                return;
            }
            Definition d = new Definition(type, name, stored.toString(), Instant.now());
            boolean replaced = store().putDefinition(d);
            changed(name, stored, replaced);
            JsonElement shown = shown(d, request);
            Api.json(response, replaced ? 200 : 201, shown == null ? stored : shown);
        });
    }

    @Override
    protected void doDelete(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!Api.requireAdmin(request, response)) {
            return;
        }
        String name = Api.pathName(request);
        if (name == null) {
            Api.error(response, 405, "DELETE a " + what() + " at " + path + "/{name}");
            return;
        }
        Api.answer(response, () -> {
            if (!store().deleteDefinition(type, name)) {
                Api.error(response, 404, "no " + what() + " named '" + WireCodec.abbreviate(name) + "'");
                return;
            }
            changed(name, null, false);
            response.setStatus(204);
        });
    }
}
