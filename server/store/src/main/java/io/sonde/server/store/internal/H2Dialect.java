package io.sonde.server.store.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.List;
import java.util.stream.Stream;

import javax.sql.DataSource;

import org.h2.jdbcx.JdbcConnectionPool;
import org.h2.jdbcx.JdbcDataSource;

/** The embedded store: H2 files under {@code data/store/}. */
final class H2Dialect implements Dialect {

    static final int SCHEMA_VERSION = 12;

    private final Path dir;

    private H2Dialect(Path dir) {
        this.dir = dir;
    }

    /**
     * @return the JDBC URL of the store in {@code dir}, without settings. Its file is opened through H2's {@code retry:}
     *         file system: on a plain FileChannel, a thread interrupted in the middle of H2's I/O (Jetty's threads as it
     *         stops, a job's executor shut down) closes the file under every thread at work on it; H2 then fails their
     *         commits ("Reading from file ... failed ... (length -1)"), closes the database and, reopened at once by the
     *         next connection, may find it empty: acknowledged batches lost (StoreContract
     *         interruptedWritersLoseNothingAcknowledgedAndLeaveTheStoreWorking). {@code retry:} reopens the file and
     *         does the operation again instead.
     */
    static String url(Path dir) {
        return "jdbc:h2:retry:" + dir.resolve("sonde").toAbsolutePath();
    }

    /** Opens (creating, migrating) the store in {@code dir}, its pages compressed; a schema it must not touch fails here. */
    static JdbcStore open(Path dir, int poolSize) throws SQLException {
        return open(dir, poolSize, true);
    }

    /** Pages written uncompressed split at this size (H2's default is 4 KB; compressed pages split at 64 KB, H2's choice). */
    static final int PLAIN_PAGE_BYTES = 16_384;

    /**
     * Opens (creating, migrating) the store in {@code dir}; a schema it must not touch fails here.
     *
     * @param compress LZF pages of up to 64 KB, else plain pages of {@link #PLAIN_PAGE_BYTES}: each small commit rewrites
     *                 the pages it changed whole, so smaller plain pages cost less CPU at a fleet's pacing and take more disk
     *                 (docs/performance.md, the fifth step)
     */
    /** Statements each connection keeps parsed. */
    static final int QUERY_CACHE_SIZE = 128;

    static JdbcStore open(Path dir, int poolSize, boolean compress) throws SQLException {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new SQLException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        JdbcDataSource ds = new JdbcDataSource();
        // WRITE_DELAY=0: a commit is on disk (in the OS) before the batch is acknowledged, so a
        // server killed right after an acknowledgement has the batch; a kill before the
        // acknowledgement makes the agent send it again, and it is found and not stored twice
        // QUERY_CACHE_SIZE: the statements a connection keeps parsed (8 unless set); an agent's exchanges go through a few
        // dozen, so with 8 each was parsed anew nearly every time (JFR at 2,500 agents: 5 % of the server's CPU in parsing)
        ds.setURL(url(dir) + ";WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE;QUERY_CACHE_SIZE=" + QUERY_CACHE_SIZE
                + (compress ? ";COMPRESS=TRUE" : ";PAGE_SIZE=" + PLAIN_PAGE_BYTES));
        ds.setUser("sonde");
        ds.setPassword("");
        JdbcConnectionPool pool = JdbcConnectionPool.create(ds);
        pool.setMaxConnections(poolSize);
        H2Housekeeping[] housekeeping = {null};
        // the last connection closes the database: the housekeeping ends before
        JdbcStore store = new JdbcStore(pool, new H2Dialect(dir), () -> {
            if (housekeeping[0] != null) {
                housekeeping[0].close();
            }
            pool.dispose();
        });
        try {
            store.migrate();
            housekeeping[0] = H2Housekeeping.start(pool);
        } catch (SQLException e) {
            store.close();
            throw e;
        }
        return store;
    }

    @Override
    public String where() {
        return "in " + dir;
    }

    @Override
    public int schemaVersion() {
        return SCHEMA_VERSION;
    }

    @Override
    public void lockForMigration(Statement s) {
        // embedded: one server has the files
    }

    @Override
    public List<String> migration(int version, Statement s) {
        return Dialect.statements("h2-" + version + ".sql");
    }

    @Override
    public void markDirty(Connection c, java.util.SortedSet<Long> keys) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("MERGE INTO rollup_dirty (series, hour_ms) KEY (series, hour_ms) VALUES (?, ?)")) {
            for (long k : keys) {
                p.setInt(1, (int) (k >>> 32));
                p.setLong(2, (k & 0xFFFFFFFFL) * JdbcStore.HOUR_MS);
                p.addBatch();
            }
            p.executeBatch();
        }
    }

    @Override
    public void write(Connection c, List<ResultRow> rows) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO result (rid, series, started_ms, outcome, packets, error, details)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            for (ResultRow r : rows) {
                p.setLong(1, r.rid());
                p.setInt(2, r.series());
                p.setLong(3, r.startedMs());
                p.setLong(4, r.outcome());
                if (r.packets() == null) {
                    p.setNull(5, Types.INTEGER);
                } else {
                    p.setInt(5, r.packets());
                }
                p.setString(6, r.error());
                if (r.details() == null) {
                    p.setNull(7, Types.VARBINARY);
                } else {
                    p.setBytes(7, r.details());
                }
                p.addBatch();
            }
            p.executeBatch();
        }
    }

    /** In slices, so that a large drop does not hold one transaction over everything it deletes. */
    @Override
    public long dropBefore(Connection c, long dayLimitMs) throws SQLException {
        long dropped = 0;
        try (PreparedStatement p = c.prepareStatement("DELETE FROM result WHERE started_ms < ? LIMIT 50000")) {
            p.setLong(1, dayLimitMs);
            for (int slice = 0; slice < 1_000_000; slice++) {
                int n = p.executeUpdate();
                dropped += n;
                if (n == 0) {
                    break;
                }
            }
        }
        return dropped;
    }

    /** H2's online backup: a zip of the database file as of one moment, the store serving meanwhile. */
    @Override
    public boolean backup(Connection c, Path file) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("BACKUP TO ?")) {
            p.setString(1, file.toAbsolutePath().toString());
            p.execute();
        }
        return true;
    }

    /** Embedded: one server has the files, and it leads. */
    @Override
    public boolean lead(DataSource pool) {
        return true;
    }

    @Override
    public void resign() {
    }

    @Override
    public long sizeBytes(DataSource pool) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".db")).mapToLong(p -> p.toFile().length()).sum();
        } catch (IOException e) {
            return -1;
        }
    }

    @Override
    public boolean seriesOneAtATime() {
        return true; // a union of 64 selects is materialized whole, each value converted: half of the query's time at 250 series
    }
}
