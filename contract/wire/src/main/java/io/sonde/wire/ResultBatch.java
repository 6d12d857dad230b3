package io.sonde.wire;

import java.util.List;

/**
 * A batch of results of one agent and one spool epoch, oldest first:
 * {@code POST /api/v1/agents/{agent_id}/results}.
 *
 * @param schema  the document's major schema version, {@link WireCodec#SCHEMA}
 * @param agentId the sending agent's id
 * @param epoch   the random id of the spool the results come from
 * @param results the results, sequence numbers rising
 */
public record ResultBatch(int schema, String agentId, String epoch, List<WireResult> results) {

    /**
     * The request header with the results that stay in the agent's spool once this batch is
     * stored (a whole number, 0 or more): the agent's backlog as the server shows it, told with
     * every batch so that a status need not be sent to tell it (since 1.6; absent: the server keeps
     * the count of the agent's last status).
     */
    public static final String SPOOL_HEADER = "Sonde-Spool-Records";
}
