package io.sonde.wire;

/**
 * The server's answer to a stored batch: every result of it is now stored exactly once.
 *
 * @param schema          {@link WireCodec#SCHEMA}
 * @param accepted        results stored by this request
 * @param duplicates      results that were stored before (a batch sent again) and were not stored twice
 * @param batchIntervalMs how long the agent waits before its next batch unless a full one is
 *                        waiting (the server's cadence, longer under load); 0 or absent: as soon
 *                        as it has results, as agents before 1.4 do (since 1.4)
 * @param configVersion   the version of the agent's configuration document now, so that the agent
 *                        asks for the document only when it differs from the one it holds; null
 *                        when the server does not say (since 1.4)
 * @param statusWanted    the server holds no status of this agent (it started since, or the agent
 *                        talks to another instance): the agent sends one now. An agent sends its
 *                        status only when something in it changed, when nothing else was answered
 *                        for its status interval, and every {@link #STATUS_REFRESH_MS}; this asks
 *                        for one between those (since 1.6)
 */
public record BatchAck(int schema, int accepted, int duplicates, long batchIntervalMs, String configVersion, boolean statusWanted) {

    /** The longest cadence an agent takes from a server. */
    public static final long MAX_BATCH_INTERVAL_MS = 60_000;

    /** The longest an agent goes without sending its status while it is heard from by its batches. */
    public static final long STATUS_REFRESH_MS = 300_000;

    /** An answer that asks for no status, as servers before 1.6 give. */
    public BatchAck(int schema, int accepted, int duplicates, long batchIntervalMs, String configVersion) {
        this(schema, accepted, duplicates, batchIntervalMs, configVersion, false);
    }

    /** An answer that says nothing of the cadence or the configuration, as servers before 1.4 give. */
    public BatchAck(int schema, int accepted, int duplicates) {
        this(schema, accepted, duplicates, 0, null, false);
    }

    /** @return the same answer with the cadence, the document's version and whether a status is wanted */
    public BatchAck with(long interval, String version, boolean wanted) {
        return new BatchAck(schema, accepted, duplicates, interval, version, wanted);
    }

    /** @return the same answer with the cadence and the document's version */
    public BatchAck with(long interval, String version) {
        return with(interval, version, statusWanted);
    }
}
