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
    private boolean building;
    private java.util.List<String> unreadable = java.util.List.of(); // said once while it stays so
    private long madeAt;

    @Activate
    public ConfigService(@Reference Store store) {
        this.store = store;
    }

    /** @return the model for documents: made again if older than {@link #REFRESH_MS}, or {@link #CHANGED_MS} after a change here */
    ConfigModel model() throws StoreException {
        ConfigModel m = model(false);
        stopFailingRollouts();
        return m;
    }

    /** @return the model with every change made here in it: for the admin, who looks right after a change */
    ConfigModel fresh() throws StoreException {
        return model(true);
    }

    /**
     * The model of now. The next one is made outside the lock: while one request makes it (reading
     * every definition and agent), the others are answered from the model in hand; only a caller
     * that needs the change made here ({@code fresh}), or the first, waits for a model of its own.
     */
    private ConfigModel model(boolean fresh) throws StoreException {
        ConfigModel current;
        long start;
        synchronized (this) {
            start = System.nanoTime();
            boolean due = model == null || start - madeAt > REFRESH_MS * 1_000_000
                    || (stale && (fresh || start - madeAt > CHANGED_MS * 1_000_000));
            if (!due || (building && model != null && !fresh)) {
                return model;
            }
            current = model;
            building = true;
            stale = false; // a change from here on makes it stale again
        }
        ConfigModel next = null;
        try {
            next = new ConfigModel(store.definitions(Definition.TARGET), store.definitions(Definition.MESH),
                    store.definitions(Definition.ROLLOUT), store.releases(), store.agents());
            return next;
        } finally {
            synchronized (this) {
                building = false;
                if (next == null) {
                    stale = true; // the store failed: the next request tries again
                } else if (model == current || start - madeAt >= 0) { // a newer model made meanwhile stays
                    model = next;
                    canariesToStop = next;
                    madeAt = start;
                    if (!next.unreadable().equals(unreadable)) {
                        unreadable = next.unreadable();
                        unreadable.forEach(u -> LOG.error("Configuration: the stored {} is left out of every document", u));
                    }
                }
            }
        }
    }

    /** A model whose rollouts are still to be checked against their failure bound. */
    private ConfigModel canariesToStop;

    /**
     * Pauses every active rollout whose agents failed at or over its {@code max_failed_percent}, saying
     * why in the rollout ({@code paused_reason}) and the log. Done by whichever instance sees it first;
     * another instance doing the same writes the same.
     */
    private void stopFailingRollouts() {
        ConfigModel m;
        synchronized (this) {
            m = canariesToStop;
            canariesToStop = null;
        }
        if (m == null) {
            return;
        }
        for (ConfigModel.Rollout r : m.rollouts()) {
            if (!r.state().equals("active") || r.agents().isEmpty()) {
                continue;
            }
            long failed = m.progress(r).values().stream().filter(u -> u.state().equals("failed")).count();
            int bound = r.body().has("max_failed_percent") ? r.body().get("max_failed_percent").getAsInt() : 20;
            if (failed > 0 && failed * 100 >= (long) bound * r.agents().size()) {
                com.google.gson.JsonObject body = r.body().deepCopy();
                body.addProperty("state", "paused");
                String why = "failed on " + failed + " of its " + r.agents().size() + " agents (" + (failed * 100 / r.agents().size())
                        + " %, max_failed_percent " + bound + ")";
                body.addProperty("paused_reason", why);
                try {
                    // only the rollout this model saw: one deleted or changed since is not brought back paused
                    java.util.Optional<Definition> now = store.definition(Definition.ROLLOUT, r.name());
                    if (now.isEmpty() || !com.google.gson.JsonParser.parseString(now.get().body()).equals(r.body())) {
                        continue;
                    }
                    store.putDefinition(new Definition(Definition.ROLLOUT, r.name(), body.toString(), java.time.Instant.now()));
                    changed();
                    LOG.warn("Rollout '{}' of {} {} paused: {}", r.name(), r.release().symbolicName(), r.release().version(), why);
                } catch (StoreException e) {
                    synchronized (this) {
                        canariesToStop = m; // tried again with the next request
                    }
                }
            }
        }
    }

    /** A definition changed here: the model is made again within {@link #CHANGED_MS}. */
    synchronized void changed() {
        stale = true;
    }

    /**
     * An agent the model does not hold may have enrolled since it was made (the callers are that
     * agent, or the admin): the model is made again, at most every {@link #CHANGED_MS}, before the
     * agent is taken as not known.
     */
    @Override
    public Optional<Document> document(String agentId) throws StoreException {
        Optional<Document> doc = model().document(agentId);
        if (doc.isEmpty()) {
            changed();
            doc = model().document(agentId);
        }
        return doc;
    }

    @Override
    public Optional<String> version(String agentId) throws StoreException {
        Optional<String> version = model().version(agentId);
        if (version.isEmpty()) {
            changed();
            version = model().version(agentId);
        }
        return version;
    }
}
