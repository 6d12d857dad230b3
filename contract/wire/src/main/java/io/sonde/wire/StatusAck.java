package io.sonde.wire;

/**
 * The server's answer to a status that asks for more than the 204 it mostly gets (since 1.5).
 *
 * @param schema      {@link WireCodec#SCHEMA}
 * @param kindsWanted the status named its kinds by their hash only and the server does not hold
 *                    them under it (it restarted, or the agent talks to another instance): the
 *                    agent sends its next status at once, with its kinds
 */
public record StatusAck(int schema, boolean kindsWanted) {
}
