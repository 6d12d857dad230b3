package io.sonde.plugin.icmp.internal;

import java.util.List;
import java.util.Locale;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import io.prometheus.client.Collector;
import io.prometheus.client.GaugeMetricFamily;
import io.sonde.api.Prober;
import io.sonde.sockets.Family;

/**
 * {@code sonde_icmp_mode}: how this plugin's ICMP prober sends echo requests, per address family, for
 * the agent's {@code /metrics}. A component of its own rather than a second service name of the
 * prober: Felix shows a service only to a bundle that can use every class it is registered under,
 * and a program embedding the probes with its own Prometheus client on its class path would no
 * longer see the prober.
 */
@Component(service = Collector.class)
public final class IcmpModeMetrics extends Collector {

    private final IcmpProber prober;

    @Activate
    public IcmpModeMetrics(@Reference(target = "(component.name=io.sonde.plugin.icmp.internal.IcmpProber)") Prober prober) {
        this.prober = (IcmpProber) prober;
    }

    @Override
    public List<MetricFamilySamples> collect() {
        GaugeMetricFamily f = new GaugeMetricFamily("sonde_icmp_mode",
                "How ICMP echo is sent, per address family: datagram, raw, ping or none",
                List.of("family", "mode"));
        for (Family family : Family.values()) {
            f.addMetric(List.of(family.name().toLowerCase(Locale.ROOT), prober.mode(family).label()), 1);
        }
        return List.of(f);
    }
}
