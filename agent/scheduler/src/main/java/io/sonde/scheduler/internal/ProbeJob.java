package io.sonde.scheduler.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import io.sonde.agent.spi.Backoff;
import io.sonde.api.FailureReason;
import io.sonde.api.ProbeFailure;
import io.sonde.api.ProbeResult;
import io.sonde.api.Target;

/**
 * The schedule of one target: runs on the grid {@code start + k * interval}, one probe at a time.
 * A target that keeps failing is probed at the stretched interval {@link Backoff} gives (the
 * circuit breaker); its first success restores its own.
 */
final class ProbeJob implements Runnable {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ProbeJob.class);

    /** Extra time a prober gets beyond the target's timeout to report its own timeout result. */
    static final long GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final Scheduler scheduler;
    final Target target;
    private final long period;
    private long planned;
    private ScheduledFuture<?> nextRun;
    private volatile Probe inFlight;
    private boolean cancelled; // guarded by this
    private boolean starved; // guarded by this: the last turn found no prober
    private long failures; // guarded by this: consecutive failed results
    private long backoffPeriod; // guarded by this: the stretched interval, 0 when not backing off

    ProbeJob(Scheduler scheduler, Target target, long firstRun) {
        this.scheduler = scheduler;
        this.target = target;
        this.period = target.interval().toNanos();
        this.planned = firstRun;
    }

    /** Schedules the first run at {@code firstRun} (nano time) rather than when the job was made. */
    synchronized void startAt(long firstRun) {
        planned = firstRun;
        start();
    }

    /** Schedules the first run. */
    synchronized void start() {
        if (!cancelled) {
            nextRun = scheduler.timer.schedule(this, planned - System.nanoTime(), TimeUnit.NANOSECONDS);
        }
    }

    /** Stops the schedule and the probe in flight; no result of this job reaches a sink after this. */
    void cancel() {
        Probe probe;
        synchronized (this) {
            cancelled = true;
            if (nextRun != null) {
                nextRun.cancel(false);
            }
            probe = inFlight;
        }
        if (probe != null) {
            probe.abandon();
        }
    }

    /**
     * A prober for this kind has just come: if the last turn found none, moves the next turn to
     * {@code at} (a new grid) rather than waiting out the interval.
     */
    synchronized boolean kick(long at) {
        if (cancelled || !starved) {
            return false;
        }
        starved = false;
        if (nextRun != null) {
            nextRun.cancel(false);
        }
        planned = at;
        nextRun = scheduler.timer.schedule(this, at - System.nanoTime(), TimeUnit.NANOSECONDS);
        return true;
    }

    /**
     * One turn: decides under the job's lock, starts the probe after letting go of it, so that a
     * prober that blocks in {@code probe} stalls neither {@link #cancel}, {@link #kick}, the core's
     * {@code targetsChanged} nor a metrics scrape.
     */
    @Override
    public void run() {
        long now = System.nanoTime();
        Probe probe = null;
        synchronized (this) {
            if (cancelled) {
                return;
            }
            scheduler.report.lateness(now - planned);
            if (inFlight != null) {
                scheduler.report.skipped(SchedulerReport.SKIP_OVERLAP, 1);
            } else {
                ProberSlot slot = scheduler.proberFor(target.kind());
                starved = slot == null;
                if (slot != null) {
                    probe = new Probe(slot);
                    inFlight = probe;
                }
            }
            long p = backoffPeriod > 0 ? backoffPeriod : period;
            long next = Plan.next(planned, now, p);
            long missed = backoffPeriod > 0 ? 0 : Plan.skippedTurns(planned, next, period);
            if (missed > 0) {
                scheduler.report.skipped(SchedulerReport.SKIP_LATE, missed);
            }
            planned = next;
            nextRun = scheduler.timer.schedule(this, next - System.nanoTime(), TimeUnit.NANOSECONDS);
        }
        if (probe != null) {
            probe.start();
        }
    }

    /** This target's state for GET /status: active or backoff, failures in a row, the interval in force. */
    synchronized Map<String, Object> status() {
        return Map.of("state", backoffPeriod > 0 ? "backoff" : "active", "failures_in_a_row", failures,
                "interval_ms", TimeUnit.NANOSECONDS.toMillis(backoffPeriod > 0 ? backoffPeriod : period));
    }

    /** @return when the next turn starts, and whether the target is backed off; holds the lock */
    private io.sonde.agent.spi.NextProbe next() {
        return new io.sonde.agent.spi.NextProbe(Instant.now().plusNanos(Math.max(0, planned - System.nanoTime())), backoffPeriod > 0);
    }

    /** @return whether the target is probed at a stretched interval because it keeps failing */
    synchronized boolean backingOff() {
        return backoffPeriod > 0;
    }

    /** Counts a result towards backoff; says so, once, when the target enters or leaves it. Holds the lock. */
    private void counted(ProbeResult result) {
        if (result.isSuccessful()) {
            failures = 0;
            if (backoffPeriod > 0) {
                long stretched = backoffPeriod;
                backoffPeriod = 0;
                aboutTarget(() -> LOG.info("Target {} answers again: back to its interval of {} ms", target.name(),
                        target.interval().toMillis()));
                // the next turn comes at its own interval, not at the end of the stretched one
                if (nextRun != null && !cancelled) {
                    nextRun.cancel(false);
                    long now = System.nanoTime();
                    // planned is the stretched next turn; the grid goes on from the turn that just succeeded
                    planned = Plan.next(planned - stretched, now, period);
                    nextRun = scheduler.timer.schedule(this, planned - now, TimeUnit.NANOSECONDS);
                }
            }
            return;
        }
        failures++;
        long stretched = Backoff.interval(target, failures).toNanos();
        if (stretched > period) {
            if (backoffPeriod == 0) {
                long n = failures;
                aboutTarget(() -> LOG.info("Target {} failed {} times in a row ({}): probed at doubling intervals up to {} ms"
                        + " until it answers", target.name(), n, result.failureReason() == null ? "?" : result.failureReason().label(),
                        Backoff.MAX_MS.longValue(target)));
            }
            backoffPeriod = stretched;
        }
    }

    /** Logs with the target's name and kind as structured fields (the JSON log lines carry them). */
    private void aboutTarget(Runnable log) {
        try (org.slf4j.MDC.MDCCloseable t = org.slf4j.MDC.putCloseable("target", target.name());
                org.slf4j.MDC.MDCCloseable k = org.slf4j.MDC.putCloseable("kind", target.kind())) {
            log.run();
        }
    }

    /** One probe in flight. */
    final class Probe {
        private final ProberSlot slot;
        private final AtomicBoolean done = new AtomicBoolean();
        private final Instant startedAt = Instant.now();
        private final long startNanos = System.nanoTime();
        private volatile CompletionStage<? extends ProbeResult> stage;
        private final long deadline = startNanos + target.timeout().toNanos() + GRACE_NANOS;

        Probe(ProberSlot slot) {
            this.slot = slot;
        }

        void start() {
            scheduler.report.started();
            scheduler.inFlight.add(this);
            if (done.get()) { // abandoned between the turn's decision and here: its removal may have come first
                scheduler.inFlight.remove(this);
                return;
            }
            long now = System.nanoTime();
            if (slot.callInline(now)) {
                slot.inlineCallStarted(now);
                call();
                slot.inlineCallEnded(System.nanoTime(), now);
                return;
            }
            try {
                slot.executor.execute(this::call);
            } catch (RejectedExecutionException e) {
                finish(failure(FailureReason.ERROR, "the " + target.kind() + " prober is saturated: "
                        + ProberSlot.QUEUE_CAPACITY + " probes are waiting to start"));
            }
        }

        private void call() {
            if (done.get()) {
                return;
            }
            CompletionStage<? extends ProbeResult> s;
            try {
                s = slot.prober.probe(target);
            } catch (RuntimeException | LinkageError e) {
                finish(failure(FailureReason.ERROR, "the " + target.kind() + " prober threw " + e));
                return;
            }
            if (s == null) {
                finish(failure(FailureReason.ERROR, "the " + target.kind() + " prober returned no result"));
                return;
            }
            stage = s;
            s.whenComplete((result, error) -> {
                if (error != null) {
                    finish(failure(FailureReason.ERROR, "the " + target.kind() + " prober failed: " + error));
                } else if (result == null) {
                    finish(failure(FailureReason.ERROR, "the " + target.kind() + " prober completed with no result"));
                } else {
                    finish(result);
                }
            });
            if (done.get()) {
                cancelStage();
            }
        }

        /** Called by the scheduler's sweep: enforces the timeout a prober did not. */
        boolean overdue(long now) {
            if (now - deadline >= 0) {
                timedOut();
                return true;
            }
            return false;
        }

        private void timedOut() {
            if (claim()) {
                cancelStage(); // before the result goes out: the prober lets go of its sockets first
                deliver(failure(FailureReason.TIMEOUT, "no result within the timeout of "
                        + target.timeout().toMillis() + " ms"));
            }
        }

        /** The target was removed or the scheduler stopped: drop this probe quietly. */
        void abandon() {
            if (done.compareAndSet(false, true)) {
                scheduler.inFlight.remove(this);
                cancelStage();
                inFlight = null;
                scheduler.report.finished();
            }
        }

        private void cancelStage() {
            CompletionStage<? extends ProbeResult> s = stage;
            if (s != null) {
                try {
                    CompletableFuture<? extends ProbeResult> f = s.toCompletableFuture();
                    f.cancel(true);
                } catch (UnsupportedOperationException ignored) {
                    // a stage that is no future cannot be cancelled; its prober must end it itself
                }
            }
        }

        private ProbeFailure failure(FailureReason reason, String message) {
            return new ProbeFailure(target, startedAt, Duration.ofNanos(System.nanoTime() - startNanos), reason, message);
        }

        /** Delivers the first outcome; later ones are ignored. */
        private void finish(ProbeResult result) {
            if (claim()) {
                String mismatch = slot.schemaMismatch(result);
                if (mismatch != null) {
                    LOG.warn(mismatch);
                }
                deliver(result);
            }
        }

        /** @return true for the one caller that gets to deliver this probe's outcome */
        private boolean claim() {
            if (!done.compareAndSet(false, true)) {
                return false;
            }
            scheduler.inFlight.remove(this);
            return true;
        }

        private void deliver(ProbeResult result) {
            scheduler.report.finished();
            synchronized (ProbeJob.this) {
                inFlight = null;
                if (!cancelled) {
                    counted(result);
                    scheduler.deliver(result, next());
                }
            }
        }
    }
}
