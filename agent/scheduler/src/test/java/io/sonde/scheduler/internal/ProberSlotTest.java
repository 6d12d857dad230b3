package io.sonde.scheduler.internal;

import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import org.junit.Test;

import io.sonde.api.MeasuredResult;
import io.sonde.api.ProbeResult;
import io.sonde.api.Prober;
import io.sonde.api.ResultSchema;
import io.sonde.api.Target;

public class ProberSlotTest {

    private static final ResultSchema X = new ResultSchema("2", List.of(
            ResultSchema.Value.of("hops", ResultSchema.Type.HOPS, "", ResultSchema.Role.PATH, "the path")), List.of(), List.of());
    private static final Target T = new Target("t", "x", "127.0.0.1", 1, Duration.ofSeconds(1), Duration.ofMillis(500), Set.of(),
            Map.of(), "test");

    private static Prober announcing(ResultSchema announced) {
        return new Prober() {
            @Override
            public CompletionStage<? extends ProbeResult> probe(Target target) {
                return CompletableFuture.completedFuture(MeasuredResult.success(target, Instant.now(), Duration.ZERO, X, Map.of()));
            }

            @Override
            public ResultSchema resultSchema() {
                return announced;
            }
        };
    }

    @Test
    public void aProberThatAnnouncesAnotherSchemaThanItsResultsCarryIsSaidOnce() {
        ProberSlot forgot = new ProberSlot(announcing(ResultSchema.NONE), "x", 0, 1, true);
        MeasuredResult r = MeasuredResult.success(T, Instant.now(), Duration.ZERO, X, Map.of());
        String said = forgot.schemaMismatch(r);
        assertTrue(said, said != null && said.contains("the x prober announces a result schema (version 0, 0 values) other than the one its"
                + " results carry (version 2, 1 values)"));
        assertNull("once a slot", forgot.schemaMismatch(r));
        ProberSlot agrees = new ProberSlot(announcing(X), "x", 0, 2, true);
        assertNull(agrees.schemaMismatch(r));
        forgot.executor.shutdownNow();
        agrees.executor.shutdownNow();
    }
}
