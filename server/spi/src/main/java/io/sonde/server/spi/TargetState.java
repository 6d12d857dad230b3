package io.sonde.server.spi;

import java.time.Instant;

/**
 * The latest word of one agent on one target, as ingest keeps it: what the health model
 * ({@link io.sonde.agent.spi.Health}, {@link FleetHealth}) starts from.
 *
 * @param agentId       the vantage agent
 * @param target        the target
 * @param kind          its kind
 * @param lastAt        when the latest result's probe started
 * @param success       whether it succeeded
 * @param reason        its failure reason's label, or null
 * @param error         its error text, or null
 * @param since         when the latest run of results with this outcome began
 * @param nextProbe     when the agent said it probes the target next, or null (an agent before wire 1.2)
 * @param backoff       whether the agent backs off from it
 * @param failureAt     when the latest failure's probe started, or null for none yet
 * @param failureReason that failure's reason, or null
 * @param failureError  that failure's error text, or null
 * @since 1.5
 */
public record TargetState(String agentId, String target, String kind, Instant lastAt, boolean success, String reason, String error,
        Instant since, Instant nextProbe, boolean backoff, Instant failureAt, String failureReason, String failureError) {
}
