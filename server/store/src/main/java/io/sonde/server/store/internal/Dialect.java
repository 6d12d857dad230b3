package io.sonde.server.store.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import javax.sql.DataSource;

import io.sonde.wire.WireResult;

/** What one database does its own way; everything else is {@link JdbcStore}'s. */
interface Dialect {

    /**
     * One result row as stored.
     *
     * @param rid       epoch number and sequence, packed
     * @param series    the series' number
     * @param startedMs the start, to the millisecond
     * @param outcome   response time, failure code and the start's microseconds, packed
     * @param packets   sent and received, packed, or null where the kind has no packets
     * @param error     the error text, or null
     * @param details   the kind's details, encoded, or null
     */
    record ResultRow(long rid, int series, long startedMs, long outcome, Integer packets, String error, byte[] details) {
    }

    /** @return where the data is, for messages: a directory or a JDBC URL without credentials */
    String where();

    /** @return the schema version this server knows */
    int schemaVersion();

    /** Makes other servers wait while this one migrates (inside the migration's transaction). */
    void lockForMigration(Statement s) throws SQLException;

    /**
     * @param version the version to reach, one above the database's
     * @param s       a statement in the migration's transaction, to look at the database
     * @return the statements that bring the schema from version - 1 to version
     */
    List<String> migration(int version, Statement s) throws SQLException;

    /**
     * Readies the database for a batch, on the connection the batch will be written with, before
     * its transaction begins (PostgreSQL: makes the partitions of its days).
     */
    default void prepare(Connection c, List<WireResult> results) throws SQLException {
    }

    /**
     * Lists (series, hour) in rollup_dirty, a row that is there already left as it is, in the
     * writer's transaction.
     *
     * @param keys series << 32 | hour number, sorted
     */
    void markDirty(Connection c, java.util.SortedSet<Long> keys) throws SQLException;

    /** Writes rows not stored before, in the caller's transaction. */
    void write(Connection c, List<ResultRow> rows) throws SQLException;

    /**
     * Drops the results that started before {@code dayLimitMs}, a UTC midnight.
     *
     * @return how many results were dropped
     */
    long dropBefore(Connection c, long dayLimitMs) throws SQLException;

    /**
     * Takes or keeps the lead among the servers of this database (one runs the jobs: retention).
     *
     * @return whether this server leads now
     */
    boolean lead(DataSource pool);

    /** Gives the lead up, for another server to take. */
    void resign();

    /**
     * @return whether other servers may write this database too, so that what they change must be
     *         heard of ({@link #listen}); an embedded database has this server alone
     */
    default boolean shared() {
        return false;
    }

    /** In the transaction that revokes, resets or replaces an agent's credential: the other servers are told at its commit. */
    default void credentialsChanged(Connection c) throws SQLException {
    }

    /** Asks, on this connection of its own, to be told of the credential changes the servers of the database commit. */
    default void listen(Connection c) throws SQLException {
    }

    /** Stops listening on this connection, before it goes back to the pool; a connection that is gone says nothing. */
    default void unlisten(Connection c) {
    }

    /** @return how many credential changes were told on the listening connection, waiting up to {@code timeoutMs} for one */
    default int heard(Connection c, int timeoutMs) throws SQLException {
        return 0;
    }

    /**
     * Writes a consistent copy of the store to {@code file} while it serves.
     *
     * @return false where the database is backed up by its own tools
     */
    default boolean backup(Connection c, java.nio.file.Path file) throws SQLException {
        return false;
    }

    /**
     * @return true where many series' raw results are read faster one series at a time, each by its own execution of one
     *         statement, than by one union of per-series selects: an embedded database pays nothing per execution but
     *         materializes a union; a server pays a round trip for each
     */
    default boolean seriesOneAtATime() {
        return false;
    }

    /** @return a cheap figure of the results stored, or -1 where only a count can say */
    default long resultEstimate(Connection c) throws SQLException {
        return -1;
    }

    /** @return bytes the store takes, or -1 if unknown */
    long sizeBytes(DataSource pool);

    /** @return the statements of a migration file under migrations/, split at lines ending in ';' */
    static List<String> statements(String resource) {
        try (InputStream in = Dialect.class.getResourceAsStream("migrations/" + resource)) {
            if (in == null) {
                throw new IllegalStateException("migration " + resource + " is missing from the bundle");
            }
            List<String> out = new ArrayList<>();
            StringBuilder current = new StringBuilder();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                String t = line.strip();
                if (t.isEmpty() || t.startsWith("--")) {
                    continue;
                }
                current.append(line).append('\n');
                if (t.endsWith(";")) {
                    String statement = current.toString().strip();
                    out.add(statement.substring(0, statement.length() - 1));
                    current.setLength(0);
                }
            }
            if (!current.toString().isBlank()) {
                out.add(current.toString().strip());
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read migration " + resource, e);
        }
    }
}
