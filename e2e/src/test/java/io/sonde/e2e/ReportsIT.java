package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.FixMethodOrder;
import org.junit.Test;
import org.junit.runners.MethodSorters;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * Uptime reports and objectives against the built server: two agents upload, through the real
 * ingest as a spool does after an outage, three hours of a day two days ago — the ground truth is
 * what they sent, minute by minute — and the report, its CSV, its per-agent and per-tag views, the
 * target's days and outages, an objective's error budget, the CLI and the dashboard's pages say
 * exactly those minutes; results uploaded later for an hour already counted are counted again.
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class ReportsIT {

    private static ServerProcess server;
    /** 10:00 UTC two days ago: the three hours of results begin there. */
    private static Instant base;
    private static String day;
    private static String nextDay;
    private static final Map<String, String> credentials = new java.util.HashMap<>();
    private static final Map<String, Long> seqs = new java.util.HashMap<>();

    @BeforeClass
    public static void start() throws Exception {
        server = ServerProcess.start("");
        Instant today = Instant.now().truncatedTo(ChronoUnit.DAYS);
        base = today.minus(Duration.ofDays(2)).plus(Duration.ofHours(10));
        day = today.minus(Duration.ofDays(2)).toString().substring(0, 10);
        nextDay = today.minus(Duration.ofDays(1)).toString().substring(0, 10);
        DashboardIT.ok(server.admin("PUT", "/api/v1/targets/web", "{\"kind\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": "
                + AgentProcess.freePort() + ", \"agents\": \"nobody-here\", \"tags\": [\"eu\"], \"degraded_latency_ms\": 200}"));
        for (String a : List.of("rep-1", "rep-2")) {
            credentials.put(a, SecurityIT.enroll(server, a));
        }
        // web from rep-1: down in minutes 30-44, slow (500 ms, past its 200 ms threshold) in 100-119; from rep-2: down in 40-49
        upload("rep-1", "web", 0, 180, m -> m >= 30 && m < 45, m -> m >= 100 && m < 120);
        upload("rep-2", "web", 0, 180, m -> m >= 40 && m < 50, m -> false);
        // db (no definition) from rep-1: down in 150-152
        upload("rep-1", "db", 0, 180, m -> m >= 150 && m < 153, m -> false);
        awaitCounted("web", 180);
    }

    @AfterClass
    public static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    /** Uploads one result a minute of minutes [from, to) after {@link #base}, 10 s into each, as the agent's spool would. */
    private static void upload(String agent, String target, int from, int to, IntPredicate down, IntPredicate slow) throws Exception {
        List<String> results = new ArrayList<>();
        for (int m = from; m < to; m++) {
            long seq = seqs.merge(agent, 1L, Long::sum);
            boolean ok = !down.test(m);
            results.add("{\"seq\":" + seq + ",\"target\":\"" + target + "\",\"kind\":\"tcp\",\"started_at\":\"" + base.plusSeconds(60L * m + 10)
                    + "\",\"success\":" + ok + (ok ? "" : ",\"failure_reason\":\"refused\"") + ",\"response_time_seconds\":"
                    + (slow.test(m) ? "0.5" : "0.01") + "}");
        }
        DashboardIT.post(server, agent, credentials.get(agent), results);
    }

    private static JsonObject get(String path) throws Exception {
        HttpResponse<String> r = server.admin("GET", path, null);
        assertEquals(path + ": " + r.body(), 200, r.statusCode());
        return JsonParser.parseString(r.body()).getAsJsonObject();
    }

    /** Waits (the rollup and uptime jobs run every 15 s) until the target's day counts {@code downAtLeast} known minutes or more. */
    private static JsonObject awaitCounted(String target, long knownAtLeast) throws Exception {
        String path = "/api/v1/reports/uptime/" + target + "?from=" + day + "&to=" + nextDay;
        String last = "";
        for (int i = 0; i < 240; i++) { // 120 s
            HttpResponse<String> r = server.admin("GET", path, null);
            last = r.statusCode() + " " + r.body();
            if (r.statusCode() == 200) {
                JsonObject o = JsonParser.parseString(r.body()).getAsJsonObject();
                long known = o.get("up_minutes").getAsLong() + o.get("degraded_minutes").getAsLong() + o.get("down_minutes").getAsLong();
                if (known >= knownAtLeast && !o.get("counted_through").getAsString().equals("null")
                        && Instant.parse(o.get("counted_through").getAsString()).isAfter(base.plus(Duration.ofHours(4)))) {
                    return o;
                }
            }
            Thread.sleep(500);
        }
        throw new AssertionError("the uptime of " + target + " was not counted: " + last);
    }

    private static JsonObject item(JsonObject report, String key, String value) {
        for (JsonElement e : report.getAsJsonArray("items")) {
            if (e.getAsJsonObject().get(key).getAsString().equals(value)) {
                return e.getAsJsonObject();
            }
        }
        throw new AssertionError("no " + key + " " + value + " in " + report);
    }

    private static void assertMinutes(String what, long up, long degraded, long down, long unknown, JsonObject o) {
        assertEquals(what + ": " + o, List.of(up, degraded, down, unknown), List.of(o.get("up_minutes").getAsLong(),
                o.get("degraded_minutes").getAsLong(), o.get("down_minutes").getAsLong(), o.get("unknown_minutes").getAsLong()));
    }

    @Test
    public void a_theReportCountsTheMinutesTheAgentsSent() throws Exception {
        JsonObject report = get("/api/v1/reports/uptime?from=" + day + "&to=" + nextDay);
        assertEquals(day + "T00:00:00Z", report.get("from").getAsString());
        assertEquals("target", report.get("by").getAsString());
        assertEquals(2, report.getAsJsonArray("items").size());
        // web: down while either agent is (30-49), degraded while rep-1 is slow (100-119); the last results stand two minutes
        // into the next hour, then nothing is known of the hour's 58 others
        JsonObject web = item(report, "target", "web");
        assertMinutes("web", 142, 20, 20, 58, web);
        assertEquals(162.0 / 182 * 100, web.get("availability_percent").getAsDouble(), 1e-3);
        assertEquals(1, web.get("outages").getAsInt());
        assertEquals(20, web.get("longest_outage_minutes").getAsInt());
        assertEquals(20.0, web.get("mttr_minutes").getAsDouble(), 1e-9);
        assertFalse(web.get("ongoing").getAsBoolean());
        JsonObject db = item(report, "target", "db");
        assertMinutes("db", 179, 0, 3, 58, db);
        assertEquals(3, db.get("longest_outage_minutes").getAsInt());

        JsonObject agents = get("/api/v1/reports/uptime?from=" + day + "&to=" + nextDay + "&by=agent");
        JsonObject rep1 = item(agents, "agent", "rep-1");
        assertEquals(2, rep1.get("targets").getAsInt());
        // web as rep-1 saw it (147 up, 20 slow, 15 down, 58 unknown) and db (179, 0, 3, 58)
        assertMinutes("rep-1", 326, 20, 18, 116, rep1);
        assertMinutes("rep-2", 172, 0, 10, 58, item(agents, "agent", "rep-2"));
        assertFalse("an agent's row has no outages of its own", rep1.has("outages"));

        JsonObject tags = get("/api/v1/reports/uptime?from=" + day + "&to=" + nextDay + "&by=tag");
        assertEquals("only web's definition carries a tag", 1, tags.getAsJsonArray("items").size());
        JsonObject eu = item(tags, "tag", "eu");
        assertEquals(1, eu.get("targets").getAsInt());
        assertMinutes("eu", 142, 20, 20, 58, eu);

        JsonObject onlyEu = get("/api/v1/reports/uptime?from=" + day + "&to=" + nextDay + "&tag=eu");
        assertEquals(1, onlyEu.getAsJsonArray("items").size());
        assertEquals("the next day has nothing counted", 0, get("/api/v1/reports/uptime?from=" + nextDay + "&to="
                + Instant.now().truncatedTo(ChronoUnit.DAYS).toString().substring(0, 10)).getAsJsonArray("items").size());
    }

    @Test
    public void b_aTargetsDaysAgentsAndOutages() throws Exception {
        JsonObject web = get("/api/v1/reports/uptime/web?from=" + day + "&to=" + nextDay);
        JsonArray days = web.getAsJsonArray("days");
        assertEquals(1, days.size());
        assertEquals(day, days.get(0).getAsJsonObject().get("day").getAsString());
        assertMinutes("web's day", 142, 20, 20, 58, days.get(0).getAsJsonObject());
        JsonArray outages = web.getAsJsonArray("outages");
        assertEquals(1, outages.size());
        JsonObject o = outages.get(0).getAsJsonObject();
        assertEquals(base.plus(Duration.ofMinutes(30)).toString(), o.get("start").getAsString());
        assertEquals(base.plus(Duration.ofMinutes(50)).toString(), o.get("end").getAsString());
        assertEquals(20, o.get("minutes").getAsInt());
        JsonArray agents = web.getAsJsonArray("agents");
        assertEquals(2, agents.size());
        assertEquals("rep-1", agents.get(0).getAsJsonObject().get("agent").getAsString());
        assertMinutes("web from rep-1", 147, 20, 15, 58, agents.get(0).getAsJsonObject());

        HttpResponse<String> none = server.admin("GET", "/api/v1/reports/uptime/nothing-like-it?from=" + day + "&to=" + nextDay, null);
        assertEquals(none.body(), 404, none.statusCode());
        assertTrue(none.body(), none.body().contains("no uptime counted for target 'nothing-like-it'"));
    }

    @Test
    public void c_theCsvHoldsTheSameFigures() throws Exception {
        HttpResponse<String> r = server.admin("GET", "/api/v1/reports/uptime?from=" + day + "&to=" + nextDay + "&format=csv", null);
        assertEquals(r.body(), 200, r.statusCode());
        assertEquals("text/csv; charset=utf-8", r.headers().firstValue("Content-Type").orElse("").toLowerCase(java.util.Locale.ROOT));
        assertTrue(r.headers().firstValue("Content-Disposition").orElse(""), r.headers().firstValue("Content-Disposition").orElse("")
                .contains("sonde-uptime-" + day + "-" + nextDay + ".csv"));
        assertEquals("target,availability_percent,up_minutes,degraded_minutes,down_minutes,unknown_minutes,outages,longest_outage_minutes,"
                + "mttr_minutes\r\ndb,98.3516,179,0,3,58,1,3,3\r\nweb,89.011,142,20,20,58,1,20,20\r\n", r.body());
    }

    @Test
    public void d_badQueriesAreRefusedNamingTheParameter() throws Exception {
        Map<String, String> bad = Map.of(
                "?from=yesterday", "parameter 'from': 'yesterday' is not a date",
                "?by=planet", "parameter 'by': 'planet' is not target, agent or tag",
                "?format=xml", "parameter 'format'",
                "?days=0", "parameter 'days': 0 is not between 1 and 1000",
                "?from=2026-12-05&to=2026-12-01", "parameter 'from': 2026-12-05T00:00:00Z is not before to",
                "?from=1990-01-01", "parameter 'from': the range is longer than 1000 days",
                "?days=5&from=2026-12-01", "parameter 'days': give from or days, not both");
        for (Map.Entry<String, String> e : bad.entrySet()) {
            HttpResponse<String> r = server.admin("GET", "/api/v1/reports/uptime" + e.getKey(), null);
            assertEquals(e.getKey() + ": " + r.body(), 400, r.statusCode());
            assertTrue(e.getKey() + ": " + r.body(), r.body().contains(e.getValue()));
        }
        HttpResponse<String> anonymous = server.request("GET", "/api/v1/reports/uptime", null, null);
        assertEquals(401, anonymous.statusCode());
        HttpResponse<String> objectives = server.request("GET", "/api/v1/reports/objectives", null, null);
        assertEquals(401, objectives.statusCode());
    }

    @Test
    public void e_anObjectiveSpendsItsErrorBudget() throws Exception {
        HttpResponse<String> put = server.admin("PUT", "/api/v1/objectives/web-slo",
                "{\"targets\": \"w*\", \"percent\": 99, \"days\": 7, \"comment\": \"the shop's front\"}");
        assertEquals(put.body(), 201, put.statusCode());
        assertEquals(200, server.admin("PUT", "/api/v1/objectives/web-slo", "{\"targets\": \"w*\", \"percent\": 99, \"days\": 7}").statusCode());
        HttpResponse<String> bad = server.admin("PUT", "/api/v1/objectives/web-slo", "{\"targets\": \"w*\", \"percent\": 100}");
        assertEquals(bad.body(), 400, bad.statusCode());
        assertTrue(bad.body(), bad.body().contains("percent: '100' is not a number above 0 and below 100"));
        HttpResponse<String> unknownKey = server.admin("PUT", "/api/v1/objectives/x", "{\"percent\": 99, \"owner\": \"me\"}");
        assertEquals(400, unknownKey.statusCode());
        assertTrue(unknownKey.body(), unknownKey.body().contains("owner: not a key of an objective"));

        DashboardIT.ok(server.admin("PUT", "/api/v1/users/olga", "{\"password\": \"a viewer's password\", \"role\": \"viewer\"}"));
        HttpResponse<String> login = server.post("/api/v1/session", null, "{\"user\":\"olga\",\"password\":\"a viewer's password\"}"
                .getBytes(StandardCharsets.UTF_8), "Content-Type", "application/json");
        assertEquals(login.body(), 200, login.statusCode());
        String cookie = login.headers().firstValue("Set-Cookie").orElseThrow();
        cookie = cookie.substring(0, cookie.indexOf(';'));
        String csrf = JsonParser.parseString(server.request("GET", "/api/v1/session", null, null, "Cookie", cookie).body()).getAsJsonObject()
                .get("csrf").getAsString();
        HttpResponse<String> viewer = server.request("PUT", "/api/v1/objectives/mine", null, "{\"percent\": 99}".getBytes(StandardCharsets.UTF_8),
                "Cookie", cookie, "X-CSRF-Token", csrf, "Content-Type", "application/json");
        assertEquals("a viewer defines no objective: " + viewer.body(), 403, viewer.statusCode());
        assertEquals("but reads the report", 200, server.request("GET", "/api/v1/reports/objectives", null, null, "Cookie", cookie).statusCode());

        JsonObject report = get("/api/v1/reports/objectives");
        JsonObject slo = item(report, "name", "web-slo");
        assertEquals(1, slo.get("targets").getAsInt());
        assertEquals(182, slo.get("known_minutes").getAsLong());
        assertEquals(20, slo.get("down_minutes").getAsLong());
        assertEquals("1 % of 182 minutes", 1.82, slo.get("budget_minutes").getAsDouble(), 1e-9);
        assertEquals(1.82 - 20, slo.get("budget_left_minutes").getAsDouble(), 1e-9);
        assertFalse(slo.get("met").getAsBoolean());
        assertEquals("web", slo.getAsJsonArray("worst_targets").get(0).getAsJsonObject().get("target").getAsString());
        assertEquals("w*", get("/api/v1/objectives/web-slo").get("targets").getAsString());
    }

    @Test
    public void f_theCliPrintsTheReportItsCsvAndTheObjectives() throws Exception {
        CliIT.Run table = cli("server", "report", "--from", day, "--to", nextDay);
        assertEquals(table.out(), 0, table.exit());
        assertTrue(table.out(), table.out().contains("From " + day + "T00:00:00Z to " + nextDay + "T00:00:00Z"));
        String webLine = table.out().lines().filter(l -> l.startsWith("web ")).findFirst().orElseThrow(() -> new AssertionError(table.out()));
        assertEquals(List.of("web", "89.011", "20", "20", "58", "1", "20", "20.0", "false"), List.of(webLine.trim().split("\\s+")));
        CliIT.Run csv = cli("server", "report", "--from", day, "--to", nextDay, "--by", "agent", "--csv");
        assertEquals(csv.out(), 0, csv.exit());
        assertTrue(csv.out(), csv.out().startsWith("agent,targets,availability_percent,up_minutes,degraded_minutes,down_minutes,unknown_minutes\r\n"));
        assertTrue(csv.out(), csv.out().contains("rep-2,1,94.5055,172,0,10,58\r\n"));
        CliIT.Run set = cli("server", "objectives", "set", "db-slo", "--targets", "db", "--percent", "95", "--days", "3");
        assertEquals(set.out(), 0, set.exit());
        CliIT.Run objectives = cli("server", "report", "objectives");
        assertEquals(objectives.out(), 0, objectives.exit());
        String dbLine = objectives.out().lines().filter(l -> l.startsWith("db-slo ")).findFirst()
                .orElseThrow(() -> new AssertionError(objectives.out()));
        assertTrue(dbLine, dbLine.contains(" true"));
        CliIT.Run refused = cli("server", "report", "--by", "planet");
        assertEquals(refused.out(), 1, refused.exit());
        assertTrue(refused.out(), refused.out().contains("parameter 'by': 'planet' is not target, agent or tag"));
        CliIT.Run deleted = cli("server", "objectives", "delete", "db-slo");
        assertEquals(deleted.out(), 0, deleted.exit());
        assertEquals(404, server.admin("GET", "/api/v1/objectives/db-slo", null).statusCode());
    }

    private static CliIT.Run cli(String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(AgentProcess.distribution().resolve("bin/sonde-cli").toString());
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().remove("SONDE_HOME");
        pb.environment().put("SONDE_SERVER", server.url());
        pb.environment().put("SONDE_CA_FILE", server.home.resolve("data/tls/ca.pem").toString());
        pb.environment().put("SONDE_TOKEN", server.adminToken());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("sonde-cli " + List.of(args) + " did not end: " + out);
        }
        return new CliIT.Run(p.exitValue(), out);
    }

    @Test
    public void g_theDashboardShowsTheReportAndTheTargetsDays() throws Exception {
        Path shots = DashboardIT.SHOTS;
        Files.createDirectories(shots);
        try (Browser browser = Browser.start()) {
            browser.logIn(server.url(), "olga", "a viewer's password");
            browser.eval("location.hash = '#/reports?days=7'; true");
            browser.await("the uptime report", 30, "window.__sonde.view === 'reports'");
            assertEquals("the worst first", "web", browser.text("document.querySelector('#report tbody tr').dataset.key"));
            assertEquals("89.01 %", browser.text("document.querySelector('#report tbody tr .availability').textContent").strip());
            assertEquals("uptime-low", browser.text("document.querySelector('#report tbody tr .uptime-dot').classList[1]"));
            assertEquals("missed", browser.text("document.querySelector('#objectives tr[data-objective=\"web-slo\"] td:last-child').textContent"));
            assertEquals("exhausted: 18 min down past the 2 min allowed",
                    browser.text("document.querySelector('#objectives tr[data-objective=\"web-slo\"] td.budget').textContent"));
            assertTrue(browser.text("document.getElementById('report-csv').href"),
                    browser.text("document.getElementById('report-csv').href").contains("format=csv"));
            assertFalse("nothing shows the text null", browser.text("document.getElementById('view').innerText").contains("null"));
            browser.screenshot(shots.resolve("reports.png"));
            browser.eval("location.hash = '#/target/web'; true");
            browser.await("web's page", 30, "window.__sonde.view === 'target' && document.getElementById('uptime')");
            assertEquals("90 days, a cell each", 90, browser.eval("document.querySelectorAll('#uptime .uptime-day').length").getAsInt());
            assertEquals("uptime-low", browser.text("document.querySelector('#uptime .uptime-day[data-day=\"" + day + "\"]').classList[1]"));
            assertEquals("uptime-none", browser.text("document.querySelector('#uptime .uptime-day[data-day=\"" + nextDay + "\"]').classList[1]"));
            assertEquals("89.01 %", browser.text("document.getElementById('uptime-percent').textContent"));
            assertNotNull(browser.text("document.getElementById('uptime-outages').textContent"));
            browser.screenshot(shots.resolve("target-uptime.png"));
        }
    }

    @Test
    public void ga_downtimeInsideAMaintenanceWindowIsLeftOutWhenAsked() throws Exception {
        // planned work on web in minutes 35-44 (half of its outage, 30-49), and on db over the whole of its own (150-152)
        DashboardIT.ok(server.admin("PUT", "/api/v1/maintenance/web-work", "{\"starts_at\": \"" + base.plus(Duration.ofMinutes(35))
                + "\", \"ends_at\": \"" + base.plus(Duration.ofMinutes(45)) + "\", \"targets\": \"web\"}"));
        DashboardIT.ok(server.admin("PUT", "/api/v1/maintenance/db-work", "{\"starts_at\": \"" + base.plus(Duration.ofMinutes(150))
                + "\", \"ends_at\": \"" + base.plus(Duration.ofMinutes(155)) + "\", \"targets\": \"db\"}"));
        JsonObject counted = get("/api/v1/reports/uptime?from=" + day + "&to=" + nextDay);
        assertFalse(counted.get("maintenance_excluded").getAsBoolean());
        assertMinutes("web, maintenance counted as it was", 142, 20, 20, 58, item(counted, "target", "web"));
        JsonObject report = get("/api/v1/reports/uptime?from=" + day + "&to=" + nextDay + "&exclude_maintenance=true");
        assertTrue(report.get("maintenance_excluded").getAsBoolean());
        JsonObject web = item(report, "target", "web");
        assertMinutes("web, its ten minutes in the window apart", 142, 20, 10, 58, web);
        assertEquals(10, web.get("maintenance_minutes").getAsLong());
        assertEquals("the outage is partly outside the window: still one", 1, web.get("outages").getAsInt());
        assertEquals(162.0 / 172 * 100, web.get("availability_percent").getAsDouble(), 1e-3);
        JsonObject db = item(report, "target", "db");
        assertEquals(0, db.get("down_minutes").getAsLong());
        assertEquals(3, db.get("maintenance_minutes").getAsLong());
        assertEquals("wholly inside the window: no outage", 0, db.get("outages").getAsInt());
        HttpResponse<String> csv = server.admin("GET", "/api/v1/reports/uptime?from=" + day + "&to=" + nextDay + "&exclude_maintenance=true"
                + "&format=csv", null);
        assertTrue(csv.body(), csv.body().startsWith("target,availability_percent,up_minutes,degraded_minutes,down_minutes,unknown_minutes,"
                + "maintenance_minutes,outages,"));
        assertTrue(csv.body(), csv.body().contains("\r\nweb,94.186,142,20,10,58,10,1,"));
        HttpResponse<String> bad = server.admin("GET", "/api/v1/reports/uptime?exclude_maintenance=maybe", null);
        assertEquals(400, bad.statusCode());
        assertTrue(bad.body(), bad.body().contains("exclude_maintenance"));
        DashboardIT.ok(server.admin("PUT", "/api/v1/objectives/web-planned", "{\"targets\": \"w*\", \"percent\": 99, \"days\": 7,"
                + " \"exclude_maintenance\": true}"));
        JsonObject planned = item(get("/api/v1/reports/objectives"), "name", "web-planned");
        assertEquals(172, planned.get("known_minutes").getAsLong());
        assertEquals(10, planned.get("down_minutes").getAsLong());
        assertEquals(10, planned.get("maintenance_minutes").getAsLong());
        assertEquals(1.72 - 10, planned.get("budget_left_minutes").getAsDouble(), 1e-9);
        JsonObject plain = item(get("/api/v1/reports/objectives"), "name", "web-slo");
        assertEquals("an objective that does not ask counts it all", 20, plain.get("down_minutes").getAsLong());
        try (Browser browser = Browser.start()) {
            browser.logIn(server.url(), "olga", "a viewer's password");
            browser.eval("location.hash = '#/reports?days=7&maintenance=out'; true");
            browser.await("the report without maintenance", 30, "window.__sonde.view === 'reports' && document.querySelector('#report td.maintenance')");
            assertEquals("10 min", browser.text("document.querySelector('#report tr[data-key=\"web\"] td.maintenance').textContent"));
            assertEquals("94.19 %", browser.text("document.querySelector('#report tr[data-key=\"web\"] .availability').textContent").strip());
            assertTrue(browser.text("document.getElementById('report-csv').href").contains("exclude_maintenance=true"));
            browser.screenshot(DashboardIT.SHOTS.resolve("reports-maintenance.png"));
        }
        for (String w : List.of("web-work", "db-work")) {
            assertEquals(204, server.admin("DELETE", "/api/v1/maintenance/" + w, null).statusCode());
        }
        DashboardIT.ok(server.admin("DELETE", "/api/v1/objectives/web-planned", null));
    }

    @Test
    public void h_resultsUploadedLaterForACountedHourAreCountedAgain() throws Exception {
        // rep-2's spool brings failures of minutes 60-69 (first hour's end) late: the day is counted again with them
        upload("rep-2", "web", 60, 70, m -> true, m -> false);
        JsonObject web = null;
        for (int i = 0; i < 240; i++) { // 120 s: the rollup of the hour, then the day counted again
            web = get("/api/v1/reports/uptime/web?from=" + day + "&to=" + nextDay);
            if (web.get("down_minutes").getAsLong() == 30) {
                break;
            }
            Thread.sleep(500);
        }
        assertMinutes("web with rep-2's late failures", 132, 20, 30, 58, web);
        JsonArray outages = web.getAsJsonArray("outages");
        assertEquals(web.toString(), 2, outages.size());
        assertEquals(base.plus(Duration.ofMinutes(60)).toString(), outages.get(1).getAsJsonObject().get("start").getAsString());
        assertEquals(10, outages.get(1).getAsJsonObject().get("minutes").getAsInt());
    }
}
