package io.sonde.server.spi;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The agents and their enrollment: tokens, credentials (as SHA-256 hashes), what each agent last said
 * of itself (address, version, spool, configuration, kinds), tags, revocation.
 * A part of {@link Store}, which the store implements whole; a component that needs only this
 * part references it alone.
 *
 * @since 1.20
 */
@ProviderType
public interface AgentStore {

    /** Creates an enrollment token from the hash of its secret, giving its own tags only. */
    default EnrollmentToken createEnrollmentToken(byte[] tokenHash, List<String> tags, Instant expiresAt, boolean singleUse, Instant now)
            throws StoreException {
        return createEnrollmentToken(tokenHash, tags, expiresAt, singleUse, false, now);
    }

    /**
     * Creates an enrollment token from the hash of its secret.
     *
     * @param agentTags whether agents enrolling with it may add tags of their own
     * @since 1.6
     */
    EnrollmentToken createEnrollmentToken(byte[] tokenHash, List<String> tags, Instant expiresAt, boolean singleUse, boolean agentTags,
            Instant now) throws StoreException;

    /** Enrolls an agent that proves no identity: {@link #enroll(byte[], String, List, String, byte[], boolean, Instant)} unproven. */
    default AgentRecord enroll(byte[] tokenHash, String agentId, List<String> tags, String version, byte[] credentialHash, Instant now)
            throws StoreException {
        return enroll(tokenHash, agentId, tags, version, credentialHash, false, now);
    }

    /**
     * Enrolls an agent atomically: checks the token (known, not expired, not used up), records its
     * use, and creates the agent or gives it a new credential. Enrollment never takes over an
     * identity: an agent id that exists, is not revoked and holds a credential enrolls again only
     * when the request proves it holds that credential ({@code proven}) or after an admin's
     * {@link #resetAgentCredential}. The agent's tags are the token's; the request's own tags only
     * where the token allows them ({@link EnrollmentToken#agentTags}), else a request for tags the
     * token does not give is refused.
     *
     * @param proven whether the request carries the agent's current credential
     * @return the agent as now stored
     * @throws StoreException {@link StoreException.Kind#REFUSED} for a bad token or a revoked agent,
     *                        {@link StoreException.Kind#CONFLICT} for an id enrolled already,
     *                        {@link StoreException.Kind#FORBIDDEN} for tags the token does not give
     * @since 1.6 (proven; before, any token replaced an existing agent's credential)
     */
    AgentRecord enroll(byte[] tokenHash, String agentId, List<String> tags, String version, byte[] credentialHash, boolean proven,
            Instant now) throws StoreException;

    /**
     * An admin's reset of an agent's credential: the credential stops working at once, and the next
     * enrollment under the id (with a valid token) gives the agent a new one; its results, spool
     * epochs and tags stay.
     *
     * @return false if there is no such agent
     * @since 1.6
     */
    boolean resetAgentCredential(String agentId) throws StoreException;

    /** @return the agent whose credential has this hash, revoked or not */
    Optional<AgentRecord> agentByCredential(byte[] credentialHash) throws StoreException;

    /**
     * A number that changes whenever an agent's credential may have stopped working — revoked, reset
     * or replaced by enrolling again —, through this store or through another server over the same
     * database, as soon as that change is committed (PostgreSQL: told by {@code NOTIFY}). A check of
     * {@link #agentByCredential} may be kept while it stays the same; -1 while the store cannot
     * tell (no listener, or its connection lost): then every check asks the store.
     *
     * @return the credentials' epoch, or -1
     * @since 1.13
     */
    default long credentialsEpoch() {
        return -1;
    }

    /** @return every agent, by id */
    List<AgentRecord> agents() throws StoreException;

    /** Refuses the agent's credential from now on. @return false if there is no such agent */
    boolean revokeAgent(String agentId, Instant now) throws StoreException;

