package io.sonde.wire;

/**
 * Every 4xx and 5xx answer of the server: what was wrong, and where.
 *
 * @param error the message, for example {@code results[3].seq: -1 is not a sequence number (1 or more)}
 */
public record ErrorDocument(String error) {
}
