package io.sonde.wire;

/**
 * The server's answer to a stored batch: every result of it is now stored exactly once.
 *
 * @param schema     {@link WireCodec#SCHEMA}
 * @param accepted   results stored by this request
 * @param duplicates results that were stored before (a batch sent again) and were not stored twice
 */
public record BatchAck(int schema, int accepted, int duplicates) {
}
