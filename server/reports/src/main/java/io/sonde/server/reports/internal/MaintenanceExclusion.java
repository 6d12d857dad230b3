package io.sonde.server.reports.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.sonde.server.spi.MaintenanceCalendar;
import io.sonde.server.spi.Uptime;

/**
 * Downtime inside maintenance windows, left out of the targets' figures when a report or an
 * objective asks: a target's minutes down within a window that takes it are counted apart, as
 * maintenance (neither down nor known), and an outage wholly inside windows is no outage.
 *
 * @param rows    the rows, the targets' own ({@link Uptime#agentId()} null) less their minutes down in maintenance
 * @param outages the outages not wholly inside windows
 * @param minutes each target's minutes down in maintenance, by name (targets without any left out)
 */
record MaintenanceExclusion(List<Uptime> rows, List<Uptime.Outage> outages, Map<String, Long> minutes) {

    /** Nothing left out: the rows and outages as they are. */
    static MaintenanceExclusion none(List<Uptime> rows, List<Uptime.Outage> outages) {
        return new MaintenanceExclusion(rows, outages, Map.of());
    }

    /**
     * @param windows the windows' openings over the range, by target, in start order ({@link MaintenanceCalendar#during})
     */
    static MaintenanceExclusion apply(List<Uptime> rows, List<Uptime.Outage> outages, Map<String, List<MaintenanceCalendar.Opening>> windows) {
        Map<String, long[][]> merged = new HashMap<>();
        windows.forEach((target, os) -> merged.put(target, merge(os)));
        Map<String, Long> minutes = new HashMap<>();
        List<Uptime.Outage> kept = new ArrayList<>();
        for (Uptime.Outage o : outages) {
            long[][] w = merged.get(o.target());
            long inside = w == null ? 0 : overlapMinutes(o.start().toEpochMilli(), o.end().toEpochMilli(), w);
            if (inside > 0) {
                minutes.merge(o.target(), inside, Long::sum);
            }
            if (inside < o.minutes()) {
                kept.add(o);
            }
        }
        List<Uptime> out = new ArrayList<>(rows.size());
        for (Uptime u : rows) {
            Long m = u.agentId() == null ? minutes.get(u.target()) : null;
            if (m == null) {
                out.add(u);
            } else {
                long taken = Math.min(m, u.downMinutes()); // outages are read whole: the range holds at most its rows' minutes
                minutes.put(u.target(), taken);
                out.add(new Uptime(u.target(), null, u.day(), u.upMinutes(), u.degradedMinutes(), u.downMinutes() - taken, u.unknownMinutes()));
            }
        }
        minutes.values().removeIf(m -> m == 0);
        return new MaintenanceExclusion(out, kept, minutes);
    }

    /** @return the openings as disjoint stretches [start, end) in ms, in order */
    static long[][] merge(List<MaintenanceCalendar.Opening> openings) {
        List<long[]> out = new ArrayList<>();
        List<MaintenanceCalendar.Opening> sorted = new ArrayList<>(openings);
        sorted.sort(java.util.Comparator.comparing(MaintenanceCalendar.Opening::startsAt));
        for (MaintenanceCalendar.Opening o : sorted) {
            long s = o.startsAt().toEpochMilli();
            long e = o.endsAt().toEpochMilli();
            if (!out.isEmpty() && s <= out.get(out.size() - 1)[1]) {
                out.get(out.size() - 1)[1] = Math.max(out.get(out.size() - 1)[1], e);
            } else {
                out.add(new long[] {s, e});
            }
        }
        return out.toArray(new long[0][]);
    }

    /** @return whole minutes of [start, end) inside the stretches */
    static long overlapMinutes(long start, long end, long[][] stretches) {
        long ms = 0;
        for (long[] w : stretches) {
            ms += Math.max(0, Math.min(end, w[1]) - Math.max(start, w[0]));
        }
        return ms / 60_000L;
    }

    /** @return the maintenance minutes of these targets together */
    long of(java.util.Collection<String> targets) {
        long sum = 0;
        for (String t : targets) {
            sum += minutes.getOrDefault(t, 0L);
        }
        return sum;
    }
}
