package io.sonde.scheduler.internal;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.sonde.api.Prober;

/**
 * One prober and the small pool that calls it. Calls to {@link Prober#probe} are made off the
 * scheduler's thread, so a prober that blocks in it stalls only its own kind.
 */
final class ProberSlot {

    static final int THREADS = 2;
    static final int QUEUE_CAPACITY = 20_000;

    final Prober prober;
    final String kind;
    final int ranking;
    final long serviceId;
    final ThreadPoolExecutor executor;

    /** An inline call that takes longer than this counts against the prober. */
    static final long SLOW_CALL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    /** Slow calls tolerated (the first calls load classes and run interpreted) before demotion. */
    static final int SLOW_CALLS_TOLERATED = 3;
    /** An inline call still running after this is blocked: demoted at once. */
    static final long STUCK_CALL_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final java.util.concurrent.atomic.AtomicInteger slowCalls = new java.util.concurrent.atomic.AtomicInteger();
    /** Whether a result's schema was compared with the one the prober announces: once a slot. */
    private final java.util.concurrent.atomic.AtomicBoolean schemaCompared = new java.util.concurrent.atomic.AtomicBoolean();

    /** Whether the scheduler calls {@link Prober#probe} on its own thread; cleared if it blocks. */
    private volatile boolean inline;
    /** When the inline call in progress started, or 0. */
    private volatile long inlineCallStart;

    ProberSlot(Prober prober, String kind, int ranking, long serviceId, boolean async) {
        this.prober = prober;
        this.kind = kind;
        this.ranking = ranking;
        this.serviceId = serviceId;
        this.inline = async;
        this.executor = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(QUEUE_CAPACITY), io.sonde.base.DaemonThreads.numbered("sonde-probe-" + kind), new ThreadPoolExecutor.AbortPolicy());
        this.executor.allowCoreThreadTimeOut(true);
    }

    /**
     * Whether to call the prober on the calling thread. A declared-async prober is demoted for good
     * when an inline call has been running for {@link #STUCK_CALL_NANOS}, or when more than
     * {@link #SLOW_CALLS_TOLERATED} calls took over {@link #SLOW_CALL_NANOS}.
     */
    boolean callInline(long now) {
        long started = inlineCallStart;
        if (inline && started != 0 && now - started > STUCK_CALL_NANOS) {
            demote(now - started);
        }
        return inline;
    }

    /**
     * @return true once, when an inline call has been running for {@link #STUCK_CALL_NANOS}: the
     *         prober is demoted and its caller's thread is lost until the call returns
     */
    boolean stuck(long now) {
        long started = inlineCallStart;
        if (inline && started != 0 && now - started > STUCK_CALL_NANOS) {
            demote(now - started);
            return true;
        }
        return false;
    }

    void inlineCallStarted(long now) {
        inlineCallStart = now;
    }

    void inlineCallEnded(long now, long started) {
        inlineCallStart = 0;
        if (now - started > SLOW_CALL_NANOS && slowCalls.incrementAndGet() > SLOW_CALLS_TOLERATED) {
            demote(now - started);
        }
    }

    private synchronized void demote(long nanos) {
        if (inline) {
            inline = false;
            org.slf4j.LoggerFactory.getLogger(ProberSlot.class).warn(
                    "The {} prober declares {}=true but a call took {} ms: it is called on its own threads from now on",
                    kind, Prober.PROBE_ASYNC, TimeUnit.NANOSECONDS.toMillis(nanos));
        }
    }

    /** Higher ranking wins, then the older service (lower id), as OSGi orders services. */
    boolean outranks(ProberSlot other) {
        return ranking != other.ranking ? ranking > other.ranking : serviceId < other.serviceId;
    }

    void close() {
        executor.shutdownNow();
    }

    /**
     * Compares the first result's schema with the one the prober announces (what the server and
     * the dashboard read its values by): a prober whose results describe themselves otherwise gets
     * its values read wrongly everywhere but on this agent.
     *
     * @return what is wrong, said once a slot; null when they agree or it was said before
     */
    String schemaMismatch(io.sonde.api.ProbeResult result) {
        if (result instanceof io.sonde.api.ProbeFailure || !schemaCompared.compareAndSet(false, true)) {
            return null; // a failure the scheduler made itself carries no schema of the kind
        }
        io.sonde.api.ResultSchema announced;
        try {
            announced = prober.resultSchema();
        } catch (RuntimeException | LinkageError e) {
            return "the " + kind + " prober fails to give its result schema: " + e;
        }
        io.sonde.api.ResultSchema carried = result.schema();
        if (carried.equals(announced)) {
            return null;
        }
        return "the " + kind + " prober announces a result schema (version " + announced.version() + ", " + announced.values().size()
                + " values) other than the one its results carry (version " + carried.version() + ", " + carried.values().size()
                + " values): the server and the dashboard read its values by the announced one; its plugin should return the same"
                + " from resultSchema()";
    }
}
