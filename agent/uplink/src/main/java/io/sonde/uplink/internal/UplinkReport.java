package io.sonde.uplink.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import org.osgi.service.component.annotations.Component;

import io.prometheus.client.Collector;
import io.prometheus.client.CounterMetricFamily;
import io.prometheus.client.GaugeMetricFamily;
import io.prometheus.client.Histogram;
import io.sonde.agent.spi.StatusReport;
import io.sonde.spool.Spool;

/**
 * What the uplink reports: its and its spool's self-metrics (a {@link Collector} the exporter
 * serves) and the {@code uplink} section of {@code GET /status}. A component of its own, with no
 * references, that the {@link Uplink} feeds: as services of the uplink's component they would
 * close a cycle of references through the exporter (it takes them and is, like the uplink, a
 * result sink of the scheduler; docs/architecture.md). The counters outlive a reconfigured
 * uplink; with no uplink (none configured) there are no figures and the section says
 * {@code running: false}.
 */
@Component(service = {Collector.class, StatusReport.class, UplinkReport.class},
        property = StatusReport.SECTION + "=uplink")
public final class UplinkReport extends Collector implements StatusReport {

    /** The uplink this reports on and its spool, or {@code null} while none runs. */
    private volatile Uplink host;
    private volatile Spool spool;
    private final java.util.function.LongSupplier clock = System::currentTimeMillis;
    volatile boolean up;
    final AtomicLong sent = new AtomicLong();
    final AtomicLong acked = new AtomicLong();
    final AtomicLong configRefused = new AtomicLong();
    final AtomicLong statusRefused = new AtomicLong();
    final Histogram batchSeconds = Histogram.build("sonde_uplink_batch_seconds",
                    "Time of one upload of results, from sending to the server's acknowledgement")
            .buckets(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
            .create();

    void attach(Uplink uplink, Spool itsSpool) {
        up = false;
        spool = itsSpool;
        host = uplink;
    }

    void detach(Uplink uplink) {
        if (host == uplink) {
            host = null;
            spool = null; // closed after this
            up = false;
        }
    }

    @Override
    public Map<String, Object> status() {
        Uplink uplink = host;
        return uplink == null ? Map.of("running", false) : uplink.status();
    }

    @Override
    public List<MetricFamilySamples> collect() {
        List<MetricFamilySamples> out = new ArrayList<>();
        Spool spool = this.spool;
        if (host == null || spool == null) {
            return out;
        }
        out.add(new GaugeMetricFamily("sonde_uplink_up", "1 when the last exchange with the server succeeded", up ? 1 : 0));
        out.add(new CounterMetricFamily("sonde_uplink_sent_total", "Results sent to the server, resent ones again", sent.get()));
        out.add(new CounterMetricFamily("sonde_uplink_acked_total", "Results the server acknowledged as stored", acked.get()));
        out.addAll(batchSeconds.collect());
        out.add(new CounterMetricFamily("sonde_uplink_config_refused_total",
                "Configuration documents refused as a whole (not JSON, another agent's, another schema), the kept copy too",
                configRefused.get()));
        out.add(new CounterMetricFamily("sonde_uplink_status_refused_total",
                "Statuses the server refused for good (400, 413, 422): the results were sent all the same", statusRefused.get()));
        out.add(new GaugeMetricFamily("sonde_spool_records", "Results in the spool not yet acknowledged by the server", spool.records()));
        out.add(new GaugeMetricFamily("sonde_spool_bytes", "Bytes the spool takes on disk", spool.bytes()));
        long oldest = spool.oldestMillis();
        out.add(new GaugeMetricFamily("sonde_spool_oldest_seconds", "Age of the oldest result waiting in the spool, 0 if none",
                oldest == Long.MAX_VALUE ? 0 : Math.max(0, clock.getAsLong() - oldest) / 1000.0));
        CounterMetricFamily dropped = new CounterMetricFamily("sonde_spool_dropped_total",
                "Results dropped from the spool: full (bound or disk), age, corrupt (found so at open), rejected (refused by the server for good),"
                        + " crash (numbered, not written when the agent was killed)",
                List.of("reason"));
        for (Map.Entry<String, Long> e : new java.util.TreeMap<>(spool.dropped()).entrySet()) {
            dropped.addMetric(List.of(e.getKey()), e.getValue());
        }
        out.add(dropped);
        return out;
    }
}
