package io.sonde.scheduler.internal;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.sonde.api.ProbeResult;
import io.sonde.api.ResultSink;
import io.sonde.api.Target;

/**
 * Feeds one {@link ResultSink} from its own thread and bounded queue, so a slow or failing sink
 * delays only itself. When the queue is full, results for that sink are dropped and counted.
 */
final class SinkWorker {

    private static final Logger LOG = LoggerFactory.getLogger(SinkWorker.class);
    static final int QUEUE_CAPACITY = 65_536;

    /** Tells a sink that a target is gone; travels in the same queue as results, so in order. */
    private record Removal(Target target) {
    }

    private final ResultSink sink;
    private final String name;
    private final BlockingQueue<Object> queue;
    private final Thread thread;
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private volatile boolean running = true;

    SinkWorker(ResultSink sink, String name, int capacity) {
        this.sink = sink;
        this.name = name;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.thread = new Thread(this::loop, "sonde-sink-" + name);
        this.thread.setDaemon(true);
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

    void offer(ProbeResult result) {
        if (!queue.offer(result)) {
            dropped.incrementAndGet();
        }
    }

    void removed(Target target) {
        try {
            // a removal must not be lost, or the sink keeps the target's series forever
            if (!queue.offer(new Removal(target), 1, TimeUnit.SECONDS)) {
                dropped.incrementAndGet();
                LOG.warn("Sink {} is stuck; it was not told that target {} is gone", name, target.name());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    void stop() {
        running = false;
        thread.interrupt();
        try {
            thread.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void loop() {
        while (running) {
            Object item;
            try {
                item = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            try {
                if (item instanceof Removal r) {
                    sink.targetRemoved(r.target());
                } else {
                    sink.accept((ProbeResult) item);
                }
            } catch (RuntimeException | LinkageError e) {
                if (failures.getAndIncrement() % 1000 == 0) {
                    LOG.error("Result sink {} failed (failure #{}, logged every 1000th)", name, failures.get(), e);
                }
            }
        }
    }
}
