package io.sonde.server.spi;

/**
 * One series of results: what one agent measures of one target with one kind.
 *
 * @param agentId the agent
 * @param target  the target
 * @param kind    the kind
 * @since 1.4
 */
public record SeriesName(String agentId, String target, String kind) {
}
