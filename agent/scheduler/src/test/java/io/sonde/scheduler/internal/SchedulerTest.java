package io.sonde.scheduler.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.After;
import org.junit.Test;

import io.sonde.api.FailureReason;
import io.sonde.api.MeasuredResult;
import io.sonde.api.ResultSchema;
import io.sonde.api.ProbeResult;
import io.sonde.api.Prober;
import io.sonde.agent.spi.ResultSink;
import io.sonde.api.Target;

/**
 * The scheduler with real threads and in-test probers. Waits are upper bounds for something that
 * must happen, never assertions on how fast.
 */
public class SchedulerTest {

    private final Scheduler scheduler = new Scheduler();
    private final Recorder sink = new Recorder();

    @After
    public void stop() {
        scheduler.deactivate();
    }

    private static Target target(String name, String kind, long intervalMs, long timeoutMs) {
        return new Target(name, kind, "127.0.0.1", 1, Duration.ofMillis(intervalMs), Duration.ofMillis(timeoutMs),
                Set.of(), Map.of(), "test");
    }

    private static ProbeResult ok(Target t) {
        return MeasuredResult.success(t, Instant.now(), Duration.ofMillis(1), ResultSchema.NONE, Map.of());
    }

    private void addProber(String kind, Prober p) {
        scheduler.addProber(p, Map.of(Prober.PROBE_TYPE, kind, "service.id", 1L));
    }

    private void addSink(ResultSink s, String name) {
        scheduler.addSink(s, Map.of("component.name", name));
    }

    static final class Recorder implements ResultSink {
        final BlockingQueue<ProbeResult> results = new LinkedBlockingQueue<>();
        final BlockingQueue<Target> removed = new LinkedBlockingQueue<>();

        @Override
        public void accept(ProbeResult result) {
            results.add(result);
        }

        @Override
        public void targetRemoved(Target target) {
            removed.add(target);
        }

        ProbeResult next() throws InterruptedException {
            ProbeResult r = results.poll(10, TimeUnit.SECONDS);
            assertNotNull("no result arrived", r);
            return r;
        }
    }

    @Test
    public void aConfiguredSinkThatRestartsGetsEveryResultProducedWhileItWasAway() throws Exception {
        scheduler.awaitSinks("uplink");
        Recorder first = new Recorder();
        scheduler.addSink(first, Map.of("component.name", "io.sonde.uplink", "sink.name", "uplink"));
        addProber("k", t -> CompletableFuture.completedFuture(ok(t)));
        Target t = target("a", "k", 10, 500);
        scheduler.targetsChanged(List.of(t));
        first.next();
        scheduler.removeSink(first); // its component restarts: a configuration change
        long atRemoval = scheduler.state().results();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (scheduler.state().results() < atRemoval + 20 && System.nanoTime() < deadline) {
            Thread.sleep(10); // results are produced while no sink named uplink is there
        }
        assertTrue(scheduler.state().results() >= atRemoval + 20);
        Recorder second = new Recorder();
        scheduler.addSink(second, Map.of("component.name", "io.sonde.uplink", "sink.name", "uplink"));
        second.next();
        scheduler.targetsChanged(List.of());
        assertNotNull("the removal arrives after every result, in order", second.removed.poll(10, TimeUnit.SECONDS));
        long produced = scheduler.state().results();
        assertEquals("every result reached one of the two, once", produced, first.results.size() + second.results.size() + 2); // each gave one to next()
        assertEquals(Map.of(), scheduler.holdDrops());
        assertEquals("the sink's count goes on across its restart", produced,
                scheduler.state().sinks().stream().filter(w -> w.name().equals("io.sonde.uplink")).findFirst().orElseThrow().delivered());
    }

