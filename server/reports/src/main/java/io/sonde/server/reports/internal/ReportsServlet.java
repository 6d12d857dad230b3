package io.sonde.server.reports.internal;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;

import io.sonde.server.spi.Api;
import io.sonde.server.spi.Definition;
import io.sonde.server.spi.FleetHealth;
import io.sonde.server.spi.MaintenanceCalendar;
import io.sonde.server.spi.QueryParams;
import io.sonde.server.spi.Store;
import io.sonde.server.spi.StoreException;
import io.sonde.server.spi.Uptime;
import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

/**
 * Uptime and objectives reports, read by anyone who reads the dashboard:
 * <ul>
 * <li>{@code GET /api/v1/reports/uptime}: availability, downtime, outages, longest outage and
 * mean time to recover per target ({@code by=agent}: per vantage agent, {@code by=tag}: per tag
 * of the targets' definitions) over whole UTC days: {@code from} and {@code to} (a date or a
 * time, to its day; {@code to} not included, a time within a day takes that day), or the last {@code days} (30) to today included;
 * {@code target} (part of the name), {@code tag}, {@code label} (name=value, repeated), {@code format=csv},
 * {@code exclude_maintenance=true} (the targets' downtime inside the maintenance windows that take them counted apart).</li>
 * <li>{@code GET /api/v1/reports/uptime/{target}}: one target over the range, a row per day, its
 * agents and its outages.</li>
 * <li>{@code GET /api/v1/reports/objectives}: each objective over its window, the error budget
 * left and the burn rate.</li>
 * </ul>
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern({"/api/v1/reports/uptime", "/api/v1/reports/uptime/*", "/api/v1/reports/objectives"})
public final class ReportsServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    static final int MAX_DAYS = 1000;
    static final long DAY_MS = 86_400_000L;

    private final transient Store store;
    /** The maintenance windows, where the alerts bundle offers them: for reports that leave their downtime out. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private transient volatile MaintenanceCalendar calendar;

    @Activate
    public ReportsServlet(@Reference Store store) {
        this.store = store;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!Api.requireRead(request, response)) {
            return;
        }
        Api.answer(response, () -> {
            QueryParams p;
            try {
                p = new QueryParams(request.getParameterMap());
            } catch (RuntimeException e) {
                throw new WireException(WireException.Problem.INVALID, "the query is not URL-encoded UTF-8 text: " + e.getMessage());
            }
            if (request.getServletPath().endsWith("/objectives")) {
                Api.json(response, 200, objectives(Instant.now()));
                return;
            }
            Instant[] range = range(p, Instant.now());
            String one;
            try {
                one = Api.pathName(request);
            } catch (IllegalArgumentException e) {
                throw QueryParams.bad("target", "the path's name is not URL-encoded text: " + e.getMessage());
            }
            if (one != null) {
                Map<String, Object> body = target(one, range[0], range[1]);
                if (body == null) {
                    Api.error(response, 404, "no uptime counted for target '" + WireCodec.abbreviate(one) + "' from " + range[0] + " to "
                            + range[1]);
                } else {
                    Api.json(response, 200, body);
                }
                return;
            }
            String by = p.text("by");
            by = by == null ? "target" : by;
            if (!List.of("target", "agent", "tag").contains(by)) {
                throw QueryParams.bad("by", "'" + WireCodec.abbreviate(by) + "' is not target, agent or tag");
            }
            String format = p.text("format");
            if (format != null && !format.equals("json") && !format.equals("csv")) {
                throw QueryParams.bad("format", "'" + WireCodec.abbreviate(format) + "' is not json or csv");
            }
            String excluding = p.text("exclude_maintenance");
            if (excluding != null && !excluding.equals("true") && !excluding.equals("false")) {
                throw QueryParams.bad("exclude_maintenance", "'" + WireCodec.abbreviate(excluding) + "' is neither true nor false");
            }
            // without the calendar (the alerts bundle not running) no window is known: the report says it left nothing out
            boolean exclude = "true".equals(excluding) && !by.equals("agent") && calendar != null;
            List<UptimeReport.Figures> rows = figures(by, p.text("target"), p.text("tag"), p.labels("label"), exclude, range[0], range[1]);
            if ("csv".equals(format)) {
                csv(response, by, rows, range, exclude);
                return;
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("from", range[0].toString());
            body.put("to", range[1].toString());
            body.put("counted_through", String.valueOf(store.uptimeThrough()));
            body.put("by", by);
            body.put("maintenance_excluded", exclude);
            List<Map<String, Object>> items = new ArrayList<>();
            for (UptimeReport.Figures f : rows) {
                items.add(UptimeReport.view(by, f, !by.equals("agent"), exclude));
            }
            body.put("items", items);
            Api.json(response, 200, body);
        });
    }

    /**
     * @return [from, to) of whole UTC days from {@code from}/{@code to} (a date, or a time taken to its day) or the last
     *         {@code days} with today
     */
    static Instant[] range(QueryParams p, Instant now) throws WireException {
        Instant tomorrow = day(now).plus(Duration.ofDays(1));
        Instant to = date(p, "to", tomorrow, true);
        int days = p.integer("days", 30, 1, MAX_DAYS);
        Instant from = date(p, "from", to.minus(Duration.ofDays(days)), false);
        if (p.text("from") != null && p.text("days") != null) {
            throw QueryParams.bad("days", "give from or days, not both");
        }
        if (!from.isBefore(to)) {
            throw QueryParams.bad("from", from + " is not before to, " + to);
        }
        if (Duration.between(from, to).toDays() > MAX_DAYS) {
            throw QueryParams.bad("from", "the range is longer than " + MAX_DAYS + " days");
        }
        return new Instant[] {from, to};
    }

    /** @return a date's midnight (UTC), or a time's day: its midnight, or the next where {@code up} and it is not one */
    private static Instant date(QueryParams p, String name, Instant fallback, boolean up) throws WireException {
        String v = p.text(name);
        if (v == null) {
            return fallback;
        }
        try {
            return LocalDate.parse(v.strip()).atStartOfDay(ZoneOffset.UTC).toInstant();
        } catch (DateTimeParseException e) {
            try {
                Instant t = Api.time(name, v);
                return up && !day(t).equals(t) ? day(t).plus(Duration.ofDays(1)) : day(t);
            } catch (WireException t) {
                throw QueryParams.bad(name, "'" + WireCodec.abbreviate(v) + "' is not a date (2026-11-01), an RFC 3339 time or Unix seconds");
            }
        }
    }

    private static Instant day(Instant t) {
        return Instant.ofEpochMilli(Math.floorDiv(t.toEpochMilli(), DAY_MS) * DAY_MS);
    }

    private List<UptimeReport.Figures> figures(String by, String part, String tag, Map<String, String> labels, boolean exclude, Instant from,
            Instant to) throws StoreException {
        List<Uptime> rows = new ArrayList<>(store.uptime(from, to, null, false));
        Map<String, List<String>> tags = FleetHealth.targetTags(store);
        List<String> labelTags = labels.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
        rows.removeIf(u -> part != null && !u.target().contains(part)
                || tag != null && !tags.getOrDefault(u.target(), List.of()).contains(tag)
                || !tags.getOrDefault(u.target(), List.of()).containsAll(labelTags));
        if (by.equals("agent")) {
            return UptimeReport.byAgent(rows);
        }
        List<Uptime.Outage> outages = store.outages(from, to, null);
        MaintenanceExclusion figures = exclude ? exclusion(rows, outages, tags, from, to) : MaintenanceExclusion.none(rows, outages);
        List<UptimeReport.Figures> targets = UptimeReport.byTarget(figures, store.uptimeThrough());
        return by.equals("tag") ? UptimeReport.byTag(targets, tags) : targets;
    }

    /** @return one target over the range: its figures, a row per day, its agents, its outages; null when nothing is counted */
    private Map<String, Object> target(String target, Instant from, Instant to) throws StoreException {
        List<Uptime> days = store.uptime(from, to, target, true);
        if (days.isEmpty()) {
            return null;
        }
        Instant through = store.uptimeThrough();
        List<Uptime.Outage> outages = store.outages(from, to, target);
        List<Uptime> sums = store.uptime(from, to, target, false);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("from", from.toString());
        body.put("to", to.toString());
        body.put("counted_through", String.valueOf(through));
        List<UptimeReport.Figures> own = UptimeReport.byTarget(sums, outages, through);
        body.putAll(UptimeReport.view("target", own.get(0), true));
        List<Map<String, Object>> perDay = new ArrayList<>();
        for (Uptime u : days) {
            if (u.agentId() == null) {
                Map<String, Object> d = new LinkedHashMap<>();
                d.put("day", u.day().toString().substring(0, 10));
                d.put("availability_percent", UptimeReport.round(u.availability() * 100));
                d.put("up_minutes", u.upMinutes());
                d.put("degraded_minutes", u.degradedMinutes());
                d.put("down_minutes", u.downMinutes());
                d.put("unknown_minutes", u.unknownMinutes());
                perDay.add(d);
            }
        }
        body.put("days", perDay);
        List<Map<String, Object>> agents = new ArrayList<>();
        for (Uptime u : sums) {
            if (u.agentId() != null) {
                Map<String, Object> a = new LinkedHashMap<>();
                a.put("agent", u.agentId());
                a.put("availability_percent", UptimeReport.round(u.availability() * 100));
                a.put("up_minutes", u.upMinutes());
                a.put("degraded_minutes", u.degradedMinutes());
                a.put("down_minutes", u.downMinutes());
                a.put("unknown_minutes", u.unknownMinutes());
                agents.add(a);
            }
        }
        body.put("agents", agents);
        List<Map<String, Object>> os = new ArrayList<>();
        for (Uptime.Outage o : outages) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("start", o.start().toString());
            m.put("end", o.end().toString());
            m.put("minutes", o.minutes());
            m.put("ongoing", through != null && !o.end().isBefore(through));
            os.add(m);
        }
        body.put("outages", os);
        return body;
    }

    /** @return the rows and outages with the downtime inside the maintenance windows that take each target left out */
    private MaintenanceExclusion exclusion(List<Uptime> rows, List<Uptime.Outage> outages, Map<String, List<String>> tags, Instant from,
            Instant to) throws StoreException {
        MaintenanceCalendar c = calendar;
        Map<String, List<String>> down = new java.util.HashMap<>(); // only a target with outages has downtime to leave out
        for (Uptime.Outage o : outages) {
            down.computeIfAbsent(o.target(), t -> tags.getOrDefault(t, List.of()));
        }
        return c == null || down.isEmpty() ? MaintenanceExclusion.none(rows, outages)
                : MaintenanceExclusion.apply(rows, outages, c.during(down, from, to));
    }

    private Map<String, Object> objectives(Instant now) throws StoreException {
        List<Objective> objectives = ObjectivesServlet.stored(store);
        Instant through = store.uptimeThrough();
        Instant tomorrow = day(now).plus(Duration.ofDays(1));
        Map<String, List<String>> tags = FleetHealth.targetTags(store);
        Instant end = through == null ? now : through;
        Instant dayFrom = end.minus(Duration.ofDays(1));
        List<Uptime.Outage> lastDay = objectives.isEmpty() ? List.of() : store.outages(dayFrom, end, null);
        Map<Integer, List<Uptime>> byWindow = new java.util.HashMap<>(); // objectives of one window share one read
        List<Map<String, Object>> items = new ArrayList<>();
        for (Objective o : objectives) {
            Instant from = tomorrow.minus(Duration.ofDays(o.days()));
            List<Uptime> rows = byWindow.get(o.days());
            if (rows == null) {
                rows = store.uptime(from, tomorrow, null, false);
                byWindow.put(o.days(), rows);
            }
            Map<String, Object> item;
            if (o.excludeMaintenance()) {
                MaintenanceExclusion window = exclusion(rows, store.outages(from, tomorrow, null), tags, from, tomorrow);
                MaintenanceExclusion day = exclusion(List.of(), lastDay, tags, dayFrom, end);
                item = UptimeReport.objective(o, window, tags, day.outages(), dayFrom, end);
            } else {
                item = UptimeReport.objective(o, rows, tags, lastDay, dayFrom, end);
            }
            item.put("from", from.toString());
            item.put("to", tomorrow.toString());
            items.add(item);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("counted_through", String.valueOf(through));
        body.put("items", items);
        return body;
    }

    private void csv(HttpServletResponse response, String by, List<UptimeReport.Figures> rows, Instant[] range, boolean maintenance)
            throws IOException {
        response.setStatus(200);
        response.setContentType("text/csv; charset=utf-8");
        response.setHeader("Content-Disposition", "attachment; filename=\"sonde-uptime-" + range[0].toString().substring(0, 10) + "-"
                + range[1].toString().substring(0, 10) + ".csv\"");
        boolean outages = !by.equals("agent");
        try (PrintWriter w = new PrintWriter(new java.io.OutputStreamWriter(response.getOutputStream(), StandardCharsets.UTF_8))) {
            w.print(by + (by.equals("target") ? "" : ",targets") + ",availability_percent,up_minutes,degraded_minutes,down_minutes,unknown_minutes"
                    + (maintenance ? ",maintenance_minutes" : ""));
            w.print(outages ? ",outages,longest_outage_minutes,mttr_minutes\r\n" : "\r\n");
            for (UptimeReport.Figures f : rows) {
                StringBuilder line = new StringBuilder(csvField(f.key()));
                if (!by.equals("target")) {
                    line.append(',').append(f.targets());
                }
                line.append(',').append(number(UptimeReport.round(f.percent())));
                Uptime m = f.minutes();
                line.append(',').append(m.upMinutes()).append(',').append(m.degradedMinutes()).append(',').append(m.downMinutes()).append(',')
                        .append(m.unknownMinutes());
                if (maintenance) {
                    line.append(',').append(f.maintenance());
                }
                if (outages) {
                    line.append(',').append(f.outages()).append(',').append(f.longest()).append(',').append(number(UptimeReport.round(f.mttr())));
                }
                w.print(line.append("\r\n"));
            }
        }
    }

    private static String number(Double x) {
        return x == null ? "" : String.format(Locale.ROOT, "%.4f", x).replaceAll("0+$", "").replaceAll("\\.$", "");
    }

    /**
     * @return a field as RFC 4180 writes it: quoted where it holds a comma, quote or line break; a name a spreadsheet would
     *         take for a formula ({@code =}, {@code +}, {@code -}, {@code @} first) begins with a quote mark
     */
    static String csvField(String v) {
        String s = v;
        if (!s.isEmpty() && "=+-@\t\r".indexOf(s.charAt(0)) >= 0) {
            s = "'" + s;
        }
        if (s.contains(",") || s.contains("\"") || s.contains("\n") || s.contains("\r")) {
            s = "\"" + s.replace("\"", "\"\"") + "\"";
        }
        return s;
    }
}
