package io.sonde.scheduler.internal;

import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.sonde.agent.spi.NextProbe;
import io.sonde.api.ProbeResult;
import io.sonde.agent.spi.ResultSink;
import io.sonde.api.Target;

/**
 * Feeds one {@link ResultSink} from its own thread and bounded queue, so a slow or failing sink
 * delays only itself. When the queue is full, results for that sink are dropped and counted.
 * Producers never wake the thread: it drains the queue, tells the sink to flush, then naps for
 * {@link #NAP_NANOS}, so a thousand results a second cost a few hundred wake-ups, not a thousand.
 * After {@link #NAPS_BEFORE_SLEEP} naps that found nothing it sleeps until a producer wakes it:
 * an idle agent costs no wake-ups, and a busy one no producer ever wakes.
 */
final class SinkWorker {

    private static final Logger LOG = LoggerFactory.getLogger(SinkWorker.class);
    static final int QUEUE_CAPACITY = 65_536;
    static final long NAP_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    static final int NAPS_BEFORE_SLEEP = 10;

    /** Tells a sink that a target is gone; travels in the same queue as results, so in order. */
    record Removal(Target target) {
    }

    /** A result with the schedule of its target's next probe. */
    record Scheduled(ProbeResult result, NextProbe next) {
    }

    private final ResultSink sink;
    private final String name;
    private final Queue<Object> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger size = new AtomicInteger();
    private final int capacity;
    private final Thread thread;
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final AtomicLong delivered = new AtomicLong();
    private volatile boolean running = true;
    /** Set while the thread sleeps without a deadline: the next producer wakes it. */
    private final java.util.concurrent.atomic.AtomicBoolean asleep = new java.util.concurrent.atomic.AtomicBoolean();

    SinkWorker(ResultSink sink, String name, int capacity) {
        this.sink = sink;
        this.name = name;
        this.capacity = capacity;
        this.thread = io.sonde.base.DaemonThreads.of("sonde-sink-" + name, this::loop);
        this.thread.start();
    }

    String name() {
        return name;
    }

    long dropped() {
        return dropped.get();
    }

    long failures() {
        return failures.get();
    }

    long delivered() {
        return delivered.get();
    }

    /** Goes on counting from what the sink took before it restarted: one count per sink, not per instance. */
    void carry(long deliveredBefore) {
        delivered.addAndGet(deliveredBefore);
    }

    void offer(ProbeResult result, NextProbe next) {
        if (size.incrementAndGet() > capacity) {
            size.decrementAndGet();
            dropped.incrementAndGet();
            return;
        }
        queue.add(new Scheduled(result, next));
        wake();
    }

    private void wake() {
        if (asleep.get() && asleep.compareAndSet(true, false)) {
            LockSupport.unpark(thread);
        }
    }

    /** Never dropped: a lost removal would leave the target's series with the sink for good. */
    void removed(Target target) {
        size.incrementAndGet();
        queue.add(new Removal(target));
        wake();
    }

    /** Takes an item a hold kept (a result or a removal), in its order, before any new one. */
    void enqueue(Object item) {
        size.incrementAndGet();
        queue.add(item);
        wake();
    }

    /**
     * How long a sink that restarts may take to finish the result in its hands: it goes to the sink
     * being stopped (an uplink spools it before its spool closes), never to none. A sink held up
     * behind its own disk (an fsync on a loaded machine) takes more than a second.
     */
    static final long DRAIN_WAIT_MS = 30_000;

    /** Stops the thread once the result in its hands is taken, and hands back what the sink had not taken yet, in order. */
    List<Object> stopAndDrain() {
        stop(DRAIN_WAIT_MS);
        if (thread.isAlive()) {
            LOG.warn("Result sink {} did not finish taking a result in {} s; the result may be lost", name, DRAIN_WAIT_MS / 1000);
        }
        List<Object> rest = new java.util.ArrayList<>();
        for (Object item; (item = queue.poll()) != null;) {
            size.decrementAndGet();
            rest.add(item);
        }
        return rest;
    }

    void stop() {
        stop(1000);
    }

    private void stop(long waitMs) {
        running = false;
        LockSupport.unpark(thread);
        try {
            thread.join(waitMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void loop() {
        boolean unflushed = false;
        int emptyNaps = 0;
        while (running) {
            Object item = queue.poll();
            if (item == null) {
                if (unflushed) {
                    unflushed = false;
                    try {
                        sink.flush();
                    } catch (RuntimeException | LinkageError e) {
                        if (failures.getAndIncrement() % 1000 == 0) {
                            LOG.error("Result sink {} failed to flush (failure #{}, logged every 1000th)", name, failures.get(), e);
                        }
                    }
                }
                if (++emptyNaps < NAPS_BEFORE_SLEEP) {
                    LockSupport.parkNanos(this, NAP_NANOS);
                } else {
                    asleep.set(true); // before the last look: a producer that adds after it sees the flag
                    if (queue.isEmpty() && running) {
                        LockSupport.park(this);
                    }
                    asleep.set(false);
                    emptyNaps = 0;
                }
                continue;
            }
            emptyNaps = 0;
            unflushed = true;
            size.decrementAndGet();
            try {
                if (item instanceof Removal r) {
                    sink.targetRemoved(r.target());
                } else {
                    Scheduled r = (Scheduled) item;
                    sink.accept(r.result(), r.next());
                    delivered.incrementAndGet();
                }
            } catch (RuntimeException | LinkageError e) {
                if (failures.getAndIncrement() % 1000 == 0) {
                    LOG.error("Result sink {} failed (failure #{}, logged every 1000th)", name, failures.get(), e);
                }
            }
        }
    }
}
