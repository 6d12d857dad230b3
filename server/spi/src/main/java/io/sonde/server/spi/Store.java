package io.sonde.server.spi;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

import io.sonde.wire.WireResult;

/**
 * Where the server keeps agents, enrollment tokens and results. Every implementation passes the
 * same contract tests. Secrets reach it only as SHA-256 hashes.
 */
@ProviderType
public interface Store {

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

    /**
     * @return the sequence counts of an agent's spool epochs, the newest epoch first (empty for an
     *         agent that sent nothing)
     * @since 1.6
     */
    List<EpochCount> epochCounts(String agentId) throws StoreException;

    /**
     * @return per agent with any, the results it numbered and the server never got (the sum of
     *         {@link EpochCount#gaps()} over its epochs); agents without gaps are not listed
     * @since 1.6
     */
    Map<String, Long> resultGaps() throws StoreException;

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
     * Records what each agent said since the last write, all in one write: a time older than the
     * one stored changes nothing, its spool count neither (instances over one store each write
     * what they heard). Unknown agents are skipped. This default keeps the times only.
     *
     * @param heard agent id to what it said last
     * @since 1.10
     */
    default void heard(java.util.Map<String, Heard> heard) throws StoreException {
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
     * What {@link #touch(String, Instant, String, long, String, String)} is given.
     *
     * @since 1.14
     */
    record Touch(Instant now, String version, long spoolRecords, String address, String addressSource) {
    }

    /**
     * Keeps what one status said that changed, as {@link #touch}, {@link #reportConfig} and
     * {@link #reportKinds} do, in one write where the store can (one commit, not three).
     *
     * @param touch  the agent heard from, or null when its time is written with the others'
     * @param report its document's report, or null when it did not change
     * @param kinds  its kinds (JSON), or null when they did not change
     * @since 1.14
     */
    default void status(String agentId, Touch touch, AgentRecord.ConfigReport report, String kinds) throws StoreException {
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

    /**
     * Stores a release and its jar, once: the same release again changes nothing.
     *
     * @param release its manifest, checked by the caller
     * @param jar     its bytes, {@code release.size()} of them
     * @return false when this release was already there, byte for byte
     * @throws StoreException {@link StoreException.Kind#REFUSED} when its version is there with other bytes
     * @since 1.3
     */
    boolean putRelease(Release release, java.io.InputStream jar) throws StoreException;

    /** @return every release, by symbolic name and version @since 1.3 */
    List<Release> releases() throws StoreException;

    /** @return one release, without its jar @since 1.3 */
    Optional<Release> release(String symbolicName, String version) throws StoreException;

    /**
     * Copies a release's jar to {@code out}, streamed.
     *
     * @return false when there is no such release
     * @since 1.3
     */
    boolean copyReleaseJar(String symbolicName, String version, java.io.OutputStream out) throws StoreException, java.io.IOException;

    /**
     * Stores results of one agent and spool epoch, each identity once, all or nothing.
     *
     * @return how many were new; the rest were stored before
     */
    int ingest(String agentId, String epoch, List<WireResult> results) throws StoreException;

    /** Raw results, oldest first, paged. */
    Page<StoredResult> results(ResultQuery query) throws StoreException;

    /** Per step statistics of response times; steps without results are left out. */
    List<SeriesStep> series(SeriesQuery query) throws StoreException;

    /**
     * Stores a definition, replacing the one of its type and name if there is one; several server
     * instances may store the same one at once.
     *
     * @return whether it replaced one
     */
    boolean putDefinition(Definition definition) throws StoreException;

    /** @return false if there was no such definition */
    boolean deleteDefinition(String type, String name) throws StoreException;

    /** @return the definitions of a type, by name */
    List<Definition> definitions(String type) throws StoreException;

    /** @return the definition of a type and name, if there is one */
    Optional<Definition> definition(String type, String name) throws StoreException;

    /** @return how many definitions of a type there are */
    int definitionCount(String type) throws StoreException;

    /**
     * @return whether this server leads the servers of its database now: the one that runs the
     *         jobs that must run once (alert evaluation and notification); an embedded store always
     * @since 1.4
     */
    default boolean leads() {
        return true;
    }

    /**
     * Per agent and target, what its results that started in [{@code from}, {@code to}) say.
     *
     * @since 1.4
     */
    List<SeriesWindow> window(Instant from, Instant to) throws StoreException;

    /**
     * Per agent and target whose name begins with {@code targetPrefix} (a mesh's:
     * {@code mesh/<mesh>/<kind>/}), what its results that started in [{@code from}, {@code to}) say.
     *
     * @since 1.12
     */
    default List<SeriesWindow> window(String targetPrefix, Instant from, Instant to) throws StoreException {
        List<SeriesWindow> out = new java.util.ArrayList<>();
        for (SeriesWindow w : window(from, to)) {
            if (w.target().startsWith(targetPrefix)) {
                out.add(w);
            }
        }
        return out;
    }

    /** @return the latest result of an agent for a target, if it has one @since 1.4 */
    Optional<StoredResult> latest(String agentId, String target) throws StoreException;

    /** @return every alert's state, by rule and subject @since 1.4 */
    List<AlertState> alertStates() throws StoreException;

    /** Keeps an alert's state in place of the one before. @since 1.4 */
    void putAlertState(AlertState state) throws StoreException;

    /** Forgets an alert's state. @since 1.4 */
    void deleteAlertState(String rule, String subject) throws StoreException;

    /**
     * Queues a message for a receiver in the outbox, due at once.
     *
     * @return its id
     * @since 1.4
     */
    long enqueue(String receiver, String payload, Instant now) throws StoreException;

    /**
     * @return messages not delivered and not given up, oldest first, at most {@code limit}, due or not
     *         (a receiver's messages go in order: one not due holds back the later ones)
     * @since 1.4
     */
    List<Notification> undeliveredNotifications(int limit) throws StoreException;

    /** Records that a message was delivered. @since 1.4 */
    void notificationSent(long id, Instant at) throws StoreException;

    /**
     * Records a failed delivery.
     *
     * @param next when to try again; {@link Instant#MAX} gives the message up
     * @since 1.4
     */
    void notificationFailed(long id, int attempts, Instant next, String error) throws StoreException;

    /** @return the latest messages, newest first, at most {@code limit} @since 1.4 */
    List<Notification> notifications(int limit) throws StoreException;

    /** @return messages waiting for delivery (not given up) @since 1.4 */
    long pendingNotifications() throws StoreException;

    /** Gives an agent these tags in place of its own. @return false if there is no such agent @since 1.4 */
    boolean setAgentTags(String agentId, List<String> tags) throws StoreException;

    /** @return every enrollment token not expired, by id (never their secrets) @since 1.4 */
    List<EnrollmentToken> enrollmentTokens(Instant now) throws StoreException;

    /** Makes an enrollment token stop working. @return false if there was none @since 1.4 */
    boolean deleteEnrollmentToken(long id) throws StoreException;

    /** Stores a user in place of the one of that name. @since 1.4 */
    void putUser(User user) throws StoreException;

    /** @return the user of that name @since 1.4 */
    Optional<User> user(String name) throws StoreException;

    /** @return every user, by name @since 1.4 */
    List<User> users() throws StoreException;

    /** Deletes a user and every session and token of theirs. @return false if there was none @since 1.4 */
    boolean deleteUser(String name) throws StoreException;

    /** Keeps a user's session or token by the SHA-256 of its secret. @since 1.4 */
    void putUserCredential(byte[] hash, UserCredential credential) throws StoreException;

    /** @return the session or token whose secret has this hash, expired or not @since 1.4 */
    Optional<UserCredential> userCredential(byte[] hash) throws StoreException;

    /** @return a user's sessions and tokens @since 1.4 */
    List<UserCredential> userCredentials(String user) throws StoreException;

    /** Forgets a session or token by its id. @return false if there was none @since 1.4 */
    boolean deleteUserCredential(String id) throws StoreException;

    /** Forgets the sessions and tokens that expired before {@code now}. @return how many @since 1.4 */
    int dropExpiredUserCredentials(Instant now) throws StoreException;

    /** @return every (agent, target, kind) that has results @since 1.4 */
    List<SeriesName> seriesNames() throws StoreException;

    /** @return results stored */
    long resultCount() throws StoreException;

    /**
     * @return results stored, as cheaply as the database can say it: for metrics scraped every few
     *         seconds (PostgreSQL: the planner's estimate, not a count of millions of rows)
     */
    default long resultCountEstimate() throws StoreException {
        return resultCount();
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

    /**
     * @return the latest word of each agent on each target it has results for (one per series),
     *         kept by {@link #ingest} in the results' own transaction
     * @since 1.5
     */
    List<TargetState> targetStates() throws StoreException;

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

    /**
     * Each target's minutes per state (and each vantage agent's), summed over the days in
     * [{@code from}, {@code to}) or one row a day, as the uptime job counted them so far
     * ({@link #uptimeThrough}).
     *
     * @param target one target's rows, or null for every target's
     * @param byDay  one row per day, else one per target and agent over the range
     * @since 1.16
     */
    default List<Uptime> uptime(Instant from, Instant to, String target, boolean byDay) throws StoreException {
        return List.of();
    }

    /**
     * @param target one target's outages, or null for every target's
     * @return the targets' outages that overlap [{@code from}, {@code to}), minutes down one after
     *         the other joined across hours and days, by target and start
     * @since 1.16
     */
    default List<Uptime.Outage> outages(Instant from, Instant to, String target) throws StoreException {
        return List.of();
    }

    /** @return the end of the last hour the uptime job counted, or null before its first @since 1.16 */
    default Instant uptimeThrough() throws StoreException {
        return null;
    }

    /**
     * The labels the agents' results carry for each target (a target's labels on the agent: its
     * {@code labels} key, a mesh's {@code mesh} and {@code peer}), as each series last had them;
     * a target probed by several agents has the labels of them all.
     *
     * @return labels by name, by target; targets without labels left out
     * @since 1.17
     */
    default java.util.Map<String, java.util.Map<String, String>> targetLabels() throws StoreException {
        return java.util.Map.of();
    }
}
