package io.sonde.server.alerts.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import io.sonde.server.spi.AgentConfigs;
import io.sonde.server.spi.Page;
import io.sonde.server.spi.ResultQuery;
import io.sonde.server.spi.Store;
import io.sonde.server.spi.StoreException;
import io.sonde.server.spi.StoredResult;

/**
 * What a rule's observation asks beyond the round's windows, answered from the store for one
 * evaluation: a subject's latest result and last hour, the kinds' result schemas (read once, when a
 * rule asks), the AS table, an agent's configuration version. A store that fails answers nothing
 * (the rule sees no data) rather than stopping the round.
 */
final class StoredLookup implements Observe.Lookup {

    /** Most pages of results read for one subject's last hour. */
    private static final int MAX_PAGES = 20;

    private final Store store;
    private final Instant now;
    private final io.sonde.asn.AsnLookup asns;
    private final AgentConfigs configs;
    private Map<String, io.sonde.api.ResultSchema> schemas;

    /**
     * @param asns    the operator's IP-to-AS table, or null
     * @param configs the agents' configuration documents, or null
     */
    StoredLookup(Store store, Instant now, io.sonde.asn.AsnLookup asns, AgentConfigs configs) {
        this.store = store;
        this.now = now;
        this.asns = asns;
        this.configs = configs;
    }

    @Override
    public Optional<StoredResult> latest(String agentId, String target) {
        try {
            return store.latest(agentId, target);
        } catch (StoreException e) {
            return Optional.empty();
        }
    }

    @Override
    public List<StoredResult> lastHour(String agentId, String target) {
        List<StoredResult> out = new ArrayList<>();
        String after = null;
        try {
            for (int page = 0; page < MAX_PAGES; page++) {
                Page<StoredResult> p = store.results(new ResultQuery(agentId, target, now.minus(Duration.ofHours(1)), now, 1000, after));
                out.addAll(p.items());
                after = p.next();
                if (after == null) {
                    break;
                }
            }
        } catch (StoreException e) {
            // as far as it got
        }
        return out;
    }

    @Override
    public io.sonde.asn.AsnLookup asns() {
        return asns;
    }

    @Override
    public io.sonde.api.ResultSchema schema(String kind) {
        if (schemas == null) { // read once an evaluation, when a rule asks
            try {
                schemas = io.sonde.server.spi.AnnouncedKinds.results(store.announcedKinds().values());
            } catch (StoreException e) {
                schemas = Map.of();
            }
        }
        return schemas.get(kind);
    }

    @Override
    public Optional<String> configVersion(String agentId) {
        try {
            return configs == null ? Optional.empty() : configs.version(agentId);
        } catch (StoreException e) {
            return Optional.empty();
        }
    }
}
