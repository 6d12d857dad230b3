package io.sonde.wire;

import java.util.List;

/**
 * An agent's first contact: {@code POST /api/v1/enroll}.
 *
 * @param schema          {@link WireCodec#SCHEMA}
 * @param enrollmentToken the token an administrator created
 * @param agentId         the id the agent wants
 * @param tags            the agent's own tags; the token's tags are added by the server
 * @param version         the agent's version
 */
public record EnrollRequest(int schema, String enrollmentToken, String agentId, List<String> tags, String version) {
}
