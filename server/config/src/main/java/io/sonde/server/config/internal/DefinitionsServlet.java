package io.sonde.server.config.internal;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import io.sonde.server.spi.AgentRecord;
import io.sonde.server.spi.AgentSelector;
import io.sonde.server.spi.Api;
import io.sonde.server.spi.Definition;
import io.sonde.server.spi.Store;
import io.sonde.server.spi.StoreException;
import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

/**
 * Targets by tag and meshes (admin): {@code GET /api/v1/targets}, {@code GET|PUT|DELETE
 * /api/v1/targets/{name}}, and the same under {@code /api/v1/meshes}; a mesh's {@code GET} shows
 * its members and peers as planned now, and {@code GET /api/v1/meshes/{name}/matrix} its
 * source × destination grid ({@link MeshMatrix}). A definition is checked whole ({@link Definitions}) and
 * stored in its canonical form; a bad one is answered 400 naming the field.
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern({"/api/v1/targets", "/api/v1/targets/*", "/api/v1/meshes", "/api/v1/meshes/*", "/api/v1/rollouts",
    "/api/v1/rollouts/*"})
public final class DefinitionsServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(DefinitionsServlet.class);

    /** The largest definition taken. */
    static final int MAX_BODY = 64 * 1024;
    /** Target definitions the server keeps at most: a document bound the agents can take. */
    static final int MAX_TARGETS = 50_000;
    /** Meshes the server keeps at most. */
    static final int MAX_MESHES = 100;
    /** Most rollouts the server keeps. */
    static final int MAX_ROLLOUTS = 200;

    private final transient Store store;
    private final transient ConfigService configs;
    private final Duration offlineAfter;

    @Activate
    public DefinitionsServlet(@Reference Store store, @Reference ConfigService configs, @Reference io.sonde.server.spi.OfflineRule offline) {
        this.store = store;
        this.configs = configs;
        this.offlineAfter = offline.offlineAfter();
    }

    /** @return the type the path is about */
    private static String type(HttpServletRequest request) {
        String path = request.getServletPath();
        return path.endsWith("/meshes") ? Definition.MESH : path.endsWith("/rollouts") ? Definition.ROLLOUT : Definition.TARGET;
    }

    /** @return the name in the path, or null for the list */
    private static String name(HttpServletRequest request) {
        return Api.pathName(request);
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!Api.requireRead(request, response)) {
            return;
        }
        String type = type(request);
        String name = name(request);
        if (type.equals(Definition.MESH) && name != null && name.endsWith("/matrix")) {
            matrix(name.substring(0, name.length() - "/matrix".length()), request, response);
            return;
        }
        Api.answer(response, () -> {
            if (name != null) {
                java.util.Optional<Definition> d = store.definition(type, name);
                if (d.isPresent()) {
                    Api.json(response, 200, view(d.get(), true));
                } else {
                    notFound(response, type, name);
                }
                return;
            }
            List<Object> items = new ArrayList<>();
            for (Definition d : store.definitions(type)) {
                items.add(view(d, false));
            }
            Api.json(response, 200, Map.of("items", items));
        });
    }

    /**
     * {@code GET /api/v1/meshes/{name}/matrix?from=&to=&kind=}: source × destination over the range
     * (default the last 15 minutes; kind: the mesh's first).
     */
    private void matrix(String name, HttpServletRequest request, HttpServletResponse response) throws IOException {
        Api.answer(response, () -> {
            ConfigModel.Mesh mesh = configs.fresh().mesh(name);
            if (mesh == null) {
                notFound(response, Definition.MESH, name);
                return;
            }
            Instant now = Instant.now();
            Instant to = time(request, "to", now);
            Instant from = time(request, "from", to.minus(MeshMatrix.DEFAULT_RANGE));
            if (!from.isBefore(to)) {
                throw Definitions.invalid("from: " + from + " is not before to (" + to + ")");
            }
            if (Duration.between(from, to).compareTo(Duration.ofDays(400)) > 0) {
                throw Definitions.invalid("from: the range is longer than 400 days");
            }
            JsonObject kinds = mesh.body().getAsJsonObject("kinds");
            String kind = request.getParameter("kind");
            if (kind == null) {
                kind = kinds.keySet().iterator().next();
            } else if (!kinds.has(kind)) {
                throw Definitions.invalid("kind: '" + WireCodec.abbreviate(kind) + "' is not one of the mesh's kinds " + kinds.keySet());
            }
            Map<String, AgentRecord> agents = new java.util.HashMap<>();
            for (AgentRecord a : store.agents()) {
                agents.put(a.agentId(), a);
            }
            Api.json(response, 200, MeshMatrix.of(store, name, mesh, kind, from, to, agents, now, offlineAfter));
        });
    }

    private static Instant time(HttpServletRequest request, String name, Instant otherwise) throws WireException {
        String text = request.getParameter(name);
        if (text == null || text.isBlank()) {
            return otherwise;
        }
        return Api.time(name, text);
    }

    /** A definition as the API shows it: its body, when it changed, and for a mesh its plan of now. */
    /** @return the agents that refuse the target {@code name}, each with why (the first {@code max} of them) */
    private List<Map<String, Object>> refusedBy(String name, int max) throws StoreException {
        List<Map<String, Object>> out = new ArrayList<>();
        for (AgentRecord a : refusals()) {
            for (io.sonde.wire.AgentStatus.Rejected r : a.config().rejected()) {
                if (name.equals(r.name()) && out.size() < max) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("agent_id", a.agentId());
                    m.put("reason", r.reason());
                    m.put("reported_at", a.config().reportedAt().toString());
                    out.add(m);
                }
            }
        }
        return out;
    }

    /** @return the agents (not revoked) whose last report refuses some entry; read once per request */
    private List<AgentRecord> refusals() throws StoreException {
        List<AgentRecord> out = new ArrayList<>();
        for (AgentRecord a : store.agents()) {
            if (a.revokedAt() == null && a.config() != null && !a.config().rejected().isEmpty()) {
                out.add(a);
            }
        }
        return out;
    }

    private Map<String, Object> view(Definition d, boolean withPeers) throws StoreException {
        Map<String, Object> m = new LinkedHashMap<>();
        JsonObject body = JsonParser.parseString(d.body()).getAsJsonObject();
        body.entrySet().forEach(e -> m.put(e.getKey(), e.getValue()));
        m.put("updated_at", d.updatedAt().toString());
        if (d.type().equals(Definition.TARGET)) {
            m.put("refused_by", refusedBy(d.name(), withPeers ? Integer.MAX_VALUE : 10));
        }
        if (d.type().equals(Definition.ROLLOUT)) {
            ConfigModel.Rollout r = configs.fresh().rollout(d.name());
            if (r != null) {
                m.put("sha256", r.release().sha256());
                m.put("agents_taken", r.agents().size());
                Map<String, io.sonde.wire.AgentStatus.Update> progress = configs.fresh().progress(r);
                Map<String, Integer> counts = new java.util.TreeMap<>();
                progress.values().forEach(u -> counts.merge(u.state(), 1, Integer::sum));
                m.put("states", counts);
                if (withPeers) {
                    List<Map<String, Object>> agents = new ArrayList<>();
                    progress.forEach((id, u) -> {
                        Map<String, Object> a = new LinkedHashMap<>();
                        a.put("agent_id", id);
                        a.put("state", u.state());
                        a.put("reason", u.reason());
                        agents.add(a);
                    });
                    m.put("agents_status", agents);
                }
            }
        }
        if (d.type().equals(Definition.MESH)) {
            ConfigModel.Mesh mesh = configs.fresh().mesh(d.name());
            if (mesh != null) {
                Map<String, Object> plan = new LinkedHashMap<>();
                plan.put("members", mesh.members().size());
                plan.put("fanout", mesh.plan().fanout());
                plan.put("probed_by_min", mesh.plan().minInDegree());
                plan.put("probed_by_max", mesh.plan().maxInDegree());
                if (withPeers) {
                    plan.put("peers", mesh.plan().peers());
                }
                m.put("plan", plan);
            }
        }
        return m;
    }

    /**
     * The admin's change of one definition: answers (and returns null) unless the request is the
     * admin's and names a definition.
     */
    private static String changed(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!Api.requireAdmin(request, response)) {
            return null;
        }
        String name = name(request);
        if (name == null) {
            String type = type(request);
            Api.error(response, 405, request.getMethod() + " a " + type + " at its own path, /api/v1/" + type + "s/{name}");
        }
        return name;
    }

    private static void notFound(HttpServletResponse response, String type, String name) throws IOException {
        Api.error(response, 404, "no " + type + " named '" + WireCodec.abbreviate(name) + "'");
    }

    private static String label(String type) {
        return type.equals(Definition.MESH) ? "Mesh" : type.equals(Definition.ROLLOUT) ? "Rollout" : "Target";
    }

    @Override
    protected void doPut(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String name = changed(request, response);
        if (name == null) {
            return;
        }
        String type = type(request);
        Api.answer(response, () -> {
            JsonObject body = Api.read(request, MAX_BODY, JsonObject.class);
            if (body == null) {
                throw Definitions.invalid("the body: a JSON object is needed");
            }
            JsonObject checked = type.equals(Definition.MESH) ? Definitions.mesh(name, body)
                    : type.equals(Definition.ROLLOUT) ? Definitions.rollout(name, body) : Definitions.target(name, body);
            String warning = null;
            if (type.equals(Definition.TARGET)) {
                warning = Definitions.kindOptions(checked, io.sonde.server.spi.AnnouncedKinds.merge(store.announcedKinds().values()));
            }
            int limit = type.equals(Definition.MESH) ? MAX_MESHES : type.equals(Definition.ROLLOUT) ? MAX_ROLLOUTS : MAX_TARGETS;
            if (type.equals(Definition.ROLLOUT)
                    && store.release(checked.get("bundle").getAsString(), checked.get("version").getAsString()).isEmpty()) {
                throw Definitions.invalid("version: the repository has no release " + checked.get("bundle").getAsString() + " "
                        + checked.get("version").getAsString() + " (upload it signed first: POST /api/v1/bundles)");
            }
            if (store.definitionCount(type) >= limit && store.definition(type, name).isEmpty()) {
                Api.error(response, 409, "the server keeps at most " + limit + " " + type + " definitions; delete one first");
                return;
            }
            if (type.equals(Definition.MESH)) {
                int fanout = ConfigModel.fanout(checked);
                int members = configs.fresh().selected(AgentSelector.parse(checked.get("members").getAsString())).size();
                if (fanout != PeerPlan.ALL && members > 0 && fanout >= members) {
                    throw Definitions.invalid("fanout: " + fanout + " peers, but '" + checked.get("members").getAsString() + "' takes "
                            + members + " agent" + (members == 1 ? "" : "s") + " now: at most " + (members - 1)
                            + " others to probe; use all for a full mesh");
                }
            }
            boolean replaced = store.putDefinition(new Definition(type, name, checked.toString(), Instant.now()));
            configs.changed();
            LOG.info("{} '{}' {}", label(type), name, replaced ? "replaced" : "defined");
            Map<String, Object> shown = new LinkedHashMap<>();
            checked.entrySet().forEach(e -> shown.put(e.getKey(), e.getValue()));
            if (warning != null) {
                shown.put("warning", warning);
            }
            Api.json(response, replaced ? 200 : 201, shown);
        });
    }

    @Override
    protected void doDelete(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String name = changed(request, response);
        if (name == null) {
            return;
        }
        String type = type(request);
        Api.answer(response, () -> {
            if (store.deleteDefinition(type, name)) {
                configs.changed();
                LOG.info("{} '{}' deleted", label(type), name);
                response.setStatus(204);
            } else {
                notFound(response, type, name);
            }
        });
    }
}
