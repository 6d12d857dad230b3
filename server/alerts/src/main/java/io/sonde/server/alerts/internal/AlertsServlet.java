package io.sonde.server.alerts.internal;

import java.io.IOException;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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

import io.sonde.server.spi.AlertState;
import io.sonde.server.spi.Api;
import io.sonde.server.spi.Definition;
import io.sonde.server.spi.Notification;
import io.sonde.server.spi.Secrets;
import io.sonde.server.spi.Store;
import io.sonde.server.spi.StoreException;
import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

/**
 * The alerting API (admin): rules at {@code /api/v1/alert-rules[/{name}]} (GET, PUT, DELETE),
 * alerts at {@code GET /api/v1/alerts} (pending, firing, resolving, no data, and those resolved in
 * the last day; {@code ?state=firing} for one state), silences at {@code /api/v1/silences} (GET,
 * POST) and {@code /api/v1/silences/{id}} (DELETE), and the latest deliveries at
 * {@code GET /api/v1/notifications}. A bad rule or silence is answered 400 naming the key.
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern({"/api/v1/alert-rules", "/api/v1/alert-rules/*", "/api/v1/alerts", "/api/v1/silences", "/api/v1/silences/*",
    "/api/v1/notifications"})
public final class AlertsServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(AlertsServlet.class);
    static final int MAX_BODY = 64 * 1024;
    static final int MAX_SILENCES = 1000;

    private final transient AlertService alerts;
    private final transient Store store;

    @Activate
    public AlertsServlet(@Reference AlertService alerts) {
        this.alerts = alerts;
        this.store = alerts.store();
    }

    private static String name(HttpServletRequest request) {
        return Api.pathName(request);
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!Api.requireRead(request, response)) {
            return;
        }
        String path = request.getServletPath();
        String name = name(request);
        Api.answer(response, () -> {
            switch (path) {
                case "/api/v1/alert-rules" -> {
                    if (name != null) {
                        Optional<Definition> d = store.definition(Definition.ALERT_RULE, name);
                        if (d.isEmpty()) {
                            Api.error(response, 404, "no alert rule named '" + WireCodec.abbreviate(name) + "'");
                        } else {
                            Api.json(response, 200, rule(d.get()));
                        }
                        return;
                    }
                    JsonArray items = new JsonArray();
                    for (Definition d : store.definitions(Definition.ALERT_RULE)) {
                        items.add(rule(d));
                    }
                    Api.json(response, 200, items(items));
                }
                case "/api/v1/alerts" -> alerts(request, response);
                case "/api/v1/silences" -> {
                    JsonArray items = new JsonArray();
                    Instant now = Instant.now();
                    for (Silence s : alerts.silences()) {
                        JsonObject o = s.json();
                        o.addProperty("active", s.activeAt(now));
                        items.add(o);
                    }
                    Api.json(response, 200, items(items));
                }
                default -> notifications(request, response);
            }
        });
    }

    private static JsonObject items(JsonArray items) {
        JsonObject o = new JsonObject();
        o.add("items", items);
        return o;
    }

    private static JsonObject rule(Definition d) {
        JsonObject o = JsonParser.parseString(d.body()).getAsJsonObject();
        o.addProperty("updated_at", d.updatedAt().toString());
        return o;
    }

    private void alerts(HttpServletRequest request, HttpServletResponse response) throws IOException, StoreException {
        String only = request.getParameter("state");
        if (only != null && !List.of("pending", "firing", "resolving", "nodata", "resolved").contains(only)) {
            Api.error(response, 400, "state: '" + WireCodec.abbreviate(only) + "' is not pending, firing, resolving, nodata or resolved");
            return;
        }
        Map<String, AlertRule> rules = new HashMap<>();
        for (AlertRule r : alerts.rules()) {
            rules.put(r.name(), r);
        }
        List<Silence> silences = alerts.silences();
        List<Maintenance> windows = alerts.maintenance();
        Map<String, List<String>> targetTags = windows.isEmpty() ? Map.of() : alerts.targetTags();
        Map<String, io.sonde.server.spi.AgentRecord> agents = new HashMap<>();
        if (!windows.isEmpty()) {
            for (io.sonde.server.spi.AgentRecord a : store.agents()) {
                agents.put(a.agentId(), a);
            }
        }
        Instant now = Instant.now();
        JsonArray items = new JsonArray();
        for (AlertState s : alerts.states()) {
            AlertRule rule = rules.get(s.rule());
            boolean silenced = rule != null && AlertService.silenced(silences, rule, s.subject(), now);
            String maintenance = rule == null ? null : AlertService.maintenance(windows, rule, s.subject(), targetTags, agents, now);
            JsonObject v = AlertService.view(s, rule, silenced || maintenance != null, maintenance);
            String state = v.get("state").getAsString();
            if (state.equals("ok") || (only != null && !only.equals(state))) {
                continue;
            }
            items.add(v);
        }
        Api.json(response, 200, items(items));
    }

    private void notifications(HttpServletRequest request, HttpServletResponse response) throws IOException, StoreException {
        int limit = 100;
        String l = request.getParameter("limit");
        if (l != null) {
            try {
                limit = Integer.parseInt(l.strip());
            } catch (NumberFormatException e) {
                limit = -1;
            }
            if (limit < 1 || limit > 1000) {
                Api.error(response, 400, "limit: '" + WireCodec.abbreviate(l) + "' is not 1 to 1000");
                return;
            }
        }
        JsonArray items = new JsonArray();
        for (Notification n : store.notifications(limit)) {
            JsonObject o = new JsonObject();
            o.addProperty("id", n.id());
            o.addProperty("receiver", AlertRule.Receiver.fromKey(n.receiver()).where()); // a URL's path may hold a secret
            JsonObject p = JsonParser.parseString(n.payload()).getAsJsonObject();
            for (String k : List.of("status", "rule", "target", "agent", "summary")) {
                if (p.has(k)) {
                    o.add(k, p.get(k));
                }
            }
            o.addProperty("created_at", n.createdAt().toString());
            o.addProperty("attempts", n.attempts());
            o.addProperty("state", n.sentAt() != null ? "sent" : n.abandoned() ? "abandoned" : "pending");
            o.addProperty("sent_at", n.sentAt() == null ? null : n.sentAt().toString());
            o.addProperty("next_at", n.sentAt() != null || n.abandoned() ? null : n.nextAt().toString());
            o.addProperty("last_error", n.lastError());
            items.add(o);
        }
        Api.json(response, 200, items(items));
    }

    @Override
    protected void doPut(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!Api.requireAdmin(request, response)) {
            return;
        }
        String name = name(request);
        if (!request.getServletPath().equals("/api/v1/alert-rules") || name == null) {
            Api.error(response, 405, "PUT an alert rule at its own path, /api/v1/alert-rules/{name}");
            return;
        }
        Api.answer(response, () -> {
            JsonObject body = Api.read(request, MAX_BODY, JsonObject.class);
            if (body == null) {
                throw AlertRule.invalid("the body: a JSON object is needed");
            }
            AlertRule rule = AlertRule.parse(name, body);
            for (int i = 0; i < rule.receivers().size(); i++) {
                AlertRule.Receiver r = rule.receivers().get(i);
                if (r.named() && store.definition(Definition.RECEIVER, r.url()).isEmpty()) {
                    throw AlertRule.invalid("notify[" + i + "].receiver: no receiver named '" + WireCodec.abbreviate(r.url())
                            + "': define it first (PUT /api/v1/receivers/{name})");
                }
            }
            if (store.definitionCount(Definition.ALERT_RULE) >= AlertService.MAX_RULES && store.definition(Definition.ALERT_RULE, name).isEmpty()) {
                Api.error(response, 409, "the server keeps at most " + AlertService.MAX_RULES + " alert rules; delete one first");
                return;
            }
            JsonObject canonical = rule.json();
            String warning = unknownTarget(rule);
            boolean replaced = store.putDefinition(new Definition(Definition.ALERT_RULE, name, canonical.toString(), Instant.now()));
            LOG.info("Alert rule '{}' {}", name, replaced ? "replaced" : "defined");
            JsonObject shown = canonical.deepCopy();
            if (warning != null) {
                shown.addProperty("warning", warning);
            }
            Api.json(response, replaced ? 200 : 201, shown);
        });
    }

    /**
     * @return a warning when the rule names a target that neither a definition nor a result has:
     *         taken all the same, since a target an agent configures locally appears only with its
     *         first result; null otherwise
     */
    private String unknownTarget(AlertRule rule) throws StoreException {
        if (!rule.type().aboutTargets || rule.target().equals("*") || store.definition(Definition.TARGET, rule.target()).isPresent()) {
            return null;
        }
        for (io.sonde.server.spi.SeriesName n : store.seriesNames()) {
            if (n.target().equals(rule.target())) {
                return null;
            }
        }
        return "no target definition or result names '" + rule.target() + "' yet: the rule shows no state until one does"
                + " (a target an agent configures in its own files appears with its first result)";
    }

    @Override
    protected void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!Api.requireAdmin(request, response)) {
            return;
        }
        if (!request.getServletPath().equals("/api/v1/silences") || name(request) != null) {
            Api.error(response, 405, "POST a silence to /api/v1/silences; PUT an alert rule at /api/v1/alert-rules/{name}");
            return;
        }
        Api.answer(response, () -> {
            JsonObject body = Api.read(request, MAX_BODY, JsonObject.class);
            if (body == null) {
                throw AlertRule.invalid("the body: a JSON object is needed");
            }
            String id = Secrets.token("").substring(0, 16).replace('-', 'x').replace('_', 'y');
            Silence s = Silence.parse(id, body, Instant.now());
            if (store.definitionCount(Definition.SILENCE) >= MAX_SILENCES) {
                Api.error(response, 409, "the server keeps at most " + MAX_SILENCES + " silences; delete ended ones first");
                return;
            }
            store.putDefinition(new Definition(Definition.SILENCE, id, s.json().toString(), Instant.now()));
            LOG.info("Silence {} until {}: {} ({})", id, s.endsAt(), s.matchers(), s.comment());
            Api.json(response, 201, s.json());
        });
    }

    @Override
    protected void doDelete(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!Api.requireAdmin(request, response)) {
            return;
        }
        String name = name(request);
        String path = request.getServletPath();
        if (name == null || !(path.equals("/api/v1/alert-rules") || path.equals("/api/v1/silences"))) {
            Api.error(response, 405, "DELETE an alert rule at /api/v1/alert-rules/{name}, a silence at /api/v1/silences/{id}");
            return;
        }
        String type = path.equals("/api/v1/silences") ? Definition.SILENCE : Definition.ALERT_RULE;
        Api.answer(response, () -> {
            if (!store.deleteDefinition(type, name)) {
                Api.error(response, 404, "no " + (type.equals(Definition.SILENCE) ? "silence" : "alert rule") + " '" + WireCodec.abbreviate(name) + "'");
                return;
            }
            LOG.info("{} '{}' deleted", type.equals(Definition.SILENCE) ? "Silence" : "Alert rule", name);
            response.setStatus(204);
        });
    }
}
