package io.sonde.server.store.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import javax.sql.DataSource;

import com.google.gson.JsonObject;

import io.sonde.server.spi.KindRoles;
import io.sonde.server.spi.AgentRecord;
import io.sonde.server.spi.Release;
import io.sonde.server.spi.Definition;
import io.sonde.server.spi.DetailsCodec;
import io.sonde.server.spi.EnrollmentToken;
import io.sonde.server.spi.Page;
import io.sonde.server.spi.ResultQuery;
import io.sonde.server.spi.SeriesQuery;
import io.sonde.server.spi.SeriesStep;
import io.sonde.server.spi.StoreException;
import io.sonde.server.spi.StoredResult;
import io.sonde.wire.WireResult;

// Over 500 lines: the results' own SQL (ingest and its sequence checks, the windows kept in memory, labels, states, kinds, the results query) on two dialects, and the schema's migration; agents (AgentTable), series steps (SeriesSteps), rollups (Rollups), the credentials' epoch (CredentialsEpoch), users, alerts, definitions and releases are apart.
/**
 * The SQL store, the same for every database: identities are normalized (agents, epochs and
 * series are small tables; a result row holds their numbers), a result's id is its epoch's number
 * and its sequence packed in one {@code BIGINT}, so that a batch sent twice is found by one range
 * read and stored once. What differs between databases (schema, bulk writes, size, the mode) is
 * the {@link Dialect}'s.
 *
 * <p>The schema is migrated on first use, not at construction: a database that is not there yet
 * makes every call fail as unavailable (503) until it is, and then the first call migrates it. A
 * schema newer than this server knows is refused, for good, with the reason in every answer.
 */
final class JdbcStore implements io.sonde.server.spi.Store, AutoCloseable {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(JdbcStore.class);

    /** A sequence number takes the low 40 bits of a result id; the epoch's number the rest. */
    static final int SEQ_BITS = 40;
    static final long MAX_SEQ = (1L << SEQ_BITS) - 1;

    private final DataSource pool;
    /** The one query shape, on this store's connections; the aggregates that need nothing else of the store have tables of their own. */
    private final Sql sql = new Sql(this::connection);
    private final UserTable users = new UserTable(sql);
    private final AlertTable alerts = new AlertTable(sql);
    private final DefinitionTable definitions = new DefinitionTable(sql);
    private final ReleaseTable releases = new ReleaseTable(sql);
    private final SeriesSteps seriesSteps;
    private final Rollups rollups;
    /** Moves whenever a credential may have ended, here or on another server of the database. */
    private final CredentialsEpoch credentials;
    private final AgentTable agentTable;
    /** A standby's connections for the API's read-only queries (series, results), or null: the primary answers them. */
    private final DataSource standby;
    /** When the standby failed last (System.nanoTime()), or 0: for {@link #standbyAwayNs} after, the primary answers. */
    private volatile long standbyFailedAt;
    /** How long the primary answers the read-only queries after the standby failed one, before the standby is tried again. */
    volatile long standbyAwayNs = STANDBY_AWAY_S * 1_000_000_000L;
    private volatile boolean standbyAway;
    private final java.util.concurrent.atomic.AtomicLong readsByStandby = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong readsByPrimary = new java.util.concurrent.atomic.AtomicLong();
    private final Dialect dialect;
    private final AutoCloseable closer;
    private final Object migration = new Object();
    private volatile boolean migrated;
    private volatile String refusal; // a schema this server must not touch
    private final KindRoles roles = new KindRoles(this::announcedKinds);
    private final Map<String, Integer> agentIds = new ConcurrentHashMap<>();
    private final Map<Integer, String> agentNames = new ConcurrentHashMap<>();
    private final Map<String, Integer> epochIds = new ConcurrentHashMap<>();
    private final Map<Integer, String> epochNames = new ConcurrentHashMap<>();
    private final Map<String, Integer> seriesIds = new ConcurrentHashMap<>();
    private final Map<Integer, String[]> seriesNames = new ConcurrentHashMap<>();
    /** Open hours this server listed in rollup_dirty (series << 32 | hour), and until when that holds. */

    /**
     * @param pool    connections to the database
     * @param dialect what this database does its own way
     * @param closer  closes the pool (and the database, where it is embedded)
     */
    JdbcStore(DataSource pool, Dialect dialect, AutoCloseable closer) {
        this(pool, dialect, closer, 3000);
    }

    /**
     * @param waitMs how long a caller waits for a pooled connection: a batch waits as long for the
     *               writes before it (group commit) before it is told the store is unavailable
     */
    JdbcStore(DataSource pool, Dialect dialect, AutoCloseable closer, long waitMs) {
        this(pool, null, dialect, closer, waitMs);
    }

    /** @param standby a standby's connections for the API's read-only queries, or null */
    JdbcStore(DataSource pool, DataSource standby, Dialect dialect, AutoCloseable closer, long waitMs) {
        this.pool = pool;
        this.standby = standby;
        this.waitMs = Math.max(1, waitMs);
        this.dialect = dialect;
        this.seriesSteps = new SeriesSteps(dialect);
        this.rollups = new Rollups(this::connection, dialect, this::seriesName);
        this.credentials = new CredentialsEpoch(pool::getConnection, dialect);
        this.agentTable = new AgentTable(this::connection, dialect, credentials);
        this.closer = closer;
    }

    /** @return why this server must not use the database (a newer schema), or null */
    String refusal() {
        return refusal;
    }

    /** @return the dialect, which says the mode and where the data is */
    Dialect dialect() {
        return dialect;
    }

    /**
     * Brings the schema to the version this server knows, in one transaction, one server at a
     * time. Done by the first call that gets a connection; callable earlier to fail fast.
     *
     * @throws SQLException if the database cannot be reached, or its schema is newer than known
     */
    void migrate() throws SQLException {
        try (Connection c = connection()) {
            // connection() migrated it
        }
    }

