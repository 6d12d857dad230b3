package io.sonde.server.store.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import io.sonde.server.spi.AgentRecord;
import io.sonde.server.spi.EnrollmentToken;
import io.sonde.server.spi.Store.Heard;
import io.sonde.server.spi.StoreException;

/**
 * The agents and the enrollment tokens (tables agent, enrollment_token): enrolling with a token,
 * what an agent's status and batches say of it (last seen, spool, address, its document's report),
 * pinned addresses and tags, and a credential ended by a reset or a revocation, which moves the
 * {@link CredentialsEpoch}.
 */
final class AgentTable {

    private final Sql.Source source;
    private final Sql sql;
    private final Dialect dialect;
    private final CredentialsEpoch credentials;

    AgentTable(Sql.Source source, Dialect dialect, CredentialsEpoch credentials) {
        this.source = source;
        this.sql = new Sql(source);
        this.dialect = dialect;
        this.credentials = credentials;
    }

    EnrollmentToken createEnrollmentToken(byte[] tokenHash, List<String> tags, Instant expiresAt, boolean singleUse,
            boolean agentTags, Instant now) throws StoreException {
        try (Connection c = source.connection();
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

    AgentRecord enroll(byte[] tokenHash, String agentId, List<String> tags, String version, byte[] credentialHash,
            boolean proven, Instant now) throws StoreException {
        try (Connection c = source.connection()) {
            c.setAutoCommit(false);
            try {
                List<String> tokenTags;
                boolean agentTags;
                try (PreparedStatement p = c.prepareStatement(
                        "SELECT id, tags, expires_at, single_use, uses, agent_tags FROM enrollment_token WHERE token_hash = ? FOR UPDATE")) {
                    p.setBytes(1, tokenHash);
                    try (ResultSet rs = p.executeQuery()) {
                        if (!rs.next()) {
                            throw JdbcStore.refused("the enrollment token is not known");
                        }
                        if (rs.getLong("expires_at") <= now.toEpochMilli()) {
                            throw JdbcStore.refused("the enrollment token expired at " + Instant.ofEpochMilli(rs.getLong("expires_at")));
                        }
                        if (rs.getBoolean("single_use") && rs.getInt("uses") > 0) {
                            throw JdbcStore.refused("the enrollment token was for one use and has been used");
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
                    throw JdbcStore.refused("agent '" + agentId + "' was revoked at " + revoked + " and cannot enroll again under this id");
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
                    credentials.moved();
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

    boolean pinAgentAddress(String agentId, String address) throws StoreException {
        try (Connection c = source.connection(); PreparedStatement p = c.prepareStatement("UPDATE agent SET address_pin = ? WHERE agent_id = ?")) {
            p.setString(1, address);
            p.setString(2, agentId);
            return p.executeUpdate() > 0;
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    boolean resetAgentCredential(String agentId) throws StoreException {
        return credentialChange("UPDATE agent SET credential_hash = NULL WHERE agent_id = ?", agentId) > 0;
    }

    /** Runs a statement that may end a credential, with the other servers told at its commit; then this server's epoch moves. */
    private int credentialChange(String sql, Object... parameters) throws StoreException {
        try (Connection c = source.connection()) {
            c.setAutoCommit(false);
            try (PreparedStatement p = Sql.bind(c.prepareStatement(sql), parameters)) {
                int n = p.executeUpdate();
                if (n > 0) {
                    dialect.credentialsChanged(c);
                }
                c.commit();
                if (n > 0) {
                    credentials.moved();
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

    static AgentRecord agent(ResultSet rs) throws SQLException {
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

    void reportConfig(String agentId, AgentRecord.ConfigReport report) throws StoreException {
        try (Connection c = source.connection()) {
            reportConfig(c, agentId, report);
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    static void reportConfig(Connection c, String agentId, AgentRecord.ConfigReport report) throws SQLException {
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

    Optional<AgentRecord> agentByCredential(byte[] credentialHash) throws StoreException {
        try (Connection c = source.connection();
                PreparedStatement p = c.prepareStatement("SELECT * FROM agent WHERE credential_hash = ?")) {
            p.setBytes(1, credentialHash);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() ? Optional.of(agent(rs)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    List<AgentRecord> agents() throws StoreException {
        try (Connection c = source.connection();
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

    boolean revokeAgent(String agentId, Instant now) throws StoreException {
        return credentialChange("UPDATE agent SET revoked_at = COALESCE(revoked_at, ?) WHERE agent_id = ?", now.toEpochMilli(), agentId) > 0;
    }

    void touch(String agentId, Instant now, String version, long spoolRecords, String address, String addressSource)
            throws StoreException {
        try (Connection c = source.connection()) {
            touch(c, agentId, now, version, spoolRecords, address, addressSource);
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    static void touch(Connection c, String agentId, Instant now, String version, long spoolRecords, String address,
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

    void seen(Map<String, Instant> lastSeen) throws StoreException {
        Map<String, Heard> heard = new java.util.HashMap<>(lastSeen.size() * 2);
        lastSeen.forEach((id, at) -> heard.put(id, new Heard(at, -1)));
        heard(heard);
    }

    void heard(Map<String, Heard> heard) throws StoreException {
        if (heard.isEmpty()) {
            return;
        }
        try (Connection c = source.connection()) {
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

    List<EnrollmentToken> enrollmentTokens(Instant now) throws StoreException {
        try (Connection c = source.connection(); PreparedStatement p = c.prepareStatement("SELECT id, tags, expires_at, single_use, uses, created_at,"
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

    boolean setAgentTags(String agentId, List<String> tags) throws StoreException {
        return sql.update("UPDATE agent SET tags = ? WHERE agent_id = ?", joinTags(tags), agentId) > 0;
    }

    boolean deleteEnrollmentToken(long id) throws StoreException {
        return sql.update("DELETE FROM enrollment_token WHERE id = ?", id) > 0;
    }

    static String joinTags(List<String> tags) {
        return String.join(",", tags);
    }

    static List<String> splitTags(String tags) {
        return tags == null || tags.isEmpty() ? List.of() : List.of(tags.split(","));
    }

    static Instant instant(ResultSet rs, String column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : Instant.ofEpochMilli(v);
    }
}
