package io.sonde.server.alerts.internal;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.gson.JsonParser;

import io.sonde.server.spi.Definition;
import io.sonde.server.spi.DefinitionStore;
import io.sonde.server.spi.MaintenanceCalendar;
import io.sonde.server.spi.StoreException;

/**
 * The maintenance windows as stored (definitions of type {@code maintenance}), as the server's
 * {@link MaintenanceCalendar}: the windows open or next for a target (status pages) and those that
 * opened over a range (uptime reports leave that time out). The alert evaluator and the alerts API
 * read the windows here too.
 */
@Component(service = {MaintenanceCalendar.class, StoredMaintenance.class})
public final class StoredMaintenance implements MaintenanceCalendar {

    private static final Logger LOG = LoggerFactory.getLogger(StoredMaintenance.class);

    private final DefinitionStore definitions;

    @Activate
    public StoredMaintenance(@Reference DefinitionStore definitions) {
        this.definitions = definitions;
    }

    /** @return the maintenance windows as stored (one that no longer parses is skipped, with a log line) */
    List<Maintenance> windows() throws StoreException {
        List<Maintenance> out = new ArrayList<>();
        Instant now = Instant.now();
        for (Definition d : definitions.definitions(Definition.MAINTENANCE)) {
            try {
                out.add(Maintenance.parse(d.name(), JsonParser.parseString(d.body()).getAsJsonObject(), now));
            } catch (Exception e) {
                LOG.warn("Alerts: stored maintenance window '{}' is skipped: {}", d.name(), e.getMessage());
            }
        }
        return out;
    }

    @Override
    public List<Opening> openings(String target, List<String> tags, Instant now) throws StoreException {
        List<Opening> out = new ArrayList<>();
        for (Maintenance m : windows()) {
            Instant[] c = m.current(now);
            if (c != null && m.coversSubject(target, true, tags)) {
                out.add(new Opening(m.name(), !c[0].isAfter(now), c[0], c[1], m.comment()));
            }
        }
        out.sort(Comparator.comparing(Opening::startsAt));
        return out;
    }

    @Override
    public Map<String, List<Opening>> during(Map<String, List<String>> targets, Instant from, Instant to) throws StoreException {
        List<Maintenance> windows = windows();
        Map<String, List<Opening>> out = new HashMap<>();
        if (windows.isEmpty()) {
            return out;
        }
        Map<String, List<Instant[]>> openings = new HashMap<>(); // each window's, worked out once
        for (Maintenance m : windows) {
            openings.put(m.name(), m.between(from, to));
        }
        targets.forEach((target, tags) -> {
            List<Opening> mine = new ArrayList<>();
            for (Maintenance m : windows) {
                if (!openings.get(m.name()).isEmpty() && m.coversSubject(target, true, tags)) {
                    for (Instant[] o : openings.get(m.name())) {
                        mine.add(new Opening(m.name(), false, o[0], o[1], m.comment()));
                    }
                }
            }
            if (!mine.isEmpty()) {
                mine.sort(Comparator.comparing(Opening::startsAt));
                out.put(target, mine);
            }
        });
        return out;
    }
}
