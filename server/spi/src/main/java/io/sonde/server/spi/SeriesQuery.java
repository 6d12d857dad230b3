package io.sonde.server.spi;

import java.time.Duration;
import java.time.Instant;

/**
 * Which series of steps to compute.
 *
 * @param agentId only this agent's results, or null for all agents
 * @param target  the target
 * @param from        start of the first step (aligned down to the step, counted from the epoch, unless
 *                    {@code fromAligned})
 * @param to          end, exclusive
 * @param step        length of one step
 * @param fromAligned whether the steps start at {@code from} itself (give a whole minute for steps
 *                    of whole minutes): a range asked as one step is then one step, wherever the
 *                    epoch's multiples of the step fall (since 1.8)
 */
public record SeriesQuery(String agentId, String target, Instant from, Instant to, Duration step, boolean fromAligned) {

    /** Steps aligned to the epoch: a chart's steps stay where they were as its range moves on. */
    public SeriesQuery(String agentId, String target, Instant from, Instant to, Duration step) {
        this(agentId, target, from, to, step, false);
    }

    /** @return the whole range {@code [from, to)} as one step, {@code from} a whole minute to use the rollups @since 1.8 */
    public static SeriesQuery whole(String agentId, String target, Instant from, Instant to) {
        return new SeriesQuery(agentId, target, from, to, Duration.between(from, to), true);
    }
}
