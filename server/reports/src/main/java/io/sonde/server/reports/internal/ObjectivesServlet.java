package io.sonde.server.reports.internal;

import java.util.ArrayList;
import java.util.List;

import jakarta.servlet.Servlet;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import io.sonde.server.spi.Definition;
import io.sonde.server.spi.DefinitionServlet;
import io.sonde.server.spi.Store;
import io.sonde.server.spi.StoreException;
import io.sonde.wire.WireException;

/**
 * Service level objectives: {@code /api/v1/objectives[/{name}]} ({@link DefinitionServlet}). How
 * each stands is {@code /api/v1/reports/objectives}.
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern({"/api/v1/objectives", "/api/v1/objectives/*"})
public final class ObjectivesServlet extends DefinitionServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ObjectivesServlet.class);

    @Activate
    public ObjectivesServlet(@Reference Store store) {
        super(store, Definition.OBJECTIVE, "objective", "/api/v1/objectives", 16 * 1024, 1000);
    }

    /** @return the objectives stored, by name; one that cannot be read (stored by another version) is logged and left out */
    static List<Objective> stored(Store store) throws StoreException {
        List<Objective> out = new ArrayList<>();
        for (Definition d : store.definitions(Definition.OBJECTIVE)) {
            try {
                out.add(Objective.parse(d.name(), JsonParser.parseString(d.body()).getAsJsonObject()));
            } catch (WireException | RuntimeException e) {
                LOG.warn("Reports: stored objective '{}' is skipped: {}", d.name(), e.getMessage());
            }
        }
        return out;
    }






    @Override
    protected JsonObject parse(String name, JsonObject body) throws WireException {
        return Objective.parse(name, body).json();
    }

    @Override
    protected void changed(String name, JsonObject stored, boolean replaced) {
        LOG.info("Objective '{}' {}", name, stored == null ? "deleted" : (replaced ? "replaced: " : "defined: ") + stored);
    }
}
