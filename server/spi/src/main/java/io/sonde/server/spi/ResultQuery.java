package io.sonde.server.spi;

import java.time.Instant;

/**
 * Which raw results to list.
 *
 * @param agentId only this agent's, or null for all
 * @param target  only this target's, or null for all
 * @param from    measured at or after, inclusive
 * @param to      measured before, exclusive
 * @param limit   most items on the page
 * @param after   the cursor of the page before, or null for the first
 */
public record ResultQuery(String agentId, String target, Instant from, Instant to, int limit, String after) {
}
