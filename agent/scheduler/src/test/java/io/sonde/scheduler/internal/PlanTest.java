package io.sonde.scheduler.internal;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

public class PlanTest {

    @Test
    public void onTimeRunKeepsTheGrid() {
        assertEquals(2000, Plan.next(1000, 1003, 1000));
        assertEquals(0, Plan.skippedTurns(1000, 2000, 1000));
    }

    @Test
    public void lateRunDoesNotDrift() {
        // ran 400 late: the next turn is still on the grid, not 400 later
        assertEquals(2000, Plan.next(1000, 1400, 1000));
    }

    @Test
    public void turnsThatHavePassedAreSkipped() {
        long next = Plan.next(1000, 3500, 1000);
        assertEquals(4000, next);
        assertEquals(2, Plan.skippedTurns(1000, next, 1000));
    }

    @Test
    public void runExactlyOnTheNextTurnMovesPastIt() {
        assertEquals(3000, Plan.next(1000, 2000, 1000));
    }

    @Test
    public void worksAcrossNanoTimeOverflow() {
        long planned = Long.MAX_VALUE - 10;
        long next = Plan.next(planned, planned + 5, 100);
        assertEquals(planned + 100, next);
    }

    @Test
    public void startsAreAlignedToSlots() {
        assertEquals(0, Plan.align(0));
        assertEquals(Plan.SLOT_NANOS, Plan.align(1));
        assertEquals(Plan.SLOT_NANOS, Plan.align(Plan.SLOT_NANOS));
        assertEquals("up to the next slot, also below zero", -Plan.SLOT_NANOS, Plan.align(-Plan.SLOT_NANOS - 1));
        assertEquals(-Plan.SLOT_NANOS, Plan.align(-Plan.SLOT_NANOS));
        assertEquals(Plan.SLOT_NANOS, Plan.align(Plan.SLOT_NANOS - 1));
        assertEquals(0, Plan.align(-1));
        long t = 123_456_789_012L;
        assertEquals(0, Math.floorMod(Plan.align(t), Plan.SLOT_NANOS));
    }

    @Test
    public void firstRunsAreSpreadOverTheInterval() {
        assertEquals(0, Plan.firstDelay(0, 1, 10_000));
        assertEquals(0, Plan.firstDelay(0, 10_000, 10_000_000_000L));
        assertEquals(1_000_000, Plan.firstDelay(1, 10_000, 10_000_000_000L));
        assertEquals(9_999_000_000L, Plan.firstDelay(9_999, 10_000, 10_000_000_000L));
    }
}
