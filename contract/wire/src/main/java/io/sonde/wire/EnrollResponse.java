package io.sonde.wire;

import java.util.List;

/**
 * The server's answer to an enrollment.
 *
 * @param schema     {@link WireCodec#SCHEMA}
 * @param agentId    the agent's id
 * @param credential the agent's own secret: the bearer token of all its later requests
 * @param tags       the agent's tags as the server keeps them
 */
public record EnrollResponse(int schema, String agentId, String credential, List<String> tags) {
}
