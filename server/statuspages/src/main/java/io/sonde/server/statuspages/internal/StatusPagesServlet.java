package io.sonde.server.statuspages.internal;

import jakarta.servlet.Servlet;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.gson.JsonObject;

import io.sonde.server.spi.Definition;
import io.sonde.server.spi.DefinitionServlet;
import io.sonde.server.spi.Store;
import io.sonde.wire.WireException;

/**
 * Status pages as admins define them: {@code /api/v1/status-pages[/{name}]}
 * ({@link DefinitionServlet}). The page itself is public at {@code /status/{name}}; a change is
 * served at once.
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern({"/api/v1/status-pages", "/api/v1/status-pages/*"})
public final class StatusPagesServlet extends DefinitionServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(StatusPagesServlet.class);

    private final transient StatusPages pages;

    @Activate
    public StatusPagesServlet(@Reference Store store, @Reference StatusPages pages) {
        super(store, Definition.STATUS_PAGE, "status page", "/api/v1/status-pages", 64 * 1024, 100);
        this.pages = pages;
    }






    @Override
    protected JsonObject parse(String name, JsonObject body) throws WireException {
        return StatusPage.parse(name, body).json();
    }

    @Override
    protected void changed(String name, JsonObject stored, boolean replaced) {
        pages.changed(name);
        LOG.info("Status page '{}' {}", name, stored == null ? "deleted" : (replaced ? "replaced" : "defined") + ": public at /status/" + name);
    }
}
