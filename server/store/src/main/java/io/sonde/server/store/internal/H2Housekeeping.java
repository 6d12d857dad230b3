package io.sonde.server.store.internal;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import org.h2.mvstore.MVStore;

/**
 * Keeps the embedded store's file about the size of what it holds. H2 writes every commit as a
 * new chunk of the pages it changed (copy on write) and, with {@code WRITE_DELAY=0} (each commit
 * written before the batch is acknowledged), runs no background thread, so nothing rewrites the
 * chunks that hold a few live pages among dead ones. With agents' small batches every chunk keeps
 * some page for good, and the file grew by about 2 KB per result stored (100 bytes are data).
 * This rewrites the sparsest chunks, a bounded amount at a time, whenever the chunks' fill
 * rate falls below {@link #FILL_RATE}; the space they free is taken by the next chunks.
 */
final class H2Housekeeping implements AutoCloseable {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(H2Housekeeping.class);
    /** The share (per cent) of the chunks' bytes that are live, below which chunks are rewritten. */
    static final int FILL_RATE = 80;
    /** At most this many bytes of chunks are rewritten at once: a commit waits for the store's lock meanwhile. */
    static final int WRITE_BYTES = 4 << 20;
    static final long PERIOD_MS = 1000;

    private final MVStore store;
    private final ScheduledExecutorService timer;

    private H2Housekeeping(MVStore store) {
        this.store = store;
        this.timer = Executors.newSingleThreadScheduledExecutor(io.sonde.base.DaemonThreads.named("sonde-h2-housekeeping"));
        timer.scheduleWithFixedDelay(this::run, PERIOD_MS, PERIOD_MS, TimeUnit.MILLISECONDS);
    }

    /**
     * @return the housekeeping of the database behind {@code pool}, or null where H2 does not
     *         give its file store (said in the log: the store works, its file grows)
     */
    static H2Housekeeping start(DataSource pool) throws SQLException {
        MVStore mv = mvStore(pool);
        if (mv == null) {
            return null;
        }
        return new H2Housekeeping(mv);
    }

    /**
     * @return the file store of the database behind {@code pool}: H2 reaches it only through
     *         classes its bundle does not export (the session, the database), so by reflection on
     *         their public methods; the store itself ({@link MVStore}) is exported API
     */
    static MVStore mvStore(DataSource pool) throws SQLException {
        try (Connection c = pool.getConnection()) {
            Object connection;
            try {
                connection = c.unwrap(org.h2.jdbc.JdbcConnection.class);
            } catch (SQLException e) { // not H2's connection: said below, and the store works all the same
                throw new ReflectiveOperationException("the connection is not H2's: " + e.getMessage(), e);
            }
            Object session = connection.getClass().getMethod("getSession").invoke(connection); // typed, it would import org.h2.engine
            Object database = session.getClass().getMethod("getDatabase").invoke(session);
            Object store = database.getClass().getMethod("getStore").invoke(database);
            return (MVStore) store.getClass().getMethod("getMvStore").invoke(store);
        } catch (ReflectiveOperationException | ClassCastException | IllegalArgumentException e) {
            LOG.warn("H2 does not give its file store to be kept compact ({}): the store file grows with pages no longer used"
                    + " (PostgreSQL does not: bin/sonde-server-store copy-to-postgres)", e.toString());
            return null;
        }
    }

    /** The chunks' fill rate, per cent: live bytes over the bytes of the chunks that hold them. */
    int fillRate() {
        return store.getFileStore().getChunksFillRate();
    }

    private void run() {
        try {
            if (!store.isClosed() && fillRate() < FILL_RATE) {
                store.compact(FILL_RATE, WRITE_BYTES);
            }
        } catch (RuntimeException e) { // the database closing under it, a failing disk: the next round or the next start
            LOG.debug("H2 housekeeping: {}", e.toString());
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(10, TimeUnit.SECONDS); // not mid-rewrite when the database closes
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
