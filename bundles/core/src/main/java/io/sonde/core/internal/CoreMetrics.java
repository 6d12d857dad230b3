package io.sonde.core.internal;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import io.prometheus.client.Collector;
import io.prometheus.client.CounterMetricFamily;
import io.prometheus.client.GaugeMetricFamily;

/**
 * The core's self-metrics, registered as a {@link Collector} service for the exporter to serve:
 * {@code sonde_config_errors_total} and the {@code invalid} member of {@code sonde_targets}.
 */
final class CoreMetrics extends Collector {

    private final AtomicLong configErrors = new AtomicLong();
    private final AtomicInteger invalid = new AtomicInteger();

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
        return List.of(errors, targets);
    }
}
