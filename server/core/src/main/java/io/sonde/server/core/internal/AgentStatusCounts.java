package io.sonde.server.core.internal;

import java.util.List;

import org.osgi.service.component.annotations.Component;

import io.prometheus.client.Collector;
import io.prometheus.client.Counter;

/**
 * The agents' statuses counted by what they said of the agent's kinds (in full, by their hash, by a
 * hash this instance asked to be sent again in full, nothing): the agents servlet counts, the
 * server's /metrics serves ({@code sonde_server_agent_statuses_total}), a Collector service by DS.
 */
@Component(service = {AgentStatusCounts.class, Collector.class})
public final class AgentStatusCounts extends Collector {

    private final Counter statuses = Counter.build("sonde_server_agent_statuses_total",
            "Agent statuses, by what they carried of the agent's kinds: full, hash (held here), asked (sent again in full at once),"
                    + " none").labelNames("kinds").create();

    public AgentStatusCounts() {
        for (String k : List.of("full", "hash", "asked", "none")) {
            statuses.labels(k);
        }
    }

    /** @param kinds what a status said of the agent's kinds: {@code full}, {@code hash}, {@code asked} or {@code none} */
    void counted(String kinds) {
        statuses.labels(kinds).inc();
    }

    @Override
    public List<MetricFamilySamples> collect() {
        return statuses.collect();
    }
}
