package io.sonde.server.store.internal;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

import javax.sql.DataSource;

import org.postgresql.PGConnection;

import io.sonde.wire.WireResult;

/**
 * PostgreSQL: results partitioned by day (declarative partitioning), or a TimescaleDB hypertable
 * where the extension is installed in the database when the schema is made. Rows go in with
 * {@code COPY}; a migration holds an advisory lock, so that of several servers starting at once
 * one migrates and the others wait and find it done.
 */
final class PostgresDialect implements Dialect {

    static final int SCHEMA_VERSION = 12;
    /** The advisory lock key of migrations ("sonde" in ASCII, one number for every server of the database). */
    static final long MIGRATION_LOCK = 0x736f6e6465L;
    static final long DAY_MS = 86_400_000L;
    private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("yyyyMMdd").withZone(ZoneOffset.UTC);

    /** How the results are kept. */
    enum Mode {
        PARTITIONED("declarative partitioning"),
        TIMESCALEDB("TimescaleDB");

        final String description;

        Mode(String description) {
            this.description = description;
        }
    }

    /** The advisory lock of the lead among servers. */
    static final long LEAD_LOCK = MIGRATION_LOCK + 2;

    private final String where;
    private Connection leader; // holds the lead's lock, guarded by this
    private final Set<Long> days = ConcurrentHashMap.newKeySet(); // partitions known to exist
    private volatile Mode mode;

    /** @param jdbcUrl where the database is (any password in it is left out of messages) */
    PostgresDialect(String jdbcUrl) {
        this.where = "at " + withoutSecrets(jdbcUrl);
    }

    /** @return the URL without a {@code password} parameter */
    static String withoutSecrets(String jdbcUrl) {
        return jdbcUrl.replaceAll("(?i)([?&;]password=)[^&;]*", "$1***");
    }

    @Override
    public String where() {
        return where;
    }

    @Override
    public int schemaVersion() {
        return SCHEMA_VERSION;
    }

    @Override
    public void lockForMigration(Statement s) throws SQLException {
        s.execute("SELECT pg_advisory_xact_lock(" + MIGRATION_LOCK + ")");
    }

    @Override
    public List<String> migration(int version, Statement s) throws SQLException {
        List<String> out = new ArrayList<>(Dialect.statements("postgres-" + version + ".sql"));
        if (version == 1) {
            out.addAll(Dialect.statements("postgres-1-" + (timescaleVersion(s) == null ? "partitioned" : "timescaledb") + ".sql"));
        }
        return out;
    }

    /** @return the TimescaleDB extension's version in this database, or null without it */
    static String timescaleVersion(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /** @return how the results are kept, read from the database once it is migrated */
    Mode mode(Connection c) throws SQLException {
        Mode m = mode;
        if (m == null) {
            try (Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid"
                            + " WHERE c.oid = to_regclass('result')")) {
                m = rs.next() ? Mode.PARTITIONED : Mode.TIMESCALEDB;
            }
            mode = m;
        }
        return m;
    }

