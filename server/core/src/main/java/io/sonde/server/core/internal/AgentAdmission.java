package io.sonde.server.core.internal;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardFilterPattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.prometheus.client.Collector;
import io.prometheus.client.CounterMetricFamily;
import io.prometheus.client.GaugeMetricFamily;
import io.sonde.server.spi.Api;
import io.sonde.wire.ErrorDocument;

/**
 * Admission of the agents' exchanges (a batch of results, a status, the configuration document):
 * at most {@code max_agent_exchanges} are served at once; one beyond is answered 429 with
 * Retry-After at once, before its credential is checked or its body parsed, and its connection
 * stays (the body is read and dropped, up to a bound). An overloaded server otherwise queues the
 * exchanges until they take longer than the agents wait (10 s); each that times out costs a new
 * TLS connection, and the key exchanges take the CPU the queue needed: an overload that feeds
 * itself. Turned away, an agent waits as told (and up to half as long again), on the connection it
 * has. The exchanges are known by their method and path, before anyone is: an admin reading an
 * agent's configuration document counts as one; the admin's and the dashboard's other requests are
 * not counted (they are few, and an operator looking at an overloaded server must see it).
 *
 * <p>It runs before the {@link Authenticator} (a higher ranking) so that turning one away costs
 * no look-up in the store.
 */
@Component(service = {Filter.class, Collector.class}, configurationPid = ServerConfig.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL,
        property = "service.ranking:Integer=100")
@HttpWhiteboardFilterPattern("/api/v1/agents/*")
public final class AgentAdmission extends Collector implements Filter {

    private static final Logger LOG = LoggerFactory.getLogger(AgentAdmission.class);
    private static final String PREFIX = "/api/v1/agents/";
    /** What an agent is told to wait, in seconds: it adds up to half again, so the turned-away do not come back together. */
    static final String RETRY_AFTER = "1";
    /** The most of a turned-away body read so that its connection stays; beyond, the answer closes it. */
    static final long DRAIN_BYTES = 1 << 20;
    /** How often the log says exchanges were turned away, at most. */
    static final long LOG_EVERY_NS = 60_000_000_000L;

    /** The exchanges, in the order of {@link #EXCHANGES}: their counts of refusals. */
    private static final List<String> EXCHANGES = List.of("results", "status", "config");

    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong[] refused = {new AtomicLong(), new AtomicLong(), new AtomicLong()};
    private final AtomicLong refusedSinceLog = new AtomicLong();
    private final AtomicLong loggedAt = new AtomicLong(System.nanoTime() - LOG_EVERY_NS);
    private volatile int limit;

    @Activate
    public AgentAdmission(ServerConfig config) {
        modified(config);
    }

    /** Its metrics, served at the server's /metrics (a Collector service, by DS). */
    @Override
    public List<MetricFamilySamples> collect() {
        CounterMetricFamily r = new CounterMetricFamily("sonde_server_agent_exchanges_refused_total",
                "Agents' exchanges answered 429 at once: max_agent_exchanges were being served", List.of("exchange"));
        for (int i = 0; i < EXCHANGES.size(); i++) {
            r.addMetric(List.of(EXCHANGES.get(i)), refused[i].get());
        }
        return List.of(r, new GaugeMetricFamily("sonde_server_agent_exchanges_in_flight",
                "Agents' exchanges being served (at most max_agent_exchanges)", inFlight.get()));
    }

    @Modified
    void modified(ServerConfig config) {
        int l = config.max__agent__exchanges();
        if (l < 1) {
            LOG.error("max_agent_exchanges = {} in {}: it must be at least 1; {} are served at once", l, ServerConfig.PID,
                    ServerConfig.DEFAULT_MAX_AGENT_EXCHANGES);
            l = ServerConfig.DEFAULT_MAX_AGENT_EXCHANGES;
        }
        limit = l;
    }

    /**
     * @return which of the agents' exchanges this request is ({@code results}, {@code status},
     *         {@code config}), or -1 for any other request (an admin's)
     */
    static int exchange(String method, String path) {
        if (!path.startsWith(PREFIX)) {
            return -1;
        }
        int slash = path.indexOf('/', PREFIX.length());
        if (slash <= PREFIX.length() || path.indexOf('/', slash + 1) >= 0) {
            return -1;
        }
        String what = path.substring(slash + 1);
        return switch (what) {
            case "results", "status" -> "POST".equals(method) ? EXCHANGES.indexOf(what) : -1;
            case "config" -> "GET".equals(method) ? EXCHANGES.indexOf(what) : -1;
            default -> -1;
        };
    }

    /** @return whether one more exchange may be served now; if so, {@link #done()} must follow */
    boolean admit() {
        if (inFlight.incrementAndGet() > limit) {
            inFlight.decrementAndGet();
            return false;
        }
        return true;
    }

    void done() {
        inFlight.decrementAndGet();
    }

    int inFlight() {
        return inFlight.get();
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
        HttpServletRequest request = (HttpServletRequest) req;
        String path = request.getServletPath() + (request.getPathInfo() == null ? "" : request.getPathInfo());
        int exchange = exchange(request.getMethod(), path);
        if (exchange < 0) {
            chain.doFilter(req, res);
            return;
        }
        if (!admit()) {
            refuse((HttpServletResponse) res, request, exchange);
            return;
        }
        try {
            chain.doFilter(req, res);
        } finally {
            done();
        }
    }

    private void refuse(HttpServletResponse response, HttpServletRequest request, int exchange) throws IOException {
        refused[exchange].incrementAndGet();
        long n = refusedSinceLog.incrementAndGet();
        long last = loggedAt.get();
        long now = System.nanoTime();
        if (now - last >= LOG_EVERY_NS && loggedAt.compareAndSet(last, now)) {
            refusedSinceLog.addAndGet(-n);
            LOG.warn("Agents' exchanges are being turned away (429, Retry-After {} s): {} since the last word of it, {} being served"
                    + " at once (max_agent_exchanges in {}); they send again on their connections",
                    RETRY_AFTER, n, limit, ServerConfig.PID);
        }
        boolean read = request.getContentLengthLong() == 0 || Api.drained(request.getInputStream(), DRAIN_BYTES);
        response.setHeader("Retry-After", RETRY_AFTER);
        Api.json(response, 429, new ErrorDocument("the server is serving " + limit + " agents' exchanges at once"
                + " (max_agent_exchanges); send again after Retry-After"), !read);
    }
}
