package io.sonde.agent.spi;

import io.sonde.api.TargetSchema;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.Test;

import io.sonde.agent.spi.Health.State;

public class HealthTest {

    private static final Health.Thresholds FIVE_PERCENT_100_MS = new Health.Thresholds(5, 100);

    @Test
    public void aFailureIsDownAndBackedOffIsBackoffWhichCountsAsDown() {
        assertEquals(State.DOWN, Health.of(false, Double.NaN, Double.NaN, Health.Thresholds.NONE, false));
        assertEquals(State.BACKOFF, Health.of(false, Double.NaN, Double.NaN, Health.Thresholds.NONE, true));
        assertTrue(State.BACKOFF.isDown());
        assertTrue(State.DOWN.isDown());
        assertEquals(false, State.DEGRADED.isDown());
    }

    @Test
    public void aSuccessPastAThresholdIsDegradedAndSaysWhich() {
        assertEquals(State.UP, Health.of(true, 0.05, 0.1, FIVE_PERCENT_100_MS, false));
        assertEquals(State.DEGRADED, Health.of(true, 0.06, 0.01, FIVE_PERCENT_100_MS, false));
        assertEquals(State.DEGRADED, Health.of(true, Double.NaN, 0.1005, FIVE_PERCENT_100_MS, false));
        assertEquals("loss 60.0 % > 5 %", Health.degraded(0.6, 0.001, FIVE_PERCENT_100_MS));
        assertEquals("latency 250.0 ms > 100 ms", Health.degraded(0, 0.25, FIVE_PERCENT_100_MS));
        assertNull("thresholds off: never degraded", Health.degraded(1.0, 99, Health.Thresholds.NONE));
    }

    @Test
    public void thresholdsAreReadFromADefinitionsKeysAndABadValueCountsAsUnset() {
        Map<String, String> keys = Map.of("degraded_loss_percent", "10", "degraded_latency_ms", "eighty");
        assertEquals(new Health.Thresholds(10, 0), Health.Thresholds.of(keys::get));
    }

    @Test
    public void overallIsTheWorstOfTheKnownWithCounts() {
        Health.Overall o = Health.overall(List.of(State.UP, State.DOWN, State.BACKOFF, State.UNKNOWN));
        assertEquals(State.DOWN, o.state());
        assertEquals(2, o.affected());
        assertEquals(3, o.vantages());
        assertEquals("down from 2 of 3", o.text());
        assertEquals(Integer.valueOf(1), o.counts().get(State.UNKNOWN));

        Health.Overall allBackoff = Health.overall(List.of(State.BACKOFF, State.BACKOFF));
        assertEquals(State.BACKOFF, allBackoff.state());
        assertEquals("down from 2 of 2", allBackoff.text());

        Health.Overall degraded = Health.overall(List.of(State.UP, State.DEGRADED, State.UP));
        assertEquals(State.DEGRADED, degraded.state());
        assertEquals("degraded from 1 of 3", degraded.text());

        Health.Overall refused = Health.overall(List.of(State.UP, State.REFUSED));
        assertEquals(State.REFUSED, refused.state());

        Health.Overall unknown = Health.overall(List.of(State.UNKNOWN, State.UNKNOWN));
        assertEquals(State.UNKNOWN, unknown.state());
        assertEquals(0, unknown.vantages());
        assertEquals("unknown", unknown.text());
        assertEquals(State.UNKNOWN, Health.overall(List.of()).state());
    }

    @Test
    public void statesAreNamedOneWayEverywhere() {
        assertEquals("no_prober", State.NO_PROBER.label());
        assertEquals(State.NO_PROBER, State.of(" NO_PROBER "));
        assertNull(State.of("broken"));
        assertEquals(7, State.values().length);
    }

    @Test
    public void theThresholdKeysAreGenericAndChecked() {
        assertTrue(TargetSchema.GENERIC_KEYS.contains("degraded_loss_percent"));
        TargetKeys.Generic g = TargetKeys.check(Map.of("name", "a", "kind", "tcp", "host", "h", "port", 1, "degraded_loss_percent", "101"),
                "a", null);
        assertEquals(1, g.problems().size());
        assertEquals("degraded_loss_percent", g.problems().get(0).key());
        assertEquals("101 is out of range (0-100)", g.problems().get(0).reason());
    }
}
