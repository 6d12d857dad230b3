package io.sonde.server.spi;

/**
 * What one agent measured of one target over a short window, for the alert evaluator; times in
 * seconds, over the successful probes.
 *
 * @param agentId  the vantage agent
 * @param target   the target
 * @param kind     its kind
 * @param count    probes in the window
 * @param failures failed probes
 * @param loss     lost packets over sent ones where the kind sends several (ping), else failures over count
 * @param p50      median response time, or null without a success
 * @param p90      90th percentile, or null
 * @param p99      99th percentile, or null
 * @since 1.4
 */
public record SeriesWindow(String agentId, String target, String kind, long count, long failures, double loss, Double p50,
        Double p90, Double p99) {
}
