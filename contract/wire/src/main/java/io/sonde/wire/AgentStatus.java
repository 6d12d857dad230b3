package io.sonde.wire;

import java.util.List;

/**
 * What an agent reports about itself now and then: {@code POST /api/v1/agents/{agent_id}/status}.
 *
 * @param schema             {@link WireCodec#SCHEMA}
 * @param version            the agent's version
 * @param spoolRecords       results waiting in the spool
 * @param spoolOldestSeconds age of the oldest of them, 0 when none wait
 * @param configVersion      the version of the server's configuration document the agent applies, or
 *                           null when it has none (since 1.1)
 * @param configSource       where that document came from: {@code server}, or {@code server-cache}
 *                           when the agent runs on the copy it kept (since 1.1)
 * @param configRejected     the document's entries the agent refused, each with why; at most
 *                           {@link #MAX_REJECTED} (since 1.1)
 * @param address            the address the agent's peers reach it at, as configured
 *                           ({@code advertise_address}), or null: then the server takes the one the
 *                           agent connects from (since 1.1)
 * @param updates            what the agent's updater did with the document's bundles, one entry per
 *                           bundle it acted on; at most {@link #MAX_REJECTED} (since 1.1)
 * @param kinds              the probe kinds the agent runs, each with the options its targets take
 *                           (the plugin's {@code TargetSchema} as JSON), or null when it does not
 *                           say: the server checks definitions against them (since 1.2); absent
 *                           while the server holds them under {@code kindsHash}
 * @param kindsHash          the SHA-256 (hex) of the kinds as the agent writes them, sent with every
 *                           status: the kinds themselves (tens of KB) go only when they changed or
 *                           when the server answers that it does not hold them ({@link StatusAck});
 *                           null from agents before 1.5 (since 1.5)
 */
public record AgentStatus(int schema, String version, long spoolRecords, double spoolOldestSeconds, String configVersion,
        String configSource, List<Rejected> configRejected, String address, List<Update> updates,
        com.google.gson.JsonObject kinds, String kindsHash) {

    /** A status without the kinds' hash (as agents before 1.5 send). */
    public AgentStatus(int schema, String version, long spoolRecords, double spoolOldestSeconds, String configVersion,
            String configSource, List<Rejected> configRejected, String address, List<Update> updates,
            com.google.gson.JsonObject kinds) {
        this(schema, version, spoolRecords, spoolOldestSeconds, configVersion, configSource, configRejected, address, updates, kinds,
                null);
    }

    /** A status that does not announce kinds (as agents before 1.2 send). */
    public AgentStatus(int schema, String version, long spoolRecords, double spoolOldestSeconds, String configVersion,
            String configSource, List<Rejected> configRejected, String address, List<Update> updates) {
        this(schema, version, spoolRecords, spoolOldestSeconds, configVersion, configSource, configRejected, address, updates, null,
                null);
    }

    /** Most refused entries one status carries: the count beyond it is in the last one's reason. */
    public static final int MAX_REJECTED = 100;

    /**
     * An entry of the configuration document the agent did not take.
     *
     * @param name   the entry's target name, or its place in the document
     * @param reason why
     */
    public record Rejected(String name, String reason) {
    }

    /**
     * What the updater did with one bundle of the document.
     *
     * @param symbolicName the bundle
     * @param version      the version the rollout names
     * @param rollout      the rollout's name
     * @param state        {@code downloading}, {@code installing}, {@code watching} (installed, under
     *                     its health watch), {@code healthy}, {@code failed} (rolled back or refused)
     * @param reason       why it failed; null otherwise
     */
    public record Update(String symbolicName, String version, String rollout, String state, String reason) {
    }

    /**
     * The states of an {@link Update}: {@code staged} waits for the next start of the agent,
     * {@code rolled_back} is back on the version before, as its rollout asked.
     */
    public static final List<String> UPDATE_STATES = List.of("downloading", "staged", "installing", "watching", "healthy", "failed",
            "rolled_back");

    /** A status of an agent that says nothing of its configuration (as agents before 1.1 send). */
    public AgentStatus(int schema, String version, long spoolRecords, double spoolOldestSeconds) {
        this(schema, version, spoolRecords, spoolOldestSeconds, null, null, List.of(), null, List.of(), null, null);
    }

    /** Takes immutable copies of the lists; none when absent. */
    public AgentStatus {
        configRejected = configRejected == null ? List.of() : List.copyOf(configRejected);
        updates = updates == null ? List.of() : List.copyOf(updates);
    }
}
