package io.sonde.server.reports.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.Test;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import io.sonde.server.spi.QueryParams;
import io.sonde.server.spi.Uptime;
import io.sonde.wire.WireException;

public class UptimeReportTest {

    static final Instant T0 = Instant.parse("2026-11-01T00:00:00Z");

    private static Uptime row(String target, String agent, long up, long degraded, long down, long unknown) {
        return new Uptime(target, agent, null, up, degraded, down, unknown);
    }

    private static Uptime.Outage outage(String target, int fromMinute, int toMinute) {
        return new Uptime.Outage(target, T0.plus(Duration.ofMinutes(fromMinute)), T0.plus(Duration.ofMinutes(toMinute)));
    }

    @Test
    public void perTargetTheLongestOutageAndTheMeanTimeToRecoverOfThoseThatEnded() {
        Instant through = T0.plus(Duration.ofMinutes(1000));
        List<UptimeReport.Figures> fs = UptimeReport.byTarget(List.of(row("web", null, 900, 30, 60, 10), row("web", "a1", 940, 0, 50, 10),
                row("db", null, 1000, 0, 0, 0)), List.of(outage("web", 10, 20), outage("web", 100, 130), outage("web", 980, 1000)), through);
        assertEquals(2, fs.size());
        UptimeReport.Figures db = fs.get(0);
        assertEquals("db", db.key());
        assertEquals(100.0, db.percent(), 1e-9);
        assertEquals(0, db.outages());
        assertTrue(Double.isNaN(db.mttr()));
        UptimeReport.Figures web = fs.get(1);
        assertEquals("up and degraded over up, degraded and down", 930.0 / 990 * 100, web.percent(), 1e-9);
        assertEquals(3, web.outages());
        assertEquals(30, web.longest());
        assertEquals("the mean of the two that ended (10 and 30 minutes)", 20.0, web.mttr(), 1e-9);
        assertTrue("the last goes on at the end of what is counted", web.ongoing());

        Map<String, Object> view = UptimeReport.view("target", web, true);
        assertEquals(93.9394, view.get("availability_percent"));
        assertEquals(60L, view.get("down_minutes"));
        assertEquals(20.0, view.get("mttr_minutes"));
        assertNull("no NaN in JSON", UptimeReport.view("target", db, true).get("mttr_minutes"));
    }

    @Test
    public void perAgentSumsItsTargetsAsItSawThemAndPerTagTheTargetsThatCarryIt() {
        List<Uptime> rows = List.of(row("web", null, 50, 0, 10, 0), row("web", "a1", 55, 0, 5, 0), row("web", "a2", 50, 0, 10, 0),
                row("db", null, 60, 0, 0, 0), row("db", "a1", 58, 0, 2, 0));
        List<UptimeReport.Figures> agents = UptimeReport.byAgent(rows);
        assertEquals(List.of("a1", "a2"), agents.stream().map(UptimeReport.Figures::key).toList());
        assertEquals(2, agents.get(0).targets());
        assertEquals(113, agents.get(0).minutes().upMinutes());
        assertEquals(7, agents.get(0).minutes().downMinutes());

        List<UptimeReport.Figures> targets = UptimeReport.byTarget(rows, List.of(outage("web", 0, 10)), T0.plus(Duration.ofHours(5)));
        List<UptimeReport.Figures> tags = UptimeReport.byTag(targets, Map.of("web", List.of("eu", "front"), "db", List.of("eu")));
        assertEquals(List.of("eu", "front"), tags.stream().map(UptimeReport.Figures::key).toList());
        UptimeReport.Figures eu = tags.get(0);
        assertEquals(2, eu.targets());
        assertEquals(110, eu.minutes().upMinutes());
        assertEquals(10, eu.minutes().downMinutes());
        assertEquals(1, eu.outages());
        assertEquals(10.0, eu.mttr(), 1e-9);
        assertEquals(1, tags.get(1).targets());
    }

