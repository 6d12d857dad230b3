package io.sonde.server.alerts.internal;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServletRequest;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import io.sonde.server.spi.Definition;
import io.sonde.server.spi.DefinitionServlet;
import io.sonde.server.spi.StoreException;
import io.sonde.wire.WireException;

/**
 * Maintenance windows: {@code /api/v1/maintenance[/{name}]} ({@link DefinitionServlet});
 * {@code ?target=NAME} lists the windows that take that target. Each is shown with whether it is
 * open now and its current or next opening.
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern({"/api/v1/maintenance", "/api/v1/maintenance/*"})
public final class MaintenanceServlet extends DefinitionServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(MaintenanceServlet.class);
    /** The request attribute that keeps the targets' tags for the windows of one list. */
    private static final String TAGS = MaintenanceServlet.class.getName() + ".tags";

    private final transient AlertService alerts;

    @Activate
    public MaintenanceServlet(@Reference AlertService alerts) {
        super(alerts.store(), Definition.MAINTENANCE, "maintenance window", "/api/v1/maintenance", 64 * 1024, 1000);
        this.alerts = alerts;
    }





    @Override
    protected JsonObject parse(String name, JsonObject body) throws WireException {
        return Maintenance.parse(name, body, Instant.now()).json();
    }

    @Override
    protected JsonElement shown(Definition d, HttpServletRequest request) throws WireException, StoreException {
        Instant now = Instant.now();
        Maintenance m;
        try {
            m = Maintenance.parse(d.name(), JsonParser.parseString(d.body()).getAsJsonObject(), now);
        } catch (WireException | RuntimeException e) {
            LOG.warn("Alerts: stored maintenance window '{}' is skipped: {}", d.name(), e.getMessage());
            return null;
        }
        String target = request.getParameter("target");
        if (target != null) {
            @SuppressWarnings("unchecked")
            Map<String, List<String>> tags = (Map<String, List<String>>) request.getAttribute(TAGS);
            if (tags == null) {
                tags = alerts.targetTags();
                request.setAttribute(TAGS, tags);
            }
            if (!m.coversSubject(target, true, tags.getOrDefault(target, List.of()))) {
                return null;
            }
        }
        return m.shown(now);
    }

    @Override
    protected void changed(String name, JsonObject stored, boolean replaced) {
        if (stored == null) {
            LOG.info("Maintenance window '{}' deleted", name);
            return;
        }
        try {
            JsonObject shown = Maintenance.parse(name, stored, Instant.now()).shown(Instant.now());
            LOG.info("Maintenance window '{}' {}: next {} to {}", name, replaced ? "replaced" : "defined", shown.get("next_starts_at"),
                    shown.get("next_ends_at"));
        } catch (WireException e) {
            LOG.info("Maintenance window '{}' {}", name, replaced ? "replaced" : "defined");
        }
    }
}
