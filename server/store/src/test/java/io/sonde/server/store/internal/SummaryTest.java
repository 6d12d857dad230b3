package io.sonde.server.store.internal;

import static org.junit.Assert.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.DoubleSupplier;

import org.junit.Test;

import io.sonde.server.spi.SeriesStep;

/** The rollups' sketch against exact percentiles: within 1 % however many minutes are merged. */
public class SummaryTest {

    @Test
    public void percentilesOfMergedMinutesAreWithinOnePercent() {
        Random r = new Random(3);
        List<DoubleSupplier> shapes = List.of(
                () -> 0.0002 + r.nextDouble() * 0.1, // uniform, 0.2 to 100 ms
                () -> Math.exp(r.nextGaussian() * 1.2 - 6), // log-normal about 2.5 ms, a long tail
                () -> r.nextDouble() < 0.95 ? 0.0005 + r.nextDouble() * 0.0001 : 0.2 + r.nextDouble() * 2, // two modes
                () -> 0.000001 * (1 + r.nextInt(3))); // microseconds: the sketch's low end
        for (DoubleSupplier shape : shapes) {
            Summary whole = new Summary();
            List<Double> all = new ArrayList<>();
            for (int minute = 0; minute < 1440; minute++) { // a day of minutes, merged as an hour step of the day would be
                Summary m = new Summary();
                for (int i = 0; i < 20; i++) {
                    long us = Math.max(1, Math.round(shape.getAsDouble() * 1e6));
                    m.add(us, true, -1, 0);
                    all.add(us / 1e6);
                }
                Summary back = Summary.of(m.count, m.failures, null, null, m.minUs, m.maxUs, m.sketchBytes()); // through storage
                whole.merge(back);
            }
            all.sort(null);
            SeriesStep step = whole.step(0);
            assertEquals(28_800, step.count());
            assertEquals(all.get(0), step.min(), 1e-9);
            assertEquals(all.get(all.size() - 1), step.max(), 1e-9);
            StoreContract.assertNear("p50", all, 0.5, step.p50());
            StoreContract.assertNear("p90", all, 0.9, step.p90());
            StoreContract.assertNear("p99", all, 0.99, step.p99());
        }
    }

    @Test
    public void anExactSummaryReadsTheNearestRankAndAgreesWithTheSketch() {
        Random r = new Random(5);
        for (int size : new int[] {1, 2, 5, 6, 37, 360, 5000}) {
            Summary exact = Summary.exact();
            Summary sketch = new Summary();
            List<Long> all = new ArrayList<>();
            for (int i = 0; i < size; i++) {
                long us = 1 + (long) Math.exp(r.nextGaussian() * 1.5 + 8);
                boolean ok = i % 7 != 3;
                exact.add(us, ok, 4, ok ? 4 : 1);
                sketch.add(us, ok, 4, ok ? 4 : 1);
                if (ok) {
                    all.add(us);
                }
            }
            all.sort(null);
            SeriesStep e = exact.step(0);
            SeriesStep k = sketch.step(0);
            assertEquals(size, e.count());
            assertEquals(k.failures(), e.failures());
            assertEquals(k.loss(), e.loss(), 1e-12);
            for (double[] pq : new double[][] {{50, e.p50(), k.p50()}, {90, e.p90(), k.p90()}, {99, e.p99(), k.p99()}}) {
                int rank = (int) Math.ceil(pq[0] / 100 * all.size()); // nearest rank, 1-based
                assertEquals(size + " values, p" + pq[0], all.get(rank - 1) / 1e6, pq[1], 1e-12);
                assertEquals(size + " values, p" + pq[0] + " within the sketch's 1 %", pq[2], pq[1], pq[2] * 0.01);
            }
            assertEquals(all.get(0) / 1e6, e.min(), 1e-12);
            assertEquals(all.get(all.size() - 1) / 1e6, e.max(), 1e-12);
        }
        Summary none = Summary.exact();
        none.add(50, false, -1, 0);
        assertEquals("no success, no times", null, none.step(0).p50());
        assertEquals(1.0, none.step(0).loss(), 1e-12);
    }

    @Test
    public void failuresAndPacketsAreCountedAndASummaryWithoutSuccessesHasNoTimes() {
        Summary s = new Summary();
        s.add(100, false, 3, 0);
        s.add(200, false, 3, 1);
        Summary back = Summary.of(s.count, s.failures, s.sent, s.received, null, null, s.sketchBytes());
        SeriesStep step = back.step(60_000_000);
        assertEquals(2, step.count());
        assertEquals(2, step.failures());
        assertEquals(5.0 / 6, step.loss(), 1e-12);
        assertEquals(null, step.p50());
        assertEquals(null, step.min());
    }
}
