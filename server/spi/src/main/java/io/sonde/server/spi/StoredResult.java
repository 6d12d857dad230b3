package io.sonde.server.spi;

import com.google.gson.JsonObject;

import io.sonde.wire.WireResult;

/**
 * One stored result with its identity.
 *
 * @param agentId the agent that measured it
 * @param epoch   its spool epoch
 * @param result  the result as it came, its {@code seq} included
 */
public record StoredResult(String agentId, String epoch, WireResult result) {

    /** @return the kind's details, never null */
    public JsonObject details() {
        return result.details() == null ? new JsonObject() : result.details();
    }
}
