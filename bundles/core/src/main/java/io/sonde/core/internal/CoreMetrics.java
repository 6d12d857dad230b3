package io.sonde.core.internal;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import io.prometheus.client.Collector;
import io.prometheus.client.CounterMetricFamily;
import io.prometheus.client.GaugeMetricFamily;

/**
 * The core's self-metrics, registered as a {@link Collector} service for the exporter to serve:
 * {@code sonde_config_errors_total}, the {@code invalid} member of {@code sonde_targets} and
 * {@code sonde_agent_info}.
 */
final class CoreMetrics extends Collector {

    private final AtomicLong configErrors = new AtomicLong();
    private final AtomicInteger invalid = new AtomicInteger();
    private volatile List<String> agent = List.of("", "");

    /** The agent's identity, for {@code sonde_agent_info}. */
    void agent(String agentId, String tags) {
        agent = List.of(agentId, tags);
    }

    void configError() {
        configErrors.incrementAndGet();
    }

    void invalid(int entries) {
        invalid.set(entries);
    }

    @Override
    public List<MetricFamilySamples> collect() {
        CounterMetricFamily errors = new CounterMetricFamily("sonde_config_errors_total",
                "Configuration errors found since start; each bad change counts once", configErrors.get());
        GaugeMetricFamily targets = new GaugeMetricFamily("sonde_targets",
                "Targets by state: active (probed), no_prober (no plugin for its kind), invalid (configuration entries whose current version is rejected)",
                List.of("state"));
        targets.addMetric(List.of("invalid"), invalid.get());
        GaugeMetricFamily info = new GaugeMetricFamily("sonde_agent_info", "The agent's identity: agent_id and tags",
                List.of("agent_id", "tags"));
        info.addMetric(agent, 1);
        return List.of(errors, targets, info);
    }
}