    /**
     * The uplink configured on a running agent (not awaited at the start) says so with sink.hold: its restarts (its
     * own removal of a used enrollment token, an operator's edit) lose nothing either.
     */
    @Test
    public void aSinkConfiguredAfterTheStartIsHeldAcrossItsRestartsToo() throws Exception {
        Recorder first = new Recorder();
        Map<String, Object> props = Map.of("component.name", "io.sonde.uplink", "sink.name", "uplink", "sink.hold", Boolean.TRUE);
        scheduler.addSink(first, props);
        addProber("k", t -> CompletableFuture.completedFuture(ok(t)));
        scheduler.targetsChanged(List.of(target("a", "k", 10, 500)));
        first.next();
        scheduler.removeSink(first);
        long atRemoval = scheduler.state().results();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (scheduler.state().results() < atRemoval + 20 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(scheduler.state().results() >= atRemoval + 20);
        Recorder second = new Recorder();
        scheduler.addSink(second, props);
        second.next();
        scheduler.targetsChanged(List.of());
        assertNotNull(second.removed.poll(10, TimeUnit.SECONDS));
        long produced = scheduler.state().results();
        assertEquals("every result reached one of the two, once", produced, first.results.size() + second.results.size() + 2);
        assertEquals(Map.of(), scheduler.holdDrops());
    }

    @Test
    public void anUnconfiguredSinkThatGoesIsNotWaitedFor() throws Exception {
        Recorder first = new Recorder();
        scheduler.addSink(first, Map.of("component.name", "x", "sink.name", "other"));
        addProber("k", t -> CompletableFuture.completedFuture(ok(t)));
        scheduler.targetsChanged(List.of(target("a", "k", 10, 500)));
        first.next();
        scheduler.removeSink(first);
        Recorder second = new Recorder();
        scheduler.addSink(second, Map.of("component.name", "x", "sink.name", "other"));
        ProbeResult r = second.next();
        assertTrue("what came while it was away is not replayed: a fresh result", !r.startedAt().isBefore(Instant.now().minusSeconds(5)));
        assertEquals(Map.of(), scheduler.holdDrops());
    }

    @Test
    public void probesRepeatOnTheInterval() throws Exception {
        addSink(sink, "rec");
        addProber("k", t -> CompletableFuture.completedFuture(ok(t)));
        scheduler.targetsChanged(List.of(target("a", "k", 50, 40)));
        for (int i = 0; i < 3; i++) {
            assertTrue(sink.next().isSuccessful());
        }
    }

    @Test
    public void timeoutIsEnforcedWhenTheProberIgnoresIt() throws Exception {
        addSink(sink, "rec");
        CompletableFuture<ProbeResult> never = new CompletableFuture<>();
        addProber("k", t -> never);
        scheduler.targetsChanged(List.of(target("a", "k", 1000, 50)));
        ProbeResult r = sink.next();
        assertEquals(FailureReason.TIMEOUT, r.failureReason());
        assertTrue("the stage is cancelled so the prober can let go", never.isCancelled());
    }

    @Test
    public void throwingProberGivesAnErrorResult() throws Exception {
        addSink(sink, "rec");
        addProber("k", t -> {
            throw new IllegalStateException("boom");
        });
        scheduler.targetsChanged(List.of(target("a", "k", 1000, 500)));
        ProbeResult r = sink.next();
        assertEquals(FailureReason.ERROR, r.failureReason());
        assertTrue(r.errorMessage(), r.errorMessage().contains("boom"));
    }

    @Test
    public void aProbeStillRunningIsSkippedNotStacked() throws Exception {
        addSink(sink, "rec");
        AtomicInteger calls = new AtomicInteger();
        AtomicInteger concurrent = new AtomicInteger();
        AtomicInteger maxConcurrent = new AtomicInteger();
        addProber("k", t -> {
            calls.incrementAndGet();
            maxConcurrent.accumulateAndGet(concurrent.incrementAndGet(), Math::max);
            // answers after one and a half intervals, within timeout plus grace: a turn is skipped
            return CompletableFuture.supplyAsync(() -> {
                concurrent.decrementAndGet();
                return ok(t);
            }, CompletableFuture.delayedExecutor(150, TimeUnit.MILLISECONDS));
        });
        Target t = new Target("a", "k", "h", 1, Duration.ofMillis(100), Duration.ofMillis(100), Set.of(), Map.of(), "x");
        scheduler.targetsChanged(List.of(t));
        sink.next();
        sink.next();
        assertEquals(1, maxConcurrent.get());
        assertTrue(scheduler.report.collect().stream()
                .filter(f -> f.name.equals("sonde_scheduler_skipped"))
                .flatMap(f -> f.samples.stream())
                .anyMatch(s -> s.labelValues.equals(List.of("overlap")) && s.value > 0));
    }

    @Test
    public void slowSinkDoesNotStallAFastOne() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        addSink(new ResultSink() {
            @Override
            public void accept(ProbeResult result) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }, "slow");
        addSink(new ResultSink() {
            @Override
            public void accept(ProbeResult result) {
                throw new RuntimeException("sink failure");
            }
        }, "throwing");
        addSink(sink, "rec");
        addProber("k", t -> CompletableFuture.completedFuture(ok(t)));
        scheduler.targetsChanged(List.of(target("a", "k", 20, 10)));
        for (int i = 0; i < 5; i++) {
            sink.next();
        }
        release.countDown();
    }

