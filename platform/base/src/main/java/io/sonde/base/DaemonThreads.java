package io.sonde.base;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Threads that never keep the JVM alive and say whose they are in a thread dump: {@code sonde-uplink},
 * {@code sonde-scheduler-2}.
 */
public final class DaemonThreads {

    private DaemonThreads() {
    }

    /** @return a factory of daemon threads named {@code name}, then {@code name-2}, {@code name-3}, ... */
    public static ThreadFactory named(String name) {
        AtomicInteger count = new AtomicInteger();
        return task -> {
            int n = count.incrementAndGet();
            return of(name + (n == 1 ? "" : "-" + n), task);
        };
    }

    /** @return a factory of daemon threads named {@code prefix-1}, {@code prefix-2}, ... (a pool's) */
    public static ThreadFactory numbered(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return task -> of(prefix + "-" + count.incrementAndGet(), task);
    }

    /** @return a daemon thread named {@code name} running {@code task}, not started */
    public static Thread of(String name, Runnable task) {
        Thread t = new Thread(task, name);
        t.setDaemon(true);
        return t;
    }
}