    @Test
    public void anObjectiveSpendsItsBudgetOnTheDownMinutesOfTheTargetsItCovers() throws Exception {
        Objective o = Objective.parse("web-slo", JsonParser.parseString("{\"targets\":\"web-*\",\"percent\":99.9,\"days\":30}").getAsJsonObject());
        long month = 30 * 1440;
        List<Uptime> rows = List.of(row("web-1", null, month - 20, 0, 20, 0), row("web-2", null, month, 0, 0, 0),
                row("web-1", "a1", month, 0, 0, 0), row("db", null, 0, 0, month, 0));
        Instant through = T0.plus(Duration.ofDays(30));
        Instant dayFrom = through.minus(Duration.ofDays(1));
        List<Uptime.Outage> lastDay = List.of(new Uptime.Outage("web-1", dayFrom.minus(Duration.ofMinutes(5)), dayFrom.plus(Duration.ofMinutes(15))),
                new Uptime.Outage("db", dayFrom, through));
        Map<String, Object> s = UptimeReport.objective(o, rows, Map.of(), lastDay, dayFrom, through);
        assertEquals(2, s.get("targets"));
        assertEquals(2 * month, s.get("known_minutes"));
        assertEquals(20L, s.get("down_minutes"));
        assertEquals("0.1 % of 86,400 minutes", 86.4, (Double) s.get("budget_minutes"), 1e-9);
        assertEquals(66.4, (Double) s.get("budget_left_minutes"), 1e-9);
        assertEquals(76.8519, (Double) s.get("budget_left_percent"), 1e-4);
        // the last day: 15 of web-1's minutes inside it, over two targets' 2,880 minutes, over the 0.1 % allowed
        assertEquals(15.0 / 2880 / 0.001, (Double) s.get("burn_rate_1d"), 1e-3);
        assertEquals(true, s.get("met"));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> worst = (List<Map<String, Object>>) s.get("worst_targets");
        assertEquals("web-1", worst.get(0).get("target"));

        Objective tagged = Objective.parse("eu", JsonParser.parseString("{\"tag\":\"eu\",\"percent\":99.99}").getAsJsonObject());
        Map<String, Object> t = UptimeReport.objective(tagged, rows, Map.of("web-1", List.of("eu")), List.of(), dayFrom, through);
        assertEquals(1, t.get("targets"));
        assertEquals(false, t.get("met"));
        assertEquals(30, t.get("days"));
    }

    @Test
    public void aBadObjectiveIsRefusedNamingTheKey() {
        Map<String, String> bad = Map.of(
                "{\"percent\":100}", "percent:",
                "{\"percent\":0}", "percent:",
                "{\"percent\":\"99.9\"}", "percent:",
                "{}", "percent: missing",
                "{\"percent\":99,\"days\":0}", "days:",
                "{\"percent\":99,\"days\":1.5}", "days:",
                "{\"percent\":99,\"days\":401}", "days:",
                "{\"percent\":99,\"owner\":\"x\"}", "owner: not a key",
                "{\"percent\":99,\"targets\":7}", "targets:",
                "{\"percent\":99,\"tag\":\"\"}", "tag: empty");
        for (Map.Entry<String, String> e : bad.entrySet()) {
            try {
                Objective.parse("o", JsonParser.parseString(e.getKey()).getAsJsonObject());
                fail(e.getKey() + " was taken");
            } catch (WireException x) {
                assertTrue(e.getKey() + ": " + x.getMessage(), x.getMessage().startsWith(e.getValue()));
            }
        }
        try {
            Objective.parse("../x", new JsonObject());
            fail("a bad name was taken");
        } catch (WireException x) {
            assertTrue(x.getMessage(), x.getMessage().startsWith("name:"));
        }
    }

    private static Instant[] range(Map<String, String[]> q) throws WireException {
        return ReportsServlet.range(new QueryParams(q), Instant.parse("2026-12-06T15:00:00Z"));
    }

