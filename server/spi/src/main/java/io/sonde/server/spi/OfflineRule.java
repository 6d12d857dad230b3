package io.sonde.server.spi;

import java.time.Duration;

/**
 * When an agent counts as offline: not heard from within {@code offline_after_s} of {@code etc/io.sonde.server.cfg}. One
 * service, read and bounded in one place (the server's core); the agents' list, the health model, the mesh matrix, the
 * alerts and the metrics all take it from there.
 *
 * @since 1.18
 */
public interface OfflineRule {

    /** @return how long an agent may stay silent and still count as online ({@link AgentRecord#online}); at least a second */
    Duration offlineAfter();
}
