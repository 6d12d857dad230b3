package io.sonde.server.core.internal;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

import io.prometheus.client.Collector;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.GaugeMetricFamily;
import io.prometheus.client.exporter.common.TextFormat;
import io.prometheus.client.hotspot.GarbageCollectorExports;
import io.prometheus.client.hotspot.MemoryPoolsExports;
import io.prometheus.client.hotspot.StandardExports;
import io.prometheus.client.hotspot.ThreadExports;
import io.sonde.server.spi.AgentRecord;
import io.sonde.server.spi.Store;
import io.sonde.server.spi.StoreException;

/**
 * {@code /metrics}: the server's own metrics in the Prometheus text format: every
 * {@link Collector} service of the server's bundles, the agents by state, and the JVM's.
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern("/metrics")
public final class MetricsServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    private final transient Set<Collector> collectors = new CopyOnWriteArraySet<>();
    private final transient CollectorRegistry jvm = new CollectorRegistry();
    private final transient Store store;
    private final long offlineAfterMs;

    @Activate
    public MetricsServlet(@Reference Store store, @Reference io.sonde.server.spi.OfflineRule offline) {
        this.store = store;
        this.offlineAfterMs = offline.offlineAfter().toMillis();
        new StandardExports().register(jvm);
        new MemoryPoolsExports().register(jvm);
        new GarbageCollectorExports().register(jvm);
        new ThreadExports().register(jvm);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addCollector(Collector c) {
        collectors.add(c);
    }

    void removeCollector(Collector c) {
        collectors.remove(c);
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        List<Collector.MetricFamilySamples> families = new ArrayList<>();
        for (Collector c : collectors) {
            families.addAll(c.collect());
        }
        GaugeMetricFamily agents = new GaugeMetricFamily("sonde_server_agents",
                "Enrolled agents by state: online (heard from lately), offline, revoked", List.of("state"));
        try {
            long online = 0;
            long offline = 0;
            long revoked = 0;
            Instant now = Instant.now();
            java.time.Duration offlineAfter = java.time.Duration.ofMillis(offlineAfterMs);
            for (AgentRecord a : store.agents()) {
                if (a.revokedAt() != null) {
                    revoked++;
                } else if (a.online(now, offlineAfter)) {
                    online++;
                } else {
                    offline++;
                }
            }
            agents.addMetric(List.of("online"), online);
            agents.addMetric(List.of("offline"), offline);
            agents.addMetric(List.of("revoked"), revoked);
            families.add(agents);
            io.prometheus.client.CounterMetricFamily gaps = new io.prometheus.client.CounterMetricFamily("sonde_server_result_gaps_total",
                    "Results an agent numbered that the server never stored (sequence numbers missing in its spool epochs): each is a"
                            + " loss, on the agent (spool full or old, killed before writing) or on the way; agents without any are not listed",
                    List.of("agent"));
            store.resultGaps().forEach((agent, n) -> gaps.addMetric(List.of(agent), n));
            families.add(gaps);
            families.add(new GaugeMetricFamily("sonde_server_stored_results",
                    "Results in the store (PostgreSQL: the planner's estimate)", store.resultCountEstimate()));
            families.add(new GaugeMetricFamily("sonde_server_store_up", "1 when the store answers", 1));
        } catch (StoreException e) {
            families.add(new GaugeMetricFamily("sonde_server_store_up", "1 when the store answers", 0));
        }
        families.addAll(Collections.list(jvm.metricFamilySamples()));
        response.setStatus(200);
        response.setContentType(TextFormat.CONTENT_TYPE_004);
        try (Writer w = new OutputStreamWriter(response.getOutputStream(), StandardCharsets.UTF_8)) {
            TextFormat.write004(w, Collections.enumeration(families));
        }
    }
}
