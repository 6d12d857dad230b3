package io.sonde.scheduler.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Component;

import io.prometheus.client.Collector;
import io.prometheus.client.Counter;
import io.prometheus.client.CounterMetricFamily;
import io.prometheus.client.GaugeMetricFamily;
import io.prometheus.client.Histogram;
import io.sonde.agent.spi.StatusReport;

/**
 * What the scheduler reports: its self-metrics (a {@link Collector}, served by the exporter's
 * {@code /metrics}) and its section of {@code GET /status}. A component of its own, with no
 * references, that the {@link Scheduler} feeds: were these services of the scheduler's component,
 * the exporter, which takes them and is a result sink the scheduler takes, would close a cycle of
 * references with it (docs/architecture.md). Until a scheduler is attached, the section says so.
 */
@Component(service = {Collector.class, StatusReport.class, SchedulerReport.class},
        property = StatusReport.SECTION + "=scheduler")
public final class SchedulerReport extends Collector implements StatusReport {

    static final String SKIP_OVERLAP = "overlap";
    static final String SKIP_LATE = "late";

    /** Counts of targets by state, and the sinks, supplied by the scheduler at collection time. */
    record State(int active, int backoff, int noProber, List<SinkWorker> sinks, long results, java.util.Map<String, Long> holdDrops) {
    }

    private final Histogram lateness = Histogram.build("sonde_scheduler_lateness_seconds",
                    "How late probes start against their planned time")
            .buckets(0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5)
            .create();
    private final Counter skipped = Counter.build("sonde_scheduler_skipped_total",
                    "Probe turns skipped: overlap (the previous probe still ran) or late (the turn had passed)")
            .labelNames("reason")
            .create();
    private final java.util.concurrent.atomic.AtomicLong inFlight = new java.util.concurrent.atomic.AtomicLong();
    /** The scheduler this reports on, or {@code null} while none runs. */
    private volatile Scheduler host;

    public SchedulerReport() {
        skipped.labels(SKIP_OVERLAP);
        skipped.labels(SKIP_LATE);
    }

    void attach(Scheduler scheduler) {
        host = scheduler;
    }

    void detach(Scheduler scheduler) {
        if (host == scheduler) {
            host = null;
        }
    }

    @Override
    public Map<String, Object> status() {
        Scheduler s = host;
        return s == null ? Map.of("running", false) : s.status();
    }

    void lateness(long nanos) {
        lateness.observe(Math.max(0, nanos) / 1e9);
    }

    void skipped(String reason, long turns) {
        skipped.labels(reason).inc(turns);
    }

    void started() {
        inFlight.incrementAndGet();
    }

    void finished() {
        inFlight.decrementAndGet();
    }

    @Override
    public List<MetricFamilySamples> collect() {
        List<MetricFamilySamples> out = new ArrayList<>();
        out.addAll(lateness.collect());
        out.addAll(skipped.collect());
        out.add(new GaugeMetricFamily("sonde_probes_in_flight", "Probes started and not yet finished", inFlight.get()));
        Scheduler scheduler = host;
        if (scheduler == null) {
            return out;
        }
        State s = scheduler.state();
        GaugeMetricFamily targets = new GaugeMetricFamily("sonde_targets",
                "Targets by state: active (probed), backoff (failing, probed less often), no_prober (no plugin for its kind),"
                        + " resolving (waiting for its host's address), invalid (configuration entries whose current version is rejected)",
                List.of("state"));
        targets.addMetric(List.of("active"), s.active());
        targets.addMetric(List.of("backoff"), s.backoff());
        out.add(targets);
        CounterMetricFamily dropped = new CounterMetricFamily("sonde_sink_dropped_total",
                "Results a sink could not take because its queue was full", List.of("sink"));
        CounterMetricFamily failures = new CounterMetricFamily("sonde_sink_failures_total",
                "Results a sink threw an exception on", List.of("sink"));
        CounterMetricFamily accepted = new CounterMetricFamily("sonde_sink_results_total",
                "Results handed to a sink since it came; sonde_results_total less this is what it never saw", List.of("sink"));
        for (SinkWorker w : s.sinks()) {
            dropped.addMetric(List.of(w.name()), w.dropped());
            failures.addMetric(List.of(w.name()), w.failures());
            accepted.addMetric(List.of(w.name()), w.delivered());
        }
        out.add(dropped);
        out.add(failures);
        out.add(accepted);
        CounterMetricFamily held = new CounterMetricFamily("sonde_sink_held_dropped_total",
                "Results held for a configured sink (sonde.scheduler.await_sinks) that went away and did not come back in time",
                List.of("sink"));
        s.holdDrops().forEach((name, n) -> held.addMetric(List.of(name), n));
        out.add(held);
        out.add(new CounterMetricFamily("sonde_results_total", "Probe results produced and fanned out to the sinks", s.results()));
        return out;
    }
}
