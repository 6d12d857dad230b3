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
}
