package io.sonde.core.internal;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.osgi.service.component.annotations.Component;

import io.prometheus.client.Collector;
import io.prometheus.client.CounterMetricFamily;
import io.prometheus.client.GaugeMetricFamily;
import io.sonde.agent.spi.StatusReport;

/**
 * What the core reports: its self-metrics, a {@link Collector} for the exporter to serve
 * ({@code sonde_config_errors_total}, the {@code invalid}, {@code no_prober} and {@code resolving}
 * members of {@code sonde_targets}, {@code sonde_config_apply_seconds}, {@code sonde_agent_info}),
 * and the {@code config} section of {@code GET /status}. A component of its own, with no
 * references, that the {@link CatalogService} feeds: as services of the core's component they
 * would close a cycle of references through the exporter (it takes them and is a result sink of
 * the scheduler, a target listener the core takes; docs/architecture.md).
 */
@Component(service = {Collector.class, StatusReport.class, CoreReport.class},
        property = StatusReport.SECTION + "=config")
public final class CoreReport extends Collector implements StatusReport {

    private final AtomicLong configErrors = new AtomicLong();
    private final AtomicInteger invalid = new AtomicInteger();
    private final AtomicInteger noProber = new AtomicInteger();
    private final AtomicInteger resolving = new AtomicInteger();
    private final AtomicLong applyNanos = new AtomicLong();
    private volatile boolean cpuThrottled;
    private volatile boolean memoryThrottled;
    private volatile int shedLevel;
    private volatile List<String> agent = List.of("", "");
    private volatile boolean etc;
    private volatile boolean targetsFile;
    private volatile String server;
    private volatile int serverRejected;

    /** The core this reports on, or {@code null} while none runs. */
    private volatile CatalogService host;

    void attach(CatalogService core) {
        host = core;
    }

    void detach(CatalogService core) {
        if (host == core) {
            host = null;
        }
    }

    @Override
    public Map<String, Object> status() {
        CatalogService core = host;
        return core == null ? Map.of("running", false) : core.status();
    }

    /** The sources of targets in force: {@code server} is the origin of the server's document, or null. */
    void sources(boolean etcEntries, boolean file, String serverOrigin, int rejected) {
        etc = etcEntries;
        targetsFile = file;
        server = serverOrigin;
        serverRejected = rejected;
    }

    /** The agent's identity, for {@code sonde_agent_info}. */
    void agent(String agentId, String tags) {
        agent = List.of(agentId, tags);
    }

    void configError() {
        configErrors.incrementAndGet();
    }

    long configErrors() {
        return configErrors.get();
    }

    int invalidEntries() {
        return invalid.get();
    }

    int noProberEntries() {
        return noProber.get();
    }

    int resolvingEntries() {
        return resolving.get();
    }

    /** The entries that are not targets now, by why. */
    void entries(int invalidEntries, int noProberEntries, int resolvingEntries) {
        invalid.set(invalidEntries);
        noProber.set(noProberEntries);
        resolving.set(resolvingEntries);
    }

    /** Whether the agent is over its ceilings now, and how far it sheds load. */
    void resources(boolean cpu, boolean memory, int level) {
        cpuThrottled = cpu;
        memoryThrottled = memory;
        shedLevel = level;
    }

    /** The core time the last configuration change took to apply. */
    void recomputed(long nanos) {
        applyNanos.set(nanos);
    }

    @Override
    public List<MetricFamilySamples> collect() {
        CounterMetricFamily errors = new CounterMetricFamily("sonde_config_errors_total",
                "Configuration errors found since start; each bad change counts once", configErrors.get());
        GaugeMetricFamily targets = new GaugeMetricFamily("sonde_targets",
                "Targets by state: active (probed), backoff (failing, probed less often), no_prober (no plugin for its kind),"
                        + " resolving (waiting for its host's address), invalid (configuration entries whose current version is rejected)",
                List.of("state"));
        targets.addMetric(List.of("invalid"), invalid.get());
        targets.addMetric(List.of("no_prober"), noProber.get());
        targets.addMetric(List.of("resolving"), resolving.get());
        GaugeMetricFamily apply = new GaugeMetricFamily("sonde_config_apply_seconds",
                "Core time the last change of the target configuration took to check and apply", applyNanos.get() / 1e9);
        GaugeMetricFamily info = new GaugeMetricFamily("sonde_agent_info", "The agent's identity: agent_id and tags",
                List.of("agent_id", "tags"));
        info.addMetric(agent, 1);
        GaugeMetricFamily throttled = new GaugeMetricFamily("sonde_resource_throttled",
                "1 while the agent's use is over its ceiling (max_cpu_percent, max_memory_mb) and it stretches target intervals",
                List.of("resource"));
        throttled.addMetric(List.of("cpu"), cpuThrottled ? 1 : 0);
        throttled.addMetric(List.of("memory"), memoryThrottled ? 1 : 0);
        GaugeMetricFamily shed = new GaugeMetricFamily("sonde_resource_shed_level",
                "How far the agent sheds load under its ceilings: 0 none, 8 every interval doubled, 32 at most (x16)", shedLevel);
        GaugeMetricFamily sources = new GaugeMetricFamily("sonde_config_source",
                "1 for each source of targets in force: etc (io.sonde.target files), targets_file, server (the server's document),"
                        + " server-cache (its copy kept on disk, while the server has sent none since the start)",
                List.of("source"));
        sources.addMetric(List.of("etc"), etc ? 1 : 0);
        sources.addMetric(List.of("targets_file"), targetsFile ? 1 : 0);
        sources.addMetric(List.of(io.sonde.agent.spi.RemoteConfig.SERVER), io.sonde.agent.spi.RemoteConfig.SERVER.equals(server) ? 1 : 0);
        sources.addMetric(List.of(io.sonde.agent.spi.RemoteConfig.SERVER_CACHE),
                io.sonde.agent.spi.RemoteConfig.SERVER_CACHE.equals(server) ? 1 : 0);
        GaugeMetricFamily rejected = new GaugeMetricFamily("sonde_config_server_rejected",
                "Entries of the server's configuration document this agent refuses now (reported to the server)", serverRejected);
        return List.of(errors, targets, apply, throttled, shed, info, sources, rejected);
    }
}
