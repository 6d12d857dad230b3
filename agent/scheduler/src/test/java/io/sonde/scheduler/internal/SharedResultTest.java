package io.sonde.scheduler.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertThrows;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.Test;

import io.sonde.api.FailureReason;
import io.sonde.api.MeasuredResult;
import io.sonde.api.ProbeResult;
import io.sonde.api.ResultSchema;
import io.sonde.api.Target;

/** Every sink reads one result's values, made once. */
public class SharedResultTest {

    private static final Target T = new Target("t", "x", "127.0.0.1", 1, Duration.ofSeconds(1), Duration.ofMillis(500), Set.of(),
            Map.of(), "test");

    /** A plugin's own result type, which makes its values anew at each call, as a record does. */
    private static final class Counting implements ProbeResult {
        final AtomicInteger made = new AtomicInteger();

        @Override
        public Target target() {
            return T;
        }

        @Override
        public Instant startedAt() {
            return Instant.EPOCH;
        }

        @Override
        public Duration responseTime() {
            return Duration.ofMillis(3);
        }

        @Override
        public FailureReason failureReason() {
            return FailureReason.STATUS;
        }

        @Override
        public String errorMessage() {
            return "503";
        }

        @Override
        public Map<String, Object> values() {
            made.incrementAndGet();
            Map<String, Object> v = new LinkedHashMap<>();
            v.put("z", 1);
            v.put("a", 2);
            v.put("m", 3);
            return v;
        }
    }

    @Test
    public void valuesAreMadeOnceInTheirOrderAndReadOnly() {
        Counting made = new Counting();
        ProbeResult shared = SharedResult.of(made);
        assertEquals(List.of("z", "a", "m"), List.copyOf(shared.values().keySet()));
        assertSame(shared.values(), shared.values());
        assertEquals(1, made.made.get());
        assertThrows(UnsupportedOperationException.class, () -> shared.values().put("b", 4));
        assertEquals(FailureReason.STATUS, shared.failureReason());
        assertEquals("503", shared.errorMessage());
        assertEquals(Duration.ofMillis(3), shared.responseTime());
        assertSame(T, shared.target());
        assertSame(ResultSchema.NONE, shared.schema());
        assertSame("shared once only", shared, SharedResult.of(shared));
    }

    @Test
    public void aResultThatHoldsItsValuesIsHandedOnAsItIs() {
        MeasuredResult m = MeasuredResult.success(T, Instant.EPOCH, Duration.ZERO, ResultSchema.NONE, Map.of("a", 1));
        assertSame(m, SharedResult.of(m));
    }
}
