package io.sonde.core.internal;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.prometheus.client.Collector;
import io.prometheus.client.CounterMetricFamily;

/**
 * Reports jars in {@code plugins/} that cannot be installed. FileInstall installs the good ones and
 * passes over the others without a word; this says which file, and why, once per version of the
 * file. Like FileInstall it looks at a file only once it has stopped changing, so a copy still in
 * progress is not reported.
 */
@Component(service = Collector.class, immediate = true)
public final class PluginDirectoryWatch extends Collector {

    private static final Logger LOG = LoggerFactory.getLogger(PluginDirectoryWatch.class);
    private static final long POLL_MS = 1000;

    private final Path dir;
    private final ScheduledExecutorService executor;
    private final Map<Path, Object> seen = new HashMap<>(); // on the executor only
    private final Set<Object> checked = new HashSet<>(); // on the executor only
    private final AtomicLong errors = new AtomicLong();

    @Activate
    public PluginDirectoryWatch(BundleContext context) {
        dir = io.sonde.base.Home.given(context::getProperty).map(home -> home.resolve("plugins")).orElse(null);
        executor = Executors.newSingleThreadScheduledExecutor(io.sonde.base.DaemonThreads.named("sonde-plugin-check"));
        if (dir != null) {
            executor.scheduleWithFixedDelay(this::scan, POLL_MS, POLL_MS, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public List<MetricFamilySamples> collect() {
        return List.of(new CounterMetricFamily("sonde_plugin_errors_total",
                "Jars in plugins/ that could not be installed, each version of a file once", errors.get()));
    }

    @Deactivate
    void deactivate() {
        executor.shutdownNow();
    }

    private void scan() {
        Map<Path, Object> now = new HashMap<>();
        try (DirectoryStream<Path> jars = Files.newDirectoryStream(dir, "*.jar")) {
            for (Path jar : jars) {
                BasicFileAttributes a = Files.readAttributes(jar, BasicFileAttributes.class);
                now.put(jar, List.of(jar, a.size(), a.lastModifiedTime()));
            }
        } catch (IOException | RuntimeException e) {
            return; // the directory is gone or unreadable: FileInstall says so
        }
        for (Map.Entry<Path, Object> e : now.entrySet()) {
            Object stamp = e.getValue();
            // unchanged since the last poll, and this version not yet looked at
            if (stamp.equals(seen.get(e.getKey())) && checked.add(stamp)) {
                String problem = PluginJarCheck.problem(e.getKey());
                if (problem != null) {
                    errors.incrementAndGet();
                    LOG.warn("Plugin {} cannot be installed: {}. It is ignored until it changes.", e.getKey(), problem);
                }
            }
        }
        checked.removeIf(stamp -> !now.containsValue(stamp));
        seen.clear();
        seen.putAll(now);
    }
}
