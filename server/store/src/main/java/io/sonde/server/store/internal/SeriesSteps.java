package io.sonde.server.store.internal;

import static io.sonde.server.store.internal.JdbcStore.CLOSE_MS;
import static io.sonde.server.store.internal.JdbcStore.HOUR_MS;
import static io.sonde.server.store.internal.JdbcStore.MINUTE_MS;
import static io.sonde.server.store.internal.JdbcStore.bindPerSeries;
import static io.sonde.server.store.internal.JdbcStore.hasTargetRollups;
import static io.sonde.server.store.internal.JdbcStore.micros;
import static io.sonde.server.store.internal.JdbcStore.parts;
import static io.sonde.server.store.internal.JdbcStore.perSeries;
import static io.sonde.server.store.internal.JdbcStore.seriesOf;
import static io.sonde.server.store.internal.JdbcStore.stored;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.sonde.server.spi.SeriesQuery;
import io.sonde.server.spi.SeriesStep;
import io.sonde.server.store.internal.JdbcStore.Row;

/**
 * Steps of whole minutes come from the rollups (hour rollups for steps of whole hours), merged
 * sketches giving the percentiles; hours whose raw results changed since they were rolled up
 * are summed up from the raw results in the same way, so the answer is never stale. Shorter
 * steps, and steps that are no whole minutes, are exact from the raw results. A step of the
 * rollups holds the minutes (hours) that start in it: a range ends at the end of its last one.
 *
 * <p>The store's {@code series} query; the same on both dialects but for how many series one select reads.
 */
final class SeriesSteps {

    private final Dialect dialect;

    SeriesSteps(Dialect dialect) {
        this.dialect = dialect;
    }

    /** @return the steps of {@code q}, read on {@code c} */
    List<SeriesStep> read(Connection c, SeriesQuery q) throws SQLException {
        long stepMs = q.step().toMillis();
        if (stepMs >= MINUTE_MS && stepMs % MINUTE_MS == 0 && q.step().toNanos() % 1_000_000 == 0) {
            return seriesFromRollups(c, q, stepMs, stepMs % HOUR_MS == 0 ? 3600 : 60);
        }
        return seriesFromRaw(c, q);
    }


    /** Where a query's steps are counted from, in ms: the epoch, or its {@code from} when it asks so. */
    private static long originMs(SeriesQuery q) {
        return q.fromAligned() ? q.from().toEpochMilli() : 0;
    }

    /** The start of the step {@code t} falls in, steps of {@code step} counted from {@code origin} (any one unit). */
    private static long stepStart(long t, long origin, long step) {
        return origin + Math.floorDiv(t - origin, step) * step;
    }

