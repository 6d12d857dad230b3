package io.sonde.server.spi;

import java.time.Instant;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Where the server keeps agents, enrollment tokens and results. Every implementation passes the
 * same contract tests. Secrets reach it only as SHA-256 hashes.
 *
 * <p>By aggregate (since 1.20): {@link AgentStore}, {@link ResultStore}, {@link DefinitionStore},
 * {@link ReleaseStore}, {@link AlertStore}, {@link UserStore}; this interface is all of them, with
 * what concerns the database as a whole (leading, size, check, backup). The store is registered
 * under each: a component references the parts it uses.
 */
@ProviderType
public interface Store extends AgentStore, ResultStore, DefinitionStore, ReleaseStore, AlertStore, UserStore {

    /**
     * What an agent said between two writes: when it was last heard from and, when a status told
     * it, the results waiting in its spool.
     *
     * @param at           when it was heard from
     * @param spoolRecords results waiting in its spool, or -1 when it did not say (a result batch)
     * @since 1.10
     */
    record Heard(Instant at, long spoolRecords) {
    }

    /**
     * What {@link #touch(String, Instant, String, long, String, String)} is given.
     *
     * @since 1.14
     */
    record Touch(Instant now, String version, long spoolRecords, String address, String addressSource) {
    }

    /**
     * @return whether this server leads the servers of its database now: the one that runs the
     *         jobs that must run once (alert evaluation and notification); an embedded store always
     * @since 1.4
     */
    default boolean leads() {
        return true;
    }

    /** @return bytes the store takes on disk, or -1 if unknown */
    long sizeBytes();

    /** Asks the database something trivial. @throws StoreException if it cannot answer */
    void check() throws StoreException;

    /**
     * Writes a consistent copy of the whole store to one new file in {@code dir} while the store
     * goes on serving.
     *
     * @return the file written
     * @throws StoreException {@link StoreException.Kind#REFUSED} where the database is backed up by
     *                        its own tools (PostgreSQL: pg_dump, pg_basebackup)
     */
    default java.nio.file.Path backup(java.nio.file.Path dir) throws StoreException {
        throw new StoreException(StoreException.Kind.REFUSED,
                "this store is backed up with its database's own tools (PostgreSQL: pg_dump or pg_basebackup; see the README)", null);
    }
}
