package io.sonde.agent.spi;

import java.util.List;
import java.util.Objects;

/**
 * Who this agent is, as its configuration ({@code io.sonde.agent}) says. Registered as a service by
 * the core, replaced by a new registration when the identity changes, so bundles that report for
 * the agent (the uplink) need not read the agent's configuration again.
 *
 * @param agentId the agent's id: {@code agent_id}, or the host name where none is set
 * @param tags    the agent's tags, in configuration order, without duplicates
 */
public record AgentIdentity(String agentId, List<String> tags) {

    /** Checks the id and takes an immutable copy of the tags. */
    public AgentIdentity {
        Objects.requireNonNull(agentId, "agentId");
        tags = tags == null ? List.of() : List.copyOf(tags);
    }
}