    private void migrate(Connection c) throws SQLException {
        synchronized (migration) {
            if (migrated) {
                return;
            }
            boolean auto = c.getAutoCommit();
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                dialect.lockForMigration(s);
                s.execute("CREATE TABLE IF NOT EXISTS schema_version (version INT NOT NULL)");
                int version = 0;
                try (ResultSet rs = s.executeQuery("SELECT MAX(version) FROM schema_version")) {
                    if (rs.next()) {
                        version = rs.getInt(1);
                    }
                }
                if (version > dialect.schemaVersion()) {
                    c.rollback();
                    refusal = "the store " + dialect.where() + " has schema version " + version
                            + ", newer than this server knows (" + dialect.schemaVersion()
                            + "); run a newer server, it is never migrated down";
                    throw new SQLException(refusal);
                }
                for (int v = version + 1; v <= dialect.schemaVersion(); v++) {
                    for (String statement : dialect.migration(v, s)) {
                        s.execute(statement);
                    }
                    s.execute("INSERT INTO schema_version VALUES (" + v + ")");
                }
                c.commit();
                migrated = true;
            } catch (SQLException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(auto);
            }
        }
    }

    /** A pooled connection to a migrated schema; a closed or absent database is a store failure (503), not a crash. */
    private Connection connection() throws SQLException {
        if (refusal != null) {
            throw new SQLException(refusal);
        }
        Connection c;
        try {
            c = pool.getConnection();
        } catch (IllegalStateException e) {
            throw new SQLException("the store is closed", e);
        }
        if (!migrated) {
            try {
                migrate(c);
            } catch (SQLException e) {
                c.close();
                throw e;
            }
        }
        return c;
    }

    /** Seconds the primary answers the read-only queries after the standby failed one, before the standby is tried again. */
    static final int STANDBY_AWAY_S = 30;

    /** A read-only query, on whichever database answers it. */
    private interface Read<T> {
        T on(Connection c) throws SQLException;
    }

    /**
     * Runs one of the API's read-only queries on the standby where one is configured and answers, else on the primary: a
     * standby that cannot give a connection or fails the query (down, promoted away, a query cancelled by its recovery)
     * leaves them to the primary for {@link #STANDBY_AWAY_S}, and the query is run again there. What a standby answers
     * may lag the primary by its replication delay.
     */
    private <T> T read(Read<T> query) throws SQLException {
        if (standby != null && refusal == null && migrated
                && (standbyFailedAt == 0 || System.nanoTime() - standbyFailedAt > standbyAwayNs)) {
            try (Connection c = standby.getConnection()) {
                T answer = query.on(c);
                readsByStandby.incrementAndGet();
                if (standbyAway) {
                    standbyAway = false;
                    LOG.info("Store: the standby answers the read-only queries again");
                }
                return answer;
            } catch (SQLException | RuntimeException e) {
                standbyFailedAt = System.nanoTime();
                if (!standbyAway) {
                    standbyAway = true;
                    LOG.warn("Store: the standby (read_jdbc_url) failed a read-only query ({}); the primary answers them, the standby"
                            + " is tried again in {} s", e.getMessage(), standbyAwayNs / 1_000_000_000L);
                }
            }
        }
        try (Connection c = connection()) {
            T answer = query.on(c);
            readsByPrimary.incrementAndGet();
            return answer;
        }
    }

    /** @return the API's read-only queries the standby answered, and those the primary answered */
    long[] reads() {
        return new long[] {readsByStandby.get(), readsByPrimary.get()};
    }

    /**
     * Drops the results of every UTC day that ended {@code keep} before {@code now}: results are
     * kept at least that long, and go by whole days.
     *
     * @return how many were dropped
     */
    long dropOlderThan(java.time.Duration keep, Instant now) throws StoreException {
        long day = 86_400_000L;
        long limit = Math.floorDiv(now.minus(keep).toEpochMilli(), day) * day;
        try (Connection c = connection()) {
            return dialect.dropBefore(c, limit);
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    @Override
    public java.nio.file.Path backup(java.nio.file.Path dir) throws StoreException {
        String name = "store-" + java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(java.time.ZoneOffset.UTC)
                .format(Instant.now()) + ".zip";
        java.nio.file.Path file = dir.resolve(name);
        try (Connection c = connection()) {
            java.nio.file.Files.createDirectories(dir);
            if (java.nio.file.Files.exists(file)) {
                throw refused("a backup named " + name + " is being written or was written this second; try again in a second");
            }
            if (!dialect.backup(c, file)) {
                return io.sonde.server.spi.Store.super.backup(dir);
            }
            return file;
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        } catch (java.io.IOException e) {
            throw new StoreException(StoreException.Kind.UNAVAILABLE, "cannot write to " + dir + ": " + e.getMessage(), e);
        }
    }

    /** @return whether this server leads the servers of its database now (takes the lead if it is free) */
    boolean lead() {
        return migrated && dialect.lead(pool);
    }

    @Override
    public void close() {
        closed = true;
        credentials.close();
        dialect.resign();
        try {
            closer.close();
        } catch (Exception e) {
            // closing a pool whose database went away: nothing more to do
        }
    }

    static StoreException refused(String message) {
        return new StoreException(StoreException.Kind.REFUSED, message, null);
    }

    private static Long millis(Instant t) {
        return t == null ? null : t.toEpochMilli();
    }

    // --- enrollment and agents: AgentTable's ---

    @Override
    public EnrollmentToken createEnrollmentToken(byte[] tokenHash, List<String> tags, Instant expiresAt, boolean singleUse,
            boolean agentTags, Instant now) throws StoreException {
        return agentTable.createEnrollmentToken(tokenHash, tags, expiresAt, singleUse, agentTags, now);
    }

    @Override
    public AgentRecord enroll(byte[] tokenHash, String agentId, List<String> tags, String version, byte[] credentialHash,
            boolean proven, Instant now) throws StoreException {
        return agentTable.enroll(tokenHash, agentId, tags, version, credentialHash, proven, now);
    }

    @Override
    public boolean pinAgentAddress(String agentId, String address) throws StoreException {
        return agentTable.pinAgentAddress(agentId, address);
    }

    @Override
    public boolean resetAgentCredential(String agentId) throws StoreException {
        return agentTable.resetAgentCredential(agentId);
    }

    @Override
    public void reportConfig(String agentId, AgentRecord.ConfigReport report) throws StoreException {
        agentTable.reportConfig(agentId, report);
    }

    @Override
    public Optional<AgentRecord> agentByCredential(byte[] credentialHash) throws StoreException {
        return agentTable.agentByCredential(credentialHash);
    }

    @Override
    public List<AgentRecord> agents() throws StoreException {
        return agentTable.agents();
    }

    @Override
    public boolean revokeAgent(String agentId, Instant now) throws StoreException {
        return agentTable.revokeAgent(agentId, now);
    }

    @Override
    public void seen(Map<String, Instant> lastSeen) throws StoreException {
        agentTable.seen(lastSeen);
    }

    @Override
    public void heard(Map<String, Heard> heard) throws StoreException {
        agentTable.heard(heard);
    }

    @Override
    public List<EnrollmentToken> enrollmentTokens(Instant now) throws StoreException {
        return agentTable.enrollmentTokens(now);
    }

    @Override
    public boolean setAgentTags(String agentId, List<String> tags) throws StoreException {
        return agentTable.setAgentTags(agentId, tags);
    }

    @Override
    public boolean deleteEnrollmentToken(long id) throws StoreException {
        return agentTable.deleteEnrollmentToken(id);
    }

    @Override
    public void touch(String agentId, Instant now, String version, long spoolRecords, String address, String addressSource)
            throws StoreException {
        agentTable.touch(agentId, now, version, spoolRecords, address, addressSource);
    }

    @Override
    public List<io.sonde.server.spi.EpochCount> epochCounts(String agentId) throws StoreException {
        try (Connection c = connection(); PreparedStatement p = c.prepareStatement("SELECT e.epoch, e.first_seq, e.max_seq, e.stored"
                + " FROM epoch e JOIN agent a ON a.id = e.agent WHERE a.agent_id = ? ORDER BY e.id DESC")) {
            p.setString(1, agentId);
            List<io.sonde.server.spi.EpochCount> out = new ArrayList<>();
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    long first = rs.getLong(2);
                    out.add(new io.sonde.server.spi.EpochCount(rs.getString(1), rs.wasNull() ? null : first, rs.getLong(3), rs.getLong(4)));
                }
            }
            return out;
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    @Override
    public Map<String, Long> resultGaps() throws StoreException {
        try (Connection c = connection(); Statement q = c.createStatement();
                ResultSet rs = q.executeQuery("SELECT a.agent_id, SUM(e.max_seq - e.first_seq + 1 - e.stored) FROM epoch e JOIN agent a"
                        + " ON a.id = e.agent WHERE e.first_seq IS NOT NULL AND e.max_seq >= e.first_seq AND e.max_seq - e.first_seq + 1 > e.stored"
                        + " GROUP BY a.agent_id ORDER BY a.agent_id")) {
            Map<String, Long> out = new java.util.LinkedHashMap<>();
            while (rs.next()) {
                out.put(rs.getString(1), rs.getLong(2));
            }
            return out;
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    // --- the credentials' epoch: CredentialsEpoch's ---

    private volatile boolean closed;

    @Override
    public long credentialsEpoch() {
        return credentials.epoch();
    }

    // --- the bundle repository ---

    @Override
    public boolean putRelease(Release r, java.io.InputStream jar) throws StoreException {
        return releases.put(r, jar);
    }

    @Override
    public List<Release> releases() throws StoreException {
        return releases.all();
    }

    @Override
    public Optional<Release> release(String symbolicName, String version) throws StoreException {
        return releases.get(symbolicName, version);
    }

    @Override
    public boolean copyReleaseJar(String symbolicName, String version, java.io.OutputStream out) throws StoreException, java.io.IOException {
        return releases.copyJar(symbolicName, version, out);
    }

    @Override
    public boolean putDefinition(Definition d) throws StoreException {
        return definitions.put(d);
    }

    @Override
    public boolean deleteDefinition(String type, String name) throws StoreException {
        return definitions.delete(type, name);
    }

    @Override
    public Optional<Definition> definition(String type, String name) throws StoreException {
        return definitions.get(type, name);
    }

    @Override
    public int definitionCount(String type) throws StoreException {
        return definitions.count(type);
    }

    @Override
    public List<Definition> definitions(String type) throws StoreException {
        return definitions.all(type);
    }

    /**
     * One transaction, one commit, for what a status said: an agent's first status wrote three (its time, its document's
     * report, its kinds), each a commit of its own, and 5,000 agents starting at once spent a minute on them while their
     * batches waited behind (performance.md, the eleventh step). Two instances writing the same new announcement at once:
     * the one that loses writes its parts one by one, as before.
     */
    @Override
    public void status(String agentId, Touch heard, AgentRecord.ConfigReport report, String kinds) throws StoreException {
        if ((heard == null ? 0 : 1) + (report == null ? 0 : 1) + (kinds == null ? 0 : 1) < 2) {
            io.sonde.server.spi.Store.super.status(agentId, heard, report, kinds);
            return;
        }
        boolean kindsChanged = false;
        boolean twin = false;
        try (Connection c = connection()) {
            c.setAutoCommit(false);
            try {
                if (heard != null) {
                    AgentTable.touch(c, agentId, heard.now(), heard.version(), heard.spoolRecords(), heard.address(), heard.addressSource());
                }
                if (report != null) {
                    AgentTable.reportConfig(c, agentId, report);
                }
                kindsChanged = kinds != null && reportKinds(c, agentId, kinds);
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                if (!"23505".equals(e.getSQLState())) {
                    throw e;
                }
                twin = true;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
        if (twin) {
            io.sonde.server.spi.Store.super.status(agentId, heard, report, kinds);
        } else if (kindsChanged) {
            roles.changed();
        }
    }

    // --- results ---

    private int agentPk(Connection c, String agentId) throws SQLException, StoreException {
        Integer id = agentIds.get(agentId);
        if (id != null) {
            return id;
        }
        try (PreparedStatement p = c.prepareStatement("SELECT id FROM agent WHERE agent_id = ?")) {
            p.setString(1, agentId);
            try (ResultSet rs = p.executeQuery()) {
                if (!rs.next()) {
                    throw refused("agent '" + agentId + "' is not enrolled");
                }
                id = rs.getInt(1);
            }
        }
        agentIds.put(agentId, id);
        agentNames.put(id, agentId);
        return id;
    }

    /** The number of a small identity row, inserted if new; two servers may race, so MERGE. */
    private int identity(Connection c, Map<String, Integer> cache, Map<Integer, ?> names, String key, String table,
            String[] columns, Object[] values) throws SQLException {
        Integer id = cache.get(key);
        if (id != null) {
            return id;
        }
        String where = String.join(" = ? AND ", columns) + " = ?";
        String select = "SELECT id FROM " + table + " WHERE " + where;
        for (int attempt = 0; attempt < 3; attempt++) {
            try (PreparedStatement p = c.prepareStatement(select)) {
                for (int i = 0; i < values.length; i++) {
                    p.setObject(i + 1, values[i]);
                }
                try (ResultSet rs = p.executeQuery()) {
                    if (rs.next()) {
                        id = rs.getInt(1);
                        break;
                    }
                }
            }
            try (PreparedStatement p = c.prepareStatement("INSERT INTO " + table + " (" + String.join(", ", columns)
                    + ") VALUES (" + String.join(", ", java.util.Collections.nCopies(columns.length, "?")) + ")",
                    Statement.RETURN_GENERATED_KEYS)) {
                for (int i = 0; i < values.length; i++) {
                    p.setObject(i + 1, values[i]);
                }
                p.executeUpdate();
                try (ResultSet rs = p.getGeneratedKeys()) {
                    rs.next();
                    id = rs.getInt(1);
                    break;
                }
            } catch (SQLException e) {
                if (!"23505".equals(e.getSQLState())) { // another transaction made it first: read it
                    throw e;
                }
            }
        }
        if (id == null) {
            throw new SQLException("cannot make the " + table + " row for " + key);
        }
        cache.put(key, id);
        return id;
    }

    /** The most results one shared transaction takes: a group stays about as quick to write as one big batch. */
    static final int GROUP_RESULTS = 20_000;

    /** A batch waiting to be written, and once written, what became of it. */
    private static final class Pending {
        final String agentId;
        final String epoch;
        final List<WireResult> results;
        final Map<String, KindRoles.Counts> counts = new java.util.HashMap<>();
        boolean done; // under group's lock
        int stored;
        Throwable failure;

        Pending(String agentId, String epoch, List<WireResult> results) {
            this.agentId = agentId;
            this.epoch = epoch;
            this.results = results;
        }
    }

    /**
     * While batches arrive at least this often a second (in this second or the one before), the writer waits up to {@link #LINGER_MS}
     * for {@link #LINGER_BATCHES} of them before it commits: a commit's cost is mostly its own
     * (H2 writes and compresses every page it changed, PostgreSQL flushes its log), not its
     * batches', and agents' batches are small. Below that rate nobody waits.
     */
    static final int LINGER_RATE = 50;
    static final long LINGER_MS = 10;
    /** As many as the server takes at once by default ({@code max_in_flight}): more would not come while it waits. */
    static final int LINGER_BATCHES = 4;

    /** The batches waiting, and whether one caller writes now; guarded by itself. */
    private final java.util.ArrayDeque<Pending> group = new java.util.ArrayDeque<>();
    private boolean writing;
    /** Batches that arrived in the current second and in the one before it; guarded by group. */
    private long arrivalSecond;
    private int arrivalsNow;
    private int arrivalsBefore;
    private final java.util.concurrent.atomic.AtomicLong lingered = new java.util.concurrent.atomic.AtomicLong();
    /** How long a batch waits for the writes before it: as long as a caller would wait for a pooled connection. */
    private final long waitMs;
    private final java.util.concurrent.atomic.AtomicLong commits = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong committedBatches = new java.util.concurrent.atomic.AtomicLong();

    /** @return transactions that stored batches, and the batches they stored: their ratio is the batches per commit */
    long[] commits() {
        return new long[] {commits.get(), committedBatches.get()};
    }

    /**
     * Group commit: batches that arrive together share one transaction and one commit. The first
     * caller to find nobody writing takes every batch waiting (up to {@link #GROUP_RESULTS}
     * results, its own among them), writes them in one transaction and hands each caller its
     * count after the commit; the callers that came meanwhile wait for it and the next takes what
     * is waiting then. No caller hears of a batch before it is committed. A group that fails is
     * rolled back and each of its batches written alone, so that one batch's fault is its own.
     * While batches come often, the writer first waits a little for more ({@link #LINGER_MS}).
     */
    @Override
    public int ingest(String agentId, String epoch, List<WireResult> results) throws StoreException {
        if (results.isEmpty()) {
            return 0;
        }
        Pending me = new Pending(agentId, epoch, results);
        // which values hold each kind's packet counts: read before a connection is held, it may need one
        for (WireResult r : results) {
            me.counts.computeIfAbsent(r.kind(), roles::of);
        }
        boolean interrupted = false;
        long deadline = System.nanoTime() + waitMs * 1_000_000;
        synchronized (group) {
            group.add(me);
            long second = System.nanoTime() / 1_000_000_000L;
            if (second != arrivalSecond) {
                arrivalsBefore = second == arrivalSecond + 1 ? arrivalsNow : 0;
                arrivalsNow = 0;
                arrivalSecond = second;
            }
            arrivalsNow++;
            if (writing && group.size() >= LINGER_BATCHES) {
                group.notifyAll(); // a writer that lingers has what it waits for
            }
        }
        try {
            while (true) {
                List<Pending> mine = new ArrayList<>();
                synchronized (group) {
                    while (!me.done && writing) {
                        long left = (deadline - System.nanoTime()) / 1_000_000;
                        if (left <= 0 && group.remove(me)) {
                            // as long as a caller waits for a pooled connection: the database is slow or locked, the agent sends again
                            throw new StoreException(StoreException.Kind.UNAVAILABLE, "the store failed: the batch waited "
                                    + waitMs + " ms for the write before it to end (the database is slow or locked)", null);
                        }
                        try {
                            group.wait(Math.max(0, left)); // taken by a writer (left <= 0): answered when written
                        } catch (InterruptedException e) {
                            interrupted = true; // a batch taken by a writer is answered when written, never left half-way
                        }
                    }
                    if (me.done) {
                        break;
                    }
                    writing = true;
                    if ((arrivalsBefore >= LINGER_RATE || arrivalsNow >= LINGER_RATE) && group.size() < LINGER_BATCHES) {
                        lingered.incrementAndGet();
                        long until = System.nanoTime() + LINGER_MS * 1_000_000;
                        for (long left = LINGER_MS; left > 0 && group.size() < LINGER_BATCHES;
                                left = (until - System.nanoTime()) / 1_000_000) {
                            try {
                                group.wait(left);
                            } catch (InterruptedException e) {
                                interrupted = true;
                                break;
                            }
                        }
                    }
                    int n = 0;
                    while (!group.isEmpty() && (mine.isEmpty() || n + group.peek().results.size() <= GROUP_RESULTS)) {
                        Pending p = group.poll();
                        n += p.results.size();
                        mine.add(p);
                    }
                }
                try {
                    write(mine);
                } finally {
                    synchronized (group) {
                        writing = false;
                        for (Pending p : mine) {
                            if (!p.done) { // a fault write() did not expect: nobody is left waiting for ever
                                p.failure = new IllegalStateException("the batch was not written");
                                p.done = true;
                            }
                        }
                        group.notifyAll();
                    }
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        if (me.failure instanceof StoreException e) {
            throw e;
        } else if (me.failure instanceof RuntimeException e) {
            throw e;
        } else if (me.failure instanceof Error e) {
            throw e;
        }
        return me.stored;
    }

    /** Writes a group in one transaction, else each of its batches alone; every one of them is done after. */
    private void write(List<Pending> batches) {
        int[] stored = null;
        Throwable failure = null;
        try {
            stored = writeTogether(batches);
        } catch (StoreException | RuntimeException e) {
            failure = e;
        }
        if (stored == null && batches.size() > 1) {
            for (Pending p : batches) {
                write(List.of(p));
            }
            return;
        }
        synchronized (group) {
            for (int i = 0; i < batches.size(); i++) {
                Pending p = batches.get(i);
                if (stored != null) {
                    p.stored = stored[i];
                } else {
                    p.failure = failure;
                }
                p.done = true;
            }
        }
    }

    /** @return each batch's count of results not stored before, all of them committed in one transaction */
    private int[] writeTogether(List<Pending> batches) throws StoreException {
        for (int attempt = 0; ; attempt++) {
            try (Connection c = connection()) {
                c.setAutoCommit(true);
                int[][] series = new int[batches.size()][];
                int[] epochs = new int[batches.size()];
                for (int b = 0; b < batches.size(); b++) {
                    Pending p = batches.get(b);
                    dialect.prepare(c, p.results);
                    int agent = agentPk(c, p.agentId);
                    epochs[b] = identity(c, epochIds, epochNames, agent + "/" + p.epoch, "epoch",
                            new String[] {"agent", "epoch"}, new Object[] {agent, p.epoch});
                    epochNames.putIfAbsent(epochs[b], p.epoch);
                    series[b] = new int[p.results.size()];
                    for (int i = 0; i < p.results.size(); i++) {
                        WireResult r = p.results.get(i);
                        String key = agent + "/" + r.kind() + "/" + r.target();
                        series[b][i] = identity(c, seriesIds, seriesNames, key, "series",
                                new String[] {"agent", "target", "kind"}, new Object[] {agent, r.target(), r.kind()});
                        seriesNames.putIfAbsent(series[b][i], new String[] {p.agentId, r.target(), r.kind()});
                    }
                }
                c.setAutoCommit(false);
                try {
                    Map<Integer, Object[]> labelled = updateLabels(c, batches, series); // with the results: one commit
                    int[] stored = new int[batches.size()];
                    List<Dialect.ResultRow> written = new ArrayList<>();
                    for (int b = 0; b < batches.size(); b++) {
                        Pending p = batches.get(b);
                        stored[b] = insert(c, epochs[b], p.results, series[b], p.counts, written);
                    }
                    c.commit();
                    seriesLabels.putAll(labelled);
                    if (keeping) { // before the batches are answered: an agent that has its answer finds its results in the windows
                        recent.add(written, System.currentTimeMillis());
                    }
                    commits.incrementAndGet();
                    committedBatches.addAndGet(batches.size());
                    return stored;
                } catch (SQLException e) {
                    c.rollback();
                    throw e;
                }
            } catch (SQLException e) {
                // a concurrent copy of the same batch (another server of the database) won the race: read again what exists
                if ("23505".equals(e.getSQLState()) && attempt < 3) {
                    continue;
                }
                throw Sql.unavailable(e);
            }
        }
    }

    /** The labels each series was last written with here, and when (written again, if they differ, after ten minutes: another server may have written others). */
    private final Map<Integer, Object[]> seriesLabels = new ConcurrentHashMap<>();

    /**
     * Sets each series' labels to those of its latest result in the batches, where they differ from the stored ones.
     *
     * @return what {@link #seriesLabels} is to hold once the transaction commits
     */
    private Map<Integer, Object[]> updateLabels(Connection c, List<Pending> batches, int[][] series) throws SQLException {
        Map<Integer, Object[]> written = new HashMap<>();
        Map<Integer, WireResult> latest = new HashMap<>(); // each series' latest result of the batches
        for (int b = 0; b < batches.size(); b++) {
            List<WireResult> results = batches.get(b).results;
            for (int i = 0; i < results.size(); i++) {
                WireResult r = results.get(i);
                WireResult before = latest.get(series[b][i]);
                if (before == null || !r.startedAt().isBefore(before.startedAt())) {
                    latest.put(series[b][i], r);
                }
            }
        }
        long now = System.currentTimeMillis();
        for (Map.Entry<Integer, WireResult> l : latest.entrySet()) {
            int id = l.getKey();
            String text = labelText(l.getValue().labels()); // null: none
            Object[] known = seriesLabels.get(id);
            if (known != null && Objects.equals(known[0], text) && now - (long) known[1] < 600_000) {
                continue;
            }
            // only where they differ (a late result of a spool is older than the latest stored: its labels may be too, but
            // the agent sends its spool in order, so the newest upload holds the newest labels)
            try (PreparedStatement u = c.prepareStatement(text == null
                    ? "UPDATE series SET labels = NULL WHERE id = ? AND labels IS NOT NULL"
                    : "UPDATE series SET labels = ? WHERE id = ? AND (labels IS NULL OR labels <> ?)")) {
                if (text == null) {
                    u.setInt(1, id);
                } else {
                    u.setString(1, text);
                    u.setInt(2, id);
                    u.setString(3, text);
                }
                u.executeUpdate();
            }
            written.put(id, new Object[] {text, now});
        }
        return written;
    }

    /** @return labels as stored: lines name=value in name order, or null for none */
    static String labelText(Map<String, String> labels) {
        if (labels == null || labels.isEmpty()) {
            return null;
        }
        StringBuilder b = new StringBuilder();
        new java.util.TreeMap<>(labels).forEach((k, v) -> b.append(b.length() == 0 ? "" : "\n").append(k).append('=').append(v));
        return b.toString();
    }

    /** @return stored labels by name, in name order; empty for none */
    static Map<String, String> labelMap(String text) {
        if (text == null || text.isEmpty()) {
            return Map.of();
        }
        Map<String, String> labels = new java.util.TreeMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                labels.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return java.util.Collections.unmodifiableMap(labels);
    }

    /** @return the stored labels of each of the series, by series (series without labels left out) */
    private static Map<Integer, Map<String, String>> labelsOf(Connection c, int[] series) throws SQLException {
        Map<Integer, Map<String, String>> out = new HashMap<>();
        for (int from = 0; from < series.length; from += 500) {
            int n = Math.min(500, series.length - from);
            try (PreparedStatement p = c.prepareStatement("SELECT id, labels FROM series WHERE labels IS NOT NULL AND id IN ("
                    + String.join(", ", java.util.Collections.nCopies(n, "?")) + ")")) {
                for (int i = 0; i < n; i++) {
                    p.setInt(i + 1, series[from + i]);
                }
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        out.put(rs.getInt(1), labelMap(rs.getString(2)));
                    }
                }
            }
        }
        return out;
    }

    @Override
    public Map<String, Map<String, String>> targetLabels() throws StoreException {
        try (Connection c = connection(); Statement q = c.createStatement();
                ResultSet rs = q.executeQuery("SELECT target, labels FROM series WHERE labels IS NOT NULL ORDER BY id")) {
            Map<String, Map<String, String>> out = new HashMap<>();
            while (rs.next()) { // a target probed by several agents: the labels of them all, the newest series' value on a clash
                Map<String, String> labels = labelMap(rs.getString(2));
                out.merge(rs.getString(1), labels, (old, add) -> {
                    Map<String, String> m = new java.util.TreeMap<>(old);
                    m.putAll(add);
                    return java.util.Collections.unmodifiableMap(m);
                });
            }
            return out;
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    private int insert(Connection c, int epochPk, List<WireResult> results, int[] series, Map<String, KindRoles.Counts> counts,
            List<Dialect.ResultRow> written) throws SQLException {
        long base = (long) epochPk << SEQ_BITS;
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (WireResult r : results) {
            min = Math.min(min, r.seq());
            max = Math.max(max, r.seq());
        }
        Set<Long> existing = new HashSet<>();
        try (PreparedStatement p = c.prepareStatement("SELECT rid FROM result WHERE rid BETWEEN ? AND ?")) {
            p.setLong(1, base | min);
            p.setLong(2, base | max);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    existing.add(rs.getLong(1));
                }
            }
        }
        List<Dialect.ResultRow> rows = new ArrayList<>(results.size());
        boolean[] fresh = new boolean[results.size()];
        for (int i = 0; i < results.size(); i++) {
            WireResult r = results.get(i);
            long rid = base | r.seq();
            if (!existing.add(rid)) {
                continue; // stored before, or twice in this batch
            }
            fresh[i] = true;
            long us = micros(r.startedAt());
            JsonObject d = r.details();
            KindRoles.Counts names = counts.get(r.kind());
            int sent = names.sent(d);
            int received = names.received(d);
            String error = r.error() == null ? null
                    : (r.error().length() <= 1000 ? r.error() : r.error().substring(0, 1000)).replace('\0', '\uFFFD'); // no SQL text holds NUL
            rows.add(new Dialect.ResultRow(rid, series[i], Math.floorDiv(us, 1000),
                    Row.outcome(Math.round(r.responseTimeSeconds() * 1e6),
                            r.success() ? 0 : WireResult.FAILURE_REASONS.indexOf(r.failureReason()) + 1, (int) Math.floorMod(us, 1000)),
                    sent < 0 || received < 0 ? null : Row.packets(sent, received), error, DetailsCodec.encode(d)));
        }
        if (!rows.isEmpty()) {
            dialect.write(c, rows);
            markDirty(c, rows);
            keepStates(c, results, series, fresh);
            countSequence(c, epochPk, rows);
            written.addAll(rows);
        }
        return rows.size();
    }

    /**
     * Counts the sequence numbers newly stored for an epoch, in the results' transaction: the
     * lowest, the highest and how many, so that {@code max - first + 1 - stored} is the number of
     * results the server never got (a loss, wherever it happened).
     */
    private static void countSequence(Connection c, int epochPk, List<Dialect.ResultRow> rows) throws SQLException {
        long mask = (1L << SEQ_BITS) - 1;
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (Dialect.ResultRow r : rows) {
            long seq = r.rid() & mask;
            min = Math.min(min, seq);
            max = Math.max(max, seq);
        }
        try (PreparedStatement p = c.prepareStatement("UPDATE epoch SET stored = stored + ?, max_seq = CASE WHEN max_seq < ? THEN ? ELSE"
                + " max_seq END, first_seq = CASE WHEN first_seq IS NULL OR first_seq > ? THEN ? ELSE first_seq END WHERE id = ?")) {
            p.setLong(1, rows.size());
            p.setLong(2, max);
            p.setLong(3, max);
            p.setLong(4, min);
            p.setLong(5, min);
            p.setInt(6, epochPk);
            p.executeUpdate();
        }
    }

    /** What one batch says of one series, in the order of the results' starts. */
    private static final class StateStep {
        WireResult last;
        long firstOfRun; // start of the trailing run of the last result's outcome, within the batch
        boolean oneOutcome = true; // every result of the batch for the series has the last one's outcome
        WireResult lastFailure;
    }

    /**
     * Keeps {@code target_state}: per series the newest result's outcome, since when it holds (a
     * run carried on from what was stored when the batch only continues it), the next probe and
     * the newest failure. A batch of older results (a spool sent late) does not move a newer state.
     */
    private void keepStates(Connection c, List<WireResult> results, int[] series, boolean[] fresh) throws SQLException {
        Map<Integer, StateStep> steps = new java.util.HashMap<>();
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < results.size(); i++) {
            if (fresh[i]) {
                order.add(i); // a result stored before said its word then
            }
        }
        order.sort(java.util.Comparator.comparing(i -> results.get(i).startedAt()));
        for (int i : order) {
            WireResult r = results.get(i);
            StateStep st = steps.computeIfAbsent(series[i], k -> new StateStep());
            long at = r.startedAt().toEpochMilli();
            if (st.last == null || st.last.success() != r.success()) {
                if (st.last != null) {
                    st.oneOutcome = false;
                }
                st.firstOfRun = at;
            }
            st.last = r;
            if (!r.success()) {
                st.lastFailure = r;
            }
        }
        StringBuilder in = new StringBuilder();
        for (int id : steps.keySet()) {
            in.append(in.length() == 0 ? "" : ",").append(id);
        }
        Map<Integer, long[]> stored = new java.util.HashMap<>(); // series -> last_ms, success, since_ms
        try (Statement q = c.createStatement();
                ResultSet rs = q.executeQuery("SELECT series, last_ms, success, since_ms FROM target_state WHERE series IN (" + in + ")")) {
            while (rs.next()) {
                stored.put(rs.getInt(1), new long[] {rs.getLong(2), rs.getBoolean(3) ? 1 : 0, rs.getLong(4)});
            }
        }
        String set = "last_ms = ?, success = ?, reason = ?, error = ?, since_ms = ?, next_ms = ?, backoff = ?,"
                + " failure_ms = COALESCE(?, failure_ms), failure_reason = COALESCE(?, failure_reason), failure_error = COALESCE(?, failure_error)";
        try (PreparedStatement update = c.prepareStatement("UPDATE target_state SET " + set + " WHERE series = ?");
                PreparedStatement insert = c.prepareStatement("INSERT INTO target_state (last_ms, success, reason, error, since_ms, next_ms,"
                        + " backoff, failure_ms, failure_reason, failure_error, series) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            boolean updates = false;
            boolean inserts = false;
            for (Map.Entry<Integer, StateStep> e : steps.entrySet()) {
                StateStep st = e.getValue();
                long[] was = stored.get(e.getKey());
                long last = st.last.startedAt().toEpochMilli();
                if (was != null && was[0] > last) {
                    continue; // a late batch: the stored state is newer
                }
                long since = was != null && st.oneOutcome && (was[1] == 1) == st.last.success() ? was[2] : st.firstOfRun;
                PreparedStatement p = was == null ? insert : update;
                p.setLong(1, last);
                p.setBoolean(2, st.last.success());
                p.setString(3, st.last.failureReason());
                p.setString(4, clip(st.last.error()));
                p.setLong(5, since);
                if (st.last.nextProbe() == null) {
                    p.setNull(6, java.sql.Types.BIGINT);
                } else {
                    p.setLong(6, st.last.nextProbe().toEpochMilli());
                }
                p.setBoolean(7, st.last.backoff());
                if (st.lastFailure == null) {
                    p.setNull(8, java.sql.Types.BIGINT);
                    p.setNull(9, java.sql.Types.VARCHAR);
                    p.setNull(10, java.sql.Types.VARCHAR);
                } else {
                    p.setLong(8, st.lastFailure.startedAt().toEpochMilli());
                    p.setString(9, st.lastFailure.failureReason());
                    p.setString(10, clip(st.lastFailure.error()));
                }
                p.setInt(11, e.getKey());
                p.addBatch();
                updates |= was != null;
                inserts |= was == null;
            }
            if (updates) {
                update.executeBatch();
            }
            if (inserts) {
                insert.executeBatch();
            }
        }
    }

    private static String clip(String error) {
        return error == null ? null : (error.length() <= 1000 ? error : error.substring(0, 1000)).replace('\0', '\uFFFD');
    }

    @Override
    public List<io.sonde.server.spi.TargetState> targetStates() throws StoreException {
        try (Connection c = connection(); PreparedStatement p = c.prepareStatement(
                "SELECT a.agent_id, s.target, s.kind, t.last_ms, t.success, t.reason, t.error, t.since_ms, t.next_ms, t.backoff,"
                        + " t.failure_ms, t.failure_reason, t.failure_error FROM target_state t JOIN series s ON s.id = t.series"
                        + " JOIN agent a ON a.id = s.agent");
                ResultSet rs = p.executeQuery()) {
            List<io.sonde.server.spi.TargetState> out = new ArrayList<>();
            while (rs.next()) {
                out.add(new io.sonde.server.spi.TargetState(rs.getString(1), rs.getString(2), rs.getString(3),
                        Instant.ofEpochMilli(rs.getLong(4)), rs.getBoolean(5), rs.getString(6), rs.getString(7),
                        Instant.ofEpochMilli(rs.getLong(8)), AgentTable.instant(rs, "next_ms"), rs.getBoolean(10), AgentTable.instant(rs, "failure_ms"),
                        rs.getString(12), rs.getString(13)));
            }
            return out;
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    @Override
    public void reportKinds(String agentId, String kinds) throws StoreException {
        try (Connection c = connection()) {
            if (reportKinds(c, agentId, kinds)) {
                roles.changed();
            }
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    /**
     * @return whether the agent's kinds changed. A twin announcement written at the same moment by another instance is
     *         passed over on a connection that commits each statement, and thrown (23505) inside a transaction, which
     *         PostgreSQL would not let go on after it
     */
    private static boolean reportKinds(Connection c, String agentId, String kinds) throws SQLException {
        String hash = sha256Hex(kinds);
        // each distinct announcement once (most agents make the same); a twin written at the same moment by another instance is the same
        try (PreparedStatement p = c.prepareStatement("INSERT INTO announcement (hash, kinds) SELECT ?, ? WHERE NOT EXISTS"
                + " (SELECT 1 FROM announcement WHERE hash = ?)")) {
            p.setString(1, hash);
            p.setString(2, kinds);
            p.setString(3, hash);
            p.executeUpdate();
        } catch (SQLException e) {
            if (!"23505".equals(e.getSQLState()) || !c.getAutoCommit()) {
                throw e;
            }
        }
        try (PreparedStatement p = c.prepareStatement(
                "UPDATE agent SET kinds_hash = ? WHERE agent_id = ? AND (kinds_hash IS NULL OR kinds_hash <> ?)")) {
            p.setString(1, hash);
            p.setString(2, agentId);
            p.setString(3, hash);
            return p.executeUpdate() > 0;
        }
    }

    /** @return the SHA-256 of the text's UTF-8 bytes in lower-case hex, as the version 9 migration wrote it */
    static String sha256Hex(String text) {
        return java.util.HexFormat.of().formatHex(io.sonde.server.spi.Secrets.sha256(text));
    }

    @Override
    public Map<String, String> announcedKinds() throws StoreException {
        try (Connection c = connection();
                PreparedStatement p = c.prepareStatement("SELECT a.agent_id, k.kinds FROM agent a JOIN announcement k ON k.hash = a.kinds_hash"
                        + " WHERE a.revoked_at IS NULL");
                ResultSet rs = p.executeQuery()) {
            Map<String, String> out = new java.util.TreeMap<>();
            while (rs.next()) {
                out.put(rs.getString(1), rs.getString(2));
            }
            return out;
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    static final long MINUTE_MS = 60_000L;
    static final long HOUR_MS = 3_600_000L;

    /** The rollup job leaves an hour alone until this long after its end: late results of an open hour are the rule. */
    static final long CLOSE_MS = 5 * MINUTE_MS;
    /** A server forgets that it listed an open hour this long after the hour's end: the servers' clocks may differ by 4 minutes. */
    static final long LISTED_MS = MINUTE_MS;

    // --- the rollup jobs' work: Rollups' ---

    /** @see Rollups#markDirty */
    private void markDirty(Connection c, List<Dialect.ResultRow> rows) throws SQLException {
        rollups.markDirty(c, rows);
    }

    /** @see Rollups#rollUp */
    int rollUp(int maxHours, Instant rawKeptFrom, Instant now) throws StoreException {
        return rollups.rollUp(maxHours, rawKeptFrom, now);
    }

    /** @see Rollups#countUptime */
    int countUptime(int maxHours, Instant now) throws StoreException {
        return rollups.countUptime(maxHours, now);
    }

    /** @see Rollups#dropUptimeOlderThan */
    long dropUptimeOlderThan(java.time.Duration keep, Instant now) throws StoreException {
        return rollups.dropUptimeOlderThan(keep, now);
    }

    /** @see Rollups#rollUpTargets */
    int rollUpTargets(int maxHours, Instant now) throws StoreException {
        return rollups.rollUpTargets(maxHours, now);
    }

    /** @see Rollups#targetHoursRolledUp */
    long targetHoursRolledUp() {
        return rollups.targetHoursRolledUp();
    }

    /** @see Rollups#dropRollupsOlderThan */
    long dropRollupsOlderThan(int resolutionS, java.time.Duration keep, Instant now) throws StoreException {
        return rollups.dropRollupsOlderThan(resolutionS, keep, now);
    }

    /** @see Rollups#hasTargetRollups */
    static boolean hasTargetRollups(Connection c, String target) throws SQLException {
        return Rollups.hasTargetRollups(c, target);
    }

    /** @see Rollups#stored */
    static Summary stored(ResultSet rs, int first) throws SQLException {
        return Rollups.stored(rs, first);
    }

    @Override
    public List<io.sonde.server.spi.Uptime> uptime(Instant from, Instant to, String target, boolean byDay) throws StoreException {
        try {
            return read(c -> UptimeJob.read(c, from.toEpochMilli(), to.toEpochMilli(), target, byDay));
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    @Override
    public List<io.sonde.server.spi.Uptime.Outage> outages(Instant from, Instant to, String target) throws StoreException {
        try {
            return read(c -> UptimeJob.outages(c, from.toEpochMilli(), to.toEpochMilli(), target));
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    @Override
    public Instant uptimeThrough() throws StoreException {
        try {
            long next = read(UptimeJob::nextHour);
            return next < 0 ? null : Instant.ofEpochMilli(next);
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    /** A packet count from the details, or -1 where there is none. */
    /** The packed columns of a result row: fewer columns, fewer bytes per row. */
    static final class Row {
        private Row() {
        }

        /** Response time in microseconds, failure code (0 success, 4 bits), the start's microseconds within its millisecond. */
        static long outcome(long rtUs, int failure, int microsOfMilli) {
            long rt = Math.max(0, Math.min(rtUs, (1L << 40) - 1));
            return ((rt << 4 | (failure & 0xF)) << 10) | (microsOfMilli & 0x3FF);
        }

        static long rtUs(long outcome) {
            return outcome >>> 14;
        }

        static int failure(long outcome) {
            return (int) (outcome >>> 10) & 0xF;
        }

        static long startedUs(long startedMs, long outcome) {
            return startedMs * 1000 + (outcome & 0x3FF);
        }

        static int packets(int sent, int received) {
            return sent << 16 | received;
        }
    }

    /** Series numbers matching an agent (or any) and a target (or any); empty if none. */
    static int[] seriesOf(Connection c, String agentId, String target) throws SQLException {
        StringBuilder sql = new StringBuilder("SELECT s.id FROM series s JOIN agent a ON a.id = s.agent WHERE 1 = 1");
        if (agentId != null) {
            sql.append(" AND a.agent_id = ?");
        }
        if (target != null) {
            sql.append(" AND s.target = ?");
        }
        try (PreparedStatement p = c.prepareStatement(sql.toString())) {
            int i = 1;
            if (agentId != null) {
                p.setString(i++, agentId);
            }
            if (target != null) {
                p.setString(i, target);
            }
            List<Integer> ids = new ArrayList<>();
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getInt(1));
                }
            }
            return ids.stream().mapToInt(Integer::intValue).toArray();
        }
    }

    private String[] seriesName(Connection c, int series) throws SQLException {
        String[] name = seriesNames.get(series);
        if (name != null) {
            return name;
        }
        try (PreparedStatement p = c.prepareStatement(
                "SELECT a.agent_id, s.target, s.kind FROM series s JOIN agent a ON a.id = s.agent WHERE s.id = ?")) {
            p.setInt(1, series);
            try (ResultSet rs = p.executeQuery()) {
                rs.next();
                name = new String[] {rs.getString(1), rs.getString(2), rs.getString(3)};
            }
        }
        seriesNames.put(series, name);
        return name;
    }

    private String epochName(Connection c, int epoch) throws SQLException {
        String name = epochNames.get(epoch);
        if (name != null) {
            return name;
        }
        try (PreparedStatement p = c.prepareStatement("SELECT epoch FROM epoch WHERE id = ?")) {
            p.setInt(1, epoch);
            try (ResultSet rs = p.executeQuery()) {
                rs.next();
                name = rs.getString(1);
            }
        }
        epochNames.put(epoch, name);
        return name;
    }

    /** Up to this many series a query is one select a series (see {@link #perSeries}). */
    static final int UNION_MAX = 64;

    /**
     * One select a series, joined with UNION ALL: a target seen from several agents has several
     * series, and H2 uses an index only up to the first column it compares with a list ({@code
     * series IN (...)} read every row of each series and filtered the time range row by row).
     * Above {@link #UNION_MAX} series (a listing of many targets, which reads most of them anyway)
     * one select with the list. {@code branch} is a select with {@code series = ?} as its first
     * parameter; {@code tail} (ORDER BY, LIMIT) applies to the whole. Bind with {@link #bindPerSeries}.
     */
    /**
     * @return the series in parts of at most {@link #UNION_MAX}: a query of a target seen from more
     *         agents (a mesh of hundreds) is one {@link #perSeries} union a part, each read by its
     *         index, instead of one list that reads every row of every series
     */
    static List<int[]> parts(int[] series) {
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < series.length; i += UNION_MAX) {
            out.add(Arrays.copyOfRange(series, i, Math.min(series.length, i + UNION_MAX)));
        }
        return out;
    }

    static String perSeries(int n, String branch, String tail) {
        String selects = n > UNION_MAX
                ? "(" + branch.replace("series = ?", "series IN (" + String.join(", ", java.util.Collections.nCopies(n, "?")) + ")") + ")"
                : String.join(" UNION ALL ", java.util.Collections.nCopies(n, "(" + branch + ")"));
        // a derived table: PostgreSQL takes no ORDER BY after a select that has its own
        return tail.isEmpty() ? selects : "SELECT * FROM (" + selects + ") AS per_series" + tail;
    }

    /** Binds the series and the branch's other parameters as {@link #perSeries} placed them, then the tail's. */
    static void bindPerSeries(PreparedStatement p, int[] series, long[] branch, long... tail) throws SQLException {
        int i = 1;
        for (int s : series) {
            p.setInt(i++, s);
            if (series.length <= UNION_MAX) {
                for (long v : branch) {
                    p.setLong(i++, v);
                }
            }
        }
        if (series.length > UNION_MAX) {
            for (long v : branch) {
                p.setLong(i++, v);
            }
        }
        for (long v : tail) {
            p.setLong(i++, v);
        }
    }

    @Override
    public Page<StoredResult> results(ResultQuery q) throws StoreException {
        long afterMs = Long.MIN_VALUE;
        long afterRid = Long.MIN_VALUE;
        if (q.after() != null) {
            String[] parts = q.after().split("-", 2);
            try {
                afterMs = Long.parseLong(parts[0]);
                afterRid = Long.parseLong(parts[1]);
            } catch (RuntimeException e) {
                throw refused("after: '" + q.after() + "' is not a cursor this API gave");
            }
        }
        long fromMs = afterMs;
        long fromRid = afterRid;
        try {
            return read(c -> results(c, q, fromMs, fromRid));
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    /** The page of results after ({@code afterMs}, {@code afterRid}), read on {@code c}. */
    private Page<StoredResult> results(Connection c, ResultQuery q, long afterMs, long afterRid) throws SQLException {
        int[] series = seriesOf(c, q.agentId(), q.target());
        if (series.length == 0) {
            return new Page<>(List.of(), null);
        }
        Map<Integer, Map<String, String>> labels = labelsOf(c, series);
        // coarse to the millisecond in SQL, exact in here; the order is by millisecond, then identity
        String sql = perSeries(series.length, "SELECT rid, series, started_ms, outcome, error, details FROM result"
                + " WHERE series = ? AND started_ms >= ? AND started_ms <= ? AND (started_ms > ? OR (started_ms = ? AND rid > ?))"
                + " ORDER BY started_ms, rid LIMIT ?", " ORDER BY started_ms, rid LIMIT ?");
        long fromUs = micros(q.from());
        long toUs = micros(q.to());
        List<StoredResult> items = new ArrayList<>();
        long lastMs = 0;
        long lastRid = 0;
        boolean more = true;
        while (more && items.size() < q.limit()) {
            more = false;
            try (PreparedStatement p = c.prepareStatement(sql)) {
                bindPerSeries(p, series, new long[] {Math.floorDiv(fromUs, 1000), Math.floorDiv(toUs - 1, 1000), afterMs, afterMs, afterRid,
                    q.limit() + 1}, q.limit() + 1);
                int rows = 0;
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        if (items.size() == q.limit()) {
                            return new Page<>(items, lastMs + "-" + lastRid);
                        }
                        rows++;
                        long rid = rs.getLong(1);
                        lastMs = rs.getLong(3);
                        lastRid = rid;
                        afterMs = lastMs;
                        afterRid = rid;
                        long outcome = rs.getLong(4);
                        long us = Row.startedUs(lastMs, outcome);
                        if (us < fromUs || us >= toUs) {
                            continue; // in the first or last millisecond, outside the range
                        }
                        String[] name = seriesName(c, rs.getInt(2));
                        int failure = Row.failure(outcome);
                        WireResult r = new WireResult(rid & MAX_SEQ, name[1], name[2],
                                Instant.EPOCH.plus(us, ChronoUnit.MICROS), failure == 0,
                                failure == 0 ? null : WireResult.FAILURE_REASONS.get(failure - 1), rs.getString(5),
                                Row.rtUs(outcome) / 1e6, DetailsCodec.decode(rs.getBytes(6)), null, false, labels.get(rs.getInt(2)));
                        items.add(new StoredResult(name[0], epochName(c, (int) (rid >>> SEQ_BITS)), r));
                    }
                }
                more = rows == q.limit() + 1; // rows outside the exact range took places: ask again
            }
        }
        return new Page<>(items, more ? lastMs + "-" + lastRid : null);
    }

    @Override
    public List<io.sonde.server.spi.SeriesWindow> window(Instant from, Instant to) throws StoreException {
        return window(null, from, to);
    }

    // --- the recent results kept in memory, for the windows asked every few seconds ---

    private final RecentWindow recent = new RecentWindow();
    /** Whether committed results go to {@link #recent}: from the first window asked, where this server is the one writer. */
    private volatile boolean keeping;
    private final java.util.concurrent.atomic.AtomicLong windowsKept = new java.util.concurrent.atomic.AtomicLong();

    /** @return {windows answered from the results kept in memory, results kept there now} */
    long[] recentWindows() {
        return new long[] {windowsKept.get(), recent.kept()};
    }

    /** From the first window asked: results are kept from now on, and the newest start stored before is read in the background. */
    private synchronized void keepRecent() {
        if (keeping || dialect.shared() || closed) {
            return;
        }
        keeping = true;
        Thread t = io.sonde.base.DaemonThreads.of("sonde-store-recent", () -> {
            for (int attempt = 1; attempt <= 10 && !closed; attempt++) {
                try {
                    recent.exactAfter(newestStart());
                    return;
                } catch (SQLException | RuntimeException e) {
                    LOG.debug("Store: the newest result's start was not read ({}); trying again", e.toString());
                    java.util.concurrent.locks.LockSupport.parkNanos(5_000_000_000L);
                }
            }
            recent.stop(); // every window from the database, as before
        });
        t.start();
    }

    /** @return the newest start of any result stored, by each series' index (no read of the result table) */
    private long newestStart() throws SQLException {
        long newest = Long.MIN_VALUE;
        try (Connection c = connection()) {
            List<Integer> ids = new ArrayList<>();
            try (Statement q = c.createStatement(); ResultSet rs = q.executeQuery("SELECT id FROM series")) {
                while (rs.next()) {
                    ids.add(rs.getInt(1));
                }
            }
            try (PreparedStatement p = c.prepareStatement("SELECT started_ms FROM result WHERE series = ? ORDER BY started_ms DESC LIMIT 1")) {
                for (int id : ids) {
                    p.setInt(1, id);
                    try (ResultSet rs = p.executeQuery()) {
                        if (rs.next()) {
                            newest = Math.max(newest, rs.getLong(1));
                        }
                    }
                }
            }
        }
        return newest;
    }

    /** @return whether windows after the results stored before keeping began are answered from memory (for tests) */
    boolean recentReady() {
        long now = System.currentTimeMillis();
        return recent.answers(now, now);
    }

    @Override
    public List<io.sonde.server.spi.SeriesWindow> window(String targetPrefix, Instant from, Instant to) throws StoreException {
        long fromUs = micros(from);
        long toUs = micros(to);
        if (!keeping) {
            keepRecent();
        }
        Map<Integer, Summary> kept = keeping ? recent.window(fromUs, toUs, System.currentTimeMillis()) : null;
        if (kept != null) {
            try (Connection c = connection()) {
                List<io.sonde.server.spi.SeriesWindow> out = new ArrayList<>(kept.size());
                for (Map.Entry<Integer, Summary> e : kept.entrySet()) {
                    String[] name = seriesName(c, e.getKey());
                    if (targetPrefix != null && !name[1].startsWith(targetPrefix)) {
                        continue;
                    }
                    out.add(seriesWindow(name, e.getValue(), fromUs));
                }
                windowsKept.incrementAndGet();
                return out;
            } catch (SQLException e) {
                throw Sql.unavailable(e);
            }
        }
        return windowFromDatabase(targetPrefix, fromUs, toUs);
    }

    private static io.sonde.server.spi.SeriesWindow seriesWindow(String[] name, Summary summary, long fromUs) {
        SeriesStep st = summary.step(fromUs);
        return new io.sonde.server.spi.SeriesWindow(name[0], name[1], name[2], st.count(), st.failures(), st.loss(), st.p50(), st.p90(),
                st.p99());
    }

    /** The window read from the database, whatever is kept in memory. */
    List<io.sonde.server.spi.SeriesWindow> windowFromDatabase(String targetPrefix, long fromUs, long toUs) throws StoreException {
        try (Connection c = connection();
                // per series through its (series, started_ms) index: no scan of the result table
                PreparedStatement p = c.prepareStatement("SELECT r.series, r.started_ms, r.outcome, r.packets FROM series s"
                        + " JOIN result r ON r.series = s.id AND r.started_ms >= ? AND r.started_ms <= ?"
                        + (targetPrefix == null ? "" : " WHERE s.target LIKE ? ESCAPE '\\'"))) {
            p.setLong(1, Math.floorDiv(fromUs, 1000));
            p.setLong(2, Math.floorDiv(toUs - 1, 1000));
            if (targetPrefix != null) {
                p.setString(3, targetPrefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%");
            }
            p.setFetchSize(10_000);
            Map<Integer, Summary> by = new java.util.TreeMap<>();
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    long outcome = rs.getLong(3);
                    long us = Row.startedUs(rs.getLong(2), outcome);
                    if (us < fromUs || us >= toUs) {
                        continue;
                    }
                    int packets = rs.getInt(4);
                    boolean hasCounts = !rs.wasNull();
                    by.computeIfAbsent(rs.getInt(1), k -> Summary.exact())
                            .add(Row.rtUs(outcome), Row.failure(outcome) == 0, hasCounts ? packets >>> 16 : -1, packets & 0xFFFF);
                }
            }
            List<io.sonde.server.spi.SeriesWindow> out = new ArrayList<>(by.size());
            for (Map.Entry<Integer, Summary> e : by.entrySet()) {
                out.add(seriesWindow(seriesName(c, e.getKey()), e.getValue(), fromUs));
            }
            return out;
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    @Override
    public Optional<StoredResult> latest(String agentId, String target) throws StoreException {
        try (Connection c = connection()) {
            int[] series = seriesOf(c, agentId, target);
            Map<Integer, Map<String, String>> labels = labelsOf(c, series);
            StoredResult best = null;
            for (int one : series) {
                try (PreparedStatement p = c.prepareStatement("SELECT rid, started_ms, outcome, error, details FROM result WHERE series = ?"
                        + " ORDER BY started_ms DESC, rid DESC LIMIT 1")) {
                    p.setInt(1, one);
                    try (ResultSet rs = p.executeQuery()) {
                        if (!rs.next()) {
                            continue;
                        }
                        long rid = rs.getLong(1);
                        long outcome = rs.getLong(3);
                        int failure = Row.failure(outcome);
                        String[] name = seriesName(c, one);
                        WireResult r = new WireResult(rid & MAX_SEQ, name[1], name[2],
                                Instant.EPOCH.plus(Row.startedUs(rs.getLong(2), outcome), ChronoUnit.MICROS), failure == 0,
                                failure == 0 ? null : WireResult.FAILURE_REASONS.get(failure - 1), rs.getString(4), Row.rtUs(outcome) / 1e6,
                                DetailsCodec.decode(rs.getBytes(5)), null, false, labels.get(one));
                        if (best == null || r.startedAt().isAfter(best.result().startedAt())) {
                            best = new StoredResult(name[0], epochName(c, (int) (rid >>> SEQ_BITS)), r);
                        }
                    }
                }
            }
            return Optional.ofNullable(best);
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    @Override
    public List<io.sonde.server.spi.AlertState> alertStates() throws StoreException {
        return alerts.states();
    }

    @Override
    public void putAlertState(io.sonde.server.spi.AlertState a) throws StoreException {
        alerts.put(a);
    }

    @Override
    public void deleteAlertState(String rule, String subject) throws StoreException {
        alerts.delete(rule, subject);
    }

    @Override
    public long enqueue(String receiver, String payload, Instant now) throws StoreException {
        return alerts.enqueue(receiver, payload, now);
    }

    @Override
    public List<io.sonde.server.spi.Notification> undeliveredNotifications(int limit) throws StoreException {
        return alerts.undelivered(limit);
    }

    @Override
    public void notificationSent(long id, Instant at) throws StoreException {
        alerts.sent(id, at);
    }

    @Override
    public void notificationFailed(long id, int attempts, Instant next, String error) throws StoreException {
        alerts.failed(id, attempts, next, error);
    }

    @Override
    public List<io.sonde.server.spi.Notification> notifications(int limit) throws StoreException {
        return alerts.latest(limit);
    }

    @Override
    public long pendingNotifications() throws StoreException {
        return alerts.pending();
    }

    @Override
    public void putUser(io.sonde.server.spi.User u) throws StoreException {
        users.put(u);
    }

    @Override
    public Optional<io.sonde.server.spi.User> user(String name) throws StoreException {
        return users.get(name);
    }

    @Override
    public List<io.sonde.server.spi.User> users() throws StoreException {
        return users.all();
    }

    @Override
    public boolean deleteUser(String name) throws StoreException {
        return users.delete(name);
    }

    @Override
    public void putUserCredential(byte[] hash, io.sonde.server.spi.UserCredential u) throws StoreException {
        users.putCredential(hash, u);
    }

    @Override
    public Optional<io.sonde.server.spi.UserCredential> userCredential(byte[] hash) throws StoreException {
        return users.credential(hash);
    }

    @Override
    public List<io.sonde.server.spi.UserCredential> userCredentials(String user) throws StoreException {
        return users.credentials(user);
    }

    @Override
    public boolean deleteUserCredential(String id) throws StoreException {
        return users.deleteCredential(id);
    }

    @Override
    public int dropExpiredUserCredentials(Instant now) throws StoreException {
        return users.dropExpiredCredentials(now);
    }

    @Override
    public List<io.sonde.server.spi.SeriesName> seriesNames() throws StoreException {
        try (Connection c = connection(); PreparedStatement p = c.prepareStatement(
                "SELECT a.agent_id, s.target, s.kind FROM series s JOIN agent a ON a.id = s.agent ORDER BY s.target, a.agent_id, s.kind")) {
            List<io.sonde.server.spi.SeriesName> out = new ArrayList<>();
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    out.add(new io.sonde.server.spi.SeriesName(rs.getString(1), rs.getString(2), rs.getString(3)));
                }
            }
            return out;
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    @Override
    public boolean leads() {
        return lead();
    }

    static long micros(Instant t) {
        // not ChronoUnit.MICROS.between: it goes through nanoseconds, which a long holds only up to 2262
        return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1000);
    }

    /** The steps of a series query: {@link SeriesSteps} says how they are made. */
    @Override
    public List<SeriesStep> series(SeriesQuery q) throws StoreException {
        try {
            return read(c -> seriesSteps.read(c, q));
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    @Override
    public long resultCount() throws StoreException {
        try (Connection c = connection(); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM result")) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    @Override
    public long resultCountEstimate() throws StoreException {
        try (Connection c = connection()) {
            long estimate = dialect.resultEstimate(c);
            return estimate >= 0 ? estimate : resultCount();
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    @Override
    public long sizeBytes() {
        return dialect.sizeBytes(pool);
    }

    @Override
    public void check() throws StoreException {
        try (Connection c = connection(); Statement s = c.createStatement()) {
            s.execute("SELECT 1");
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }
}
