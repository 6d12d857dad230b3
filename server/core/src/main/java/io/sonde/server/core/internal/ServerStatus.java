package io.sonde.server.core.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import io.sonde.agent.spi.StatusReport;
import io.sonde.server.spi.AgentRecord;
import io.sonde.server.spi.Definition;
import io.sonde.server.spi.Store;
import io.sonde.server.spi.StoreException;

/**
 * The server's section of the status the shell's {@code sonde:status} and {@code sonde:targets}
 * show: its version, the store, whether this instance leads, the agents, and the target definitions.
 */
@Component(property = StatusReport.SECTION + "=server")
public final class ServerStatus implements StatusReport {

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile Store store;

    private final String version;
    private final Duration offlineAfter;

    @Activate
    public ServerStatus(BundleContext context, @Reference io.sonde.server.spi.OfflineRule offline) {
        version = context.getBundle().getVersion().toString();
        offlineAfter = offline.offlineAfter();
    }

    @Override
    public Map<String, Object> status() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("version", version);
        Store st = store;
        if (st == null) {
            s.put("store", "not available");
            return s;
        }
        try {
            s.put("store", "ok");
            s.put("leads", st.leads());
            Instant now = Instant.now();
            int online = 0;
            int revoked = 0;
            List<AgentRecord> agents = st.agents();
            for (AgentRecord a : agents) {
                revoked += a.revokedAt() != null ? 1 : 0;
                online += a.revokedAt() == null && a.online(now, offlineAfter) ? 1 : 0;
            }
            s.put("agents", agents.size());
            s.put("agents_online", online);
            s.put("agents_revoked", revoked);
            List<Map<String, Object>> targets = new ArrayList<>();
            for (Definition d : st.definitions(Definition.TARGET)) {
                Map<String, Object> t = new LinkedHashMap<>();
                t.put("name", d.name());
                try {
                    JsonObject body = JsonParser.parseString(d.body()).getAsJsonObject();
                    for (String key : List.of("kind", "host", "port", "interval_ms", "agents")) {
                        t.put(key, body.has(key) && body.get(key).isJsonPrimitive() ? body.get(key).getAsString() : null);
                    }
                } catch (RuntimeException e) {
                    t.put("kind", "(unreadable definition)");
                }
                targets.add(t);
            }
            s.put("targets", targets);
        } catch (StoreException e) {
            s.put("store", "failing: " + e.getMessage());
        }
        return s;
    }
}
