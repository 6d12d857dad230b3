package io.sonde.server.ingest.internal;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

import io.sonde.wire.BatchAck;

/** The cadence the server asks of its agents: the configured one, longer for a large fleet, twice it when every batch slot is taken. */
public class PaceTest {

    @Test
    public void theConfiguredCadenceStretchedWhenCrowdedAndBounded() {
        assertEquals(5000, Ingest.interval(5, 0, 0, false));
        assertEquals(10_000, Ingest.interval(5, 0, 0, true));
        assertEquals("0: as soon as the agent has results", 0, Ingest.interval(0, 0, 0, true));
        assertEquals("0 stays 0 whatever the fleet", 0, Ingest.interval(0, 400, 10_000, false));
        assertEquals(0, Ingest.interval(-3, 0, 0, false));
        assertEquals(BatchAck.MAX_BATCH_INTERVAL_MS, Ingest.interval(45, 0, 0, true));
        assertEquals(BatchAck.MAX_BATCH_INTERVAL_MS, Ingest.interval(Integer.MAX_VALUE, 0, 0, false));
    }

    /** A larger fleet is told a longer pace, so that its batches come at about the rate set: fewer, larger batches. */
    @Test
    public void aLargerFleetIsToldToSendLessOften() {
        assertEquals("2,000 agents at 5 s send 400 a second: the configured pace", 5000, Ingest.interval(5, 400, 2000, false));
        assertEquals("a few agents: the configured pace", 5000, Ingest.interval(5, 400, 3, false));
        assertEquals(6250, Ingest.interval(5, 400, 2500, false));
        assertEquals(12_500, Ingest.interval(5, 400, 5000, false));
        assertEquals(25_000, Ingest.interval(5, 400, 10_000, false));
        assertEquals("and twice it while every slot is taken", 50_000, Ingest.interval(5, 400, 10_000, true));
        assertEquals("never more than a minute", BatchAck.MAX_BATCH_INTERVAL_MS, Ingest.interval(5, 400, 100_000, false));
        assertEquals("rounded up to the ms", 1001, Ingest.interval(1, 3000, 3001, false));
        assertEquals("0: the configured pace alone", 5000, Ingest.interval(5, 0, 100_000, false));
        assertEquals("a negative count is none", 5000, Ingest.interval(5, 400, -7, false));
    }

    /** A turned-away agent comes back when the fleet's round at the rate set brings its turn again: 1 s for a small fleet. */
    @Test
    public void aTurnedAwayAgentWaitsForItsTurnInTheFleet() {
        assertEquals(1, Ingest.retryAfter(0, 400));
        assertEquals(1, Ingest.retryAfter(1, 400));
        assertEquals(1, Ingest.retryAfter(400, 400));
        assertEquals("rounded up", 2, Ingest.retryAfter(401, 400));
        assertEquals(7, Ingest.retryAfter(2500, 400));
        assertEquals(13, Ingest.retryAfter(5000, 400));
        assertEquals(25, Ingest.retryAfter(10_000, 400));
        assertEquals("never more than the longest pace", 60, Ingest.retryAfter(1_000_000, 400));
        assertEquals("no rate set: 1 s", 1, Ingest.retryAfter(10_000, 0));
        assertEquals(1, Ingest.retryAfter(10_000, -5));
        assertEquals(2, Ingest.retryAfter(2, 1));
    }

    /** The agents sending are those whose last batch came within a minute, counted every 5 s by one of the callers. */
    @Test
    public void theAgentsSendingAreCountedEveryFiveSeconds() {
        SendingAgents a = new SendingAgents();
        long t = 1_000_000;
        assertEquals("the first batch counts", 1, a.heard("a", t));
        assertEquals("not counted again within 5 s", 1, a.heard("b", t + 1000));
        assertEquals(1, a.heard("a", t + 4999));
        assertEquals("counted again after 5 s: a and b", 2, a.heard("a", t + 5000));
        for (int i = 0; i < 100; i++) {
            a.heard("x" + i, t + 6000);
        }
        assertEquals(102, a.heard("a", t + 10_000));
        assertEquals("b (its last batch at +1 s) gone quiet for more than a minute", 101, a.heard("a", t + 61_500));
        assertEquals("quiet for a minute, still held", 102, a.tracked());
        assertEquals("the x's quiet for a minute", 1, a.heard("a", t + 66_500));
        assertEquals(102, a.tracked());
        assertEquals(1, a.heard("a", t + 126_500));
        assertEquals("b and the x's dropped after two minutes quiet", 1, a.tracked());
        assertEquals("a clock that went back counts nothing away", 2, a.heard("b", t + 10_000));
    }
}
