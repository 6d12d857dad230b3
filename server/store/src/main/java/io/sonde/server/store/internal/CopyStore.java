package io.sonde.server.store.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;

import org.postgresql.ds.PGSimpleDataSource;

/**
 * {@code bin/sonde-server-store copy-to-postgres}: copies an embedded store (data/store/) into the PostgreSQL
 * database that etc/io.sonde.server.cfg names, with the server stopped. Everything keeps its
 * identity: agents keep their credentials and go on sending, results keep their ids, so nothing an
 * agent sends again is stored twice. The copy is one transaction on PostgreSQL: cut short, it
 * leaves nothing behind (but empty day partitions) and can be run again.
 */
public final class CopyStore {

    /** The small tables (and the outbox), in the order their references need; each has a serial id. */
    static final List<String> TABLES = List.of("agent", "enrollment_token", "epoch", "series", "outbox");
    /** The rollups, the hours waiting for them, the uptime job's days and outages, the definitions, the releases, the alerts' states and the users with their sessions and tokens, copied as they are (keyed, no serial id). */
    static final List<String> KEYED_TABLES = List.of("rollup", "rollup_dirty", "rollup_target", "target_rollup", "target_rollup_dirty",
            "definition", "release", "alert_state", "app_user",
            "user_credential", "announcement", "uptime_day", "outage", "uptime_progress", "uptime_dirty");
    static final int CHUNK = 50_000;

    private CopyStore() {
    }

    /** Copies {@code home}'s embedded store into its configured PostgreSQL database. @return what was copied */
    static String copy(Path home) throws SQLException, IOException {
        Properties cfg = new Properties();
        Path file = home.resolve("etc/io.sonde.server.cfg");
        try (InputStream in = Files.newInputStream(file)) {
            cfg.load(in);
        }
        String url = cfg.getProperty("jdbc_url", "").strip();
        if (!url.startsWith("jdbc:postgresql:")) {
            throw new IllegalStateException(file + ": key 'jdbc_url': set the PostgreSQL database to copy into"
                    + " (jdbc:postgresql://host:port/database), with user and password_file");
        }
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(url);
        ds.setUser(cfg.getProperty("user", "sonde").strip());
        String passwordFile = cfg.getProperty("password_file", "").strip();
        if (!passwordFile.isEmpty()) {
            ds.setPassword(Files.readString(home.resolve(passwordFile), StandardCharsets.UTF_8).strip());
        }
        Path dir = home.resolve("data/store");
        if (!Files.exists(dir.resolve("sonde.mv.db"))) {
            throw new IllegalStateException("there is no embedded store in " + dir);
        }
        return copy(dir, ds, url);
    }

    static String copy(Path h2Dir, PGSimpleDataSource target, String url) throws SQLException {
        long t0 = System.nanoTime();
        PostgresDialect dialect = new PostgresDialect(url);
        JdbcStore pg = new JdbcStore(target, dialect, () -> { });
        pg.migrate(); // the schema of this server, made or checked
        try (Connection from = h2(h2Dir); Connection to = target.getConnection()) {
            for (String t : List.of("agent", "result")) {
                try (Statement s = to.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM " + t)) {
                    rs.next();
                    if (rs.getLong(1) > 0) {
                        throw new IllegalStateException("the PostgreSQL store " + dialect.where() + " is not empty (" + rs.getLong(1)
                                + " rows in " + t + "); copy into a new database");
                    }
                }
            }
            if (dialect.mode(to) == PostgresDialect.Mode.PARTITIONED) {
                try (Statement s = from.createStatement();
                        ResultSet rs = s.executeQuery("SELECT DISTINCT started_ms / " + PostgresDialect.DAY_MS + " FROM result")) {
                    while (rs.next()) {
                        dialect.partition(to, rs.getLong(1));
                    }
                }
            }
            to.setAutoCommit(false);
            try {
                List<String> counts = new ArrayList<>();
                for (String t : TABLES) {
                    counts.add(copyTable(from, to, t, "id") + " " + t.replace('_', ' ') + " rows");
                    try (Statement s = to.createStatement()) {
                        s.execute("SELECT setval(pg_get_serial_sequence('" + t + "', 'id'), GREATEST(1, (SELECT MAX(id) FROM " + t
                                + ")), (SELECT MAX(id) FROM " + t + ") IS NOT NULL)");
                    }
                }
                for (String t : KEYED_TABLES) {
                    counts.add(copyTable(from, to, t, "1") + " " + t.replace('_', ' ') + " rows");
                }
                long results = copyResults(from, to, dialect);
                to.commit();
                counts.add(results + " results");
                return "Copied " + String.join(", ", counts) + " from " + h2Dir + " into PostgreSQL " + dialect.where() + " in "
                        + (System.nanoTime() - t0) / 1_000_000 + " ms";
            } catch (SQLException | RuntimeException e) {
                to.rollback();
                throw e;
            }
        }
    }

