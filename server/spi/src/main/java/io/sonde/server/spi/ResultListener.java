package io.sonde.server.spi;

import java.util.List;

import org.osgi.annotation.versioning.ConsumerType;

import io.sonde.wire.WireResult;

/**
 * Told of every batch the server stored, before the agent is answered: each result of the batch,
 * those stored before included (a batch sent again after a lost answer may have reached another
 * instance first, which then stored it), so that what a listener keeps is at least what the store
 * keeps. Registered as a service; called on the ingest's thread, so it must be quick and must not
 * throw for one batch what it could not do for it (it counts that itself).
 *
 * @since 1.11
 */
@ConsumerType
public interface ResultListener {

    /**
     * @param agentId the agent the batch is of
     * @param results the batch's results, in the agent's order
     */
    void stored(String agentId, List<WireResult> results);
}
