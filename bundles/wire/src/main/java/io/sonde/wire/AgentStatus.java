package io.sonde.wire;

/**
 * What an agent reports about itself now and then: {@code POST /api/v1/agents/{agent_id}/status}.
 *
 * @param schema             {@link WireCodec#SCHEMA}
 * @param version            the agent's version
 * @param spoolRecords       results waiting in the spool
 * @param spoolOldestSeconds age of the oldest of them, 0 when none wait
 */
public record AgentStatus(int schema, String version, long spoolRecords, double spoolOldestSeconds) {
}
