package io.sonde.server.config.internal;

import java.util.Optional;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.sonde.server.spi.AgentConfigs;
import io.sonde.server.spi.Definition;
import io.sonde.server.spi.Store;
import io.sonde.server.spi.StoreException;

/**
 * The agents' documents, from a {@link ConfigModel} made again from the store every
 * {@value #REFRESH_MS} ms (so a change stored by another server instance, a new agent or a new
 * address reaches the documents within that), and within {@value #CHANGED_MS} ms of a change
 * made here.
 */
@Component(service = {AgentConfigs.class, ConfigService.class})
public final class ConfigService implements AgentConfigs {

    private static final Logger LOG = LoggerFactory.getLogger(ConfigService.class);

    /** How long a model serves before it is made again from the store. */
    static final long REFRESH_MS = 2000;

    /** How soon after the last a model is made again once a change made here asks for it: many changes in a row make few models. */
    static final long CHANGED_MS = 250;

    private final Store store;
    private ConfigModel model;
    private boolean stale;
    private java.util.List<String> unreadable = java.util.List.of(); // said once while it stays so
    private long madeAt;

    @Activate
    public ConfigService(@Reference Store store) {
        this.store = store;
    }

    /** @return the model for documents: made again if older than {@link #REFRESH_MS}, or {@link #CHANGED_MS} after a change here */
    ConfigModel model() throws StoreException {
        return model(false);
    }

    /** @return the model with every change made here in it: for the admin, who looks right after a change */
    ConfigModel fresh() throws StoreException {
        return model(true);
    }

    private synchronized ConfigModel model(boolean fresh) throws StoreException {
        long now = System.nanoTime();
        if (model == null || now - madeAt > REFRESH_MS * 1_000_000 || (stale && (fresh || now - madeAt > CHANGED_MS * 1_000_000))) {
            stale = false;
            model = new ConfigModel(store.definitions(Definition.TARGET), store.definitions(Definition.MESH), store.agents());
            madeAt = now;
            if (!model.unreadable().equals(unreadable)) {
                unreadable = model.unreadable();
                unreadable.forEach(u -> LOG.error("Configuration: the stored {} is left out of every document", u));
            }
        }
        return model;
    }

    /** A definition changed here: the model is made again within {@link #CHANGED_MS}. */
    synchronized void changed() {
        stale = true;
    }

    @Override
    public Optional<Document> document(String agentId) throws StoreException {
        return model().document(agentId);
    }

    @Override
    public Optional<String> version(String agentId) throws StoreException {
        return model().version(agentId);
    }
}
