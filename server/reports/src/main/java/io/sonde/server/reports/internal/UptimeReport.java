package io.sonde.server.reports.internal;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import io.sonde.server.spi.Uptime;

/**
 * The figures of an uptime report from what the store's uptime job counted: per target, agent or
 * tag the minutes in each state, the availability (up or degraded over the minutes known), the
 * downtime, and from the targets' outages their count, the longest and the mean time to recover.
 */
final class UptimeReport {

    private UptimeReport() {
    }

    /**
     * One row of a report.
     *
     * @param key      the target, agent or tag
     * @param targets  how many targets it sums up
     * @param minutes  its minutes per state
     * @param outages  outages that overlap the range (none where outages are not kept: an agent's)
     * @param longest  the longest of them in minutes, whole (before and after the range too), 0 without any
     * @param mttr     the mean length in minutes of those that ended, NaN without any
     * @param ongoing  whether one goes on at the end of what is counted
     * @param maintenance minutes down inside maintenance windows, left out of the minutes (0 unless a report asks)
     */
    record Figures(String key, int targets, Uptime minutes, int outages, long longest, double mttr, boolean ongoing, long maintenance) {

        Figures(String key, int targets, Uptime minutes, int outages, long longest, double mttr, boolean ongoing) {
            this(key, targets, minutes, outages, longest, mttr, ongoing, 0);
        }

        /** @return availability in percent, NaN with no minute known */
        double percent() {
            return minutes.availability() * 100;
        }
    }

    /**
     * @param rows     the targets' own rows over the range ({@link Uptime#agentId()} null), one per target
     * @param outages  the outages that overlap the range
     * @param through  the end of what the uptime job counted: an outage that ends there goes on
     * @return per target, by name
     */
    static List<Figures> byTarget(List<Uptime> rows, List<Uptime.Outage> outages, Instant through) {
        return byTarget(MaintenanceExclusion.none(rows, outages), through);
    }

    /** @param figures the rows and outages, maintenance left out or not */
    static List<Figures> byTarget(MaintenanceExclusion figures, Instant through) {
        List<Uptime> rows = figures.rows();
        List<Uptime.Outage> outages = figures.outages();
        Map<String, List<Uptime.Outage>> byTarget = new HashMap<>();
        for (Uptime.Outage o : outages) {
            byTarget.computeIfAbsent(o.target(), k -> new ArrayList<>()).add(o);
        }
        List<Figures> out = new ArrayList<>();
        for (Uptime u : rows) {
            if (u.agentId() != null) {
                continue;
            }
            List<Uptime.Outage> os = byTarget.getOrDefault(u.target(), List.of());
            long longest = 0;
            long ended = 0;
            long endedMinutes = 0;
            boolean ongoing = false;
            for (Uptime.Outage o : os) {
                longest = Math.max(longest, o.minutes());
                if (through != null && !o.end().isBefore(through)) {
                    ongoing = true;
                } else {
                    ended++;
                    endedMinutes += o.minutes();
                }
            }
            out.add(new Figures(u.target(), 1, u, os.size(), longest, ended == 0 ? Double.NaN : (double) endedMinutes / ended, ongoing,
                    figures.minutes().getOrDefault(u.target(), 0L)));
        }
        out.sort(Comparator.comparing(Figures::key));
        return out;
    }

    /** @return per agent over the targets it is a vantage of (their minutes as it saw them), by id; outages are the targets' only */
    static List<Figures> byAgent(List<Uptime> rows) {
        Map<String, Uptime> sums = new TreeMap<>();
        Map<String, Integer> counts = new HashMap<>();
        for (Uptime u : rows) {
            if (u.agentId() == null) {
                continue;
            }
            Uptime row = new Uptime(u.agentId(), u.agentId(), null, u.upMinutes(), u.degradedMinutes(), u.downMinutes(), u.unknownMinutes());
            sums.merge(u.agentId(), row, Uptime::plus);
            counts.merge(u.agentId(), 1, Integer::sum);
        }
        List<Figures> out = new ArrayList<>();
        sums.forEach((agent, u) -> out.add(new Figures(agent, counts.get(agent), u, 0, 0, Double.NaN, false)));
        return out;
    }

    /** @return per tag of the targets' definitions, over the targets that carry it, by tag; a target without a definition has none */
    static List<Figures> byTag(List<Figures> targets, Map<String, List<String>> tags) {
        Map<String, List<Figures>> groups = new TreeMap<>();
        for (Figures f : targets) {
            for (String tag : tags.getOrDefault(f.key(), List.of())) {
                groups.computeIfAbsent(tag, k -> new ArrayList<>()).add(f);
            }
        }
        List<Figures> out = new ArrayList<>();
        groups.forEach((tag, fs) -> out.add(sum(tag, fs)));
        return out;
    }

    /** @return one row over several: minutes and outages summed, the longest the longest, the mean over every ended outage */
    static Figures sum(String key, List<Figures> fs) {
        Uptime total = new Uptime(key, null, null, 0, 0, 0, 0);
        int outages = 0;
        long longest = 0;
        double endedMinutes = 0;
        long ended = 0;
        boolean ongoing = false;
        long maintenance = 0;
        for (Figures f : fs) {
            total = total.plus(f.minutes());
            maintenance += f.maintenance();
            outages += f.outages();
            longest = Math.max(longest, f.longest());
            long n = f.outages() - (f.ongoing() ? 1 : 0);
            if (n > 0 && !Double.isNaN(f.mttr())) {
                endedMinutes += f.mttr() * n;
                ended += n;
            }
            ongoing |= f.ongoing();
        }
        return new Figures(key, fs.size(), total, outages, longest, ended == 0 ? Double.NaN : endedMinutes / ended, ongoing, maintenance);
    }