    @Test
    public void aRangeIsWholeUtcDaysAndABadOneNamesItsParameter() throws Exception {
        assertEquals(List.of(Instant.parse("2026-11-07T00:00:00Z"), Instant.parse("2026-12-07T00:00:00Z")), List.of(range(Map.of())));
        assertEquals(List.of(Instant.parse("2026-11-01T00:00:00Z"), Instant.parse("2026-12-01T00:00:00Z")),
                List.of(range(Map.of("from", new String[] {"2026-11-01"}, "to", new String[] {"2026-11-30T23:00:00+02:00"}))));
        assertEquals(Instant.parse("2026-11-30T00:00:00Z"), range(Map.of("days", new String[] {"7"}))[0]);
        Map<Map<String, String[]>, String> bad = Map.of(
                Map.of("from", new String[] {"yesterday"}), "parameter 'from'",
                Map.of("from", new String[] {"2026-12-08"}), "parameter 'from'",
                Map.of("days", new String[] {"0"}), "parameter 'days'",
                Map.of("days", new String[] {"2"}, "from", new String[] {"2026-12-01"}), "parameter 'days'",
                Map.of("from", new String[] {"2020-01-01"}), "parameter 'from'");
        for (Map.Entry<Map<String, String[]>, String> e : bad.entrySet()) {
            try {
                range(e.getKey());
                fail(e.getKey().keySet() + " was taken");
            } catch (WireException x) {
                assertTrue(x.getMessage(), x.getMessage().startsWith(e.getValue()));
            }
        }
    }

    @Test
    public void aCsvFieldIsQuotedWhereItMustAndNeverReadAsAFormula() {
        assertEquals("web", ReportsServlet.csvField("web"));
        assertEquals("\"a,b\"", ReportsServlet.csvField("a,b"));
        assertEquals("\"say \"\"hi\"\"\"", ReportsServlet.csvField("say \"hi\""));
        assertEquals("'=HYPERLINK(1)", ReportsServlet.csvField("=HYPERLINK(1)"));
        assertEquals("\"'=1,2\"", ReportsServlet.csvField("=1,2"));
    }

    private static io.sonde.server.spi.MaintenanceCalendar.Opening window(int fromMinute, int toMinute) {
        return new io.sonde.server.spi.MaintenanceCalendar.Opening("w", false, T0.plus(Duration.ofMinutes(fromMinute)),
                T0.plus(Duration.ofMinutes(toMinute)), "");
    }

    @Test
    public void downtimeInsideMaintenanceIsCountedApartAndAnOutageWhollyInsideIsNone() {
        Instant through = T0.plus(Duration.ofMinutes(1000));
        List<Uptime> rows = List.of(row("web", null, 900, 30, 60, 10), row("web", "a1", 940, 0, 50, 10), row("db", null, 990, 0, 10, 0));
        List<Uptime.Outage> outages = List.of(outage("web", 10, 20), outage("web", 100, 130), outage("web", 980, 1000), outage("db", 0, 10));
        // web: the first outage wholly inside two overlapping openings, 15 of the second's 30 minutes; db: no window
        MaintenanceExclusion x = MaintenanceExclusion.apply(rows, outages, Map.of("web", List.of(window(5, 15), window(12, 25), window(115, 200))));
        assertEquals(Map.of("web", 25L), x.minutes());
        List<UptimeReport.Figures> fs = UptimeReport.byTarget(x, through);
        UptimeReport.Figures web = fs.get(1);
        assertEquals(35, web.minutes().downMinutes());
        assertEquals(25, web.maintenance());
        assertEquals("up and degraded over the minutes known less those in maintenance", 930.0 / 965 * 100, web.percent(), 1e-9);
        assertEquals("the outage wholly inside is none", 2, web.outages());
        assertEquals(30, web.longest());
        assertEquals("an agent's row is its own: left as it is", 50, x.rows().get(1).downMinutes());
        assertEquals(10, fs.get(0).minutes().downMinutes());
        Map<String, Object> view = UptimeReport.view("target", web, true, true);
        assertEquals(25L, view.get("maintenance_minutes"));
        assertEquals(25L, UptimeReport.sum("all", fs).maintenance());
        assertEquals("nothing asked, nothing left out", 60, UptimeReport.byTarget(rows, outages, through).get(1).minutes().downMinutes());
    }
}
