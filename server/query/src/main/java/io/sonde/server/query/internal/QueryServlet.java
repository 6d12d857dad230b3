package io.sonde.server.query.internal;

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
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

import io.sonde.server.spi.Api;
import io.sonde.server.spi.QueryParams;
import io.sonde.server.spi.Page;
import io.sonde.server.spi.ResultQuery;
import io.sonde.server.spi.SeriesQuery;
import io.sonde.server.spi.SeriesStep;
import io.sonde.server.spi.ResultStore;
import io.sonde.server.spi.StoreException;
import io.sonde.server.spi.StoredResult;
import io.sonde.wire.WireException;
import io.sonde.wire.WireResult;

/**
 * What was stored: {@code GET /api/v1/results} (raw results with their identity, paged) and
 * {@code GET /api/v1/series} (per step: count, failures, loss, min, max, p50, p90, p99; or, with {@code value}, a
 * named value of any kind's results per step).
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern({"/api/v1/results", "/api/v1/series", "/api/v1/observed"})
public final class QueryServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    static final Duration MIN_STEP = Duration.ofSeconds(10);
    static final Duration MAX_STEP = Duration.ofDays(1);
    static final long MAX_STEPS = 100_000;
    static final int MAX_LIMIT = 10_000;

    private final transient ResultStore store;
    /** The operator's IP-to-AS table (etc/io.sonde.asn.cfg), when there is one: hops and paths get their AS. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile transient io.sonde.asn.AsnLookup asns;

    @Activate
    public QueryServlet(@Reference ResultStore store) {
        this.store = store;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!Api.requireRead(request, response)) {
            return;
        }
        QueryParams p = new QueryParams(request.getParameterMap());
        Api.answer(response, () -> {
            Instant now = Instant.now();
            Instant to = p.time("to", now);
            if ("/api/v1/observed".equals(request.getServletPath())) {
                observed(response);
                return;
            }
            if ("/api/v1/results".equals(request.getServletPath())) {
                Instant from = p.time("from", to.minus(Duration.ofHours(1)));
                checkRange(from, to);
                Page<StoredResult> page = store.results(new ResultQuery(p.text("agent"), p.text("target"), from, to,
                        p.integer("limit", 1000, 1, MAX_LIMIT), p.text("after")));
                List<Map<String, Object>> items = new ArrayList<>(page.items().size());
                io.sonde.asn.AsnLookup table = asns;
                for (StoredResult r : page.items()) {
                    Map<String, Object> v = view(r);
                    if (table != null) {
                        v.put("details", io.sonde.asn.HopAsns.annotate(r.details(), table));
                    }
                    items.add(v);
                }
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("items", items);
                body.put("next", page.next());
                Api.json(response, 200, body);
            } else {
                String target = p.required("target");
                Duration step = p.duration("step", Duration.ofMinutes(5));
                if (step.compareTo(MIN_STEP) < 0 || step.compareTo(MAX_STEP) > 0) {
                    throw QueryParams.bad("step", step.toSeconds() + " s is not between 10 s and 1 day");
                }
                Instant from = p.time("from", to.minus(Duration.ofDays(1)));
                checkRange(from, to);
                if (Duration.between(from, to).dividedBy(step) > MAX_STEPS) {
                    throw QueryParams.bad("step", "the range holds more than " + MAX_STEPS + " steps; take a longer step");
                }
                String value = p.text("value");
                if (value != null) {
                    valueSeries(response, p.text("agent"), target, value, from, to, step);
                    return;
                }
                List<SeriesStep> steps = store.series(new SeriesQuery(p.text("agent"), target, from, to, step));
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("items", steps.stream().map(QueryServlet::view).toList());
                body.put("next", null);
                Api.json(response, 200, body);
            }
        });
    }

    /** Most results a series of a value reads: the raw results are read, not the rollups. */
    static final int MAX_VALUE_RESULTS = 200_000;

    /**
     * {@code GET /api/v1/series?value=<name>}: a named value of the target kind's results (any kind:
     * a name its result schema declares, or {@code name.entry} of a map), per step: how many
     * results had it, its min, max and percentiles. Read from the raw results, at most
     * {@value #MAX_VALUE_RESULTS} of them: a longer range is a 400 that says so.
     */
    private void valueSeries(HttpServletResponse response, String agent, String target, String value, Instant from, Instant to,
            Duration step) throws IOException, StoreException, WireException {
        if (!io.sonde.server.spi.ResultValues.NAME.matcher(value).matches()) {
            throw QueryParams.bad("value", "'" + io.sonde.wire.WireCodec.abbreviate(value)
                    + "' is not a value's name (lower case, digits and _, and .entry for a map's)");
        }
        long stepMs = step.toMillis();
        java.util.TreeMap<Long, List<Double>> byStep = new java.util.TreeMap<>();
        String after = null;
        int read = 0;
        do {
            Page<StoredResult> page = store.results(new ResultQuery(agent, target, from, to, MAX_LIMIT, after));
            for (StoredResult r : page.items()) {
                double v = io.sonde.server.spi.ResultValues.number(r.details(), value);
                if (!Double.isNaN(v)) {
                    long start = Math.floorDiv(r.result().startedAt().toEpochMilli(), stepMs) * stepMs;
                    byStep.computeIfAbsent(start, k -> new ArrayList<>()).add(v);
                }
            }
            read += page.items().size();
            after = page.next();
            if (after != null && read >= MAX_VALUE_RESULTS) {
                throw QueryParams.bad("from", "the range holds more than " + MAX_VALUE_RESULTS + " results of '" + io.sonde.wire.WireCodec.abbreviate(target)
                        + "'; a value's series is read from them: take a shorter range or one agent");
            }
        } while (after != null);
        List<Map<String, Object>> items = new ArrayList<>(byStep.size());
        byStep.forEach((start, values) -> {
            values.sort(Double::compare);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("start", Instant.ofEpochMilli(start).toString());
            m.put("count", values.size());
            m.put("min", values.get(0));
            m.put("max", values.get(values.size() - 1));
            m.put("p50", rank(values, 0.5));
            m.put("p90", rank(values, 0.9));
            m.put("p99", rank(values, 0.99));
            items.add(m);
        });
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("value", value);
        body.put("items", items);
        body.put("next", null);
        Api.json(response, 200, body);
    }

    /** The nearest-rank percentile of sorted values, as the store's series take it. */
    static double rank(List<Double> sorted, double q) {
        return sorted.get(Math.max(0, (int) Math.ceil(q * sorted.size()) - 1));
    }

    /** {@code GET /api/v1/observed}: every target that has results, with its kinds and the agents that measure it. */
    @SuppressWarnings("unchecked")
    private void observed(HttpServletResponse response) throws IOException, StoreException {
        Map<String, Map<String, Object>> byTarget = new java.util.TreeMap<>();
        for (io.sonde.server.spi.SeriesName n : store.seriesNames()) {
            Map<String, Object> t = byTarget.computeIfAbsent(n.target(), k -> {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("target", k);
                m.put("kinds", new java.util.TreeSet<String>());
                m.put("agents", new java.util.TreeSet<String>());
                return m;
            });
            ((java.util.Set<String>) t.get("kinds")).add(n.kind());
            ((java.util.Set<String>) t.get("agents")).add(n.agentId());
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("items", new ArrayList<>(byTarget.values()));
        body.put("next", null);
        Api.json(response, 200, body);
    }

    private static void checkRange(Instant from, Instant to) throws WireException {
        if (!from.isBefore(to)) {
            throw QueryParams.bad("from", from + " is not before 'to' (" + to + ")");
        }
    }

    static Map<String, Object> view(StoredResult s) {
        WireResult r = s.result();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("agent_id", s.agentId());
        m.put("epoch", s.epoch());
        m.put("seq", r.seq());
        m.put("target", r.target());
        m.put("kind", r.kind());
        m.put("started_at", r.startedAt().toString());
        m.put("success", r.success());
        m.put("failure_reason", r.failureReason());
        m.put("error", r.error());
        m.put("response_time_seconds", r.responseTimeSeconds());
        m.put("details", s.details());
        m.put("labels", r.labelsOrEmpty());
        return m;
    }

    static Map<String, Object> view(SeriesStep s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("start", s.start().toString());
        m.put("count", s.count());
        m.put("failures", s.failures());
        m.put("loss", s.loss());
        m.put("min", s.min());
        m.put("max", s.max());
        m.put("p50", s.p50());
        m.put("p90", s.p90());
        m.put("p99", s.p99());
        return m;
    }
}
