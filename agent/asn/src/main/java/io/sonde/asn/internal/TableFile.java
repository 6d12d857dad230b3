package io.sonde.asn.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.prometheus.client.Collector;
import io.prometheus.client.GaugeMetricFamily;
import io.prometheus.client.CounterMetricFamily;
import io.sonde.asn.AsnLookup;
import io.sonde.asn.AsnTable;
import io.sonde.asn.Origin;

/**
 * The table of the configured file, read at start and again whenever the file changes (its size or
 * time), on a thread of its own: a file that no longer reads leaves the table read before in use,
 * and says why in the log and in {@code sonde_asn_table_load_failures_total}.
 */
@Component(configurationPid = TableConfig.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = {AsnLookup.class, Collector.class})
@Designate(ocd = TableConfig.class)
public final class TableFile extends Collector implements AsnLookup {

    private static final Logger LOG = LoggerFactory.getLogger(TableFile.class);

    private final Path file;
    private final ScheduledExecutorService watcher;
    private volatile AsnTable table;
    private volatile long loadedAt;
    private volatile long failures;
    private volatile String stamp = "";

    /** @param context where {@code sonde.home} is read; null: none (tests, the file as given) */
    @Activate
    public TableFile(BundleContext context, TableConfig config) {
        // a relative file is the agent's or server's home's (sonde.home), as every other file of theirs
        java.util.Optional<Path> home = context == null ? java.util.Optional.empty() : io.sonde.base.Home.given(context::getProperty);
        this.file = home.map(h -> h.resolve(config.file())).orElse(Path.of(config.file())).toAbsolutePath().normalize();
        this.table = AsnTable.EMPTY;
        this.watcher = Executors.newSingleThreadScheduledExecutor(io.sonde.base.DaemonThreads.named("sonde-asn-table"));
        int every = Math.max(1, Math.min(3600, config.reload__s()));
        watcher.scheduleWithFixedDelay(this::look, 0, every, TimeUnit.SECONDS);
    }

    /** The table's figures, for the agent's or the server's {@code /metrics}. */
    @Override
    public List<MetricFamilySamples> collect() {
        return List.of(new GaugeMetricFamily("sonde_asn_table_entries", "Prefixes and ranges of the AS table in use",
                table.entries()),
                new GaugeMetricFamily("sonde_asn_table_loaded_timestamp_seconds",
                        "When the AS table in use was read (0: none yet)", loadedAt / 1000.0),
                new CounterMetricFamily("sonde_asn_table_load_failures_total",
                        "Times the AS table file was changed and could not be read (the table before stays in use)", failures));
    }

    /** Reads the file when it is new or changed. */
    void look() {
        String now;
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            now = a.size() + "/" + a.lastModifiedTime().toMillis();
        } catch (IOException e) {
            if (!stamp.equals("missing")) {
                stamp = "missing";
                failures++;
                LOG.warn("AS table {} cannot be read ({}); {}", file, e.toString(),
                        loadedAt == 0 ? "hops have no AS until it can" : "the table read before stays in use");
            }
            return;
        }
        if (now.equals(stamp)) {
            return;
        }
        stamp = now;
        long t0 = System.nanoTime();
        try {
            AsnTable t = AsnTable.read(file);
            table = t;
            loadedAt = System.currentTimeMillis();
            LOG.info("AS table {}: {} prefixes and ranges ({}), read in {} ms", file, t.entries(), t.format(),
                    (System.nanoTime() - t0) / 1_000_000);
        } catch (AsnTable.FormatException | IllegalStateException e) {
            failures++;
            LOG.warn("AS table not read: {}; {}", e.getMessage(), loadedAt == 0 ? "hops have no AS until it is fixed"
                    : "the table read before stays in use");
        } catch (IOException e) {
            failures++;
            LOG.warn("AS table {} not read: {}; {}", file, e.toString(), loadedAt == 0 ? "hops have no AS until it is fixed"
                    : "the table read before stays in use");
        } catch (OutOfMemoryError e) {
            failures++;
            LOG.error("AS table {} does not fit in memory; {}", file, loadedAt == 0 ? "hops have no AS" : "the table read before stays in use");
        }
    }

    /** @return times the file could not be read */
    long failures() {
        return failures;
    }

    @Override
    public Origin lookup(InetAddress address) {
        return table.lookup(address);
    }

    @Override
    public AsnTable table() {
        return table;
    }

    @Deactivate
    void deactivate() {
        watcher.shutdownNow();
    }
}