    private static Connection h2(Path dir) throws SQLException {
        try {
            // ACCESS_MODE_DATA=r: the copy never changes the store it copies
            return DriverManager.getConnection(H2Dialect.url(dir)
                    + ";ACCESS_MODE_DATA=r;IFEXISTS=TRUE", "sonde", "");
        } catch (SQLException e) {
            if (String.valueOf(e.getMessage()).contains("already in use") || String.valueOf(e.getMessage()).contains("locked")) {
                throw new IllegalStateException("the embedded store in " + dir + " is in use: stop the server first");
            }
            throw e;
        }
    }

    private static long copyTable(Connection from, Connection to, String table, String order) throws SQLException {
        long n = 0;
        try (Statement s = from.createStatement(); ResultSet rs = s.executeQuery("SELECT * FROM " + table + " ORDER BY " + order)) {
            ResultSetMetaData md = rs.getMetaData();
            List<String> columns = new ArrayList<>();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                columns.add(md.getColumnName(i).toLowerCase(java.util.Locale.ROOT));
            }
            try (PreparedStatement p = to.prepareStatement("INSERT INTO " + table + " (" + String.join(", ", columns) + ") VALUES ("
                    + String.join(", ", Collections.nCopies(columns.size(), "?")) + ")")) {
                // a table of jars (the bundle repository) goes one row at a time: a chunk of them would not fit in memory
                int chunk = table.equals("release") ? 1 : CHUNK;
                while (rs.next()) {
                    for (int i = 1; i <= columns.size(); i++) {
                        Object v = rs.getObject(i);
                        if (v instanceof java.sql.Blob b) { // H2's BLOB into PostgreSQL's BYTEA, not a large object
                            p.setBytes(i, b.getBytes(1, (int) b.length()));
                        } else {
                            p.setObject(i, v);
                        }
                    }
                    p.addBatch();
                    if (++n % chunk == 0) {
                        p.executeBatch();
                    }
                }
                p.executeBatch();
            }
        }
        return n;
    }

    /** In chunks by id, each written with the store's own COPY. */
    private static long copyResults(Connection from, Connection to, PostgresDialect dialect) throws SQLException {
        long n = 0;
        long after = Long.MIN_VALUE;
        try (PreparedStatement p = from.prepareStatement("SELECT rid, series, started_ms, outcome, packets, error, details FROM result"
                + " WHERE rid > ? ORDER BY rid LIMIT " + CHUNK)) {
            while (true) {
                p.setLong(1, after);
                List<Dialect.ResultRow> rows = new ArrayList<>(CHUNK);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        int packed = rs.getInt(5);
                        Integer packets = rs.wasNull() ? null : packed; // asked right after its column
                        rows.add(new Dialect.ResultRow(rs.getLong(1), rs.getInt(2), rs.getLong(3), rs.getLong(4),
                                packets, rs.getString(6), rs.getBytes(7)));
                    }
                }
                if (rows.isEmpty()) {
                    return n;
                }
                dialect.write(to, rows);
                n += rows.size();
                after = rows.get(rows.size() - 1).rid();
            }
        }
    }
}
