package io.sonde.server.core.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.sonde.server.spi.AgentConfigs;
import io.sonde.server.spi.AgentRecord;
import io.sonde.server.spi.StoreException;
import io.sonde.wire.AgentStatus;

/** An agent as {@code GET /api/v1/agents} lists it and {@code GET /api/v1/agents/{id}} shows it. */
final class AgentView {

    private AgentView() {
    }

    /**
     * What the agent applies against what the server has for it: stale when the versions differ,
     * and why as far as the server can tell.
     */
    private static Map<String, Object> configView(AgentRecord a, Instant now, AgentConfigs documents, Duration offlineAfter) {
        String current = null;
        if (documents != null && a.revokedAt() == null) {
            try {
                current = documents.version(a.agentId()).orElse(null);
            } catch (StoreException e) {
                current = null; // the store is away: nothing to compare with
            }
        }
        AgentRecord.ConfigReport r = a.config();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("current", current);
        m.put("applied", r == null ? null : r.version());
        m.put("source", r == null ? null : r.source());
        m.put("reported_at", r == null ? null : r.reportedAt().toString());
        boolean stale = current != null && (r == null || !current.equals(r.version()));
        m.put("stale", stale);
        String why = null;
        if (stale) {
            if (!a.online(now, offlineAfter)) {
                why = "offline since " + (a.lastSeen() == null ? "it enrolled" : a.lastSeen().toString())
                        + ": it runs on what it had then";
            } else if (r == null || r.version() == null) {
                why = "has not reported applying a configuration document (it has not fetched one yet, or it is older than"
                        + " configuration by the server)";
            } else if ("server-cache".equals(r.source())) {
                why = "runs on its kept copy " + r.version() + ": it cannot fetch its document from the server";
            } else {
                why = "applies " + r.version() + "; the new document reaches it at its next poll";
            }
        }
        m.put("stale_reason", why);
        List<Map<String, String>> rejected = new ArrayList<>();
        if (r != null) {
            for (AgentStatus.Rejected x : r.rejected()) {
                Map<String, String> e = new LinkedHashMap<>();
                e.put("name", x.name());
                e.put("reason", x.reason());
                rejected.add(e);
            }
        }
        m.put("rejected", rejected);
        m.put("updates", r == null ? List.of() : r.updates());
        return m;
    }

    /**
     * @param configs       the agents' configuration documents, or null (none to compare with)
     * @param offlineAfter  the offline rule's silence
     * @return the agent as the API lists and shows it
     */
    static Map<String, Object> of(AgentRecord a, Instant now, AgentConfigs configs, Duration offlineAfter) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("agent_id", a.agentId());
        m.put("tags", a.tags());
        m.put("version", a.version());
        m.put("last_seen", a.lastSeen() == null ? null : a.lastSeen().toString());
        m.put("online", a.online(now, offlineAfter));
        m.put("refused", a.config() == null ? 0 : a.config().rejected().size());
        m.put("enrolled_at", a.enrolledAt() == null ? null : a.enrolledAt().toString());
        m.put("revoked", a.revokedAt() != null);
        m.put("spool_records", a.spoolRecords());
        m.put("address", a.address());
        m.put("address_source", a.addressSource());
        m.put("config", configView(a, now, configs, offlineAfter));
        return m;
    }

    /** What the server stored of the agent's numbered results, per spool epoch: every missing number is a lost result. */
    static Map<String, Object> sequence(List<io.sonde.server.spi.EpochCount> epochs) {
        long gaps = 0;
        List<Map<String, Object>> items = new ArrayList<>();
        for (io.sonde.server.spi.EpochCount e : epochs) {
            gaps += e.gaps();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("epoch", e.epoch());
            m.put("first_seq", e.firstSeq());
            m.put("max_seq", e.maxSeq());
            m.put("stored", e.stored());
            m.put("gaps", e.gaps());
            items.add(m);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("gaps", gaps);
        m.put("epochs", items);
        return m;
    }
}
