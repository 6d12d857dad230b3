package io.sonde.server.store.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import io.sonde.agent.spi.Health;
import io.sonde.server.spi.Definition;
import io.sonde.server.spi.Uptime;

// Over 500 lines: one job's SQL: an hour's minutes per state of the health model, days and outages, on two dialects.
/**
 * The uptime job, run by the leader after the rollup job: it counts, one closed hour at a time
 * from the 1-minute rollups, each target's minutes per state of the health model and each of its
 * agents' ({@link Uptime} says the rule), adds them to the day's rows and keeps the target's
 * outages. An hour is counted once its rollups are made (none of its series waits in the rollup
 * list); a day whose rollups are made again later (an agent's spool uploaded after an outage) is
 * counted again whole.
 */
final class UptimeJob {

    static final long MINUTE_MS = 60_000L;
    static final long HOUR_MS = 3_600_000L;
    static final long DAY_MS = 86_400_000L;
    /** How far before an hour its series' rollups are read, for the states that stand into it; also the longest a result stands. */
    static final int LOOKBACK_MIN = 60;
    /** How long a series' first result in the look-back stands when no other follows it (else the gap to the next tells). */
    static final int FIRST_STANDS_MIN = 5;
    static final int STANDS_AT_LEAST_MIN = 3;

    /** Minute states, best first: their index is their column in a row of counts. */
    static final byte UP = 0;
    static final byte DEGRADED = 1;
    static final byte DOWN = 2;
    static final byte UNKNOWN = 3;

    private UptimeJob() {
    }

