package io.sonde.server.store.internal;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The credentials' epoch: a number that moves whenever an agent's credential may have ended (reset,
 * revoked, enrolled again), here or, on a database several servers share, on another server (heard
 * on a listening connection of its own). A check of a credential may be kept while the epoch stays;
 * while the changes are not heard, none may.
 */
final class CredentialsEpoch {

    private static final Logger LOG = LoggerFactory.getLogger(JdbcStore.class);

    private final Sql.Source source;
    private final Dialect dialect;
    private final AtomicLong credentials = new AtomicLong();
    /** Whether the listener hears the other servers' changes now (a database of this server alone needs none). */
    private volatile boolean listening;
    private Thread listener; // guarded by this
    private volatile boolean closed;

    /** @param source connections of their own (not the store's: the listener holds one for good) */
    CredentialsEpoch(Sql.Source source, Dialect dialect) {
        this.source = source;
        this.dialect = dialect;
    }

    /** @return the epoch now; -1 while the other servers' changes are not heard (a shared database): look the credential up */
    long epoch() {
        if (!dialect.shared()) {
            return credentials.get();
        }
        if (!listening) {
            startListener();
            return -1;
        }
        return credentials.get();
    }

    private synchronized void startListener() {
        if (listener != null || closed) {
            return;
        }
        listener = io.sonde.base.DaemonThreads.of("sonde-store-credentials", this::listen);
        listener.start();
    }

    /** How often the listening connection is checked: a connection lost without a word is found within this and its check. */
    static final int LISTEN_CHECK_MS = 5000;

    /** Hears the credential changes the servers of the database commit, on a connection of its own, until the store closes. */
    private void listen() {
        String lastProblem = null;
        while (!closed) {
            try (Connection c = source.connection()) {
                dialect.listen(c);
                credentials.incrementAndGet(); // what changed while no one listened is not known: every kept check goes
                listening = true;
                if (lastProblem != null) {
                    LOG.info("Store: the servers' credential changes are heard again");
                    lastProblem = null;
                }
                long checked = System.nanoTime();
                try {
                    while (!closed) {
                        if (dialect.heard(c, 1000) > 0) {
                            credentials.incrementAndGet();
                        }
                        if (System.nanoTime() - checked > LISTEN_CHECK_MS * 1_000_000L) {
                            if (!c.isValid(2)) {
                                throw new SQLException("the listening connection does not answer");
                            }
                            checked = System.nanoTime();
                        }
                    }
                } finally {
                    listening = false;
                    dialect.unlisten(c); // the pool's next borrower is not told
                }
            } catch (SQLException | RuntimeException e) {
                listening = false;
                credentials.incrementAndGet();
                if (!closed && !String.valueOf(e.getMessage()).equals(lastProblem)) {
                    LOG.warn("Store: the servers' credential changes are not heard ({}): every agent request's credential is looked"
                            + " up until they are again", e.getMessage());
                }
                lastProblem = String.valueOf(e.getMessage());
            }
            listening = false;
            long end = System.nanoTime() + 1_000_000_000L;
            while (!closed && System.nanoTime() < end) {
                java.util.concurrent.locks.LockSupport.parkNanos(this, 100_000_000L);
            }
        }
    }

    /** A credential may have ended on this server: kept checks go. */
    void moved() {
        credentials.incrementAndGet();
    }

    /** The store closes: the listener stops, kept checks go. */
    void close() {
        closed = true;
        listening = false;
        credentials.incrementAndGet();
    }
}