    /** @return what the server says at start: the database's version and the mode */
    String describe(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW server_version")) {
            rs.next();
            String server = "PostgreSQL " + rs.getString(1).split(" ")[0];
            Mode m = mode(c);
            return server + ", " + (m == Mode.TIMESCALEDB ? "TimescaleDB " + timescaleVersion(s) : m.description);
        }
    }

    /** Makes the partitions of the days the batch has that are not there yet: before the writer's transaction reads anything. */
    @Override
    public void prepare(Connection c, List<WireResult> results) throws SQLException {
        if (mode(c) != Mode.PARTITIONED) {
            return; // TimescaleDB makes its chunks itself
        }
        Set<Long> wanted = new TreeSet<>();
        for (WireResult r : results) {
            long day = Math.floorDiv(r.startedAt().toEpochMilli(), DAY_MS);
            if (!days.contains(day)) {
                wanted.add(day);
            }
        }
        for (long day : wanted) {
            partition(c, day);
        }
    }

    /** One statement for all of them: two arrays unnested. */
    @Override
    public void markDirty(Connection c, java.util.SortedSet<Long> keys) throws SQLException {
        Integer[] series = new Integer[keys.size()];
        Long[] hours = new Long[keys.size()];
        int i = 0;
        for (long k : keys) {
            series[i] = (int) (k >>> 32);
            hours[i++] = (k & 0xFFFFFFFFL) * JdbcStore.HOUR_MS;
        }
        try (java.sql.PreparedStatement p = c.prepareStatement("INSERT INTO rollup_dirty (series, hour_ms)"
                + " SELECT * FROM unnest(?::INT[], ?::BIGINT[]) ON CONFLICT DO NOTHING")) {
            p.setArray(1, c.createArrayOf("int4", series));
            p.setArray(2, c.createArrayOf("int8", hours));
            p.executeUpdate();
        }
    }

    @Override
    public void write(Connection c, List<ResultRow> rows) throws SQLException {
        StringBuilder text = new StringBuilder(rows.size() * 48);
        for (ResultRow r : rows) {
            text.append(r.rid()).append('\t').append(r.series()).append('\t').append(r.startedMs()).append('\t')
                    .append(r.outcome()).append('\t');
            if (r.packets() == null) {
                text.append("\\N");
            } else {
                text.append(r.packets().intValue());
            }
            text.append('\t');
            if (r.error() == null) {
                text.append("\\N");
            } else {
                escape(text, r.error());
            }
            text.append('\t');
            if (r.details() == null) {
                text.append("\\N");
            } else {
                text.append("\\\\x");
                hex(text, r.details());
            }
            text.append('\n');
        }
        try {
            c.unwrap(PGConnection.class).getCopyAPI().copyIn(
                    "COPY result (rid, series, started_ms, outcome, packets, error, details) FROM STDIN",
                    new ByteArrayInputStream(text.toString().getBytes(StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new SQLException("cannot send the rows: " + e.getMessage(), "08006", e);
        }
    }

    /** COPY's text format: backslash, tab, newline and carriage return are escaped. */
    static void escape(StringBuilder out, String s) {
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '\\' -> out.append("\\\\");
                case '\t' -> out.append("\\t");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                default -> out.append(ch);
            }
        }
    }

    private static void hex(StringBuilder out, byte[] bytes) {
        for (byte b : bytes) {
            out.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
        }
    }

    /**
     * Makes the day's partition in its own short transaction: as a table of its own first, then
     * attached, which takes only a SHARE UPDATE EXCLUSIVE lock on the results (CREATE TABLE ...
     * PARTITION OF would take an ACCESS EXCLUSIVE one and queue every reader and writer behind a
     * long query). Its CHECK constraint spares the attach a scan. Of servers racing, one makes it.
     */
    void partition(Connection c, long day) throws SQLException {
        String name = "result_p" + DAY.format(Instant.ofEpochMilli(day * DAY_MS));
        long from = day * DAY_MS;
        long to = from + DAY_MS;
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            s.execute("SET LOCAL lock_timeout = '10s'");
            s.execute("SELECT pg_advisory_xact_lock(" + (MIGRATION_LOCK + 1) + ")");
            boolean exists;
            try (ResultSet rs = s.executeQuery("SELECT 1 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                    + " WHERE i.inhparent = to_regclass('result') AND c.relname = '" + name + "'")) {
                exists = rs.next();
            }
            if (!exists) {
                s.execute("CREATE TABLE IF NOT EXISTS " + name + " (LIKE result INCLUDING DEFAULTS INCLUDING CONSTRAINTS,"
                        + " CHECK (started_ms >= " + from + " AND started_ms < " + to + "))");
                s.execute("ALTER TABLE result ATTACH PARTITION " + name + " FOR VALUES FROM (" + from + ") TO (" + to + ")");
            }
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
        days.add(day);
    }

    /**
     * Partitioned: the partitions of whole days before the limit are detached (CONCURRENTLY: no
     * lock that would stop readers or writers) and dropped. TimescaleDB: its chunks before the limit.
     */
    @Override
    public long dropBefore(Connection c, long dayLimitMs) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(true); // DETACH ... CONCURRENTLY runs outside a transaction block
        try (Statement s = c.createStatement()) {
            if (mode(c) == Mode.TIMESCALEDB) {
                long n;
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM result WHERE started_ms < " + dayLimitMs)) {
                    rs.next();
                    n = rs.getLong(1);
                }
                s.execute("SELECT drop_chunks('result', older_than => " + dayLimitMs + "::BIGINT)");
                return n;
            }
            List<String> old = new ArrayList<>();
            try (ResultSet rs = s.executeQuery("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                    + " WHERE i.inhparent = to_regclass('result') ORDER BY c.relname")) {
                while (rs.next()) {
                    String name = rs.getString(1);
                    if (name.matches("result_p[0-9]{8}") && dayOf(name) * DAY_MS + DAY_MS <= dayLimitMs) {
                        old.add(name);
                    }
                }
            }
            long dropped = 0;
            for (String name : old) {
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM " + name)) {
                    rs.next();
                    dropped += rs.getLong(1);
                }
                s.execute("ALTER TABLE result DETACH PARTITION " + name + " CONCURRENTLY");
                s.execute("DROP TABLE " + name);
                days.remove(dayOf(name));
            }
            return dropped;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    private static long dayOf(String partition) {
        return java.time.LocalDate.parse(partition.substring("result_p".length()), DateTimeFormatter.BASIC_ISO_DATE).toEpochDay();
    }

    /** The lead is a session advisory lock on a connection of its own: it goes when this server or its connection dies. */
    @Override
    public synchronized boolean lead(DataSource pool) {
        try {
            if (leader != null && leader.isValid(2)) {
                return true;
            }
            resign();
            Connection c = pool.getConnection();
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_try_advisory_lock(" + LEAD_LOCK + ")")) {
                rs.next();
                if (rs.getBoolean(1)) {
                    leader = c;
                    return true;
                }
            }
            c.close();
            return false;
        } catch (SQLException e) {
            resign();
            return false;
        }
    }

    @Override
    public synchronized void resign() {
        if (leader != null) {
            try {
                leader.close(); // the pool resets the session, and the lock goes with it
            } catch (SQLException e) {
                // a connection that is gone took the lock with it
            }
            leader = null;
        }
    }

    /** The channel on which servers tell each other of a credential that stopped working. */
    static final String CREDENTIALS_CHANNEL = "sonde_credentials";
    /** The application name of the listening connection. */
    static final String LISTENER_NAME = "sonde-server-credentials";

    @Override
    public boolean shared() {
        return true;
    }

    @Override
    public void credentialsChanged(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("NOTIFY " + CREDENTIALS_CHANNEL); // delivered at the commit, and only if it commits
        }
    }

    @Override
    public void listen(Connection c) throws SQLException {
        c.setAutoCommit(true);
        try (Statement s = c.createStatement()) {
            s.execute("SET application_name = '" + LISTENER_NAME + "'"); // as pg_stat_activity shows it
            s.execute("LISTEN " + CREDENTIALS_CHANNEL);
        }
    }

    @Override
    public void unlisten(Connection c) {
        try (Statement s = c.createStatement()) {
            s.execute("UNLISTEN *");
            s.execute("RESET application_name");
        } catch (SQLException e) {
            // a connection that is gone listens no more
        }
    }

    @Override
    public int heard(Connection c, int timeoutMs) throws SQLException {
        org.postgresql.PGNotification[] n = c.unwrap(PGConnection.class).getNotifications(timeoutMs);
        return n == null ? 0 : n.length;
    }

    /** The planner's row estimates of the partitions (kept by autovacuum's analyze), or TimescaleDB's. */
    @Override
    public long resultEstimate(Connection c) throws SQLException {
        String sql = mode(c) == Mode.TIMESCALEDB ? "SELECT approximate_row_count('result')"
                : "SELECT COALESCE(SUM(GREATEST(c.reltuples, 0)), 0)::BIGINT FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                        + " WHERE i.inhparent = to_regclass('result')";
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Override
    public long sizeBytes(DataSource pool) {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT pg_database_size(current_database())")) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            return -1;
        }
    }
}
