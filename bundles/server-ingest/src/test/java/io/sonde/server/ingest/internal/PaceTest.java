package io.sonde.server.ingest.internal;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

import io.sonde.wire.BatchAck;

/** The cadence the server asks of its agents: the configured one, twice it when every batch slot is taken. */
public class PaceTest {

    @Test
    public void theConfiguredCadenceStretchedWhenCrowdedAndBounded() {
        assertEquals(5000, Ingest.interval(5, false));
        assertEquals(10_000, Ingest.interval(5, true));
        assertEquals("0: as soon as the agent has results", 0, Ingest.interval(0, true));
        assertEquals(0, Ingest.interval(-3, false));
        assertEquals(BatchAck.MAX_BATCH_INTERVAL_MS, Ingest.interval(45, true));
        assertEquals(BatchAck.MAX_BATCH_INTERVAL_MS, Ingest.interval(Integer.MAX_VALUE, false));
    }
}