    /** @return the next hour to count, or -1 before the job's first */
    static long nextHour(Connection c) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT next_hour_ms FROM uptime_progress WHERE id = 1");
                ResultSet rs = p.executeQuery()) {
            return rs.next() ? rs.getLong(1) : -1;
        }
    }

    /**
     * Told by the rollup job, in its transaction, that an hour's rollups were made again: where
     * that hour was counted already, its day is listed to be counted again, and the next day too
     * where the hour's results stand into it.
     */
    static void rolledUp(Connection c, long hour) throws SQLException {
        long next = nextHour(c);
        if (next < 0 || hour >= next) {
            return;
        }
        long day = Math.floorDiv(hour, DAY_MS) * DAY_MS;
        listDay(c, day);
        long reach = hour + HOUR_MS + LOOKBACK_MIN * MINUTE_MS - 1;
        if (reach - Math.floorMod(reach, DAY_MS) != day && day + DAY_MS < next) {
            listDay(c, day + DAY_MS);
        }
    }

    private static void listDay(Connection c, long day) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("INSERT INTO uptime_dirty (day_ms) SELECT CAST(? AS BIGINT) WHERE NOT EXISTS"
                + " (SELECT 1 FROM uptime_dirty WHERE day_ms = ?)")) {
            p.setLong(1, day);
            p.setLong(2, day);
            p.executeUpdate();
        }
    }

    /**
     * Counts the days listed again, then the closed hours after the last one counted, each in a
     * transaction of its own, at most {@code maxHours} hours in all.
     *
     * @param closedBefore hours that end before this are closed (their results are rolled up once their series leave the list)
     * @return the hours counted
     */
    static int run(Connection c, int maxHours, long closedBefore) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            long next = nextHour(c);
            if (next < 0) {
                next = firstHour(c);
                if (next < 0) {
                    c.commit();
                    return 0; // no rollups yet
                }
                try (PreparedStatement p = c.prepareStatement("INSERT INTO uptime_progress (id, next_hour_ms) VALUES (1, ?)")) {
                    p.setLong(1, next);
                    p.executeUpdate();
                }
                c.commit();
            }
            int counted = 0;
            Map<String, Health.Thresholds> thresholds = thresholds(c);
            for (long day; counted < maxHours && (day = listedDay(c)) >= 0;) {
                int taken;
                try (PreparedStatement p = c.prepareStatement("DELETE FROM uptime_dirty WHERE day_ms = ?")) {
                    p.setLong(1, day);
                    taken = p.executeUpdate();
                }
                if (taken == 1 && day < next) { // else another server took it meanwhile (a leader that just lost the lead)
                    forgetDay(c, day);
                    for (long h = day; h < day + DAY_MS && h < next; h += HOUR_MS) {
                        countHour(c, h, thresholds);
                        counted++;
                    }
                }
                c.commit();
            }
            while (counted < maxHours && next + HOUR_MS <= closedBefore && !waitsForRollups(c, next)) {
                countHour(c, next, thresholds);
                int moved;
                try (PreparedStatement p = c.prepareStatement("UPDATE uptime_progress SET next_hour_ms = ? WHERE id = 1 AND next_hour_ms = ?")) {
                    p.setLong(1, next + HOUR_MS);
                    p.setLong(2, next);
                    moved = p.executeUpdate();
                }
                if (moved != 1) {
                    // another server counted this hour meanwhile (two leaders for a moment): its sums stand, not twice
                    c.rollback();
                    return counted;
                }
                c.commit();
                next += HOUR_MS;
                counted++;
            }
            return counted;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    /** @return the hour of the oldest 1-minute rollup, or -1 */
    private static long firstHour(Connection c) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT MIN(start_ms) FROM rollup WHERE resolution_s = 60");
                ResultSet rs = p.executeQuery()) {
            if (rs.next()) {
                long first = rs.getLong(1);
                if (!rs.wasNull()) {
                    return Math.floorDiv(first, HOUR_MS) * HOUR_MS;
                }
            }
            return -1;
        }
    }

    private static long listedDay(Connection c) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT MIN(day_ms) FROM uptime_dirty"); ResultSet rs = p.executeQuery()) {
            if (rs.next()) {
                long day = rs.getLong(1);
                return rs.wasNull() ? -1 : day;
            }
            return -1;
        }
    }

    /** @return whether a series' hour up to {@code hour} waits for the rollup job */
    private static boolean waitsForRollups(Connection c, long hour) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM rollup_dirty WHERE hour_ms <= ? LIMIT 1")) {
            p.setLong(1, hour);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static void forgetDay(Connection c, long day) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("DELETE FROM uptime_day WHERE day_ms = ?")) {
            p.setLong(1, day);
            p.executeUpdate();
        }
        try (PreparedStatement p = c.prepareStatement("DELETE FROM outage WHERE start_ms >= ? AND start_ms < ?")) {
            p.setLong(1, day);
            p.setLong(2, day + DAY_MS);
            p.executeUpdate();
        }
    }

    /** The degraded thresholds of the targets the server defines (the others have none). */
    private static Map<String, Health.Thresholds> thresholds(Connection c) throws SQLException {
        Map<String, Health.Thresholds> out = new HashMap<>();
        try (PreparedStatement p = c.prepareStatement("SELECT name, body FROM definition WHERE type = ?")) {
            p.setString(1, Definition.TARGET);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    try {
                        JsonObject def = JsonParser.parseString(rs.getString(2)).getAsJsonObject();
                        Health.Thresholds t = Health.Thresholds.of(k -> {
                            JsonElement e = def.get(k);
                            return e == null || !e.isJsonPrimitive() ? null : e.getAsString();
                        });
                        if (t.lossPercent() > 0 || t.latencyMs() > 0) {
                            out.put(rs.getString(1), t);
                        }
                    } catch (RuntimeException e) {
                        // a definition is checked before it is stored; one that cannot be read has no thresholds
                    }
                }
            }
        }
        return out;
    }

    /** One series in the hour counted: its minute states. */
    private record Vantage(String target, String agentId, byte[] minutes) {
    }

    /** Counts one hour: adds its minutes to the days' rows and its down minutes to the outages. */
    static void countHour(Connection c, long hour, Map<String, Health.Thresholds> thresholds) throws SQLException {
        Map<String, List<Vantage>> byTarget = new TreeMap<>();
        List<Object[]> series = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement("SELECT s.id, s.target, a.agent_id FROM series s JOIN agent a ON a.id = s.agent");
                ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
                series.add(new Object[] {rs.getInt(1), rs.getString(2), rs.getString(3)});
            }
        }
        long from = hour - LOOKBACK_MIN * MINUTE_MS;
        try (PreparedStatement plain = c.prepareStatement("SELECT start_ms, count, failures, sent, received FROM rollup"
                + " WHERE resolution_s = 60 AND series = ? AND start_ms >= ? AND start_ms < ? ORDER BY start_ms");
                PreparedStatement sketched = c.prepareStatement("SELECT start_ms, count, failures, sent, received, min_us, max_us, sketch"
                        + " FROM rollup WHERE resolution_s = 60 AND series = ? AND start_ms >= ? AND start_ms < ? ORDER BY start_ms")) {
            for (Object[] s : series) {
                String target = (String) s[1];
                Health.Thresholds t = thresholds.getOrDefault(target, Health.Thresholds.NONE);
                PreparedStatement p = t.latencyMs() > 0 ? sketched : plain;
                p.setInt(1, (Integer) s[0]);
                p.setLong(2, from);
                p.setLong(3, hour + HOUR_MS);
                byte[] minutes = minutes(p, hour, t);
                if (minutes != null) {
                    byTarget.computeIfAbsent(target, k -> new ArrayList<>()).add(new Vantage(target, (String) s[2], minutes));
                }
            }
        }
        long day = Math.floorDiv(hour, DAY_MS) * DAY_MS;
        List<Object[]> rows = new ArrayList<>(); // target, agent id, counts
        for (Map.Entry<String, List<Vantage>> e : byTarget.entrySet()) {
            Map<String, byte[]> perAgent = new TreeMap<>(); // an agent with two series of the target (its kind changed): the worse
            for (Vantage v : e.getValue()) {
                perAgent.merge(v.agentId(), v.minutes(), UptimeJob::worse);
            }
            byte[] overall = perAgent.values().stream().reduce(UptimeJob::worse).orElseThrow();
            int[] counts = counts(overall);
            rows.add(new Object[] {e.getKey(), "", counts});
            perAgent.forEach((agent, minutes) -> rows.add(new Object[] {e.getKey(), agent, counts(minutes)}));
            outages(c, e.getKey(), hour, overall);
        }
        addToDay(c, day, rows);
    }

    /** @return per minute the worse of two known states, the known one of a known and an unknown */
    private static byte[] worse(byte[] a, byte[] b) {
        byte[] out = new byte[60];
        for (int m = 0; m < 60; m++) {
            out[m] = a[m] == UNKNOWN ? b[m] : b[m] == UNKNOWN ? a[m] : (byte) Math.max(a[m], b[m]);
        }
        return out;
    }

    /** @return minutes per state, by the state's index */
    private static int[] counts(byte[] minutes) {
        int[] counts = new int[4];
        for (byte st : minutes) {
            counts[st]++;
        }
        return counts;
    }

    /**
     * @return the states of the hour's 60 minutes from a series' rollups in its look-back and in the hour, or null
     *         where it has none
     */
    private static byte[] minutes(PreparedStatement p, long hour, Health.Thresholds t) throws SQLException {
        byte[] out = null;
        long from = hour - LOOKBACK_MIN * MINUTE_MS;
        int last = -LOOKBACK_MIN; // minute number from the look-back's start of the latest result (none yet: stands for nothing)
        byte lastState = UNKNOWN;
        int stands = 0;
        boolean onlyOne = false; // whether the one result before this one was the first
        int filled = LOOKBACK_MIN; // the hour's minutes are filled from here
        try (ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
                int m = (int) ((rs.getLong(1) - from) / MINUTE_MS);
                boolean first = out == null;
                if (first) {
                    out = new byte[60];
                    java.util.Arrays.fill(out, UNKNOWN);
                }
                if (onlyOne) { // the first result had no gap before it: the gap to this one tells how long it stands
                    stands = (int) Math.min(LOOKBACK_MIN, Math.max(STANDS_AT_LEAST_MIN, 2L * (m - last) + 1));
                }
                onlyOne = first;
                // the minutes before this one: the last state while it stands
                for (int k = Math.max(filled, last + 1); k < m && k < LOOKBACK_MIN + 60; k++) {
                    out[k - LOOKBACK_MIN] = k - last < stands ? lastState : UNKNOWN;
                }
                byte st = state(rs, t);
                stands = first ? FIRST_STANDS_MIN
                        : (int) Math.min(LOOKBACK_MIN, Math.max(STANDS_AT_LEAST_MIN, 2L * (m - last) + 1));
                last = m;
                lastState = st;
                if (m >= LOOKBACK_MIN) {
                    out[m - LOOKBACK_MIN] = st;
                }
                filled = Math.max(filled, m + 1);
            }
        }
        if (out != null) {
            for (int k = Math.max(filled, last + 1); k < LOOKBACK_MIN + 60; k++) {
                out[k - LOOKBACK_MIN] = k - last < stands ? lastState : UNKNOWN;
            }
        }
        return out;
    }

    /** A minute's state from its rollup: down when most of its results failed, degraded past a threshold, else up. */
    private static byte state(ResultSet rs, Health.Thresholds t) throws SQLException {
        long count = rs.getLong(2);
        long failures = rs.getLong(3);
        if (count == 0) {
            return UNKNOWN;
        }
        if (failures * 2 >= count) {
            return DOWN;
        }
        if (t.lossPercent() == 0 && t.latencyMs() == 0) {
            return UP;
        }
        Long sent = rs.getObject(4, Long.class);
        Long received = rs.getObject(5, Long.class);
        double loss = Summary.loss(sent != null, sent == null ? 0 : sent, received == null ? 0 : received, failures, count);
        double p50 = Double.NaN;
        if (t.latencyMs() > 0) {
            Double median = Summary.of(count, failures, sent, received, rs.getObject(6, Long.class), rs.getObject(7, Long.class),
                    rs.getBytes(8)).step(0).p50();
            p50 = median == null ? Double.NaN : median;
        }
        return Health.degraded(loss, p50, t) == null ? UP : DEGRADED;
    }

    /** Keeps the target's runs of down minutes in the hour: one that goes on from the hour before (same day) lengthens its outage. */
    private static void outages(Connection c, String target, long hour, byte[] overall) throws SQLException {
        for (int m = 0; m < 60;) {
            if (overall[m] != DOWN) {
                m++;
                continue;
            }
            int end = m;
            while (end < 60 && overall[end] == DOWN) {
                end++;
            }
            long startMs = hour + m * MINUTE_MS;
            long endMs = hour + end * MINUTE_MS;
            int lengthened = 0;
            if (m == 0 && Math.floorMod(hour, DAY_MS) != 0) {
                try (PreparedStatement p = c.prepareStatement("UPDATE outage SET end_ms = ? WHERE target = ? AND end_ms = ?")) {
                    p.setLong(1, endMs);
                    p.setString(2, target);
                    p.setLong(3, startMs);
                    lengthened = p.executeUpdate();
                }
            }
            if (lengthened == 0) {
                try (PreparedStatement p = c.prepareStatement("INSERT INTO outage (target, start_ms, end_ms) VALUES (?, ?, ?)")) {
                    p.setString(1, target);
                    p.setLong(2, startMs);
                    p.setLong(3, endMs);
                    p.executeUpdate();
                }
            }
            m = end;
        }
    }

    /** Adds the hour's counts to the day's rows: an update where the row is there, else an insert. */
    private static void addToDay(Connection c, long day, List<Object[]> rows) throws SQLException {
        if (rows.isEmpty()) {
            return;
        }
        int[] updated;
        try (PreparedStatement p = c.prepareStatement("UPDATE uptime_day SET up_min = up_min + ?, degraded_min = degraded_min + ?,"
                + " down_min = down_min + ?, unknown_min = unknown_min + ? WHERE day_ms = ? AND target = ? AND agent_id = ?")) {
            for (Object[] r : rows) {
                int[] n = (int[]) r[2];
                for (int i = 0; i < 4; i++) {
                    p.setInt(i + 1, n[i]);
                }
                p.setLong(5, day);
                p.setString(6, (String) r[0]);
                p.setString(7, (String) r[1]);
                p.addBatch();
            }
            updated = p.executeBatch();
        }
        try (PreparedStatement p = c.prepareStatement("INSERT INTO uptime_day (day_ms, target, agent_id, up_min, degraded_min, down_min,"
                + " unknown_min) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            boolean any = false;
            for (int i = 0; i < rows.size(); i++) {
                if (updated[i] == 0) {
                    Object[] r = rows.get(i);
                    int[] n = (int[]) r[2];
                    p.setLong(1, day);
                    p.setString(2, (String) r[0]);
                    p.setString(3, (String) r[1]);
                    for (int k = 0; k < 4; k++) {
                        p.setInt(k + 4, n[k]);
                    }
                    p.addBatch();
                    any = true;
                }
            }
            if (any) {
                p.executeBatch();
            }
        }
    }

    /** The days' rows in [{@code from}, {@code to}), per day or summed per target and agent (agent null for the target's own). */
    static List<Uptime> read(Connection c, long from, long to, String target, boolean byDay) throws SQLException {
        String where = " WHERE day_ms >= ? AND day_ms < ?" + (target == null ? "" : " AND target = ?");
        String sql = byDay
                ? "SELECT target, agent_id, day_ms, up_min, degraded_min, down_min, unknown_min FROM uptime_day" + where
                        + " ORDER BY target, agent_id, day_ms"
                : "SELECT target, agent_id, 0, SUM(up_min), SUM(degraded_min), SUM(down_min), SUM(unknown_min) FROM uptime_day" + where
                        + " GROUP BY target, agent_id ORDER BY target, agent_id";
        List<Uptime> out = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement(sql)) {
            p.setLong(1, from);
            p.setLong(2, to);
            if (target != null) {
                p.setString(3, target);
            }
            p.setFetchSize(10_000);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    String agent = rs.getString(2);
                    out.add(new Uptime(rs.getString(1), agent.isEmpty() ? null : agent, byDay ? Instant.ofEpochMilli(rs.getLong(3)) : null,
                            rs.getLong(4), rs.getLong(5), rs.getLong(6), rs.getLong(7)));
                }
            }
        }
        return out;
    }

    /** @return from a midnight, the other end of the piece of the target's outage that meets it there, and on (at most 10,000 days) */
    private static long follow(PreparedStatement p, String target, long at) throws SQLException {
        for (int days = 0; Math.floorMod(at, DAY_MS) == 0 && days < 10_000; days++) {
            p.setString(1, target);
            p.setLong(2, at);
            try (ResultSet rs = p.executeQuery()) {
                if (!rs.next()) {
                    break;
                }
                at = rs.getLong(1);
            }
        }
        return at;
    }

    /** The outages that overlap [{@code from}, {@code to}), their pieces cut at midnight joined again. */
    static List<Uptime.Outage> outages(Connection c, long from, long to, String target) throws SQLException {
        List<Uptime.Outage> out = new ArrayList<>();
        // a piece that ends at the range's start may join one after it: read from a day before
        // and one that begins at its end may go on from one inside it
        // (a piece lies within a day: one that ends after from - DAY_MS begins after from - 2 DAY_MS, a bound the indexes take)
        record Piece(String target, long start, long end) {
        }
        List<Piece> pieces = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement("SELECT target, start_ms, end_ms FROM outage WHERE start_ms >= ? AND start_ms <= ?"
                + " AND end_ms >= ?" + (target == null ? "" : " AND target = ?"))) {
            p.setLong(1, from - 2 * DAY_MS);
            p.setLong(2, to);
            p.setLong(3, from - DAY_MS);
            if (target != null) {
                p.setString(4, target);
            }
            p.setFetchSize(10_000);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    pieces.add(new Piece(rs.getString(1), rs.getLong(2), rs.getLong(3)));
                }
            }
        }
        // sorted here: a database sorting a month of outages (300,000 at 10,000 targets) may spill them to disk first
        pieces.sort(java.util.Comparator.comparing(Piece::target).thenComparingLong(Piece::start));
        String current = null;
        long start = 0;
        long end = 0;
        for (Piece piece : pieces) {
            if (piece.target().equals(current) && piece.start() == end) {
                end = piece.end();
                continue;
            }
            if (current != null && end > from && start < to) {
                out.add(new Uptime.Outage(current, Instant.ofEpochMilli(start), Instant.ofEpochMilli(end)));
            }
            current = piece.target();
            start = piece.start();
            end = piece.end();
        }
        if (current != null && end > from && start < to) {
            out.add(new Uptime.Outage(current, Instant.ofEpochMilli(start), Instant.ofEpochMilli(end)));
        }
        // an outage that begins or ends at a midnight may have begun days before, or go on days after: its pieces to both ends
        try (PreparedStatement back = c.prepareStatement("SELECT start_ms FROM outage WHERE target = ? AND end_ms = ?");
                PreparedStatement on = c.prepareStatement("SELECT end_ms FROM outage WHERE target = ? AND start_ms = ?")) {
            for (int i = 0; i < out.size(); i++) {
                Uptime.Outage o = out.get(i);
                // only where the read stopped short: a piece before the one read ends before from - DAY_MS, one after begins after to
                long first = o.start().toEpochMilli() < from - DAY_MS ? follow(back, o.target(), o.start().toEpochMilli())
                        : o.start().toEpochMilli();
                long last = o.end().toEpochMilli() > to ? follow(on, o.target(), o.end().toEpochMilli()) : o.end().toEpochMilli();
                out.set(i, new Uptime.Outage(o.target(), Instant.ofEpochMilli(first), Instant.ofEpochMilli(last)));
            }
        }
        return out;
    }
}
