package io.sonde.server.store.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The results of the last few minutes, kept in memory as they are committed, for the windows the
 * health list, the alert rules and the mesh matrix ask for every few seconds: read from here, a
 * window costs the series it holds, not a read of every result in it from the database (at 2,500
 * agents that read took a sixth of the server's CPU with one dashboard open).
 *
 * <p>Only where this server is the database's one writer (an embedded store): what another
 * server stores would not be here. It answers exactly or not at all: a window whose start is older
 * than what is kept, or not after every result stored before it began to keep them (the newest
 * start in the database when it began, read once in the background), is read from the database.
 */
final class RecentWindow {

    /** How far back results are kept: the health list's minute and the matrix's two, with room. */
    static final long KEEP_MS = 180_000;
    /** Most results kept by default: beyond, it stops keeping (and every window is read from the database). */
    static final long MAX_KEPT = 4_000_000;

    /** One series' recent results, in the order they were stored. */
    private static final class Ring {
        long[] startedMs = new long[16];
        long[] outcome = new long[16];
        int[] packets = new int[16]; // -1: no packet counts
        int size;
        int compactAt = 16;

        synchronized void add(long started, long out, int pk) {
            if (size == startedMs.length) {
                int n = size * 2;
                startedMs = java.util.Arrays.copyOf(startedMs, n);
                outcome = java.util.Arrays.copyOf(outcome, n);
                packets = java.util.Arrays.copyOf(packets, n);
            }
            startedMs[size] = started;
            outcome[size] = out;
            packets[size] = pk;
            size++;
        }

        /** Drops what started before {@code oldestMs}. @return how many were dropped */
        synchronized int evict(long oldestMs) {
            int kept = 0;
            for (int i = 0; i < size; i++) {
                if (startedMs[i] >= oldestMs) {
                    startedMs[kept] = startedMs[i];
                    outcome[kept] = outcome[i];
                    packets[kept] = packets[i];
                    kept++;
                }
            }
            int dropped = size - kept;
            size = kept;
            compactAt = Math.max(16, size * 2);
            return dropped;
        }

        synchronized boolean needsEviction() {
            return size >= compactAt;
        }

        synchronized int size() {
            return size;
        }

        /** @return the summary of what started in [fromUs, toUs), or null when nothing did */
        synchronized Summary window(long fromUs, long toUs) {
            Summary s = null;
            for (int i = 0; i < size; i++) {
                long us = JdbcStore.Row.startedUs(startedMs[i], outcome[i]);
                if (us < fromUs || us >= toUs) {
                    continue;
                }
                if (s == null) {
                    s = Summary.exact();
                }
                int pk = packets[i];
                s.add(JdbcStore.Row.rtUs(outcome[i]), JdbcStore.Row.failure(outcome[i]) == 0, pk < 0 ? -1 : pk >>> 16, pk < 0 ? 0 : pk & 0xFFFF);
            }
            return s;
        }
    }

    private final Map<Integer, Ring> bySeries = new ConcurrentHashMap<>();
    private final long maxKept;
    private final AtomicLong kept = new AtomicLong();
    /** Windows starting after this are answered here; Long.MAX_VALUE until the newest start stored before is known. */
    private volatile long exactAfterMs = Long.MAX_VALUE;
    private volatile boolean stopped;

    RecentWindow() {
        this(MAX_KEPT);
    }

    /** @param maxKept most results kept before it stops keeping */
    RecentWindow(long maxKept) {
        this.maxKept = maxKept;
    }

    /** Every result of a committed transaction, new ones only. */
    void add(List<Dialect.ResultRow> rows, long nowMs) {
        if (stopped) {
            return;
        }
        long oldest = nowMs - KEEP_MS;
        int added = 0;
        for (Dialect.ResultRow r : rows) {
            if (r.startedMs() < oldest) {
                continue; // a late result: no window asked of this keeper reaches back to it
            }
            added++;
            // added under the map's lock of the series: a window that drops an empty ring cannot drop it under this add
            bySeries.compute(r.series(), (k, ring) -> {
                Ring into = ring == null ? new Ring() : ring;
                into.add(r.startedMs(), r.outcome(), r.packets() == null ? -1 : r.packets());
                if (into.needsEviction()) {
                    kept.addAndGet(-into.evict(oldest));
                }
                return into;
            });
        }
        if (kept.addAndGet(added) > maxKept) {
            stop();
        }
    }

    /** Every result stored before this keeper began started at or before {@code newestMs}: windows after it are exact here. */
    void exactAfter(long newestMs) {
        if (!stopped) {
            exactAfterMs = newestMs;
        }
    }

    /** Keeps nothing any more: every window is read from the database. */
    void stop() {
        stopped = true;
        exactAfterMs = Long.MAX_VALUE;
        bySeries.clear();
        kept.set(0);
    }

    boolean stopped() {
        return stopped;
    }

    /** @return whether a window starting at {@code fromMs} is answered here exactly */
    boolean answers(long fromMs, long nowMs) {
        return !stopped && fromMs > exactAfterMs && fromMs >= nowMs - KEEP_MS;
    }

    /**
     * @return per series, in the order of their ids, what its results that started in [fromUs,
     *         toUs) say; null when this keeper cannot answer exactly
     */
    Map<Integer, Summary> window(long fromUs, long toUs, long nowMs) {
        if (!answers(Math.floorDiv(fromUs, 1000), nowMs)) {
            return null;
        }
        Map<Integer, Summary> out = new TreeMap<>();
        List<Integer> empty = new ArrayList<>();
        long oldest = nowMs - KEEP_MS;
        for (Map.Entry<Integer, Ring> e : bySeries.entrySet()) {
            Ring ring = e.getValue();
            kept.addAndGet(-ring.evict(oldest));
            if (ring.size() == 0) {
                empty.add(e.getKey());
                continue;
            }
            Summary s = ring.window(fromUs, toUs);
            if (s != null) {
                out.put(e.getKey(), s);
            }
        }
        for (Integer id : empty) {
            bySeries.computeIfPresent(id, (k, r) -> r.size() == 0 ? null : r); // one that took a result meanwhile stays
        }
        return out;
    }

    /** @return results kept now */
    long kept() {
        return kept.get();
    }
}
