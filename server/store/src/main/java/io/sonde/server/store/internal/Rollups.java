package io.sonde.server.store.internal;

import static io.sonde.server.store.internal.JdbcStore.CLOSE_MS;
import static io.sonde.server.store.internal.JdbcStore.HOUR_MS;
import static io.sonde.server.store.internal.JdbcStore.LISTED_MS;
import static io.sonde.server.store.internal.JdbcStore.MINUTE_MS;
import static io.sonde.server.store.internal.JdbcStore.bindPerSeries;
import static io.sonde.server.store.internal.JdbcStore.parts;
import static io.sonde.server.store.internal.JdbcStore.perSeries;
import static io.sonde.server.store.internal.JdbcStore.seriesOf;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.sonde.server.spi.StoreException;
import io.sonde.server.store.internal.JdbcStore.Row;

/**
 * The rollups: the hours of each series that new results change are listed in the writer's
 * transaction; the leader's rollup job takes the closed ones from the list and makes their minutes
 * and hour again from the raw results (and across the series of a target seen from several agents),
 * then the uptime job counts them ({@link UptimeJob}); old rollups and days are dropped.
 */
final class Rollups {

    /** A series' agent, target and kind by its number, from the store's cache. */
    interface SeriesNames {
        String[] of(Connection c, int series) throws SQLException;
    }

    private final Sql.Source source;
    private final Dialect dialect;
    private final SeriesNames names;
    /** Open hours this server listed in rollup_dirty (series << 32 | hour), and until when that holds. */
    private final Map<Long, Long> openHoursListed = new java.util.concurrent.ConcurrentHashMap<>();
    private long marks; // a count to prune by, not exact under races

    Rollups(Sql.Source source, Dialect dialect, SeriesNames names) {
        this.source = source;
        this.dialect = dialect;
        this.names = names;
    }

    /**
     * Lists the hours of each series that the rows change, for the rollup job; in the writer's
     * transaction. An hour that is still open is listed once per server: the job does not touch it
     * before {@link #CLOSE_MS} after its end, and this server forgets it {@link #LISTED_MS} after it.
     */
    void markDirty(Connection c, List<Dialect.ResultRow> rows) throws SQLException {
        long now = System.currentTimeMillis();
        java.util.TreeSet<Long> keys = new java.util.TreeSet<>(); // series << 32 | hour: sorted, so that writers lock in one order
        for (Dialect.ResultRow r : rows) {
            long hour = Math.floorDiv(r.startedMs(), HOUR_MS);
            long key = (long) r.series() << 32 | hour;
            if (!openHoursListed.containsKey(key)) {
                keys.add(key);
            }
        }
        if (keys.isEmpty()) {
            return;
        }
        dialect.markDirty(c, keys);
        for (long key : keys) {
            long end = ((key & 0xFFFFFFFFL) + 1) * HOUR_MS;
            if (end + LISTED_MS > now) {
                openHoursListed.put(key, end + LISTED_MS);
            }
        }
        if (openHoursListed.size() > 100_000 || ++marks % 1000 == 0) {
            openHoursListed.values().removeIf(until -> until <= now);
        }
    }

    /**
     * Rolls up closed hours whose raw results changed: their minutes and the hour are made again
     * from the raw results, in one transaction an hour. An hour is closed {@link #CLOSE_MS} after
     * its end at {@code now}; until then queries sum it up from the raw results. Hours older than
     * {@code rawKeptFrom} have no raw results left to make them from: their rollups stay as they are.
     *
     * @return the hours taken from the list (rolled up, or too old to be)
     */
    int rollUp(int maxHours, Instant rawKeptFrom, Instant now) throws StoreException {
        return takeClosedHours("rollup_dirty", "series", maxHours, now, (c, series, hour) -> {
            if (hour + HOUR_MS > rawKeptFrom.toEpochMilli()) {
                rollUpHour(c, (Integer) series, hour);
                UptimeJob.rolledUp(c, hour);
            }
        });
    }

