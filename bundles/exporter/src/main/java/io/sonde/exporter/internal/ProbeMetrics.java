package io.sonde.exporter.internal;

import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.Counter;
import io.prometheus.client.Gauge;
import io.prometheus.client.Histogram;
import io.sonde.api.FailureReason;
import io.sonde.api.ProbeResult;
import io.sonde.api.Target;

/** The per-target probe metrics of DESIGN.md, fed by probe results. */
final class ProbeMetrics {

    /** Latency buckets from 100 µs to 10 s, about three per decade. */
    static final double[] LATENCY_BUCKETS = {
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
    };

    private final Histogram latency;
    private final Counter total;
    private final Counter timeouts;
    private final Counter failures;
    private final Gauge success;

    ProbeMetrics(CollectorRegistry registry) {
        latency = Histogram.build("probe_latency_seconds", "Latency of successful probes")
                .labelNames("target", "kind").buckets(LATENCY_BUCKETS).register(registry);
        total = Counter.build("probe_total", "Probes attempted")
                .labelNames("target", "kind").register(registry);
        timeouts = Counter.build("probe_timeout_total", "Probes that got no answer within their timeout")
                .labelNames("target", "kind").register(registry);
        failures = Counter.build("probe_failure_total", "Probes that failed other than by timeout, by reason")
                .labelNames("target", "kind", "reason").register(registry);
        success = Gauge.build("probe_success", "1 if the last probe succeeded, else 0")
                .labelNames("target", "kind").register(registry);
    }

    void record(ProbeResult result) {
        Target t = result.target();
        String name = t.name();
        String kind = t.kind();
        total.labels(name, kind).inc();
        Counter.Child timeout = timeouts.labels(name, kind); // exists at 0 from the first probe on
        if (result.isSuccessful()) {
            latency.labels(name, kind).observe(seconds(result));
            success.labels(name, kind).set(1);
        } else {
            success.labels(name, kind).set(0);
            if (result.failureReason() == FailureReason.TIMEOUT) {
                timeout.inc();
            } else {
                failures.labels(name, kind, result.failureReason().label()).inc();
            }
        }
    }

    void remove(Target t) {
        String name = t.name();
        String kind = t.kind();
        latency.remove(name, kind);
        total.remove(name, kind);
        timeouts.remove(name, kind);
        success.remove(name, kind);
        for (FailureReason r : FailureReason.values()) {
            failures.remove(name, kind, r.label());
        }
    }

    private static double seconds(ProbeResult r) {
        return r.responseTime() == null ? 0 : r.responseTime().toNanos() / 1e9;
    }
}