    /** @return a row as the API shows it, under {@code keyName} ("target", "agent" or "tag") */
    static Map<String, Object> view(String keyName, Figures f, boolean withOutages) {
        return view(keyName, f, withOutages, false);
    }

    /** @param maintenance whether maintenance was left out: then its minutes are shown */
    static Map<String, Object> view(String keyName, Figures f, boolean withOutages, boolean maintenance) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put(keyName, f.key());
        if (!"target".equals(keyName)) {
            o.put("targets", f.targets());
        }
        o.put("availability_percent", round(f.percent()));
        o.put("up_minutes", f.minutes().upMinutes());
        o.put("degraded_minutes", f.minutes().degradedMinutes());
        o.put("down_minutes", f.minutes().downMinutes());
        o.put("unknown_minutes", f.minutes().unknownMinutes());
        if (maintenance) {
            o.put("maintenance_minutes", f.maintenance());
        }
        if (withOutages) {
            o.put("outages", f.outages());
            o.put("longest_outage_minutes", f.longest());
            o.put("mttr_minutes", round(f.mttr()));
            o.put("ongoing", f.ongoing());
        }
        return o;
    }

    /** @return a figure to four decimals, null for NaN (JSON has no NaN) */
    static Double round(double x) {
        return Double.isNaN(x) ? null : Math.round(x * 10_000) / 10_000.0;
    }

    /**
     * An objective's state over its window.
     *
     * @param rows      the targets' own rows over the window (every target; those the objective covers are taken)
     * @param tags      the targets' tags
     * @param lastDay   the outages of the last 24 hours counted, for the burn rate
     * @param dayFrom   the start of those 24 hours
     * @param through   the end of what is counted
     */
    static Map<String, Object> objective(Objective obj, List<Uptime> rows, Map<String, List<String>> tags, List<Uptime.Outage> lastDay,
            Instant dayFrom, Instant through) {
        return objective(obj, MaintenanceExclusion.none(rows, List.of()), tags, lastDay, dayFrom, through);
    }

    /**
     * @param figures the targets' rows over the window, maintenance left out where the objective asks
     * @param lastDay the outages of the last day counted (those wholly in maintenance left out where the objective asks)
     */
    static Map<String, Object> objective(Objective obj, MaintenanceExclusion figures, Map<String, List<String>> tags,
            List<Uptime.Outage> lastDay, Instant dayFrom, Instant through) {
        List<Uptime> rows = figures.rows();
        Uptime total = new Uptime(obj.name(), null, null, 0, 0, 0, 0);
        List<Uptime> covered = new ArrayList<>();
        for (Uptime u : rows) {
            if (u.agentId() == null && obj.covers(u.target(), tags.getOrDefault(u.target(), List.of()))) {
                covered.add(u);
                total = total.plus(u);
            }
        }
        long recentDown = 0;
        java.util.Set<String> coveredTargets = new java.util.HashSet<>();
        covered.forEach(u -> coveredTargets.add(u.target()));
        for (Uptime.Outage o : lastDay) {
            if (coveredTargets.contains(o.target())) {
                long s = Math.max(o.start().toEpochMilli(), dayFrom.toEpochMilli());
                long e = Math.min(o.end().toEpochMilli(), through.toEpochMilli());
                recentDown += Math.max(0, (e - s) / 60_000L);
            }
        }
        double budget = total.knownMinutes() * obj.allowedDown();
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("name", obj.name());
        o.put("targets_pattern", obj.targets());
        o.put("tag", obj.tag());
        o.put("percent", obj.percent());
        o.put("days", obj.days());
        o.put("comment", obj.comment());
        o.put("targets", covered.size());
        o.put("availability_percent", round(total.availability() * 100));
        o.put("known_minutes", total.knownMinutes());
        o.put("down_minutes", total.downMinutes());
        o.put("unknown_minutes", total.unknownMinutes());
        if (obj.excludeMaintenance()) {
            o.put("maintenance_minutes", figures.of(coveredTargets));
        }
        o.put("budget_minutes", round(budget));
        o.put("budget_left_minutes", round(budget - total.downMinutes()));
        o.put("budget_left_percent", budget == 0 ? null : round((budget - total.downMinutes()) / budget * 100));
        // burn rate: the share of the last day down over the share the objective allows (1: the budget lasts the window exactly)
        double lastDayMinutes = covered.size() * 1440.0;
        o.put("burn_rate_1d", lastDayMinutes == 0 ? null : round(recentDown / lastDayMinutes / obj.allowedDown()));
        o.put("met", total.knownMinutes() == 0 ? null : total.availability() * 100 >= obj.percent());
        List<Uptime> worst = new ArrayList<>(covered);
        worst.removeIf(u -> u.knownMinutes() == 0);
        worst.sort(Comparator.comparingDouble(Uptime::availability).thenComparing(Uptime::target));
        List<Map<String, Object>> w = new ArrayList<>();
        for (Uptime u : worst.subList(0, Math.min(10, worst.size()))) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("target", u.target());
            t.put("availability_percent", round(u.availability() * 100));
            t.put("down_minutes", u.downMinutes());
            w.add(t);
        }
        o.put("worst_targets", w);
        return o;
    }
}
