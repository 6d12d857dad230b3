package io.sonde.scheduler.internal;

import java.util.ArrayDeque;
import java.util.List;

import io.sonde.agent.spi.NextProbe;
import io.sonde.api.ProbeResult;

/**
 * The results of a configured sink that went away (its component restarting on a configuration
 * change), kept in order for it until it comes back. Bounded: beyond its capacity the oldest are
 * dropped and counted.
 */
final class SinkHold {

    private final String name;
    private final int capacity;
    private final long since;
    private final ArrayDeque<Object> items = new ArrayDeque<>();
    private long dropped;
    /** What the sink had taken before it went away (its count goes on when it is back). */
    private long delivered;

    SinkHold(String name, int capacity, long sinceNanos) {
        this.name = name;
        this.capacity = capacity;
        this.since = sinceNanos;
    }

    String name() {
        return name;
    }

    long since() {
        return since;
    }

    synchronized int size() {
        return items.size();
    }

    synchronized long dropped() {
        return dropped;
    }

    synchronized void add(ProbeResult result, NextProbe next) {
        put(new SinkWorker.Scheduled(result, next));
    }

    synchronized void removed(io.sonde.api.Target target) {
        put(new SinkWorker.Removal(target));
    }

    synchronized void delivered(long before) {
        delivered = before;
    }

    synchronized long delivered() {
        return delivered;
    }

    synchronized void addAll(List<Object> queued) {
        queued.forEach(this::put);
    }

    private void put(Object item) {
        if (items.size() >= capacity) {
            Object oldest = items.pollFirst();
            if (oldest instanceof SinkWorker.Scheduled) {
                dropped++;
            } else {
                items.addFirst(oldest); // a removal is never dropped: the sink would keep the target's series for good
                if (item instanceof SinkWorker.Scheduled) {
                    dropped++;
                    return;
                }
            }
        }
        items.addLast(item);
    }

    /** @return how many items went to the worker, which takes them before anything new */
    synchronized int handTo(SinkWorker worker) {
        int n = items.size();
        for (Object item; (item = items.pollFirst()) != null;) {
            worker.enqueue(item);
        }
        return n;
    }
}
