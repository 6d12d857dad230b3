package io.sonde.server.spi;

import java.time.Instant;

/**
 * Statistics of one step of a series; times in seconds, over the successful probes.
 *
 * @param start    start of the step
 * @param count    probes in the step
 * @param failures failed probes
 * @param loss     lost packets over sent ones where the kind sends several (ping), else failures over count
 * @param min      shortest response time, or null without a success
 * @param max      longest response time, or null
 * @param p50      median response time, or null
 * @param p90      90th percentile, or null
 * @param p99      99th percentile, or null
 */
public record SeriesStep(Instant start, long count, long failures, double loss, Double min, Double max, Double p50,
        Double p90, Double p99) {
}
