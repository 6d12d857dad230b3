package io.sonde.server.spi;

import java.time.Duration;
import java.time.Instant;

/**
 * When an agent counts as offline: not heard from within {@code offline_after_s} of {@code etc/io.sonde.server.cfg}. One
 * service, read and bounded in one place (the server's core); the agents' list, the health model, the mesh matrix, the
 * alerts and the metrics all take it from there.
 *
 * @since 1.18
 */
public interface OfflineRule {

    /** @return how long an agent may stay silent and still count as online; at least a second */
    Duration offlineAfter();

    /** @return whether {@code agent} is online at {@code now}: not revoked, and heard from within {@link #offlineAfter()} */
    default boolean online(AgentRecord agent, Instant now) {
        return agent.online(now, offlineAfter());
    }
}