    /**
     * Counts the targets' minutes per state in the closed hours whose rollups are made, and again
     * the days whose rollups were made again ({@link UptimeJob}).
     *
     * @return the hours counted
     */
    int countUptime(int maxHours, Instant now) throws StoreException {
        try (Connection c = source.connection()) {
            return UptimeJob.run(c, maxHours, now.toEpochMilli() - CLOSE_MS);
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    /**
     * Drops the uptime job's days and outages that ended {@code keep} before {@code now} (kept as
     * long as the hour rollups they could be counted again from).
     *
     * @return rows dropped
     */
    long dropUptimeOlderThan(java.time.Duration keep, Instant now) throws StoreException {
        long before = now.minus(keep).toEpochMilli();
        try (Connection c = source.connection();
                PreparedStatement days = c.prepareStatement("DELETE FROM uptime_day WHERE day_ms < ?");
                PreparedStatement outages = c.prepareStatement("DELETE FROM outage WHERE end_ms < ?")) {
            days.setLong(1, before - UptimeJob.DAY_MS); // a day's row: once all of the day is past the bound
            outages.setLong(1, before);
            return days.executeUpdate() + outages.executeUpdate();
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    /** What a rollup job does with one (key, hour) it took from its list, in the transaction that took it. */
    private interface ListedHour {
        void make(Connection c, Object key, long hour) throws SQLException;
    }

    /**
     * Takes up to {@code maxHours} closed hours from a list ({@code table} of (key, hour_ms)), oldest first, each in a
     * transaction of its own: taken from the list, then made by {@code job} (an hour listed again meanwhile is made again).
     *
     * @return the hours taken
     */
    private int takeClosedHours(String table, String key, int maxHours, Instant now, ListedHour job) throws StoreException {
        try (Connection c = source.connection()) {
            List<Object[]> listed = new ArrayList<>();
            try (PreparedStatement p = c.prepareStatement(
                    "SELECT " + key + ", hour_ms FROM " + table + " WHERE hour_ms <= ? ORDER BY hour_ms, " + key + " LIMIT ?")) {
                p.setLong(1, now.toEpochMilli() - HOUR_MS - CLOSE_MS); // closed hours only
                p.setInt(2, maxHours);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        listed.add(new Object[] {rs.getObject(1), rs.getLong(2)});
                    }
                }
            }
            c.setAutoCommit(false);
            try (PreparedStatement take = c.prepareStatement("DELETE FROM " + table + " WHERE " + key + " = ? AND hour_ms = ?")) {
                for (Object[] l : listed) {
                    take.setObject(1, l[0]);
                    take.setLong(2, (Long) l[1]);
                    if (take.executeUpdate() == 1) {
                        job.make(c, l[0], (Long) l[1]);
                    }
                    c.commit();
                }
            } catch (SQLException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
            return listed.size();
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }

    private void rollUpHour(Connection c, int series, long hour) throws SQLException {
        Summary whole = new Summary();
        java.util.TreeMap<Long, Summary> minutes = new java.util.TreeMap<>();
        try (PreparedStatement p = c.prepareStatement(
                "SELECT started_ms, outcome, packets FROM result WHERE series = ? AND started_ms >= ? AND started_ms < ?")) {
            p.setInt(1, series);
            p.setLong(2, hour);
            p.setLong(3, hour + HOUR_MS);
            p.setFetchSize(10_000);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    long outcome = rs.getLong(2);
                    int packets = rs.getInt(3);
                    boolean hasCounts = !rs.wasNull();
                    Summary m = minutes.computeIfAbsent(Math.floorDiv(rs.getLong(1), MINUTE_MS) * MINUTE_MS, k -> new Summary());
                    m.add(Row.rtUs(outcome), Row.failure(outcome) == 0, hasCounts ? packets >>> 16 : -1, packets & 0xFFFF);
                }
            }
        }
        dropHour(c, "rollup", "series", series, hour);
        if (!minutes.isEmpty()) {
            try (PreparedStatement p = c.prepareStatement("INSERT INTO rollup (resolution_s, series, start_ms, count, failures, sent, received,"
                    + " min_us, max_us, sketch) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                for (Map.Entry<Long, Summary> m : minutes.entrySet()) {
                    whole.merge(m.getValue());
                    p.setInt(2, series);
                    bindRollup(p, 60, m.getKey(), m.getValue());
                }
                p.setInt(2, series);
                bindRollup(p, 3600, hour, whole);
                p.executeBatch();
            }
        }
        markTargetHour(c, series, hour);
    }

    /**
     * After a series' hour is rolled up, in its transaction: the hour of the series' target across
     * its series is to be made again, where the target has such rollups. A target that has none and
     * is now seen from two series or more gets them: every hour its series have rolled up is listed.
     */
    private void markTargetHour(Connection c, int series, long hour) throws SQLException {
        String target = names.of(c, series)[1];
        if (!hasTargetRollups(c, target)) {
            try (PreparedStatement p = c.prepareStatement("SELECT COUNT(*) FROM series WHERE target = ?")) {
                p.setString(1, target);
                try (ResultSet rs = p.executeQuery()) {
                    rs.next();
                    if (rs.getInt(1) < 2) {
                        return; // its series' own rollups are the target's
                    }
                }
            }
            try (PreparedStatement p = c.prepareStatement("INSERT INTO rollup_target (target) VALUES (?)")) {
                p.setString(1, target);
                p.executeUpdate();
            }
            // every hour any of its series has, this one among them (unless it had no result left)
            try (PreparedStatement p = c.prepareStatement("INSERT INTO target_rollup_dirty (target, hour_ms) SELECT DISTINCT s.target, r.start_ms"
                    + " FROM rollup r JOIN series s ON s.id = r.series WHERE s.target = ? AND r.resolution_s = 3600 AND r.start_ms <> ?")) {
                p.setString(1, target);
                p.setLong(2, hour);
                p.executeUpdate();
            }
        }
        // the only writer is the leader's rollup job: delete and insert is the upsert of both dialects
        try (PreparedStatement p = c.prepareStatement("DELETE FROM target_rollup_dirty WHERE target = ? AND hour_ms = ?")) {
            p.setString(1, target);
            p.setLong(2, hour);
            p.executeUpdate();
        }
        try (PreparedStatement p = c.prepareStatement("INSERT INTO target_rollup_dirty (target, hour_ms) VALUES (?, ?)")) {
            p.setString(1, target);
            p.setLong(2, hour);
            p.executeUpdate();
        }
    }

    /**
     * Makes again the listed hours of targets seen from several series, merged across their series'
     * rollups (minutes and the hour), in one transaction an hour; only closed hours (their series'
     * rollups are made by then; an hour a series rolls up again is listed again).
     *
     * @return the (target, hour) taken from the list
     */
    int rollUpTargets(int maxHours, Instant now) throws StoreException {
        return takeClosedHours("target_rollup_dirty", "target", maxHours, now, (c, target, hour) -> {
            rollUpTargetHour(c, (String) target, hour);
            targetHours.incrementAndGet();
        });
    }

    private final java.util.concurrent.atomic.AtomicLong targetHours = new java.util.concurrent.atomic.AtomicLong();

    /** @return the (target, hour) this store rolled up across the target's series, one at a time as they are committed */
    long targetHoursRolledUp() {
        return targetHours.get();
    }

    private void rollUpTargetHour(Connection c, String target, long hour) throws SQLException {
        int[] series = seriesOf(c, null, target);
        dropHour(c, "target_rollup", "target", target, hour);
        try (PreparedStatement insert = c.prepareStatement("INSERT INTO target_rollup (resolution_s, target, start_ms, count, failures,"
                + " sent, received, min_us, max_us, sketch) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            for (int resolution : new int[] {60, 3600}) {
                java.util.TreeMap<Long, Summary> merged = new java.util.TreeMap<>();
                for (int[] part : parts(series)) {
                    try (PreparedStatement p = c.prepareStatement(perSeries(part.length, "SELECT start_ms, count, failures, sent, received,"
                            + " min_us, max_us, sketch FROM rollup WHERE resolution_s = " + resolution
                            + " AND series = ? AND start_ms >= ? AND start_ms < ?", ""))) {
                        bindPerSeries(p, part, new long[] {hour, hour + HOUR_MS});
                        p.setFetchSize(10_000);
                        try (ResultSet rs = p.executeQuery()) {
                            while (rs.next()) {
                                merged.computeIfAbsent(rs.getLong(1), k -> new Summary(false)).merge(stored(rs, 2));
                            }
                        }
                    }
                }
                for (Map.Entry<Long, Summary> m : merged.entrySet()) {
                    insert.setString(2, target);
                    bindRollup(insert, resolution, m.getKey(), m.getValue());
                }
            }
            insert.executeBatch();
        }
    }

    /** Deletes the minutes and the hour of {@code hour} that {@code table} holds for {@code key} (its column {@code keyColumn}). */
    private static void dropHour(Connection c, String table, String keyColumn, Object key, long hour) throws SQLException {
        // one resolution at a time: with resolution_s IN (60, 3600) H2 reads the whole key range of
        // both resolutions and filters it, so each hour cost as much as all the rollups made before it
        try (PreparedStatement p = c.prepareStatement("DELETE FROM " + table + " WHERE resolution_s = ? AND " + keyColumn + " = ?"
                + " AND start_ms >= ? AND start_ms < ?")) {
            for (int resolution : new int[] {60, 3600}) {
                p.setInt(1, resolution);
                p.setObject(2, key);
                p.setLong(3, hour);
                p.setLong(4, hour + HOUR_MS);
                p.addBatch();
            }
            p.executeBatch();
        }
    }

    /** @return whether the rollup job keeps {@code target}'s rollups across its series (it is seen from two or more) */
    static boolean hasTargetRollups(Connection c, String target) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM rollup_target WHERE target = ?")) {
            p.setString(1, target);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** @return a rollup's summary from its columns count, failures, sent, received, min_us, max_us, sketch from {@code first} on */
    static Summary stored(ResultSet rs, int first) throws SQLException {
        return Summary.of(rs.getLong(first), rs.getLong(first + 1), (Long) rs.getObject(first + 2, Long.class),
                (Long) rs.getObject(first + 3, Long.class), (Long) rs.getObject(first + 4, Long.class),
                (Long) rs.getObject(first + 5, Long.class), rs.getBytes(first + 6));
    }

    /** Binds a rollup's row but its second parameter (its series or target), and adds it to the batch. */
    private static void bindRollup(PreparedStatement p, int resolution, long startMs, Summary s) throws SQLException {
        p.setInt(1, resolution);
        p.setLong(3, startMs);
        p.setLong(4, s.count);
        p.setLong(5, s.failures);
        p.setObject(6, s.packets ? s.sent : null, java.sql.Types.BIGINT);
        p.setObject(7, s.packets ? s.received : null, java.sql.Types.BIGINT);
        byte[] sketch = s.sketchBytes();
        p.setObject(8, sketch == null ? null : s.minUs, java.sql.Types.BIGINT);
        p.setObject(9, sketch == null ? null : s.maxUs, java.sql.Types.BIGINT);
        p.setBytes(10, sketch);
        p.addBatch();
    }

    /** Drops the rollups of a resolution (series and targets) that started {@code keep} before {@code now}. @return rows dropped */
    long dropRollupsOlderThan(int resolutionS, java.time.Duration keep, Instant now) throws StoreException {
        try (Connection c = source.connection()) {
            long dropped = 0;
            for (String table : new String[] {"rollup", "target_rollup"}) { // a target's across its series, kept as long
                try (PreparedStatement p = c.prepareStatement("DELETE FROM " + table + " WHERE resolution_s = ? AND start_ms < ?")) {
                    p.setInt(1, resolutionS);
                    p.setLong(2, now.minus(keep).toEpochMilli());
                    dropped += p.executeUpdate();
                }
            }
            return dropped;
        } catch (SQLException e) {
            throw Sql.unavailable(e);
        }
    }
}
