package io.sonde.server.spi;

import java.time.Duration;
import java.time.Instant;

/**
 * Which series of steps to compute.
 *
 * @param agentId only this agent's results, or null for all agents
 * @param target  the target
 * @param from    start of the first step (aligned down to the step)
 * @param to      end, exclusive
 * @param step    length of one step
 */
public record SeriesQuery(String agentId, String target, Instant from, Instant to, Duration step) {
}
