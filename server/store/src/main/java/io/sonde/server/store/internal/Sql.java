package io.sonde.server.store.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import io.sonde.server.spi.StoreException;

/**
 * The store's one query shape: a pooled connection to the migrated schema, the work on it, and a failure of the database
 * turned into a store failure that says why (503 to the caller, never a crash). The tables of each aggregate go through it.
 */
final class Sql {

    /** Where connections come from: the store's pool, which migrates the schema on the first. */
    interface Source {
        Connection connection() throws SQLException;
    }

    /** Work on one connection. */
    interface Work<T> {
        T on(Connection c) throws SQLException;
    }

    /** One row of a result set, as a value. */
    interface Row<T> {
        T of(ResultSet rs) throws SQLException;
    }

    private final Source source;

    Sql(Source source) {
        this.source = source;
    }

    /** @return what {@code work} returns, on a connection of the pool */
    <T> T run(Work<T> work) throws StoreException {
        try (Connection c = source.connection()) {
            return work.on(c);
        } catch (SQLException e) {
            throw unavailable(e);
        }
    }

    /** @return what {@code work} returns, in one transaction: committed when it returns, rolled back when it fails */
    <T> T transaction(Work<T> work) throws StoreException {
        return run(c -> {
            boolean auto = c.getAutoCommit();
            c.setAutoCommit(false);
            try {
                T done = work.on(c);
                c.commit();
                return done;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(auto);
            }
        });
    }

    /** Runs one statement that changes rows, its parameters in order. @return the rows changed */
    int update(String statement, Object... parameters) throws StoreException {
        return run(c -> update(c, statement, parameters));
    }

    static int update(Connection c, String statement, Object... parameters) throws SQLException {
        try (PreparedStatement p = bind(c.prepareStatement(statement), parameters)) {
            return p.executeUpdate();
        }
    }

    /** @return every row of a query, its parameters in order */
    <T> List<T> list(String query, Row<T> row, Object... parameters) throws StoreException {
        return run(c -> list(c, query, row, parameters));
    }

    static <T> List<T> list(Connection c, String query, Row<T> row, Object... parameters) throws SQLException {
        try (PreparedStatement p = bind(c.prepareStatement(query), parameters); ResultSet rs = p.executeQuery()) {
            List<T> out = new ArrayList<>();
            while (rs.next()) {
                out.add(row.of(rs));
            }
            return out;
        }
    }

    /** @return the first row of a query, if it has one */
    <T> Optional<T> one(String query, Row<T> row, Object... parameters) throws StoreException {
        return run(c -> one(c, query, row, parameters));
    }

    static <T> Optional<T> one(Connection c, String query, Row<T> row, Object... parameters) throws SQLException {
        try (PreparedStatement p = bind(c.prepareStatement(query), parameters); ResultSet rs = p.executeQuery()) {
            return rs.next() ? Optional.of(row.of(rs)) : Optional.empty();
        }
    }

    /** @return the number a {@code SELECT COUNT(*) ...} answers */
    long count(String query, Object... parameters) throws StoreException {
        return one(query, rs -> rs.getLong(1), parameters).orElse(0L);
    }

    /** @return the statement with its parameters set, in order */
    static PreparedStatement bind(PreparedStatement p, Object... parameters) throws SQLException {
        for (int i = 0; i < parameters.length; i++) {
            p.setObject(i + 1, parameters[i]);
        }
        return p;
    }

    /** @return a column of epoch milliseconds as an instant, null where it is NULL */
    static Instant instant(ResultSet rs, int column) throws SQLException {
        long ms = rs.getLong(column);
        return rs.wasNull() ? null : Instant.ofEpochMilli(ms);
    }

    /** Sets an instant as epoch milliseconds, NULL for null. */
    static void setInstant(PreparedStatement p, int index, Instant t) throws SQLException {
        if (t == null) {
            p.setNull(index, java.sql.Types.BIGINT);
        } else {
            p.setLong(index, t.toEpochMilli());
        }
    }

    /** A store failure that says why: the pool's "timed out" names the database's own answer, where there is one. */
    static StoreException unavailable(SQLException e) {
        String message = String.valueOf(e.getMessage());
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root != e && root.getMessage() != null && !message.contains(root.getMessage())) {
            message += " (" + root.getMessage() + ")";
        }
        return new StoreException(StoreException.Kind.UNAVAILABLE, "the store failed: " + message, e);
    }
}