    @Test
    public void blockingProberStallsOnlyItsOwnKind() throws Exception {
        addSink(sink, "rec");
        CountDownLatch release = new CountDownLatch(1);
        addProber("stuck", t -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return CompletableFuture.completedFuture(ok(t));
        });
        addProber("fine", t -> CompletableFuture.completedFuture(ok(t)));
        scheduler.targetsChanged(List.of(target("s", "stuck", 20, 10), target("f", "fine", 20, 10)));
        int fine = 0;
        for (int i = 0; i < 40 && fine < 5; i++) {
            ProbeResult r = sink.next();
            if (r.target().name().equals("f")) {
                fine++;
            }
        }
        assertEquals(5, fine);
        release.countDown();
    }

    @Test
    public void removedTargetStopsAndSinksAreTold() throws Exception {
        addSink(sink, "rec");
        addProber("k", t -> CompletableFuture.completedFuture(ok(t)));
        Target a = target("a", "k", 20, 10);
        scheduler.targetsChanged(List.of(a));
        sink.next();
        scheduler.targetsChanged(List.of());
        Target gone = sink.removed.poll(10, TimeUnit.SECONDS);
        assertEquals(a, gone);
        sink.results.clear();
        assertNull("no result after removal", sink.results.poll(200, TimeUnit.MILLISECONDS));
    }

    @Test
    public void targetWithoutProberWaitsAndStartsWhenOneComes() throws Exception {
        addSink(sink, "rec");
        scheduler.targetsChanged(List.of(target("a", "late", 60_000, 1000)));
        // the first turn finds no prober
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!stateIs(0, 1) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(stateIs(0, 1));
        Thread.sleep(50);
        addProber("late", t -> CompletableFuture.completedFuture(ok(t)));
        // probed at once, not after the 60 s interval
        assertTrue(sink.next().isSuccessful());
        assertTrue(stateIs(1, 0));
    }

    private boolean stateIs(int active, int noProber) {
        return scheduler.report.collect().stream()
                .filter(f -> f.name.equals("sonde_targets"))
                .flatMap(f -> f.samples.stream())
                .filter(s -> s.labelValues.get(0).equals("active"))
                .allMatch(s -> s.value == active) && scheduler.state().noProber() == noProber;
    }

    @Test
    public void aProberThatBlocksInProbeStallsNeitherCancelNorTargetChangesNorMetrics() throws Exception {
        addSink(sink, "rec");
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        // declares that it never blocks, then blocks: called on the scheduler's own thread
        scheduler.addProber((Prober) t -> {
            entered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return CompletableFuture.completedFuture(ok(t));
        }, Map.of(Prober.PROBE_TYPE, "k", Prober.PROBE_ASYNC, true, "service.id", 2L));
        try {
            scheduler.targetsChanged(List.of(target("a", "k", 60_000, 1000)));
            assertTrue("the prober was called", entered.await(10, TimeUnit.SECONDS));
            // while it blocks: the core's thread changes the targets, and a scrape runs
            CompletableFuture<Void> change = CompletableFuture.runAsync(() -> scheduler.targetsChanged(List.of()));
            CompletableFuture<Integer> scrape = CompletableFuture.supplyAsync(() -> scheduler.report.collect().size());
            change.get(10, TimeUnit.SECONDS);
            assertTrue(scrape.get(10, TimeUnit.SECONDS) > 0);
            assertEquals(0, scheduler.state().active());
        } finally {
            release.countDown();
        }
        assertEquals("the removed target's late result reaches no sink", null, sink.results.poll(300, TimeUnit.MILLISECONDS));
    }

    private static Target failing(String name, Map<String, String> options) {
        return new Target(name, "k", "127.0.0.1", 1, Duration.ofMillis(50), Duration.ofMillis(40), Set.of(), options, "test");
    }

    private static ProbeResult failed(Target t) {
        return MeasuredResult.failure(t, Instant.now(), Duration.ofMillis(1), FailureReason.REFUSED, "refused", ResultSchema.NONE, Map.of());
    }

    @Test
    public void aFailingTargetBacksOffAndOneSuccessRestoresItsInterval() throws Exception {
        addSink(sink, "rec");
        java.util.concurrent.atomic.AtomicBoolean up = new java.util.concurrent.atomic.AtomicBoolean();
        addProber("k", t -> CompletableFuture.completedFuture(up.get() ? ok(t) : failed(t)));
        scheduler.targetsChanged(List.of(failing("down", Map.of("backoff_after", "2", "backoff_max_ms", "400"))));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (scheduler.state().backoff() != 1 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals("in backoff after two failures", 1, scheduler.state().backoff());
        assertEquals(0, scheduler.state().active());
        // stretched: a gap of eight intervals between two probes, which its own interval never leaves
        long previous = sink.next().startedAt().toEpochMilli();
        long widest = 0;
        for (int i = 0; i < 7; i++) { // 50, 100, 200, 400, 400 ms after the first failures
            long at = sink.next().startedAt().toEpochMilli();
            widest = Math.max(widest, at - previous);
            previous = at;
        }
        assertTrue("widest gap " + widest + " ms", widest >= 8 * 50 - 50);
        up.set(true);
        while (!sink.next().isSuccessful()) {
            // the failures still queued
        }
        assertEquals(0, scheduler.state().backoff());
        assertEquals(1, scheduler.state().active());
    }

    @Test
    public void backoffOffKeepsTheInterval() throws Exception {
        addSink(sink, "rec");
        addProber("k", t -> CompletableFuture.completedFuture(failed(t)));
        scheduler.targetsChanged(List.of(failing("down", Map.of("backoff", "off", "backoff_after", "1"))));
        for (int i = 0; i < 5; i++) {
            assertTrue(!sink.next().isSuccessful());
        }
        assertEquals(0, scheduler.state().backoff());
        assertEquals(1, scheduler.state().active());
    }

    @Test
    public void afterBackoffTheNextTurnComesAtTheTargetsOwnIntervalNotTheStretchedOne() throws Exception {
        addSink(sink, "rec");
        java.util.concurrent.atomic.AtomicBoolean up = new java.util.concurrent.atomic.AtomicBoolean();
        addProber("k", t -> CompletableFuture.completedFuture(up.get() ? ok(t) : failed(t)));
        scheduler.targetsChanged(List.of(failing("down", Map.of("backoff_after", "1", "backoff_max_ms", "60000"))));
        // fails until two probes lie 1.6 s apart: the interval of 50 ms stretched 32 times
        long previous = sink.next().startedAt().toEpochMilli();
        for (long gap = 0; gap < 1600;) {
            long at = sink.next().startedAt().toEpochMilli();
            gap = at - previous;
            previous = at;
        }
        up.set(true);
        ProbeResult success = sink.next();
        while (!success.isSuccessful()) {
            success = sink.next();
        }
        ProbeResult after = sink.next();
        long gap = after.startedAt().toEpochMilli() - success.startedAt().toEpochMilli();
        // not a bound on speed: the stretched interval (3.2 s) is what the next turn must not wait any more
        assertTrue("the turn after the success came " + gap + " ms later; its own interval is 50 ms, the stretched one 3.2 s",
                gap < 3200);
    }
}
