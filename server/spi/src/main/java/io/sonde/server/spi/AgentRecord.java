package io.sonde.server.spi;

import java.time.Instant;
import java.util.List;

/**
 * An agent as the server knows it.
 *
 * @param agentId      its id
 * @param tags         its tags: its own and its enrollment token's
 * @param version      the version it last reported
 * @param enrolledAt   when it enrolled last
 * @param lastSeen     when it was last heard from, or null
 * @param revokedAt    when it was revoked, or null
 * @param spoolRecords results waiting in its spool at its last report
 * @param address      where its mesh peers probe it: the address it advertises, else the one it last
 *                     reached the server from; or null
 * @param config       what it last said of the server's configuration document, or null when it said
 *                     nothing (since 1.3)
 */
public record AgentRecord(String agentId, List<String> tags, String version, Instant enrolledAt, Instant lastSeen,
        Instant revokedAt, long spoolRecords, String address, ConfigReport config, String addressSource) {

    /** The address was the agent's own word ({@code advertise_address}). @since 1.6 */
    public static final String ADVERTISED = "advertised";
    /** The address is the one the agent last reached the server from. @since 1.6 */
    public static final String CONNECTION = "connection";
    /** An admin set the address; what the agent says is not taken. @since 1.6 */
    public static final String PINNED = "pinned";

    /** An agent whose address's source is not known (stored before 1.6). */
    public AgentRecord(String agentId, List<String> tags, String version, Instant enrolledAt, Instant lastSeen, Instant revokedAt,
            long spoolRecords, String address, ConfigReport config) {
        this(agentId, tags, version, enrolledAt, lastSeen, revokedAt, spoolRecords, address, config, null);
    }

    /**
     * What an agent said of its configuration document.
     *
     * @param version    the version it applies, or null when it has none
     * @param source     {@code server}, or {@code server-cache} when it runs on its kept copy
     * @param rejected   the entries it refuses, each with why
     * @param reportedAt when it said so
     * @param updates    what its updater did with the document's bundles
     * @since 1.3
     */
    public record ConfigReport(String version, String source, List<io.sonde.wire.AgentStatus.Rejected> rejected, Instant reportedAt,
            List<io.sonde.wire.AgentStatus.Update> updates) {
        /** Takes immutable copies of the lists. */
        public ConfigReport {
            rejected = rejected == null ? List.of() : List.copyOf(rejected);
            updates = updates == null ? List.of() : List.copyOf(updates);
        }

        /** A report without updates. */
        public ConfigReport(String version, String source, List<io.sonde.wire.AgentStatus.Rejected> rejected, Instant reportedAt) {
            this(version, source, rejected, reportedAt, List.of());
        }
    }

    /** An agent that said nothing of its configuration. */
    public AgentRecord(String agentId, List<String> tags, String version, Instant enrolledAt, Instant lastSeen, Instant revokedAt,
            long spoolRecords, String address) {
        this(agentId, tags, version, enrolledAt, lastSeen, revokedAt, spoolRecords, address, null);
    }

    /** Seconds without a word from an agent after which it counts as offline, unless the server is told otherwise. */
    public static final int DEFAULT_OFFLINE_AFTER_S = 60;

    /** @return whether the agent is online: not revoked, and heard from within {@code offlineAfter} of {@code now} */
    public boolean online(Instant now, java.time.Duration offlineAfter) {
        return revokedAt == null && lastSeen != null && lastSeen.isAfter(now.minus(offlineAfter));
    }

    /** An agent whose address is not known. */
    public AgentRecord(String agentId, List<String> tags, String version, Instant enrolledAt, Instant lastSeen, Instant revokedAt,
            long spoolRecords) {
        this(agentId, tags, version, enrolledAt, lastSeen, revokedAt, spoolRecords, null, null);
    }

    /** Takes an immutable copy of the tags. */
    public AgentRecord {
        tags = tags == null ? List.of() : List.copyOf(tags);
    }
}