    private List<SeriesStep> seriesFromRollups(Connection c, SeriesQuery q, long stepMs, int resolution) throws SQLException {
        long originMs = originMs(q);
        long fromMs = stepStart(q.from().toEpochMilli(), originMs, stepMs);
        long toMs = q.to().toEpochMilli();
        int[] series = seriesOf(c, q.agentId(), q.target());
        if (series.length == 0 || toMs <= fromMs) {
            return List.of();
        }
        java.util.Set<Long> dirty = new HashSet<>(); // series << 32 | hour
        try (PreparedStatement p = c.prepareStatement(perSeries(series.length,
                "SELECT series, hour_ms FROM rollup_dirty WHERE series = ? AND hour_ms >= ? AND hour_ms < ?", ""))) {
            bindPerSeries(p, series, new long[] {Math.floorDiv(fromMs, HOUR_MS) * HOUR_MS, toMs});
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    dirty.add((long) rs.getInt(1) << 32 | Math.floorDiv(rs.getLong(2), HOUR_MS));
                }
            }
        }
        // the changed hours first, from the raw results: few (the open hour, late results)
        java.util.TreeMap<Long, Summary> fromRaw = new java.util.TreeMap<>();
        if (!dirty.isEmpty()) {
            try (PreparedStatement p = c.prepareStatement(
                    "SELECT started_ms, outcome, packets FROM result WHERE series = ? AND started_ms >= ? AND started_ms < ?")) {
                for (long d : dirty) {
                    long hour = (d & 0xFFFFFFFFL) * HOUR_MS;
                    p.setInt(1, (int) (d >>> 32));
                    p.setLong(2, Math.max(hour, fromMs));
                    // the units that start before the range's end, whole, as the rollups have them
                    p.setLong(3, Math.min(hour + HOUR_MS, Math.floorDiv(toMs - 1, resolution * 1000L) * resolution * 1000L
                            + resolution * 1000L));
                    try (ResultSet rs = p.executeQuery()) {
                        while (rs.next()) {
                            long outcome = rs.getLong(2);
                            int packets = rs.getInt(3);
                            boolean hasCounts = !rs.wasNull();
                            fromRaw.computeIfAbsent(stepStart(rs.getLong(1), originMs, stepMs), k -> new Summary())
                                    .add(Row.rtUs(outcome), Row.failure(outcome) == 0, hasCounts ? packets >>> 16 : -1, packets & 0xFFFF);
                        }
                    }
                }
            }
        }
        // a target seen from several agents has rollups across them, but for the hours whose series' rollups changed since:
        // those hours (few: the last ones) are read from the series' rollups, the others from the target's
        java.util.NavigableSet<Long> stale = q.agentId() == null && q.target() != null && series.length > 1
                ? targetStaleHours(c, q.target(), dirty, fromMs, toMs) : null;
        List<long[]> seriesRanges = new ArrayList<>(); // [from, to) read from the series' rollups
        if (stale == null) {
            seriesRanges.add(new long[] {fromMs, toMs});
        } else {
            for (long h : stale) {
                long a = Math.max(fromMs, h * HOUR_MS);
                long b = Math.min(toMs, (h + 1) * HOUR_MS);
                if (!seriesRanges.isEmpty() && seriesRanges.get(seriesRanges.size() - 1)[1] == a) {
                    seriesRanges.get(seriesRanges.size() - 1)[1] = b;
                } else if (a < b) {
                    seriesRanges.add(new long[] {a, b});
                }
            }
        }
        // then the rollups in time order: one step at a time in hand, its sketch plain and dropped once done
        List<SeriesStep> out = new ArrayList<>();
        // each part in time order, merged as they go (a mesh's target has several parts): one step in hand
        List<PreparedStatement> statements = new ArrayList<>();
        java.util.PriorityQueue<long[]> heads = new java.util.PriorityQueue<>(java.util.Comparator.comparingLong(h -> h[0]));
        List<ResultSet> sets = new ArrayList<>();
        try {
            if (stale != null) { // the target's rollups: the first set
                PreparedStatement p = c.prepareStatement("SELECT 0, start_ms, count, failures, sent, received, min_us, max_us, sketch"
                        + " FROM target_rollup WHERE resolution_s = " + resolution + " AND target = ? AND start_ms >= ? AND start_ms < ?"
                        + " ORDER BY start_ms");
                statements.add(p);
                p.setString(1, q.target());
                p.setLong(2, fromMs);
                p.setLong(3, toMs);
                p.setFetchSize(10_000);
                ResultSet rs = p.executeQuery();
                sets.add(rs);
                if (rs.next()) {
                    heads.add(new long[] {rs.getLong(2), 0});
                }
            }
            for (long[] range : seriesRanges) {
                for (int[] part : parts(series)) {
                    PreparedStatement p = c.prepareStatement(perSeries(part.length, "SELECT series, start_ms, count, failures, sent,"
                            + " received, min_us, max_us, sketch FROM rollup WHERE resolution_s = " + resolution
                            + " AND series = ? AND start_ms >= ? AND start_ms < ?", " ORDER BY start_ms"));
                    statements.add(p);
                    bindPerSeries(p, part, range);
                    p.setFetchSize(10_000);
                    ResultSet rs = p.executeQuery();
                    sets.add(rs);
                    if (rs.next()) {
                        heads.add(new long[] {rs.getLong(2), sets.size() - 1});
                    }
                }
            }
            long current = Long.MIN_VALUE;
            Summary step = null;
            while (!heads.isEmpty()) {
                long[] head = heads.poll();
                ResultSet rs = sets.get((int) head[1]);
                long start = head[0];
                long hour = Math.floorDiv(start, HOUR_MS);
                boolean use = stale != null && head[1] == 0
                        ? !stale.contains(hour) // the target's hour, unless changed since
                        : !dirty.contains((long) rs.getInt(1) << 32 | hour); // else changed since: from the raw results
                if (use) {
                    long key = stepStart(start, originMs, stepMs);
                    if (key != current) {
                        emit(out, fromRaw, current, step);
                        current = key;
                        step = new Summary(false);
                    }
                    step.merge(stored(rs, 3));
                }
                if (rs.next()) {
                    heads.add(new long[] {rs.getLong(2), head[1]});
                }
            }
            emit(out, fromRaw, current, step);
            emit(out, fromRaw, Long.MAX_VALUE, null);
        } finally {
            for (ResultSet rs : sets) {
                rs.close();
            }
            for (PreparedStatement p : statements) {
                p.close();
            }
        }
        return out;
    }

    /** Most runs of hours a query reads from a target's series' rollups beside the target's own; more, and it reads only theirs. */
    static final int STALE_RUNS_MAX = 8;

    /**
     * @param dirty the target's series' hours whose raw results changed since they were rolled up (series << 32 | hour)
     * @return the hours of {@code [fromMs, toMs)} the target's rollups across its series do not hold as they are now (hour
     *         numbers), or null where the target has none or too many such hours to read them apart: read its series' rollups
     */
    private static java.util.NavigableSet<Long> targetStaleHours(Connection c, String target, Set<Long> dirty, long fromMs, long toMs)
            throws SQLException {
        if (!hasTargetRollups(c, target)) {
            return null;
        }
        java.util.TreeSet<Long> stale = new java.util.TreeSet<>();
        for (long d : dirty) {
            stale.add(d & 0xFFFFFFFFL);
        }
        try (PreparedStatement p = c.prepareStatement("SELECT hour_ms FROM target_rollup_dirty WHERE target = ? AND hour_ms >= ? AND hour_ms < ?")) {
            p.setString(1, target);
            p.setLong(2, Math.floorDiv(fromMs, HOUR_MS) * HOUR_MS);
            p.setLong(3, toMs);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    stale.add(Math.floorDiv(rs.getLong(1), HOUR_MS));
                }
            }
        }
        // open hours: not rolled up across the series before they close, nor listed until a series' hour is rolled up
        long now = System.currentTimeMillis();
        for (long h = Math.floorDiv(now - HOUR_MS - CLOSE_MS, HOUR_MS); h * HOUR_MS < toMs; h++) {
            if ((h + 1) * HOUR_MS > fromMs) {
                stale.add(h);
            }
        }
        int runs = 0;
        Long previous = null;
        for (long h : stale) {
            if (previous == null || h != previous + 1) {
                runs++;
            }
            previous = h;
        }
        return runs > STALE_RUNS_MAX ? null : stale;
    }

    /**
     * Adds the steps made only of changed hours that come before {@code key}, then the step at
     * {@code key} with the changed hours' share of it.
     */
    private static void emit(List<SeriesStep> out, java.util.TreeMap<Long, Summary> fromRaw, long key, Summary step) {
        while (!fromRaw.isEmpty() && fromRaw.firstKey() < key) {
            Map.Entry<Long, Summary> e = fromRaw.pollFirstEntry();
            out.add(e.getValue().step(e.getKey() * 1000));
        }
        if (step != null) {
            Summary raw = fromRaw.remove(key);
            if (raw != null) {
                step.merge(raw);
            }
            out.add(step.step(key * 1000));
        }
    }

    private List<SeriesStep> seriesFromRaw(Connection c, SeriesQuery q) throws SQLException {
        long stepUs = q.step().toNanos() / 1000;
        long originUs = originMs(q) * 1000;
        long fromUs = stepStart(micros(q.from()), originUs, stepUs);
        long toUs = micros(q.to());
        int[] series = seriesOf(c, q.agentId(), q.target());
        if (series.length == 0) {
            return List.of();
        }
        List<SeriesStep> out = new ArrayList<>();
        Summary acc = null; // exact: nearest-rank percentiles of the step's successes
        long accStart = 0;
        java.util.TreeMap<Long, Summary> unordered = series.length == 1 ? null : new java.util.TreeMap<>();
        String branch = "SELECT started_ms, outcome, packets FROM result WHERE series = ? AND started_ms >= ? AND started_ms <= ?";
        boolean oneAtATime = series.length > 1 && dialect.seriesOneAtATime();
        List<int[]> parts = oneAtATime ? Arrays.stream(series).mapToObj(s -> new int[] {s}).toList() : parts(series);
        try (PreparedStatement shared = oneAtATime ? c.prepareStatement(branch) : null) {
            for (int[] part : parts) {
                String sql = perSeries(part.length, branch, series.length == 1 ? " ORDER BY started_ms" : "");
                PreparedStatement p = shared != null ? shared : c.prepareStatement(sql);
                try {
                    bindPerSeries(p, part, new long[] {Math.floorDiv(fromUs, 1000), Math.floorDiv(toUs - 1, 1000)});
                    p.setFetchSize(10_000);
                    try (ResultSet rs = p.executeQuery()) {
                        while (rs.next()) {
                            long outcome = rs.getLong(2);
                            long t = Row.startedUs(rs.getLong(1), outcome);
                            if (t < fromUs || t >= toUs) {
                                continue;
                            }
                            long start = stepStart(t, originUs, stepUs);
                            if (unordered != null) {
                                if (acc == null || accStart != start) { // one series' rows come in time order: mostly the same
                                    acc = unordered.computeIfAbsent(start, k -> Summary.exact());
                                    accStart = start;
                                }
                            } else if (acc == null || accStart != start) {
                                if (acc != null) {
                                    out.add(acc.step(accStart));
                                }
                                acc = Summary.exact();
                                accStart = start;
                            }
                            int packets = rs.getInt(3);
                            boolean hasCounts = !rs.wasNull();
                            acc.add(Row.rtUs(outcome), Row.failure(outcome) == 0,
                                    hasCounts ? packets >>> 16 : -1, packets & 0xFFFF);
                        }
                    }
                } finally {
                    if (p != shared) {
                        p.close();
                    }
                }
            }
        }
        if (unordered != null) {
            unordered.forEach((start, a) -> out.add(a.step(start)));
        } else if (acc != null) {
            out.add(acc.step(accStart));
        }
        return out;
    }
}
