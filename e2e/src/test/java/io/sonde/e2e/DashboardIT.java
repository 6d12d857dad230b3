package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.FixMethodOrder;
import org.junit.Test;
import org.junit.runners.MethodSorters;

import com.google.gson.JsonObject;

/**
 * The dashboard in a real headless Chromium against the built server with real stored data: two
 * built agents probe a TCP target and trace the path to a loopback address. A viewer logs in,
 * opens the fleet, a target's smoke charts (all agents and each one), zooms a chart with the
 * mouse, follows a link, opens the alerts; the data the charts hold is checked, and screenshots
 * are written to target/screenshots/. Then what must be refused is: pages and API calls without a
 * session, changes by a viewer, changes without the CSRF token, and markup in a hostile target's
 * and rule's names, which is shown as text.
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class DashboardIT {

    static final String HOSTILE = "<img src=x onerror=\"window.__xss=1\">";
    static final Path SHOTS = Path.of("target/screenshots").toAbsolutePath();

    private static ServerProcess server;
    private static final Map<String, AgentProcess> agents = new LinkedHashMap<>();
    private static AlertingIT.Target web;
    private static Browser browser;

    @BeforeClass
    public static void start() throws Exception {
        server = ServerProcess.start("alert_eval_s = 2\nmax_age_days = 400\nretention_raw_days = 400\n");
        web = new AlertingIT.Target();
        ok(server.admin("PUT", "/api/v1/targets/web", "{\"kind\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": " + web.port
                + ", \"interval_ms\": 500, \"agents\": \"*\"}"));
        // a target nothing answers: a loopback port no one listens on
        ok(server.admin("PUT", "/api/v1/targets/dead", "{\"kind\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": " + AgentProcess.freePort()
                + ", \"interval_ms\": 500, \"agents\": \"*\"}"));
        ok(server.admin("PUT", "/api/v1/targets/path", "{\"kind\": \"traceroute\", \"host\": \"127.0.0.1\", \"interval_ms\": 2000, \"agents\": \"*\"}"));
        ok(server.admin("PUT", "/api/v1/targets/" + java.net.URLEncoder.encode(HOSTILE, "UTF-8").replace("+", "%20"),
                "{\"kind\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": " + web.port + ", \"interval_ms\": 1000, \"agents\": \"*\"}"));
        ok(server.admin("PUT", "/api/v1/alert-rules/web-down", "{\"type\": \"target_down\", \"target\": \"web\", \"for\": \"2s\", \"window\": \"3s\"}"));
        ok(server.admin("PUT", "/api/v1/alert-rules/" + java.net.URLEncoder.encode(HOSTILE, "UTF-8").replace("+", "%20"),
                "{\"type\": \"agent_offline\", \"for\": \"5s\"}"));
        ok(server.admin("PUT", "/api/v1/meshes/lab", "{\"members\": \"lab\", \"kinds\": [\"icmp\"], \"fanout\": \"all\", \"interval_ms\": 1000}"));
        ok(server.admin("PUT", "/api/v1/users/vera", "{\"password\": \"a viewer's password\", \"role\": \"viewer\"}"));
        String token = server.enrollmentToken("{\"tags\": [\"lab\"]}");
        for (String id : List.of("vantage-a", "vantage-b")) {
            agents.put(id, AgentProcess.start(Map.of("etc/io.sonde.agent.cfg", "agent_id = " + id + "\n",
                    "etc/io.sonde.uplink.cfg", server.uplinkConfig(token, "config_poll_s = 1\n"))));
        }
        for (String id : agents.keySet()) {
            for (String t : List.of("web", "path")) {
                for (int i = 0; i < 600 && server.results(id, t).isEmpty(); i++) {
                    Thread.sleep(100);
                }
            }
        }
        history("history-1", 0);
        history("history-2", 3);
        Thread.sleep(3000); // a few more results of the agents'
        browser = Browser.start();
    }

    @AfterClass
    public static void stop() throws Exception {
        if (browser != null) {
            browser.close();
        }
        for (AgentProcess a : agents.values()) {
            a.close();
        }
        if (server != null) {
            server.close();
        }
        if (web != null) {
            web.close();
        }
    }

    /**
     * A year of stored results of "shop" from one more vantage agent, sent through the real ingest
     * as an agent sends them: one an hour until six hours ago, then one every 10 s; a daily swing
     * of latency, a step up in the last two hours, and now and then a lost packet.
     */
    static void history(String agent, int offsetMs) throws Exception {
        history(server, agent, offsetMs);
    }

    static void history(ServerProcess server, String agent, int offsetMs) throws Exception {
        String credential = SecurityIT.enroll(server, agent);
        java.time.Instant now = java.time.Instant.now();
        List<String> batch = new java.util.ArrayList<>();
        java.util.Random random = new java.util.Random(agent.hashCode());
        long seq = 0;
        java.time.Instant t = now.minus(java.time.Duration.ofDays(365));
        while (t.isBefore(now.minusSeconds(5))) {
            double hours = (now.getEpochSecond() - t.getEpochSecond()) / 3600.0;
            double ms = 18 + offsetMs + 6 * Math.sin(2 * Math.PI * (t.getEpochSecond() % 86400) / 86400.0) + random.nextDouble() * 4
                    + (hours < 2 ? 12 : 0);
            int received = random.nextInt(40) == 0 ? 3 : 5;
            batch.add("{\"seq\":" + (++seq) + ",\"target\":\"shop\",\"kind\":\"icmp\",\"started_at\":\"" + t + "\",\"success\":true,"
                    + "\"response_time_seconds\":" + (ms / 1000) + ",\"details\":{\"sent\":5,\"received\":" + received + "}}");
            if (batch.size() == 2000) {
                post(server, agent, credential, batch);
            }
            t = t.plusSeconds(hours > 6 ? 3600 : 10);
        }
        post(server, agent, credential, batch);
    }

    static void post(ServerProcess server, String agent, String credential, List<String> results) throws Exception {
        if (results.isEmpty()) {
            return;
        }
        String json = "{\"schema\":1,\"agent_id\":\"" + agent + "\",\"epoch\":\"h1\",\"results\":[" + String.join(",", results) + "]}";
        HttpResponse<String> r = server.post("/api/v1/agents/" + agent + "/results", credential, json.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                "Content-Type", "application/json");
        assertEquals(r.body(), 200, r.statusCode());
        results.clear();
    }

    static void ok(HttpResponse<String> r) {
        assertTrue(r.statusCode() + " " + r.body(), r.statusCode() / 100 == 2);
    }

    @Test
    public void a_withoutASessionThePageLeadsToTheLoginAndAWrongPasswordIsSaid() throws Exception {
        browser.open(server.url() + "/");
        browser.await("the login page", 20, "location.pathname === '/ui/login' && document.getElementById('login')");
        browser.eval("document.getElementById('user').value = 'vera'; document.getElementById('password').value = 'wrong password';"
                + " document.getElementById('login').requestSubmit(); true");
        browser.await("the refusal", 20, "document.getElementById('login-error').textContent.length > 0");
        assertEquals("the user or the password is wrong", browser.text("document.getElementById('login-error').textContent"));
        browser.screenshot(SHOTS.resolve("login.png"));
    }

    @Test
    public void b_aViewerLogsInAndSeesTheFleet() throws Exception {
        browser.eval("document.getElementById('user').value = 'vera'; document.getElementById('password').value = \"a viewer's password\";"
                + " document.getElementById('login').requestSubmit(); true");
        browser.await("the landing page", 30, "window.__sonde && window.__sonde.view === 'now'");
        assertEquals("vera (viewer)", browser.text("document.getElementById('who').textContent"));
        // what is broken comes first: the dead target, down from both agents that probe it, with the reason
        String first = browser.text("document.querySelector('#broken tbody tr').dataset.target");
        assertEquals("dead", first);
        String row = browser.text("document.querySelector('#broken tbody tr').innerText");
        assertTrue(row, row.contains("down from 2 of 2") || row.contains("backoff"));
        assertTrue(row, browser.text("document.querySelector('#broken tbody tr .reason').textContent").startsWith("refused"));
        assertTrue(browser.text("document.getElementById('count-down').textContent"), Integer.parseInt(browser.text(
                "document.getElementById('count-down').textContent")) >= 1);
        // the grid: a red cell for each agent on dead, a green one on web
        assertEquals(2, browser.eval("document.querySelectorAll('#state-grid tr td.state-down, #state-grid tr td.state-backoff').length").getAsInt());
        assertTrue(browser.eval("document.querySelectorAll('#state-grid td.state-up').length").getAsInt() >= 2);
        assertFalse("nothing shows the text null", browser.text("document.getElementById('view').innerText").contains("null"));
        browser.screenshot(SHOTS.resolve("now.png"));
        browser.eval("location.hash = '#/targets'; true");
        browser.await("the targets", 30, "window.__sonde.view === 'targets'");
        assertEquals("dead", browser.text("document.querySelector('#targets tbody tr').dataset.target"));
        assertEquals("100.0 %", browser.text("document.querySelector('#targets tbody tr .loss').textContent"));
        browser.screenshot(SHOTS.resolve("targets.png"));
        browser.eval("location.hash = '#/targets?state=up'; true");
        browser.await("the targets that are up", 30, "window.__sonde.view === 'targets' && location.hash.includes('state=up')"
                + " && document.querySelector('#targets tbody tr')");
        assertEquals("up", browser.text("[...new Set([...document.querySelectorAll('#targets tbody tr td:first-child')].map(c => c.textContent))].join()"));
        browser.eval("location.hash = '#/fleet'; true");
        browser.await("the fleet", 30, "window.__sonde && window.__sonde.view === 'fleet'");
        assertEquals("4", browser.text("document.getElementById('count-agents').textContent"));
        assertEquals("[\"history-1\",\"history-2\",\"vantage-a\",\"vantage-b\"]", browser.eval("JSON.stringify([...document.querySelectorAll("
                + "'#agents tbody tr')].map(r => r.dataset.agent))").getAsString());
        assertTrue(browser.text("document.querySelector('#agents tbody').innerText"), browser.text("document.querySelector('#agents tbody')"
                + ".innerText").contains("lab"));
        browser.screenshot(SHOTS.resolve("fleet.png"));
        // paged: three a page, the counts over all four, the fourth on "more"
        browser.eval("location.hash = '#/fleet?limit=3'; true");
        browser.await("the fleet's first page", 30, "window.__sonde.view === 'fleet' && location.hash.includes('limit=3')"
                + " && document.querySelectorAll('#agents tbody tr').length === 3");
        assertEquals("4", browser.text("document.getElementById('count-agents').textContent"));
        assertEquals("3 of 4 agents shown", browser.text("document.getElementById('agents-shown').textContent"));
        browser.screenshot(SHOTS.resolve("fleet-paged.png"));
        browser.eval("document.getElementById('agents-more').click(); true");
        browser.await("the next page", 30, "document.querySelectorAll('#agents tbody tr').length === 4");
        assertEquals("[\"history-1\",\"history-2\",\"vantage-a\",\"vantage-b\"]", browser.eval("JSON.stringify([...document.querySelectorAll("
                + "'#agents tbody tr')].map(r => r.dataset.agent))").getAsString());
        assertEquals("4 agents", browser.text("document.getElementById('agents-shown').textContent"));
        assertEquals("no page left", "true", browser.text("String(document.getElementById('agents-more').classList.contains('is-hidden'))"));
    }

    @Test
    public void c_aTargetsSmokeChartsHoldItsStoredSteps() throws Exception {
        java.time.Instant now = java.time.Instant.now();
        HttpResponse<String> window = server.admin("PUT", "/api/v1/maintenance/shop-patching", "{\"starts_at\": \"" + now.minusSeconds(60)
                + "\", \"ends_at\": \"" + now.plusSeconds(3600) + "\", \"targets\": \"shop\", \"comment\": \"new disks\"}");
        assertEquals(window.body(), 201, window.statusCode());
        browser.eval("location.hash = '#/target/shop?range=1h'; true");
        browser.await("the charts", 30, "window.__sonde.view === 'target' && window.__sonde.charts.length === 3");
        String shown = browser.text("document.getElementById('maintenance').innerText");
        assertTrue(shown, shown.startsWith("Maintenance shop-patching: open now, until ") && shown.endsWith("— alerts notify no one (new disks)"));
        JsonObject all = browser.eval("window.__sonde.charts[0]").getAsJsonObject();
        assertTrue(all.toString(), all.get("agent").isJsonNull());
        assertEquals(all.toString(), 10, all.get("step").getAsInt());
        assertTrue(all.toString(), all.get("points").getAsInt() >= 350);
        assertTrue("medians drawn: " + all, all.get("medians").getAsInt() >= 350);
        assertTrue("steps with loss: " + all, all.get("losses").getAsInt() > 0);
        // what the chart holds is what the API says for the same range and step
        String from = java.time.Instant.ofEpochSecond(all.get("from").getAsLong()).toString();
        String to = java.time.Instant.ofEpochSecond(all.get("to").getAsLong()).toString();
        int steps = server.json(server.admin("GET", "/api/v1/series?target=shop&step=10s&from=" + from + "&to=" + to, null))
                .getAsJsonArray("items").size();
        assertEquals(steps, all.get("points").getAsInt());
        assertEquals("[\"history-1\",\"history-2\"]", browser.eval("JSON.stringify(window.__sonde.charts.slice(1).map(c => c.agent))").getAsString());
        System.out.println("FIGURE dashboard smoke chart, 1 hour at 10 s: " + all.get("points") + " steps, fetched in " + all.get("fetchMs")
                + " ms, drawn in " + all.get("renderMs") + " ms");
        browser.screenshot(SHOTS.resolve("target.png"));
        assertEquals(204, server.admin("DELETE", "/api/v1/maintenance/shop-patching", null).statusCode());
    }

    @Test
    public void c_aDownTargetsPageShowsRedBandsAndTheReasonNeverAnEmptyChart() throws Exception {
        browser.eval("location.hash = '#/target/dead'; true");
        browser.await("the dead target's charts", 30, "window.__sonde.view === 'target' && window.__sonde.charts.length === 3");
        // its results are a few minutes old: the range fits them, not six hours
        assertTrue(browser.text("document.getElementById('fitted').textContent"), browser.text("document.getElementById('fitted').textContent")
                .startsWith("Showing the "));
        JsonObject all = browser.eval("window.__sonde.charts[0]").getAsJsonObject();
        assertTrue(all.toString(), all.get("to").getAsLong() - all.get("from").getAsLong() <= 3600);
        assertEquals(all.toString(), 0, all.get("medians").getAsInt());
        assertTrue("red bands where every probe failed: " + all, all.get("downSteps").getAsInt() >= 1);
        // a state timeline per agent, red where its probes failed
        assertEquals("[\"vantage-a\",\"vantage-b\"]", browser.eval("JSON.stringify([...document.querySelectorAll('#state-timeline canvas')]"
                + ".map(c => c.dataset.agent))").getAsString());
        assertTrue(browser.eval("Math.min(...[...document.querySelectorAll('#state-timeline canvas')].map(c => Number(c.dataset.downSteps)))")
                .getAsInt() >= 1);
        // the per-agent charts share one scale
        JsonObject a = browser.eval("window.__sonde.charts[1]").getAsJsonObject();
        JsonObject b = browser.eval("window.__sonde.charts[2]").getAsJsonObject();
        assertEquals(a.get("yMax").toString(), b.get("yMax").toString());
        // the state, since when, from where, and why
        String health = browser.text("document.getElementById('target-health').innerText");
        assertTrue(health, health.contains("down from 2 of 2"));
        assertTrue(health, browser.text("document.getElementById('last-error').innerText").contains("refused"));
        assertEquals(2, browser.eval("document.querySelectorAll('#target-agents td .state-backoff, #target-agents td .state-down').length").getAsInt());
        assertFalse("nothing shows the text null", browser.text("document.getElementById('view').innerText").contains("null"));
        browser.screenshot(SHOTS.resolve("target-down.png"));
        // an agent's page, one click away
        browser.eval("document.querySelector('#target-agents tr[data-agent=\"vantage-a\"] a').click(); true");
        browser.await("the agent's page", 30, "window.__sonde.view === 'agent'");
        assertEquals("vantage-a", browser.text("document.getElementById('agent-name').textContent"));
        assertEquals("dead", browser.text("document.querySelector('#agent-targets tbody tr').dataset.target"));
        assertTrue(browser.text("document.getElementById('agent-facts').innerText"), browser.text("document.getElementById('agent-facts').innerText")
                .contains("Configuration applied"));
        browser.screenshot(SHOTS.resolve("agent.png"));
    }

    @Test
    public void c_aYearAtHourlyStepsIsDrawnFromTheRollups() throws Exception {
        browser.eval("location.hash = '#/target/shop?range=1y&agents=overlay'; true");
        browser.await("the year's charts", 60, "window.__sonde.view === 'target' && window.__sonde.charts.length === 2");
        JsonObject year = browser.eval("window.__sonde.charts[0]").getAsJsonObject();
        JsonObject overlaid = browser.eval("window.__sonde.charts[1]").getAsJsonObject();
        assertEquals(overlaid.toString(), "[\"history-1\",\"history-2\"]", overlaid.get("agents").toString());
        assertTrue(overlaid.toString(), overlaid.get("points").getAsInt() >= 8700);
        assertEquals(year.toString(), 3600, year.get("step").getAsInt());
        assertTrue(year.toString(), year.get("points").getAsInt() >= 8700);
        System.out.println("FIGURE dashboard smoke chart, 1 year at 1 h: " + year.get("points") + " steps, fetched in " + year.get("fetchMs")
                + " ms, drawn in " + year.get("renderMs") + " ms");
        browser.screenshot(SHOTS.resolve("target-year.png"));
    }

    @Test
    public void d_draggingOverAChartZoomsIn() throws Exception {
        JsonObject before = browser.eval("window.__sonde.charts[0]").getAsJsonObject();
        JsonObject box = browser.eval("(() => { document.querySelector('#chart-all').scrollIntoView(); const r = document.querySelector('#chart-all .u-over').getBoundingClientRect();"
                + " return {x: r.x, y: r.y, w: r.width, h: r.height}; })()").getAsJsonObject();
        double y = box.get("y").getAsDouble() + box.get("h").getAsDouble() / 2;
        double x0 = box.get("x").getAsDouble();
        double w = box.get("w").getAsDouble();
        browser.drag(x0 + w * 0.90, y, x0 + w * 0.99, y);
        browser.await("the zoomed chart", 30, "location.hash.includes('from=') && window.__sonde.view === 'target' && window.__sonde.charts.length >= 1");
        JsonObject after = browser.eval("window.__sonde.charts[0]").getAsJsonObject();
        long span = after.get("to").getAsLong() - after.get("from").getAsLong();
        assertTrue("zoomed to " + after + " from " + before, span < (before.get("to").getAsLong() - before.get("from").getAsLong()) / 5);
        assertTrue(after.toString(), after.get("from").getAsLong() > before.get("from").getAsLong());
    }

    @Test
    public void e_theTargetsListLinksToATargetAndThePathIsShown() throws Exception {
        browser.eval("location.hash = '#/targets'; true");
        browser.await("the targets", 30, "window.__sonde.view === 'targets'");
        browser.eval("[...document.querySelectorAll('a.target-link')].find(a => a.textContent === 'path').click(); true");
        browser.await("the path's page", 30, "window.__sonde.view === 'target' && document.querySelector('table.path')");
        assertEquals("path", browser.text("document.getElementById('target-name').textContent"));
        // each agent's own path
        assertEquals("[\"vantage-a\",\"vantage-b\"]", browser.eval("JSON.stringify([...document.querySelectorAll('table.path')].map(t => t.dataset.agent).sort())")
                .getAsString());
        String path = browser.text("document.querySelector('table.path').innerText");
        assertTrue(path, path.contains("127.0.0.1"));
        // each agent's hops' RTT over time, not the trace's duration
        JsonObject hops = browser.eval("window.__sonde.charts.filter(c => c.kind === 'hops').map(c => ({agent: c.agent, hops: c.hops,"
                + " points: c.points})).reduce((o, c) => (o[c.agent] = c, o), {})").getAsJsonObject();
        assertEquals(hops.toString(), java.util.Set.of("vantage-a", "vantage-b"), hops.keySet());
        for (String a : hops.keySet()) {
            assertTrue(hops.toString(), hops.getAsJsonObject(a).get("hops").getAsInt() >= 1);
            assertTrue(hops.toString(), hops.getAsJsonObject(a).get("points").getAsInt() >= 2);
        }
        browser.screenshot(SHOTS.resolve("path.png"));
    }

    @Test
    public void f_alertsAreListed() throws Exception {
        web.down();
        browser.eval("location.hash = '#/alerts'; true");
        browser.await("the alerts", 30, "window.__sonde.view === 'alerts'");
        for (int i = 0; i < 30 && !browser.text("document.getElementById('alerts').innerText").contains("web-down"); i++) {
            Thread.sleep(1000);
            browser.eval("window.dispatchEvent(new HashChangeEvent('hashchange')); true");
            browser.await("the alerts", 30, "window.__sonde.view === 'alerts'");
        }
        assertTrue(browser.text("document.getElementById('alerts').innerText"), browser.text("document.getElementById('alerts').innerText")
                .contains("web-down"));
        assertTrue(browser.text("document.getElementById('rules').innerText").contains("target_down"));
        browser.screenshot(SHOTS.resolve("alerts.png"));
        web.up();
    }

    @Test
    public void g_aViewerChangesNothingAndAChangeWithoutItsCsrfTokenIsRefused() throws Exception {
        String noCsrf = browser.text("fetch('/api/v1/targets/x', {method: 'PUT', credentials: 'same-origin', headers: {'Content-Type': 'application/json'},"
                + " body: '{\"kind\":\"tcp\",\"host\":\"127.0.0.1\",\"port\":1,\"agents\":\"*\"}'}).then(r => r.status + ' ' + r.statusText)");
        assertTrue(noCsrf, noCsrf.startsWith("403"));
        String viewer = browser.text("fetch('/api/v1/session').then(r => r.json()).then(s => fetch('/api/v1/targets/x', {method: 'PUT',"
                + " credentials: 'same-origin', headers: {'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf},"
                + " body: '{\"kind\":\"tcp\",\"host\":\"127.0.0.1\",\"port\":1,\"agents\":\"*\"}'})).then(r => r.text().then(t => r.status + ' ' + t))");
        assertTrue(viewer, viewer.startsWith("403") && viewer.contains("viewer"));
        assertEquals(404, server.admin("GET", "/api/v1/targets/x", null).statusCode());
        // the CSRF check itself, from a session that may change things: an admin's, without the token, then with it
        String admin = browser.text("fetch('/api/v1/session', {method: 'POST', credentials: 'same-origin', headers: {'Content-Type':"
                + " 'application/json'}, body: JSON.stringify({user: 'admin', password: '" + server.adminToken() + "'})})"
                + ".then(r => r.json()).then(s => s.role)");
        assertEquals("admin", admin);
        String adminNoCsrf = browser.text("fetch('/api/v1/targets/x', {method: 'PUT', credentials: 'same-origin', headers: {'Content-Type':"
                + " 'application/json'}, body: '{\"kind\":\"tcp\",\"host\":\"127.0.0.1\",\"port\":1,\"agents\":\"*\"}'})"
                + ".then(r => r.text().then(t => r.status + ' ' + t))");
        assertTrue(adminNoCsrf, adminNoCsrf.startsWith("403")
                && adminNoCsrf.contains("a change made with a session needs its CSRF token in the X-CSRF-Token header"));
        assertEquals(404, server.admin("GET", "/api/v1/targets/x", null).statusCode());
        String adminCsrf = browser.text("fetch('/api/v1/session').then(r => r.json()).then(s => fetch('/api/v1/targets/x', {method: 'PUT',"
                + " credentials: 'same-origin', headers: {'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf},"
                + " body: '{\"kind\":\"tcp\",\"host\":\"127.0.0.1\",\"port\":1,\"agents\":\"*\"}'})).then(r => r.status + '')");
        assertEquals("with its token the same change is made", "201", adminCsrf);
        assertEquals(204, server.admin("DELETE", "/api/v1/targets/x", null).statusCode());
        for (String path : List.of("/api/v1/agents", "/api/v1/observed", "/api/v1/alerts", "/api/v1/series?target=web", "/api/v1/users")) {
            assertEquals(path, 401, server.get(path).statusCode());
        }
        HttpResponse<String> page = server.get("/ui/");
        assertEquals(302, page.statusCode());
        assertEquals("/ui/login", page.headers().firstValue("Location").orElse("").replaceFirst("^https://[^/]+", ""));
        assertEquals(200, server.get("/ui/login").statusCode());
        // the WebJars' files, where Vendor serves them whatever their versions (the login page needs them before a session)
        HttpResponse<String> css = server.get("/ui/vendor/bulma/bulma.min.css");
        assertEquals(200, css.statusCode());
        assertTrue(css.headers().firstValue("Content-Type").orElse(""), css.headers().firstValue("Content-Type").orElse("").startsWith("text/css"));
        assertTrue("Bulma's stylesheet", css.body().contains(".button"));
        HttpResponse<String> uplot = server.get("/ui/vendor/uplot/uPlot.esm.js");
        assertEquals(200, uplot.statusCode());
        assertTrue("uPlot's module", uplot.body().contains("export"));
        assertEquals(200, server.get("/ui/vendor/uplot/uPlot.min.css").statusCode());
        for (String sly : List.of("/ui/assets/../", "/ui/vendor/../", "/ui/assets/../../api/v1/agents", "/api/docs/../v1/agents")) {
            HttpResponse<String> r = server.get(sly);
            assertTrue(sly + " answered " + r.statusCode() + " " + r.body(), r.statusCode() == 302 || r.statusCode() == 401 || r.statusCode() == 400);
        }
        String policy = server.get("/ui/login").headers().firstValue("Content-Security-Policy").orElse("");
        assertTrue(policy, policy.contains("script-src 'self'"));
    }

    @Test
    public void h_hostileNamesAreShownAsText() throws Exception {
        browser.eval("location.hash = '#/targets'; true");
        browser.await("the hostile target listed", 60, "window.__sonde.view === 'targets' && document.getElementById('targets').innerText.includes('<img')"
                + " || (window.dispatchEvent(new HashChangeEvent('hashchange')), false)");
        browser.eval("[...document.querySelectorAll('a.target-link')].find(a => a.textContent.startsWith('<img')).click(); true");
        browser.await("its page", 30, "window.__sonde.view === 'target'");
        assertEquals(HOSTILE, browser.text("document.getElementById('target-name').textContent"));
        browser.eval("location.hash = '#/alerts'; true");
        browser.await("the alerts", 30, "window.__sonde.view === 'alerts'");
        assertTrue(browser.text("document.getElementById('rules').innerText").contains(HOSTILE));
        assertEquals("no markup of theirs ran", "undefined", browser.text("typeof window.__xss"));
        assertEquals(0, browser.eval("document.querySelectorAll('#view img').length").getAsInt());
    }

    @Test
    public void i_loggingOutEndsTheSession() throws Exception {
        browser.eval("location.hash = '#/logout'; true");
        browser.await("the login page", 30, "location.pathname === '/ui/login'");
        String status = browser.text("fetch('/api/v1/agents', {credentials: 'same-origin'}).then(r => String(r.status))");
        assertEquals("401", status);
    }

    @Test
    public void j_anAdminConfiguresTargetsAndTokensWithTheApisOwnChecks() throws Exception {
        browser.open(server.url() + "/ui/login");
        browser.eval("document.getElementById('user').value = 'admin'; document.getElementById('password').value = '" + server.adminToken()
                + "'; document.getElementById('login').requestSubmit(); true");
        browser.await("the landing page", 30, "window.__sonde && window.__sonde.view === 'now'");
        assertEquals("false", browser.text("String(document.getElementById('nav-settings').classList.contains('is-hidden'))"));
        assertEquals("logging in again over a live session needs no CSRF token", "200", browser.text("fetch('/api/v1/session', {method: 'POST',"
                + " credentials: 'same-origin', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({user: 'admin', password: '"
                + server.adminToken() + "'})}).then(r => String(r.status))"));
        // the page still holds the first session's CSRF token: its first change is refused, and it takes the new session's and tries again
        browser.eval("window.confirm = () => true; location.hash = '#/settings/targets'; true");
        browser.await("the targets' configuration", 30, "window.__sonde.view === 'settings' && document.getElementById('def-body')");
        String bad = "{\"kind\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": 99999, \"agents\": \"lab\"}";
        browser.eval("document.getElementById('def-name').value = 'db'; document.getElementById('def-body').value = '" + bad
                + "'; document.getElementById('def-save').click(); true");
        browser.await("the API's refusal", 30, "document.getElementById('def-result').textContent.length > 0");
        HttpResponse<String> api = server.admin("PUT", "/api/v1/targets/db", bad);
        assertEquals(400, api.statusCode());
        assertEquals("the same message as the API's", server.json(api).get("error").getAsString(),
                browser.text("document.getElementById('def-result').textContent"));
        browser.eval("document.getElementById('def-preview-button').click(); true");
        browser.await("the preview", 30, "document.getElementById('def-preview').textContent.length > 0");
        assertEquals("\"lab\" takes 2 agents now: vantage-a, vantage-b", browser.text("document.getElementById('def-preview').textContent"));
        browser.eval("document.getElementById('def-body').value = document.getElementById('def-body').value.replace('99999', '5432');"
                + " document.getElementById('def-save').click(); true");
        browser.await("the new target listed", 30, "document.querySelector('#definitions tr[data-name=\"db\"]')");
        assertEquals(200, server.admin("GET", "/api/v1/targets/db", null).statusCode());
        browser.eval("document.querySelector('#definitions tr[data-name=\"db\"] button').click(); true");
        browser.await("deleted", 30, "window.__sonde.view === 'settings' && !document.querySelector('#definitions tr[data-name=\"db\"]')");
        assertEquals(404, server.admin("GET", "/api/v1/targets/db", null).statusCode());

        // a receiver: saved with a secret that is never shown again, a test sent from the page to a receiver of the test's own
        java.util.List<String> hooked = new java.util.concurrent.CopyOnWriteArrayList<>();
        com.sun.net.httpserver.HttpServer hook = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 10);
        hook.createContext("/", x -> {
            hooked.add(new String(x.getRequestBody().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            x.sendResponseHeaders(204, -1);
            x.close();
        });
        hook.start();
        try {
            server.admin("PUT", "/api/v1/receivers/ops-hook", "{\"type\": \"webhook\", \"url\": \"http://127.0.0.1:" + hook.getAddress().getPort()
                    + "/sonde\"}");
            browser.eval("location.hash = '#/settings/receivers'; true");
            browser.await("the receivers", 30, "window.__sonde.view === 'settings' && document.querySelector('#definitions tr[data-name=\"ops-hook\"]')");
            String slack = "{\"type\": \"slack\", \"url\": \"https://127.0.0.1:" + AgentProcess.freePort() + "/services/T0/B0/dashsecret0123456789\"}";
            browser.eval("document.getElementById('def-name').value = 'ops-slack'; document.getElementById('def-body').value = '" + slack
                    + "'; document.getElementById('def-save').click(); true");
            browser.await("the new receiver listed", 30, "document.querySelector('#definitions tr[data-name=\"ops-slack\"]')");
            assertEquals("the secret is not on the page", "false", browser.text("String(document.body.innerText.includes('dashsecret0123456789'))"));
            assertTrue(browser.text("document.querySelector('#definitions tr[data-name=\"ops-slack\"]').innerText"),
                    browser.text("document.querySelector('#definitions tr[data-name=\"ops-slack\"]').innerText").contains("\"secrets_set\":[\"url\"]"));
            browser.eval("document.querySelector('#definitions tr[data-name=\"ops-hook\"] .receiver-test').click(); true");
            browser.await("the test's outcome", 30, "document.getElementById('receiver-test-result').textContent.startsWith('Delivered')");
            assertTrue(browser.text("document.getElementById('receiver-test-result').textContent"),
                    browser.text("document.getElementById('receiver-test-result').textContent").startsWith("Delivered a test to ops-hook (webhook http://127.0.0.1:"));
            assertEquals(1, hooked.size());
            browser.eval("document.querySelector('#definitions tr[data-name=\"ops-slack\"] .receiver-test').click(); true");
            browser.await("the failed test's outcome", 30, "document.getElementById('receiver-test-result').textContent.startsWith('Not delivered')");
            String failed = browser.text("document.getElementById('receiver-test-result').textContent");
            assertTrue(failed, failed.startsWith("Not delivered to ops-slack (slack https://127.0.0.1:") && failed.contains("ConnectException"));
            assertEquals("is-danger", browser.text("document.getElementById('receiver-test-result').classList.contains('is-danger') ? 'is-danger' : 'no'"));
            browser.screenshot(SHOTS.resolve("settings-receivers.png"));
            server.admin("DELETE", "/api/v1/receivers/ops-slack", null);
            server.admin("DELETE", "/api/v1/receivers/ops-hook", null);
        } finally {
            hook.stop(0);
        }

        browser.eval("location.hash = '#/settings/tokens'; true");
        browser.await("the tokens", 30, "window.__sonde.view === 'settings' && document.getElementById('token-create')");
        browser.eval("document.getElementById('token-tags').value = 'edge, fra1'; document.getElementById('token-create').click(); true");
        browser.await("the token, once", 30, "document.getElementById('token-secret')");
        String secret = browser.text("document.getElementById('token-secret').textContent");
        assertTrue(secret, secret.length() > 20);
        browser.screenshot(SHOTS.resolve("settings-tokens.png"));
        browser.eval("location.hash = '#/settings/agents'; true");
        browser.eval("location.hash = '#/settings/tokens'; true");
        browser.await("the tokens again", 30, "window.__sonde.view === 'settings' && document.querySelectorAll('#tokens tbody tr').length >= 2");
        assertEquals("never shown again", "false", browser.text("String(document.body.innerText.includes('" + secret + "'))"));
        int before = browser.eval("document.querySelectorAll('#tokens tbody tr').length").getAsInt();
        browser.eval("[...document.querySelectorAll('#tokens tbody tr')].pop().querySelector('button').click(); true");
        browser.await("revoked", 30, "window.__sonde.view === 'settings' && document.querySelectorAll('#tokens tbody tr').length === " + (before - 1));
        HttpResponse<String> refused = server.post("/api/v1/enroll", null, ("{\"schema\":1,\"enrollment_token\":\"" + secret
                + "\",\"agent_id\":\"late\",\"version\":\"test\"}").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertEquals("a revoked token enrolls no one: " + refused.body(), 401, refused.statusCode());

        browser.eval("location.hash = '#/settings/agents'; true");
        browser.await("the agents", 30, "window.__sonde.view === 'settings' && document.querySelector('#agent-admin tr[data-agent=\"vantage-b\"] .agent-tags')");
        browser.eval("(() => { const row = document.querySelector('#agent-admin tr[data-agent=\"vantage-b\"]');"
                + " row.querySelector('.agent-tags').value = 'lab, <b>'; row.querySelector('.agent-tags-save').click(); return true; })()");
        browser.await("the refusal", 30, "document.querySelector('#agent-admin tr[data-agent=\"vantage-b\"] .agent-tags-error').textContent.length > 0");
        assertEquals("tags[1]: '<b>' is not a tag (letters, digits, _ . : / = -; at most 100)",
                browser.text("document.querySelector('#agent-admin tr[data-agent=\"vantage-b\"] .agent-tags-error').textContent"));
        browser.eval("(() => { const row = document.querySelector('#agent-admin tr[data-agent=\"vantage-b\"]');"
                + " row.querySelector('.agent-tags').value = 'lab, fra1'; row.querySelector('.agent-tags-save').click(); return true; })()");
        for (int i = 0; i < 100 && !server.agent("vantage-b").get("tags").toString().contains("fra1"); i++) {
            Thread.sleep(100);
        }
        assertEquals("[\"lab\",\"fra1\"]", server.agent("vantage-b").get("tags").toString());
        assertTrue(refused.body(), refused.body().contains("the enrollment token is not known"));
    }

    @Test
    public void k_aMeshMatrixLinksToThePairsChart() throws Exception {
        browser.eval("location.hash = '#/meshes'; true");
        browser.await("the meshes", 30, "window.__sonde.view === 'meshes'");
        browser.eval("[...document.querySelectorAll('#view a')].find(a => a.textContent === 'lab').click(); true");
        browser.await("the matrix with results", 60, "window.__sonde.view === 'mesh' && document.querySelectorAll('#matrix a.pair-link').length === 2"
                + " || (window.__sonde.view === 'mesh' && window.dispatchEvent(new HashChangeEvent('hashchange')), false)");
        assertEquals("[\"vantage-a\",\"vantage-b\"]", browser.eval("JSON.stringify([...document.querySelectorAll('#matrix tbody th')].map(t => t.textContent))")
                .getAsString());
        browser.screenshot(SHOTS.resolve("mesh.png"));
        browser.eval("document.querySelector('#matrix a.pair-link[title=\"vantage-a → vantage-b\"]').click(); true");
        browser.await("the pair's chart", 30, "window.__sonde.view === 'target' && window.__sonde.charts.length >= 1");
        assertEquals("mesh/lab/icmp/vantage-b", browser.text("document.getElementById('target-name').textContent"));
        assertEquals("vantage-a", browser.text("window.__sonde.charts.length === 1 ? 'vantage-a' : 'more'"));
        assertTrue(browser.eval("window.__sonde.charts[0].points").getAsInt() >= 1);
    }

    /**
     * A target seen from more agents than the page can show: 120 vantage agents (110 find it down), as their batches reach
     * the server. The list carries its 100 worst agents and says it left 20 out; the landing page names the first five
     * and counts all the others, and its grid shows the 100 agents with the most targets not up and says how many more.
     */
    @Test
    public void z_aTargetSeenFromMoreAgentsThanThePageShowsIsCountedWhole() throws Exception {
        java.time.Instant now = java.time.Instant.now();
        for (int a = 0; a < 120; a++) {
            String id = String.format("wide-%03d", a);
            String credential = SecurityIT.enroll(server, id);
            List<String> batch = new java.util.ArrayList<>();
            for (int k = 0; k < 3; k++) {
                boolean ok = a >= 110;
                batch.add("{\"seq\":" + (k + 1) + ",\"target\":\"wide\",\"kind\":\"tcp\",\"started_at\":\"" + now.minusSeconds(30 - k * 10)
                        + "\",\"success\":" + ok + (ok ? "" : ",\"failure_reason\":\"refused\",\"error\":\"connection refused\"")
                        + ",\"response_time_seconds\":0.001}");
            }
            post(server, id, credential, batch);
        }
        com.google.gson.JsonObject wide = null;
        for (int i = 0; i < 100 && (wide == null || wide.get("vantages").getAsInt() < 120); i++) {
            wide = server.json(server.admin("GET", "/api/v1/health/wide", null));
            Thread.sleep(100);
        }
        assertEquals(wide.toString(), "down from 110 of 120", wide.get("text").getAsString());
        assertEquals("the one target's view lists every agent", 120, wide.getAsJsonArray("agents").size());
        com.google.gson.JsonObject list = server.json(server.admin("GET", "/api/v1/health?limit=500&target=wide", null));
        com.google.gson.JsonObject item = list.getAsJsonArray("items").get(0).getAsJsonObject();
        assertEquals(100, item.getAsJsonArray("agents").size());
        assertEquals(20, item.get("agents_omitted").getAsInt());
        assertEquals("wide-000", item.getAsJsonArray("agents").get(0).getAsJsonObject().get("agent_id").getAsString());
        assertEquals("down", item.getAsJsonArray("agents").get(99).getAsJsonObject().get("state").getAsString());
        java.util.Set<String> columns = new java.util.TreeSet<>();
        for (com.google.gson.JsonElement t : server.json(server.admin("GET", "/api/v1/health?limit=500", null)).getAsJsonArray("items")) {
            for (com.google.gson.JsonElement a : t.getAsJsonObject().getAsJsonArray("agents")) {
                columns.add(a.getAsJsonObject().get("agent_id").getAsString());
            }
        }
        assertTrue(columns.toString(), columns.size() > 100);

        browser.eval("location.hash = '#/'; true"); // from the mesh pair's chart, where the test before left it
        browser.await("the landing page with the wide target", 30, "window.__sonde.view === 'now'"
                + " && document.querySelector('#broken tr[data-target=\"wide\"]') !== null");
        String from = browser.text("document.querySelector('#broken tr[data-target=\"wide\"] td:nth-child(4)').textContent");
        assertEquals("down from 110 of 120: wide-000, wide-001, wide-002, wide-003, wide-004 and 105 more", from);
        assertEquals("100", browser.text("String(document.querySelectorAll('#state-grid thead th.agent').length)"));
        assertEquals("The 100 agents that see the most targets broken; " + (columns.size() - 100) + " more agents are not shown.",
                browser.text("document.getElementById('grid-more').textContent"));
        // the columns: the agents that see a target down (the dead one's two, the wide one's first 98 by name), not those that
        // see every target up or have no word yet
        assertEquals("vantage-a,vantage-b,wide-000,wide-097", browser.text("(() => { const a = [...document.querySelectorAll("
                + "'#state-grid thead th.agent')].map(t => t.title); return [a[0], a[1], a[2], a[99]].join(); })()"));
        browser.screenshot(SHOTS.resolve("now-wide.png"));

        // two navigations before the first view's requests are answered: one view is drawn, never the two one under the other
        browser.eval("location.hash = '#/fleet?x=1'; location.hash = '#/fleet?x=2'; window.dispatchEvent(new HashChangeEvent('hashchange'));"
                + " true");
        browser.await("the fleet", 30, "window.__sonde.view === 'fleet' && document.querySelectorAll('#agents tbody tr').length > 100");
        Thread.sleep(1000); // the other routes' requests, answered by now
        assertEquals("1", browser.text("String(document.querySelectorAll('#agents').length)"));
        assertEquals("1", browser.text("String(document.querySelectorAll('#view h1').length)"));
    }
}
