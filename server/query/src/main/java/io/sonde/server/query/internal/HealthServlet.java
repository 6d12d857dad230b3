package io.sonde.server.query.internal;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

import io.sonde.agent.spi.Health;
import io.sonde.server.spi.AgentRecord;
import io.sonde.server.spi.AgentSelector;
import io.sonde.server.spi.Api;
import io.sonde.server.spi.QueryParams;
import io.sonde.server.spi.Definition;
import io.sonde.server.spi.FleetHealth;
import io.sonde.server.spi.Store;
import io.sonde.server.spi.StoreException;
import io.sonde.wire.WireException;

/**
 * What is broken now: {@code GET /api/v1/health} lists every target with its overall state by
 * the health model ({@link FleetHealth}), since when, from how many of its vantage agents, its
 * latest failure and the loss and median latency of the last window, worst first, filtered by
 * {@code state}, {@code tag} (the target's), {@code label} ({@code name=value}, once per label: the
 * target's labels), {@code agents} (a selector of vantage agents) and
 * {@code target} (a part of its name) and {@code agent} (one agent: the targets it is a vantage of,
 * each with its word alone, so an agent's page does not carry every other agent's), paged by
 * {@code limit} and {@code after}. Each target of the list carries at most {@code per_agent_limit}
 * of its vantage agents' words (100 unless asked), the worst first, and how many it left out: a
 * target every agent of ten thousand probes does not make the list ten thousand times longer.
 * {@code GET /api/v1/health/{target}} is one target with each agent's state.
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern({"/api/v1/health", "/api/v1/health/*"})
public final class HealthServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(HealthServlet.class);
    static final int MAX_LIMIT = 50_000;
    /** Vantage agents' words a target carries in the list unless {@code per_agent_limit} says otherwise: the worst first. */
    static final int PER_AGENT_LIMIT = 100;
    /** How long one computation of the fleet's health serves requests with the same window. */
    static final long CACHE_MS = 2000;
    /**
     * How long the window's loss and latency (a scan of every result in it, the costly part) serve
     * the computations: the states are read anew every {@link #CACHE_MS}, the figures beside them
     * at most this old.
     */
    static final long WINDOW_CACHE_MS = 10_000;
    /**
     * Figures older than {@link #WINDOW_CACHE_MS} but younger than this serve a request while one
     * thread reads them anew: at ten thousand agents the scan takes longer than a view may.
     */
    static final long WINDOW_STALE_MS = 60_000;

    private record Computed(long atMs, Duration window, List<FleetHealth.TargetHealth> targets, Map<String, AgentRecord> agents,
            Map<String, java.util.SortedMap<String, String>> labels) {
    }

    private record Window(long atMs, Duration window, List<io.sonde.server.spi.SeriesWindow> series) {
    }

    private final transient Store store;
    private final Duration offlineAfter;
    private transient volatile Computed last;
    private transient volatile Window lastWindow;
    /** Reads a window's figures anew in the background, one at a time. */
    private final transient java.util.concurrent.ExecutorService refresher = java.util.concurrent.Executors.newSingleThreadExecutor(io.sonde.base.DaemonThreads.named("sonde-health-window"));
    private final java.util.concurrent.atomic.AtomicBoolean refreshing = new java.util.concurrent.atomic.AtomicBoolean();

    @Activate
    public HealthServlet(@Reference Store store, @Reference io.sonde.server.spi.OfflineRule offline) {
        this.store = store;
        this.offlineAfter = offline.offlineAfter();
    }

    @org.osgi.service.component.annotations.Deactivate
    void deactivate() {
        refresher.shutdownNow();
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!Api.requireRead(request, response)) {
            return;
        }
        Map<String, String[]> query;
        try {
            query = request.getParameterMap();
        } catch (RuntimeException e) {
            Api.error(response, 400, "the query is not URL-encoded UTF-8 text: " + e.getMessage());
            return;
        }
        Api.answer(response, () -> {
            QueryParams p = new QueryParams(query);
            Duration window = p.duration("window", Duration.ofMinutes(1));
            if (window.compareTo(Duration.ofSeconds(10)) < 0 || window.compareTo(Duration.ofHours(1)) > 0) {
                throw QueryParams.bad("window", window.toSeconds() + " s is not between 10 s and 1 h");
            }
            String one;
            try {
                one = Api.pathName(request);
            } catch (IllegalArgumentException e) {
                throw QueryParams.bad("target", "the path's name is not URL-encoded text: " + e.getMessage());
            }
            Computed computed = compute(window);
            List<FleetHealth.TargetHealth> all = computed.targets();
            if (one != null) {
                for (FleetHealth.TargetHealth t : all) {
                    if (t.target().equals(one)) {
                        Api.json(response, 200, view(t, computed.labels(), true, null, Integer.MAX_VALUE));
                        return;
                    }
                }
                Api.error(response, 404, "no target '" + io.sonde.wire.WireCodec.abbreviate(one) + "': it has neither a definition nor results");
                return;
            }
            Set<Health.State> states = states(p.text("state"));
            String tag = p.text("tag");
            Map<String, String> label = p.labels("label");
            String part = p.text("target");
            AgentSelector agents = null;
            String selector = p.text("agents");
            if (selector != null) {
                try {
                    agents = AgentSelector.parse(selector);
                } catch (AgentSelector.ParseException e) {
                    throw QueryParams.bad("agents", e.getMessage());
                }
            }
            String agent = p.text("agent");
            Map<String, AgentRecord> byId = computed.agents(); // the agents the states were computed with: one read
            int limit = p.integer("limit", 500, 1, MAX_LIMIT);
            String perAgent = p.text("per_agent");
            if (perAgent != null && !perAgent.equals("true") && !perAgent.equals("false")) {
                throw QueryParams.bad("per_agent", "'" + io.sonde.wire.WireCodec.abbreviate(perAgent) + "' is neither true nor false");
            }
            boolean withAgents = !"false".equals(perAgent);
            int perAgentLimit = p.integer("per_agent_limit", PER_AGENT_LIMIT, 1, MAX_LIMIT);
            int after = p.integer("after", 0, 0, Integer.MAX_VALUE);
            List<FleetHealth.TargetHealth> chosen = new ArrayList<>();
            Map<Health.State, Integer> summary = new EnumMap<>(Health.State.class);
            for (FleetHealth.TargetHealth t : all) {
                if (tag != null && !t.tags().contains(tag) || part != null && !t.target().contains(part)
                        || !label.isEmpty() && !QueryParams.matches(label, computed.labels().getOrDefault(t.target(), EMPTY))) {
                    continue;
                }
                if (agent != null && t.vantages().stream().noneMatch(v -> v.agentId().equals(agent))) {
                    continue;
                }
                if (agents != null) {
                    AgentSelector sel = agents;
                    if (t.vantages().stream().noneMatch(v -> byId.containsKey(v.agentId()) && sel.matches(byId.get(v.agentId()).tags()))) {
                        continue;
                    }
                }
                summary.merge(t.overall().state(), 1, Integer::sum);
                if (states == null || states.contains(t.overall().state())) {
                    chosen.add(t);
                }
            }
            List<Map<String, Object>> items = new ArrayList<>();
            for (int i = after; i < chosen.size() && items.size() < limit; i++) {
                items.add(view(chosen.get(i), computed.labels(), withAgents, agent, perAgentLimit));
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("items", items);
            body.put("next", after + items.size() < chosen.size() ? Integer.toString(after + items.size()) : null);
            body.put("total", chosen.size());
            Map<String, Integer> counts = new LinkedHashMap<>();
            for (Health.State s : Health.State.values()) {
                counts.put(s.label(), summary.getOrDefault(s, 0));
            }
            body.put("summary", counts);
            body.put("window_seconds", window.toSeconds());
            Api.json(response, 200, body);
        });
    }

    /** @return the states named in {@code text} (a comma list; {@code down} takes backoff with it), or null for every state */
    static Set<Health.State> states(String text) throws WireException {
        if (text == null) {
            return null;
        }
        Set<Health.State> out = EnumSet.noneOf(Health.State.class);
        for (String s : text.split(",")) {
            Health.State st = Health.State.of(s);
            if (st == null) {
                throw QueryParams.bad("state", "'" + io.sonde.wire.WireCodec.abbreviate(s.strip()) + "' is not a state ("
                        + String.join(", ", java.util.Arrays.stream(Health.State.values()).map(Health.State::label).toList()) + ")");
            }
            out.add(st);
            if (st == Health.State.DOWN) {
                out.add(Health.State.BACKOFF);
            }
        }
        return out;
    }

    private Map<String, AgentRecord> agentsById() throws StoreException {
        Map<String, AgentRecord> agents = new HashMap<>();
        for (AgentRecord a : store.agents()) {
            agents.put(a.agentId(), a);
        }
        return agents;
    }

    private Computed compute(Duration window) throws StoreException {
        long now = System.currentTimeMillis();
        Computed c = last;
        if (c != null && c.window().equals(window) && now - c.atMs() < CACHE_MS && now >= c.atMs()) {
            return c;
        }
        Instant at = Instant.ofEpochMilli(now);
        long t0 = System.nanoTime();
        List<io.sonde.server.spi.TargetState> states = store.targetStates();
        long t1 = System.nanoTime();
        Window w = lastWindow;
        if (w == null || !w.window().equals(window) || now - w.atMs() >= WINDOW_STALE_MS || now < w.atMs()) {
            w = new Window(now, window, store.window(at.minus(window), at));
            lastWindow = w;
        } else if (now - w.atMs() >= WINDOW_CACHE_MS && refreshing.compareAndSet(false, true)) {
            try {
                refresher.execute(() -> {
                    try {
                        long at2 = System.currentTimeMillis();
                        lastWindow = new Window(at2, window, store.window(Instant.ofEpochMilli(at2).minus(window), Instant.ofEpochMilli(at2)));
                    } catch (StoreException | RuntimeException e) {
                        LOG.debug("The health window was not read anew: {}", e.toString()); // tried again at the next request
                    } finally {
                        refreshing.set(false);
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                refreshing.set(false); // deactivated
            }
        }
        List<io.sonde.server.spi.SeriesWindow> recent = w.series();
        long t2 = System.nanoTime();
        Map<String, AgentRecord> agents = agentsById();
        List<Definition> definitions = store.definitions(Definition.TARGET);
        List<FleetHealth.TargetHealth> targets = FleetHealth.compute(states, agents, definitions, recent, at, offlineAfter);
        Map<String, java.util.SortedMap<String, String>> labels = FleetHealth.targetLabels(definitions, store.targetLabels());
        long t3 = System.nanoTime();
        LOG.debug("Health of {} targets: states {} ms, window {} ms, rule {} ms", targets.size(), (t1 - t0) / 1_000_000,
                (t2 - t1) / 1_000_000, (t3 - t2) / 1_000_000);
        Computed computed = new Computed(now, window, targets, Map.copyOf(agents), labels);
        last = computed;
        return computed;
    }

    private static final java.util.SortedMap<String, String> EMPTY = java.util.Collections.emptySortedMap();

    /**
     * @param labels    the targets' labels, by name
     * @param onlyAgent when not null, the one agent whose word is listed under {@code agents}
     * @param most      most agents listed under {@code agents} (the worst first); {@code agents_omitted} says how many more
     */
    static Map<String, Object> view(FleetHealth.TargetHealth t, Map<String, java.util.SortedMap<String, String>> labels, boolean withAgents,
            String onlyAgent, int most) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("target", t.target());
        m.put("kind", t.kind());
        m.put("state", t.overall().state().label());
        m.put("text", t.overall().text());
        m.put("since", t.since() == null ? null : t.since().toString());
        m.put("affected", t.overall().affected());
        m.put("vantages", t.overall().vantages());
        Map<String, Integer> counts = new LinkedHashMap<>();
        t.overall().counts().entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> counts.put(e.getKey().label(), e.getValue()));
        m.put("counts", counts);
        m.put("defined", t.defined());
        m.put("tags", t.tags());
        m.put("labels", labels.getOrDefault(t.target(), EMPTY));
        Map<String, Object> failure = null;
        if (t.lastFailureAt() != null) {
            failure = new LinkedHashMap<>();
            failure.put("at", t.lastFailureAt().toString());
            failure.put("reason", t.lastReason());
            failure.put("error", t.lastError());
        }
        m.put("last_failure", failure);
        m.put("loss", Double.isNaN(t.loss()) ? null : t.loss());
        m.put("p50_seconds", Double.isNaN(t.p50()) ? null : t.p50());
        if (withAgents) {
            List<Map<String, Object>> agents = new ArrayList<>();
            int omitted = 0;
            for (FleetHealth.Vantage v : t.vantages()) {
                if (onlyAgent != null && !onlyAgent.equals(v.agentId())) {
                    continue;
                }
                if (agents.size() == most) {
                    omitted++;
                    continue;
                }
                Map<String, Object> a = new LinkedHashMap<>();
                a.put("agent_id", v.agentId());
                a.put("state", v.state().label());
                a.put("since", v.since() == null ? null : v.since().toString());
                a.put("reason", v.reason());
                a.put("last_at", v.lastAt() == null ? null : v.lastAt().toString());
                a.put("next_probe", v.nextProbe() == null ? null : v.nextProbe().toString());
                a.put("loss", Double.isNaN(v.loss()) ? null : v.loss());
                a.put("p50_seconds", Double.isNaN(v.p50()) ? null : v.p50());
                agents.add(a);
            }
            m.put("agents", agents);
            m.put("agents_omitted", omitted);
        }
        return m;
    }
}
