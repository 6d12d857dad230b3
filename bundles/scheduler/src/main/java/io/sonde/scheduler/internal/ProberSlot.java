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

    ProberSlot(Prober prober, String kind, int ranking, long serviceId) {
        this.prober = prober;
        this.kind = kind;
        this.ranking = ranking;
        this.serviceId = serviceId;
        AtomicInteger n = new AtomicInteger();
        this.executor = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(QUEUE_CAPACITY), r -> {
                    Thread t = new Thread(r, "sonde-probe-" + kind + "-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.AbortPolicy());
        this.executor.allowCoreThreadTimeOut(true);
    }

    /** Higher ranking wins, then the older service (lower id), as OSGi orders services. */
    boolean outranks(ProberSlot other) {
        return ranking != other.ranking ? ranking > other.ranking : serviceId < other.serviceId;
    }

    void close() {
        executor.shutdownNow();
    }
}
