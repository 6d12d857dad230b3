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
import java.util.LinkedHashSet;
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
    private final Map<Long, Long> openHoursListed = new ConcurrentHashMap<>();
    private long marks; // a count to prune by, not exact under races

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
        listening = false;
        credentials.incrementAndGet();
        dialect.resign();
        try {
            closer.close();
        } catch (Exception e) {
            // closing a pool whose database went away: nothing more to do
        }
    }

    private static StoreException refused(String message) {
        return new StoreException(StoreException.Kind.REFUSED, message, null);
    }

    private static String joinTags(List<String> tags) {
        return String.join(",", tags);
    }

    private static List<String> splitTags(String tags) {
        return tags == null || tags.isEmpty() ? List.of() : List.of(tags.split(","));
    }

    private static Long millis(Instant t) {
        return t == null ? null : t.toEpochMilli();
    }

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : Instant.ofEpochMilli(v);
    }

    // --- enrollment and agents ---

    @Override
    public EnrollmentToken createEnrollmentToken(byte[] tokenHash, List<String> tags, Instant expiresAt, boolean singleUse,
            boolean agentTags, Instant now) throws StoreException {
        try (Connection c = connection();
                PreparedStatement p = c.prepareStatement("INSERT INTO enrollment_token (token_hash, tags, expires_at, single_use, created_at,"
                        + " agent_tags) VALUES (?, ?, ?, ?, ?, ?)", Statement.RETURN_GENERATED_KEYS)) {
            p.setBytes(1, tokenHash);
            p.setString(2, joinTags(tags));
            p.setLong(3, expiresAt.toEpochMilli());
            p.setBoolean(4, singleUse);
            p.setLong(5, now.toEpochMilli());
            p.setBoolean(6, agentTags);
            p.executeUpdate();
            try (ResultSet rs = p.getGeneratedKeys()) {
                rs.next();
                return new EnrollmentToken(rs.getLong(1), tags, expiresAt, singleUse, now, agentTags);
            }
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    @Override
    public AgentRecord enroll(byte[] tokenHash, String agentId, List<String> tags, String version, byte[] credentialHash,
            boolean proven, Instant now) throws StoreException {
        try (Connection c = connection()) {
            c.setAutoCommit(false);
            try {
                List<String> tokenTags;
                boolean agentTags;
                try (PreparedStatement p = c.prepareStatement(
                        "SELECT id, tags, expires_at, single_use, uses, agent_tags FROM enrollment_token WHERE token_hash = ? FOR UPDATE")) {
                    p.setBytes(1, tokenHash);
                    try (ResultSet rs = p.executeQuery()) {
                        if (!rs.next()) {
                            throw refused("the enrollment token is not known");
                        }
                        if (rs.getLong("expires_at") <= now.toEpochMilli()) {
                            throw refused("the enrollment token expired at " + Instant.ofEpochMilli(rs.getLong("expires_at")));
                        }
                        if (rs.getBoolean("single_use") && rs.getInt("uses") > 0) {
                            throw refused("the enrollment token was for one use and has been used");
                        }
                        tokenTags = splitTags(rs.getString("tags"));
                        agentTags = rs.getBoolean("agent_tags");
                        try (PreparedStatement u = c.prepareStatement("UPDATE enrollment_token SET uses = uses + 1 WHERE id = ?")) {
                            u.setLong(1, rs.getLong("id"));
                            u.executeUpdate();
                        }
                    }
                }
                Set<String> granted = new HashSet<>(tokenTags);
                if (!agentTags) {
                    List<String> beyond = tags.stream().filter(t -> !granted.contains(t)).toList();
                    if (!beyond.isEmpty()) {
                        throw new StoreException(StoreException.Kind.FORBIDDEN, "tags " + beyond + " are not the enrollment token's ("
                                + tokenTags + "): an agent gets its token's tags; make a token with these tags, or one with agent_tags"
                                + " true to let agents add their own", null);
                    }
                }
                Instant revoked = null;
                boolean exists = false;
                boolean holdsCredential = false;
                List<String> kept = List.of();
                try (PreparedStatement p = c.prepareStatement("SELECT revoked_at, credential_hash, tags FROM agent WHERE agent_id = ? FOR UPDATE")) {
                    p.setString(1, agentId);
                    try (ResultSet rs = p.executeQuery()) {
                        if (rs.next()) {
                            exists = true;
                            revoked = instant(rs, "revoked_at");
                            holdsCredential = rs.getBytes("credential_hash") != null;
                            kept = splitTags(rs.getString("tags"));
                        }
                    }
                }
                if (revoked != null) {
                    throw refused("agent '" + agentId + "' was revoked at " + revoked + " and cannot enroll again under this id");
                }
                if (holdsCredential && !proven) {
                    throw new StoreException(StoreException.Kind.CONFLICT, "agent '" + agentId + "' is enrolled already: enrolling it again"
                            + " needs its current credential (Authorization: Bearer ...) or an admin's reset (POST /api/v1/agents/"
                            + agentId + "/reset, sonde-cli server agents reset " + agentId + ")", null);
                }
                Set<String> all = new LinkedHashSet<>(kept); // a new credential, not a new agent: what the admin tagged it with stays
                all.addAll(tags);
                all.addAll(tokenTags);
                List<String> merged = List.copyOf(all);
                String sql = exists
                        ? "UPDATE agent SET tags = ?, version = ?, credential_hash = ?, enrolled_at = ?, last_seen = ? WHERE agent_id = ?"
                        : "INSERT INTO agent (tags, version, credential_hash, enrolled_at, last_seen, agent_id) VALUES (?, ?, ?, ?, ?, ?)";
                try (PreparedStatement p = c.prepareStatement(sql)) {
                    p.setString(1, joinTags(merged));
                    p.setString(2, version);
                    p.setBytes(3, credentialHash);
                    p.setLong(4, now.toEpochMilli());
                    p.setLong(5, now.toEpochMilli());
                    p.setString(6, agentId);
                    p.executeUpdate();
                }
                if (exists) {
                    dialect.credentialsChanged(c); // a new credential: the one it replaces stops working
                }
                c.commit();
                if (exists) {
                    credentials.incrementAndGet();
                }
                return new AgentRecord(agentId, merged, version, now, now, null, 0);
            } catch (StoreException | SQLException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
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

    @Override
    public boolean pinAgentAddress(String agentId, String address) throws StoreException {
        try (Connection c = connection(); PreparedStatement p = c.prepareStatement("UPDATE agent SET address_pin = ? WHERE agent_id = ?")) {
            p.setString(1, address);
            p.setString(2, agentId);
            return p.executeUpdate() > 0;
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    @Override
    public boolean resetAgentCredential(String agentId) throws StoreException {
        return credentialChange("UPDATE agent SET credential_hash = NULL WHERE agent_id = ?", agentId) > 0;
    }

    // --- the credentials' epoch: a check of a credential may be kept while it stays ---

    private final java.util.concurrent.atomic.AtomicLong credentials = new java.util.concurrent.atomic.AtomicLong();
    /** Whether the listener hears the other servers' changes now (a database of this server alone needs none). */
    private volatile boolean listening;
    private Thread listener; // guarded by this
    private volatile boolean closed;

    @Override
    public long credentialsEpoch() {
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
            try (Connection c = pool.getConnection()) {
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

    /** Runs a statement that may end a credential, with the other servers told at its commit; then this server's epoch moves. */
    private int credentialChange(String sql, Object... parameters) throws StoreException {
        try (Connection c = connection()) {
            c.setAutoCommit(false);
            try (PreparedStatement p = Sql.bind(c.prepareStatement(sql), parameters)) {
                int n = p.executeUpdate();
                if (n > 0) {
                    dialect.credentialsChanged(c);
                }
                c.commit();
                if (n > 0) {
                    credentials.incrementAndGet();
                }
                return n;
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    private static AgentRecord agent(ResultSet rs) throws SQLException {
        Instant configAt = instant(rs, "config_at");
        AgentRecord.ConfigReport config = configAt == null ? null : new AgentRecord.ConfigReport(rs.getString("config_version"),
                rs.getString("config_source"), list(rs.getString("config_rejected"), io.sonde.wire.AgentStatus.Rejected[].class), configAt,
                list(rs.getString("config_updates"), io.sonde.wire.AgentStatus.Update[].class));
        return new AgentRecord(rs.getString("agent_id"), splitTags(rs.getString("tags")), rs.getString("version"),
                instant(rs, "enrolled_at"), instant(rs, "last_seen"), instant(rs, "revoked_at"), rs.getLong("spool_records"),
                rs.getString("address_pin") != null ? rs.getString("address_pin") : rs.getString("address"), config,
                rs.getString("address_pin") != null ? AgentRecord.PINNED : rs.getString("address_source"));
    }

    /** A list as stored: JSON; unreadable text (cannot be written so) reads as none. */
    private static <T> List<T> list(String json, Class<T[]> type) {
        if (json == null || json.isEmpty()) {
            return List.of();
        }
        try {
            T[] list = io.sonde.wire.WireCodec.gson().fromJson(json, type);
            return list == null ? List.of() : List.of(list);
        } catch (RuntimeException e) {
            return List.of();
        }
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
    public void reportConfig(String agentId, AgentRecord.ConfigReport report) throws StoreException {
        try (Connection c = connection()) {
            reportConfig(c, agentId, report);
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    private static void reportConfig(Connection c, String agentId, AgentRecord.ConfigReport report) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE agent SET config_version = ?, config_source = ?, config_rejected = ?,"
                + " config_at = ?, config_updates = ? WHERE agent_id = ?")) {
            p.setString(1, report.version());
            p.setString(2, report.source());
            p.setString(3, report.rejected().isEmpty() ? null
                    : new String(io.sonde.wire.WireCodec.json(report.rejected()), java.nio.charset.StandardCharsets.UTF_8));
            p.setLong(4, report.reportedAt().toEpochMilli());
            p.setString(5, report.updates().isEmpty() ? null
                    : new String(io.sonde.wire.WireCodec.json(report.updates()), java.nio.charset.StandardCharsets.UTF_8));
            p.setString(6, agentId);
            p.executeUpdate();
        }
    }

    @Override
    public Optional<AgentRecord> agentByCredential(byte[] credentialHash) throws StoreException {
        try (Connection c = connection();
                PreparedStatement p = c.prepareStatement("SELECT * FROM agent WHERE credential_hash = ?")) {
            p.setBytes(1, credentialHash);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? Optional.of(agent(rs)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    @Override
    public List<AgentRecord> agents() throws StoreException {
        try (Connection c = connection();
                PreparedStatement p = c.prepareStatement("SELECT * FROM agent ORDER BY agent_id");
                ResultSet rs = p.executeQuery()) {
            List<AgentRecord> out = new ArrayList<>();
            while (rs.next()) {
                out.add(agent(rs));
            }
            return out;
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
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

    @Override
    public boolean revokeAgent(String agentId, Instant now) throws StoreException {
        return credentialChange("UPDATE agent SET revoked_at = COALESCE(revoked_at, ?) WHERE agent_id = ?", now.toEpochMilli(), agentId) > 0;
    }

    @Override
    public void touch(String agentId, Instant now, String version, long spoolRecords, String address, String addressSource)
            throws StoreException {
        try (Connection c = connection()) {
            touch(c, agentId, now, version, spoolRecords, address, addressSource);
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    private static void touch(Connection c, String agentId, Instant now, String version, long spoolRecords, String address,
            String addressSource) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("UPDATE agent SET last_seen = ?, address = COALESCE(?, address),"
                + " address_source = COALESCE(?, address_source)"
                + (version == null ? "" : ", version = ?, spool_records = ?") + " WHERE agent_id = ?")) {
            int i = 1;
            p.setLong(i++, now.toEpochMilli());
            p.setString(i++, address);
            p.setString(i++, address == null ? null : addressSource);
            if (version != null) {
                p.setString(i++, version);
                p.setLong(i++, spoolRecords);
            }
            p.setString(i, agentId);
            p.executeUpdate();
        }
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
                    touch(c, agentId, heard.now(), heard.version(), heard.spoolRecords(), heard.address(), heard.addressSource());
                }
                if (report != null) {
                    reportConfig(c, agentId, report);
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

    @Override
    public void seen(Map<String, Instant> lastSeen) throws StoreException {
        Map<String, Heard> heard = new java.util.HashMap<>(lastSeen.size() * 2);
        lastSeen.forEach((id, at) -> heard.put(id, new Heard(at, -1)));
        heard(heard);
    }

    @Override
    public void heard(Map<String, Heard> heard) throws StoreException {
        if (heard.isEmpty()) {
            return;
        }
        try (Connection c = connection()) {
            c.setAutoCommit(false);
            // one statement, the agents in one order: no deadlock between instances writing the same agents. The spool count
            // goes with the time that told it: taken at a time no older than the one stored, a newer word (another instance's) stays
            try (PreparedStatement p = c.prepareStatement("UPDATE agent SET last_seen = ?, spool_records = CASE WHEN ? >= 0 THEN ?"
                    + " ELSE spool_records END WHERE agent_id = ? AND (last_seen IS NULL OR last_seen < ? OR (last_seen = ? AND ? >= 0))")) {
                for (Map.Entry<String, Heard> e : new java.util.TreeMap<>(heard).entrySet()) {
                    long ms = e.getValue().at().toEpochMilli();
                    long spool = e.getValue().spoolRecords();
                    p.setLong(1, ms);
                    p.setLong(2, spool);
                    p.setLong(3, spool);
                    p.setString(4, e.getKey());
                    p.setLong(5, ms);
                    p.setLong(6, ms);
                    p.setLong(7, spool);
                    p.addBatch();
                }
                p.executeBatch();
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw Sql.unavailable(e);
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
                        Instant.ofEpochMilli(rs.getLong(8)), instant(rs, "next_ms"), rs.getBoolean(10), instant(rs, "failure_ms"),
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

    /**
     * Lists the hours of each series that the rows change, for the rollup job; in the writer's
     * transaction. An hour that is still open is listed once per server: the job does not touch it
     * before {@link #CLOSE_MS} after its end, and this server forgets it {@link #LISTED_MS} after it.
     */
    private void markDirty(Connection c, List<Dialect.ResultRow> rows) throws SQLException {
        long now = System.currentTimeMillis();
        java.util.TreeSet<Long> keys = new java.util.TreeSet<>(); // series << 32 | hour: sorted, so that writers lock in one order
        for (Dialect.ResultRow r : rows) {
            long hour = Math.floorDiv(r.startedMs(), HOUR_MS);
            long key = (long) r.series() << 32 | hour;
            if (!openHoursListed.containsKey(key)) {
                keys.add(key);
            }
        }
        if (keys.isEmpty()) {
            return;
        }
        dialect.markDirty(c, keys);
        for (long key : keys) {
            long end = ((key & 0xFFFFFFFFL) + 1) * HOUR_MS;
            if (end + LISTED_MS > now) {
                openHoursListed.put(key, end + LISTED_MS);
            }
        }
        if (openHoursListed.size() > 100_000 || ++marks % 1000 == 0) {
            openHoursListed.values().removeIf(until -> until <= now);
        }
    }

    /**
     * Rolls up closed hours whose raw results changed: their minutes and the hour are made again
     * from the raw results, in one transaction an hour. An hour is closed {@link #CLOSE_MS} after
     * its end at {@code now}; until then queries sum it up from the raw results. Hours older than
     * {@code rawKeptFrom} have no raw results left to make them from: their rollups stay as they are.
     *
     * @return the hours taken from the list (rolled up, or too old to be)
     */
    int rollUp(int maxHours, Instant rawKeptFrom, Instant now) throws StoreException {
        return takeClosedHours("rollup_dirty", "series", maxHours, now, (c, series, hour) -> {
            if (hour + HOUR_MS > rawKeptFrom.toEpochMilli()) {
                rollUpHour(c, (Integer) series, hour);
                UptimeJob.rolledUp(c, hour);
            }
        });
    }

    /**
     * Counts the targets' minutes per state in the closed hours whose rollups are made, and again
     * the days whose rollups were made again ({@link UptimeJob}).
     *
     * @return the hours counted
     */
    int countUptime(int maxHours, Instant now) throws StoreException {
        try (Connection c = connection()) {
            return UptimeJob.run(c, maxHours, now.toEpochMilli() - CLOSE_MS);
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    /**
     * Drops the uptime job's days and outages that ended {@code keep} before {@code now} (kept as
     * long as the hour rollups they could be counted again from).
     *
     * @return rows dropped
     */
    long dropUptimeOlderThan(java.time.Duration keep, Instant now) throws StoreException {
        long before = now.minus(keep).toEpochMilli();
        try (Connection c = connection();
                PreparedStatement days = c.prepareStatement("DELETE FROM uptime_day WHERE day_ms < ?");
                PreparedStatement outages = c.prepareStatement("DELETE FROM outage WHERE end_ms < ?")) {
            days.setLong(1, before - UptimeJob.DAY_MS); // a day's row: once all of the day is past the bound
            outages.setLong(1, before);
            return days.executeUpdate() + outages.executeUpdate();
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
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

    /** What a rollup job does with one (key, hour) it took from its list, in the transaction that took it. */
    private interface ListedHour {
        void make(Connection c, Object key, long hour) throws SQLException;
    }

    /**
     * Takes up to {@code maxHours} closed hours from a list ({@code table} of (key, hour_ms)), oldest first, each in a
     * transaction of its own: taken from the list, then made by {@code job} (an hour listed again meanwhile is made again).
     *
     * @return the hours taken
     */
    private int takeClosedHours(String table, String key, int maxHours, Instant now, ListedHour job) throws StoreException {
        try (Connection c = connection()) {
            List<Object[]> listed = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement(
                    "SELECT " + key + ", hour_ms FROM " + table + " WHERE hour_ms <= ? ORDER BY hour_ms, " + key + " LIMIT ?")) {
                p.setLong(1, now.toEpochMilli() - HOUR_MS - CLOSE_MS); // closed hours only
                p.setInt(2, maxHours);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        listed.add(new Object[] {rs.getObject(1), rs.getLong(2)});
                    }
                }
            }
            c.setAutoCommit(false);
            try (PreparedStatement take = c.prepareStatement("DELETE FROM " + table + " WHERE " + key + " = ? AND hour_ms = ?")) {
                for (Object[] l : listed) {
                    take.setObject(1, l[0]);
                    take.setLong(2, (Long) l[1]);
                    if (take.executeUpdate() == 1) {
                        job.make(c, l[0], (Long) l[1]);
                    }
                    c.commit();
                }
            } catch (SQLException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
            return listed.size();
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    private void rollUpHour(Connection c, int series, long hour) throws SQLException {
        Summary whole = new Summary();
        java.util.TreeMap<Long, Summary> minutes = new java.util.TreeMap<>();
        try (PreparedStatement p = c.prepareStatement(
                "SELECT started_ms, outcome, packets FROM result WHERE series = ? AND started_ms >= ? AND started_ms < ?")) {
            p.setInt(1, series);
            p.setLong(2, hour);
            p.setLong(3, hour + HOUR_MS);
            p.setFetchSize(10_000);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    long outcome = rs.getLong(2);
                    int packets = rs.getInt(3);
                    boolean hasCounts = !rs.wasNull();
                    Summary m = minutes.computeIfAbsent(Math.floorDiv(rs.getLong(1), MINUTE_MS) * MINUTE_MS, k -> new Summary());
                    m.add(Row.rtUs(outcome), Row.failure(outcome) == 0, hasCounts ? packets >>> 16 : -1, packets & 0xFFFF);
                }
            }
        }
        dropHour(c, "rollup", "series", series, hour);
        if (!minutes.isEmpty()) {
            try (PreparedStatement p = c.prepareStatement("INSERT INTO rollup (resolution_s, series, start_ms, count, failures, sent, received,"
                    + " min_us, max_us, sketch) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                for (Map.Entry<Long, Summary> m : minutes.entrySet()) {
                    whole.merge(m.getValue());
                    p.setInt(2, series);
                    bindRollup(p, 60, m.getKey(), m.getValue());
                }
                p.setInt(2, series);
                bindRollup(p, 3600, hour, whole);
                p.executeBatch();
            }
        }
        markTargetHour(c, series, hour);
    }

    /**
     * After a series' hour is rolled up, in its transaction: the hour of the series' target across
     * its series is to be made again, where the target has such rollups. A target that has none and
     * is now seen from two series or more gets them: every hour its series have rolled up is listed.
     */
    private void markTargetHour(Connection c, int series, long hour) throws SQLException {
        String target = seriesName(c, series)[1];
        if (!hasTargetRollups(c, target)) {
            try (PreparedStatement p = c.prepareStatement("SELECT COUNT(*) FROM series WHERE target = ?")) {
                p.setString(1, target);
                try (ResultSet rs = p.executeQuery()) {
                    rs.next();
                    if (rs.getInt(1) < 2) {
                        return; // its series' own rollups are the target's
                    }
                }
            }
            try (PreparedStatement p = c.prepareStatement("INSERT INTO rollup_target (target) VALUES (?)")) {
                p.setString(1, target);
                p.executeUpdate();
            }
            // every hour any of its series has, this one among them (unless it had no result left)
            try (PreparedStatement p = c.prepareStatement("INSERT INTO target_rollup_dirty (target, hour_ms) SELECT DISTINCT s.target, r.start_ms"
                    + " FROM rollup r JOIN series s ON s.id = r.series WHERE s.target = ? AND r.resolution_s = 3600 AND r.start_ms <> ?")) {
                p.setString(1, target);
                p.setLong(2, hour);
                p.executeUpdate();
            }
        }
        // the only writer is the leader's rollup job: delete and insert is the upsert of both dialects
        try (PreparedStatement p = c.prepareStatement("DELETE FROM target_rollup_dirty WHERE target = ? AND hour_ms = ?")) {
            p.setString(1, target);
            p.setLong(2, hour);
            p.executeUpdate();
        }
        try (PreparedStatement p = c.prepareStatement("INSERT INTO target_rollup_dirty (target, hour_ms) VALUES (?, ?)")) {
            p.setString(1, target);
            p.setLong(2, hour);
            p.executeUpdate();
        }
    }

    /**
     * Makes again the listed hours of targets seen from several series, merged across their series'
     * rollups (minutes and the hour), in one transaction an hour; only closed hours (their series'
     * rollups are made by then; an hour a series rolls up again is listed again).
     *
     * @return the (target, hour) taken from the list
     */
    int rollUpTargets(int maxHours, Instant now) throws StoreException {
        return takeClosedHours("target_rollup_dirty", "target", maxHours, now, (c, target, hour) -> {
            rollUpTargetHour(c, (String) target, hour);
            targetHours.incrementAndGet();
        });
    }

    private final java.util.concurrent.atomic.AtomicLong targetHours = new java.util.concurrent.atomic.AtomicLong();

    /** @return the (target, hour) this store rolled up across the target's series, one at a time as they are committed */
    long targetHoursRolledUp() {
        return targetHours.get();
    }

    private void rollUpTargetHour(Connection c, String target, long hour) throws SQLException {
        int[] series = seriesOf(c, null, target);
        dropHour(c, "target_rollup", "target", target, hour);
        try (PreparedStatement insert = c.prepareStatement("INSERT INTO target_rollup (resolution_s, target, start_ms, count, failures,"
                + " sent, received, min_us, max_us, sketch) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            for (int resolution : new int[] {60, 3600}) {
                java.util.TreeMap<Long, Summary> merged = new java.util.TreeMap<>();
                for (int[] part : parts(series)) {
                    try (PreparedStatement p = c.prepareStatement(perSeries(part.length, "SELECT start_ms, count, failures, sent, received,"
                            + " min_us, max_us, sketch FROM rollup WHERE resolution_s = " + resolution
                            + " AND series = ? AND start_ms >= ? AND start_ms < ?", ""))) {
                        bindPerSeries(p, part, new long[] {hour, hour + HOUR_MS});
                        p.setFetchSize(10_000);
                        try (ResultSet rs = p.executeQuery()) {
                            while (rs.next()) {
                                merged.computeIfAbsent(rs.getLong(1), k -> new Summary(false)).merge(stored(rs, 2));
                            }
                        }
                    }
                }
                for (Map.Entry<Long, Summary> m : merged.entrySet()) {
                    insert.setString(2, target);
                    bindRollup(insert, resolution, m.getKey(), m.getValue());
                }
            }
            insert.executeBatch();
        }
    }

    /** Deletes the minutes and the hour of {@code hour} that {@code table} holds for {@code key} (its column {@code keyColumn}). */
    private static void dropHour(Connection c, String table, String keyColumn, Object key, long hour) throws SQLException {
        // one resolution at a time: with resolution_s IN (60, 3600) H2 reads the whole key range of
        // both resolutions and filters it, so each hour cost as much as all the rollups made before it
        try (PreparedStatement p = c.prepareStatement("DELETE FROM " + table + " WHERE resolution_s = ? AND " + keyColumn + " = ?"
                + " AND start_ms >= ? AND start_ms < ?")) {
            for (int resolution : new int[] {60, 3600}) {
                p.setInt(1, resolution);
                p.setObject(2, key);
                p.setLong(3, hour);
                p.setLong(4, hour + HOUR_MS);
                p.addBatch();
            }
            p.executeBatch();
        }
    }

    /** @return whether the rollup job keeps {@code target}'s rollups across its series (it is seen from two or more) */
    private static boolean hasTargetRollups(Connection c, String target) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM rollup_target WHERE target = ?")) {
            p.setString(1, target);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** @return a rollup's summary from its columns count, failures, sent, received, min_us, max_us, sketch from {@code first} on */
    private static Summary stored(ResultSet rs, int first) throws SQLException {
        return Summary.of(rs.getLong(first), rs.getLong(first + 1), (Long) rs.getObject(first + 2, Long.class),
                (Long) rs.getObject(first + 3, Long.class), (Long) rs.getObject(first + 4, Long.class),
                (Long) rs.getObject(first + 5, Long.class), rs.getBytes(first + 6));
    }

    /** Binds a rollup's row but its second parameter (its series or target), and adds it to the batch. */
    private static void bindRollup(PreparedStatement p, int resolution, long startMs, Summary s) throws SQLException {
        p.setInt(1, resolution);
        p.setLong(3, startMs);
        p.setLong(4, s.count);
        p.setLong(5, s.failures);
        p.setObject(6, s.packets ? s.sent : null, java.sql.Types.BIGINT);
        p.setObject(7, s.packets ? s.received : null, java.sql.Types.BIGINT);
        byte[] sketch = s.sketchBytes();
        p.setObject(8, sketch == null ? null : s.minUs, java.sql.Types.BIGINT);
        p.setObject(9, sketch == null ? null : s.maxUs, java.sql.Types.BIGINT);
        p.setBytes(10, sketch);
        p.addBatch();
    }

    /** Drops the rollups of a resolution (series and targets) that started {@code keep} before {@code now}. @return rows dropped */
    long dropRollupsOlderThan(int resolutionS, java.time.Duration keep, Instant now) throws StoreException {
        try (Connection c = connection()) {
            long dropped = 0;
            for (String table : new String[] {"rollup", "target_rollup"}) { // a target's across its series, kept as long
                try (PreparedStatement p = c.prepareStatement("DELETE FROM " + table + " WHERE resolution_s = ? AND start_ms < ?")) {
                    p.setInt(1, resolutionS);
                    p.setLong(2, now.minus(keep).toEpochMilli());
                    dropped += p.executeUpdate();
                }
            }
            return dropped;
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
    private int[] seriesOf(Connection c, String agentId, String target) throws SQLException {
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
    public List<EnrollmentToken> enrollmentTokens(Instant now) throws StoreException {
        try (Connection c = connection(); PreparedStatement p = c.prepareStatement("SELECT id, tags, expires_at, single_use, uses, created_at,"
                + " agent_tags FROM enrollment_token WHERE expires_at > ? ORDER BY id")) {
            p.setLong(1, now.toEpochMilli());
            List<EnrollmentToken> out = new ArrayList<>();
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    if (rs.getBoolean(4) && rs.getInt(5) > 0) {
                        continue; // used up
                    }
                    out.add(new EnrollmentToken(rs.getLong(1), splitTags(rs.getString(2)), Instant.ofEpochMilli(rs.getLong(3)), rs.getBoolean(4),
                            Instant.ofEpochMilli(rs.getLong(6)), rs.getBoolean(7)));
                }
            }
            return out;
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    @Override
    public boolean setAgentTags(String agentId, List<String> tags) throws StoreException {
        return sql.update("UPDATE agent SET tags = ? WHERE agent_id = ?", joinTags(tags), agentId) > 0;
    }

    @Override
    public boolean deleteEnrollmentToken(long id) throws StoreException {
        return sql.update("DELETE FROM enrollment_token WHERE id = ?", id) > 0;
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

    private static long micros(Instant t) {
        // not ChronoUnit.MICROS.between: it goes through nanoseconds, which a long holds only up to 2262
        return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1000);
    }

    /**
     * Steps of whole minutes come from the rollups (hour rollups for steps of whole hours), merged
     * sketches giving the percentiles; hours whose raw results changed since they were rolled up
     * are summed up from the raw results in the same way, so the answer is never stale. Shorter
     * steps, and steps that are no whole minutes, are exact from the raw results. A step of the
     * rollups holds the minutes (hours) that start in it: a range ends at the end of its last one.
     */
    @Override
    public List<SeriesStep> series(SeriesQuery q) throws StoreException {
        long stepMs = q.step().toMillis();
        try {
            if (stepMs >= MINUTE_MS && stepMs % MINUTE_MS == 0 && q.step().toNanos() % 1_000_000 == 0) {
                return read(c -> seriesFromRollups(c, q, stepMs, stepMs % HOUR_MS == 0 ? 3600 : 60));
            }
            return read(c -> seriesFromRaw(c, q));
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    /** Where a query's steps are counted from, in ms: the epoch, or its {@code from} when it asks so. */
    private static long originMs(SeriesQuery q) {
        return q.fromAligned() ? q.from().toEpochMilli() : 0;
    }

    /** The start of the step {@code t} falls in, steps of {@code step} counted from {@code origin} (any one unit). */
    private static long stepStart(long t, long origin, long step) {
        return origin + Math.floorDiv(t - origin, step) * step;
    }

    private List<SeriesStep> seriesFromRollups(Connection c, SeriesQuery q, long stepMs, int resolution) throws SQLException {
        long originMs = originMs(q);
        long fromMs = stepStart(q.from().toEpochMilli(), originMs, stepMs);
        long toMs = q.to().toEpochMilli();
        int[] series = seriesOf(c, q.agentId(), q.target());
        if (series.length == 0 || toMs <= fromMs) {
            return List.of();
        }
        java.util.Set<Long> dirty = new HashSet<>(); // series << 32 | hour
        try (PreparedStatement p = c.prepareStatement(perSeries(series.length,
                "SELECT series, hour_ms FROM rollup_dirty WHERE series = ? AND hour_ms >= ? AND hour_ms < ?", ""))) {
            bindPerSeries(p, series, new long[] {Math.floorDiv(fromMs, HOUR_MS) * HOUR_MS, toMs});
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    dirty.add((long) rs.getInt(1) << 32 | Math.floorDiv(rs.getLong(2), HOUR_MS));
                }
            }
        }
        // the changed hours first, from the raw results: few (the open hour, late results)
        java.util.TreeMap<Long, Summary> fromRaw = new java.util.TreeMap<>();
        if (!dirty.isEmpty()) {
            try (PreparedStatement p = c.prepareStatement(
                    "SELECT started_ms, outcome, packets FROM result WHERE series = ? AND started_ms >= ? AND started_ms < ?")) {
                for (long d : dirty) {
                    long hour = (d & 0xFFFFFFFFL) * HOUR_MS;
                    p.setInt(1, (int) (d >>> 32));
                    p.setLong(2, Math.max(hour, fromMs));
                    // the units that start before the range's end, whole, as the rollups have them
                    p.setLong(3, Math.min(hour + HOUR_MS, Math.floorDiv(toMs - 1, resolution * 1000L) * resolution * 1000L
                            + resolution * 1000L));
                    try (ResultSet rs = p.executeQuery()) {
                        while (rs.next()) {
                            long outcome = rs.getLong(2);
                            int packets = rs.getInt(3);
                            boolean hasCounts = !rs.wasNull();
                            fromRaw.computeIfAbsent(stepStart(rs.getLong(1), originMs, stepMs), k -> new Summary())
                                    .add(Row.rtUs(outcome), Row.failure(outcome) == 0, hasCounts ? packets >>> 16 : -1, packets & 0xFFFF);
                        }
                    }
                }
            }
        }
        // a target seen from several agents has rollups across them, but for the hours whose series' rollups changed since:
        // those hours (few: the last ones) are read from the series' rollups, the others from the target's
        java.util.NavigableSet<Long> stale = q.agentId() == null && q.target() != null && series.length > 1
                ? targetStaleHours(c, q.target(), dirty, fromMs, toMs) : null;
        List<long[]> seriesRanges = new ArrayList<>(); // [from, to) read from the series' rollups
        if (stale == null) {
            seriesRanges.add(new long[] {fromMs, toMs});
        } else {
            for (long h : stale) {
                long a = Math.max(fromMs, h * HOUR_MS);
                long b = Math.min(toMs, (h + 1) * HOUR_MS);
                if (!seriesRanges.isEmpty() && seriesRanges.get(seriesRanges.size() - 1)[1] == a) {
                    seriesRanges.get(seriesRanges.size() - 1)[1] = b;
                } else if (a < b) {
                    seriesRanges.add(new long[] {a, b});
                }
            }
        }
        // then the rollups in time order: one step at a time in hand, its sketch plain and dropped once done
        List<SeriesStep> out = new ArrayList<>();
        // each part in time order, merged as they go (a mesh's target has several parts): one step in hand
        List<PreparedStatement> statements = new ArrayList<>();
        java.util.PriorityQueue<long[]> heads = new java.util.PriorityQueue<>(java.util.Comparator.comparingLong(h -> h[0]));
        List<ResultSet> sets = new ArrayList<>();
        try {
            if (stale != null) { // the target's rollups: the first set
                PreparedStatement p = c.prepareStatement("SELECT 0, start_ms, count, failures, sent, received, min_us, max_us, sketch"
                        + " FROM target_rollup WHERE resolution_s = " + resolution + " AND target = ? AND start_ms >= ? AND start_ms < ?"
                        + " ORDER BY start_ms");
                statements.add(p);
                p.setString(1, q.target());
                p.setLong(2, fromMs);
                p.setLong(3, toMs);
                p.setFetchSize(10_000);
                ResultSet rs = p.executeQuery();
                sets.add(rs);
                if (rs.next()) {
                    heads.add(new long[] {rs.getLong(2), 0});
                }
            }
            for (long[] range : seriesRanges) {
                for (int[] part : parts(series)) {
                    PreparedStatement p = c.prepareStatement(perSeries(part.length, "SELECT series, start_ms, count, failures, sent,"
                            + " received, min_us, max_us, sketch FROM rollup WHERE resolution_s = " + resolution
                            + " AND series = ? AND start_ms >= ? AND start_ms < ?", " ORDER BY start_ms"));
                    statements.add(p);
                    bindPerSeries(p, part, range);
                    p.setFetchSize(10_000);
                    ResultSet rs = p.executeQuery();
                    sets.add(rs);
                    if (rs.next()) {
                        heads.add(new long[] {rs.getLong(2), sets.size() - 1});
                    }
                }
            }
            long current = Long.MIN_VALUE;
            Summary step = null;
            while (!heads.isEmpty()) {
                long[] head = heads.poll();
                ResultSet rs = sets.get((int) head[1]);
                long start = head[0];
                long hour = Math.floorDiv(start, HOUR_MS);
                boolean use = stale != null && head[1] == 0
                        ? !stale.contains(hour) // the target's hour, unless changed since
                        : !dirty.contains((long) rs.getInt(1) << 32 | hour); // else changed since: from the raw results
                if (use) {
                    long key = stepStart(start, originMs, stepMs);
                    if (key != current) {
                        emit(out, fromRaw, current, step);
                        current = key;
                        step = new Summary(false);
                    }
                    step.merge(stored(rs, 3));
                }
                if (rs.next()) {
                    heads.add(new long[] {rs.getLong(2), head[1]});
                }
            }
            emit(out, fromRaw, current, step);
            emit(out, fromRaw, Long.MAX_VALUE, null);
        } finally {
            for (ResultSet rs : sets) {
                rs.close();
            }
            for (PreparedStatement p : statements) {
                p.close();
            }
        }
        return out;
    }

    /** Most runs of hours a query reads from a target's series' rollups beside the target's own; more, and it reads only theirs. */
    static final int STALE_RUNS_MAX = 8;

    /**
     * @param dirty the target's series' hours whose raw results changed since they were rolled up (series << 32 | hour)
     * @return the hours of {@code [fromMs, toMs)} the target's rollups across its series do not hold as they are now (hour
     *         numbers), or null where the target has none or too many such hours to read them apart: read its series' rollups
     */
    private static java.util.NavigableSet<Long> targetStaleHours(Connection c, String target, Set<Long> dirty, long fromMs, long toMs)
            throws SQLException {
        if (!hasTargetRollups(c, target)) {
            return null;
        }
        java.util.TreeSet<Long> stale = new java.util.TreeSet<>();
        for (long d : dirty) {
            stale.add(d & 0xFFFFFFFFL);
        }
        try (PreparedStatement p = c.prepareStatement("SELECT hour_ms FROM target_rollup_dirty WHERE target = ? AND hour_ms >= ? AND hour_ms < ?")) {
            p.setString(1, target);
            p.setLong(2, Math.floorDiv(fromMs, HOUR_MS) * HOUR_MS);
            p.setLong(3, toMs);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    stale.add(Math.floorDiv(rs.getLong(1), HOUR_MS));
                }
            }
        }
        // open hours: not rolled up across the series before they close, nor listed until a series' hour is rolled up
        long now = System.currentTimeMillis();
        for (long h = Math.floorDiv(now - HOUR_MS - CLOSE_MS, HOUR_MS); h * HOUR_MS < toMs; h++) {
            if ((h + 1) * HOUR_MS > fromMs) {
                stale.add(h);
            }
        }
        int runs = 0;
        Long previous = null;
        for (long h : stale) {
            if (previous == null || h != previous + 1) {
                runs++;
            }
            previous = h;
        }
        return runs > STALE_RUNS_MAX ? null : stale;
    }

    /**
     * Adds the steps made only of changed hours that come before {@code key}, then the step at
     * {@code key} with the changed hours' share of it.
     */
    private static void emit(List<SeriesStep> out, java.util.TreeMap<Long, Summary> fromRaw, long key, Summary step) {
        while (!fromRaw.isEmpty() && fromRaw.firstKey() < key) {
            Map.Entry<Long, Summary> e = fromRaw.pollFirstEntry();
            out.add(e.getValue().step(e.getKey() * 1000));
        }
        if (step != null) {
            Summary raw = fromRaw.remove(key);
            if (raw != null) {
                step.merge(raw);
            }
            out.add(step.step(key * 1000));
        }
    }

    private List<SeriesStep> seriesFromRaw(Connection c, SeriesQuery q) throws SQLException {
        long stepUs = q.step().toNanos() / 1000;
        long originUs = originMs(q) * 1000;
        long fromUs = stepStart(micros(q.from()), originUs, stepUs);
        long toUs = micros(q.to());
        int[] series = seriesOf(c, q.agentId(), q.target());
        if (series.length == 0) {
            return List.of();
        }
        List<SeriesStep> out = new ArrayList<>();
        StepAccumulator acc = null;
        java.util.TreeMap<Long, StepAccumulator> unordered = series.length == 1 ? null : new java.util.TreeMap<>();
        String branch = "SELECT started_ms, outcome, packets FROM result WHERE series = ? AND started_ms >= ? AND started_ms <= ?";
        boolean oneAtATime = series.length > 1 && dialect.seriesOneAtATime();
        List<int[]> parts = oneAtATime ? Arrays.stream(series).mapToObj(s -> new int[] {s}).toList() : parts(series);
        try (PreparedStatement shared = oneAtATime ? c.prepareStatement(branch) : null) {
            for (int[] part : parts) {
                String sql = perSeries(part.length, branch, series.length == 1 ? " ORDER BY started_ms" : "");
                PreparedStatement p = shared != null ? shared : c.prepareStatement(sql);
                try {
                    bindPerSeries(p, part, new long[] {Math.floorDiv(fromUs, 1000), Math.floorDiv(toUs - 1, 1000)});
                    p.setFetchSize(10_000);
                    try (ResultSet rs = p.executeQuery()) {
                        while (rs.next()) {
                            long outcome = rs.getLong(2);
                            long t = Row.startedUs(rs.getLong(1), outcome);
                            if (t < fromUs || t >= toUs) {
                                continue;
                            }
                            long start = stepStart(t, originUs, stepUs);
                            if (unordered != null) {
                                if (acc == null || acc.startUs != start) { // one series' rows come in time order: mostly the same
                                    acc = unordered.computeIfAbsent(start, StepAccumulator::new);
                                }
                            } else if (acc == null || acc.startUs != start) {
                                if (acc != null) {
                                    out.add(acc.step());
                                }
                                acc = new StepAccumulator(start);
                            }
                            int packets = rs.getInt(3);
                            boolean hasCounts = !rs.wasNull();
                            acc.add((int) Math.min(Integer.MAX_VALUE, Row.rtUs(outcome)), Row.failure(outcome) == 0,
                                    hasCounts ? packets >>> 16 : -1, packets & 0xFFFF);
                        }
                    }
                } finally {
                    if (p != shared) {
                        p.close();
                    }
                }
            }
        }
        if (unordered != null) {
            unordered.values().forEach(a -> out.add(a.step()));
        } else if (acc != null) {
            out.add(acc.step());
        }
        return out;
    }

    /** Collects one step; percentiles are exact (nearest rank) over the step's successful probes. */
    static final class StepAccumulator {
        final long startUs;
        long count;
        long failures;
        long sent;
        long received;
        boolean packets;
        int[] rts = new int[16];
        int n;

        StepAccumulator(long startUs) {
            this.startUs = startUs;
        }

        void add(int rtUs, boolean success, int sentPackets, int receivedPackets) {
            count++;
            if (sentPackets >= 0) {
                packets = true;
                sent += sentPackets;
                received += receivedPackets;
            }
            if (!success) {
                failures++;
                return;
            }
            if (n == rts.length) {
                rts = Arrays.copyOf(rts, n * 2);
            }
            rts[n++] = rtUs;
        }

        SeriesStep step() {
            double loss = Summary.loss(packets, sent, received, failures, count);
            if (n == 0) {
                return new SeriesStep(Instant.EPOCH.plus(startUs, ChronoUnit.MICROS), count, failures, loss, null, null, null, null, null);
            }
            Arrays.sort(rts, 0, n);
            return new SeriesStep(Instant.EPOCH.plus(startUs, ChronoUnit.MICROS), count, failures, loss,
                    rts[0] / 1e6, rts[n - 1] / 1e6, rank(0.5), rank(0.9), rank(0.99));
        }

        private double rank(double q) {
            int idx = (int) Math.ceil(q * n) - 1;
            return rts[Math.max(0, Math.min(n - 1, idx))] / 1e6;
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