    /**
     * Records that the agent was heard from, and its version if given.
     *
     * @param address the address it reached the server from, or null to keep the one known
     */
    default void touch(String agentId, Instant now, String version, long spoolRecords, String address) throws StoreException {
        touch(agentId, now, version, spoolRecords, address, address == null ? null : AgentRecord.CONNECTION);
    }

    /**
     * Records that the agent was heard from, and its version if given.
     *
     * @param address       the address peers are to reach it at, or null to keep the one known
     * @param addressSource where the address came from: {@link AgentRecord#ADVERTISED} or {@link AgentRecord#CONNECTION}
     * @since 1.6
     */
    void touch(String agentId, Instant now, String version, long spoolRecords, String address, String addressSource) throws StoreException;

    /**
     * Records when each agent was last heard from, all in one write: a time older than the one
     * stored changes nothing (instances over one store each write what they heard). Unknown agents
     * are skipped.
     *
     * @param lastSeen agent id to the time it was last heard from
     * @since 1.9
     */
    default void seen(java.util.Map<String, Instant> lastSeen) throws StoreException {
        for (java.util.Map.Entry<String, Instant> e : lastSeen.entrySet()) {
            touch(e.getKey(), e.getValue(), null, 0, null);
        }
    }

    /**
     * Records what each agent said since the last write, all in one write: a time older than the
     * one stored changes nothing, its spool count neither (instances over one store each write
     * what they heard). Unknown agents are skipped. This default keeps the times only.
     *
     * @param heard agent id to what it said last
     * @since 1.10
     */
    default void heard(java.util.Map<String, Store.Heard> heard) throws StoreException {
        java.util.Map<String, Instant> times = new java.util.HashMap<>();
        heard.forEach((id, h) -> times.put(id, h.at()));
        seen(times);
    }

    /**
     * An admin's address for an agent, in place of what it says or connects from (its mesh peers
     * probe it there); null takes the agent's own again.
     *
     * @return false if there is no such agent
     * @since 1.6
     */
    boolean pinAgentAddress(String agentId, String address) throws StoreException;

    /**
     * Keeps what one status said that changed, as {@link #touch}, {@link #reportConfig} and
     * {@link #reportKinds} do, in one write where the store can (one commit, not three).
     *
     * @param touch  the agent heard from, or null when its time is written with the others'
     * @param report its document's report, or null when it did not change
     * @param kinds  its kinds (JSON), or null when they did not change
     * @since 1.14
     */
    default void status(String agentId, Store.Touch touch, AgentRecord.ConfigReport report, String kinds) throws StoreException {
        if (touch != null) {
            touch(agentId, touch.now(), touch.version(), touch.spoolRecords(), touch.address(), touch.addressSource());
        }
        if (report != null) {
            reportConfig(agentId, report);
        }
        if (kinds != null) {
            reportKinds(agentId, kinds);
        }
    }

    /**
     * Keeps what an agent said of its configuration document, in place of what it said before.
     *
     * @param report the version it applies, where it came from, what it refuses
     * @since 1.3
     */
    void reportConfig(String agentId, AgentRecord.ConfigReport report) throws StoreException;

    /** Gives an agent these tags in place of its own. @return false if there is no such agent @since 1.4 */
    boolean setAgentTags(String agentId, List<String> tags) throws StoreException;

    /** @return every enrollment token not expired, by id (never their secrets) @since 1.4 */
    List<EnrollmentToken> enrollmentTokens(Instant now) throws StoreException;

    /** Makes an enrollment token stop working. @return false if there was none @since 1.4 */
    boolean deleteEnrollmentToken(long id) throws StoreException;

    /**
     * Keeps what an agent announced of the probe kinds it runs.
     *
     * @param agentId the agent
     * @param kinds   its kinds and their option schemas, as a JSON object (kind to schema)
     * @since 1.5
     */
    void reportKinds(String agentId, String kinds) throws StoreException;

    /** @return each agent's announced kinds (JSON, as {@link #reportKinds} was given), by agent id @since 1.5 */
    java.util.Map<String, String> announcedKinds() throws StoreException;
}
