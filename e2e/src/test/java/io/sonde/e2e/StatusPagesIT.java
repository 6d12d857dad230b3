package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

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
 * Public status pages against the built server: a real agent probes three targets of the page
 * (one on a closed port) and one the page does not select; another uploads a past day of one of
 * them. The page is served without login, as HTML (checked in Chromium at a phone's width), JSON
 * and SVG badges: each group's state now, 90 days of bars, the outage going on and the past one,
 * the maintenance under way — and nothing the page does not select, no agent, address or error.
 * Requests share one build every 10 s: the store sees builds, not requests.
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class StatusPagesIT {

    private static ServerProcess server;
    private static AgentProcess agent;
    private static AlertingIT.Target web;
    private static Instant base;
    private static String day;

    @BeforeClass
    public static void start() throws Exception {
        server = ServerProcess.start("");
        web = new AlertingIT.Target();
        for (String[] t : new String[][] {{"web", "" + web.port, "shop"}, {"shop-api", "" + web.port, "shop"},
            {"dead", "" + AgentProcess.freePort(), "shop"}, {"secret-db", "" + web.port, "internal"}}) {
            DashboardIT.ok(server.admin("PUT", "/api/v1/targets/" + t[0], "{\"kind\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": " + t[1]
                    + ", \"interval_ms\": 1000, \"agents\": \"*\", \"tags\": [\"" + t[2] + "\"]}"));
        }
        String token = server.enrollmentToken("{}");
        agent = AgentProcess.start(Map.of("etc/io.sonde.agent.cfg", "agent_id = page-probe-1\n",
                "etc/io.sonde.uplink.cfg", server.uplinkConfig(token, "config_poll_s = 1\n")));
        for (String t : List.of("web", "shop-api", "dead", "secret-db")) {
            for (int i = 0; i < 600 && server.results("page-probe-1", t).isEmpty(); i++) {
                Thread.sleep(100);
            }
        }
        // a day two days ago of web, from another agent's spool: down in minutes 30-44 of three hours
        Instant today = Instant.now().truncatedTo(ChronoUnit.DAYS);
        base = today.minus(Duration.ofDays(2)).plus(Duration.ofHours(10));
        day = base.toString().substring(0, 10);
        String credential = SecurityIT.enroll(server, "hist-1");
        List<String> results = new ArrayList<>();
        for (int m = 0; m < 180; m++) {
            boolean ok = m < 30 || m >= 45;
            results.add("{\"seq\":" + (m + 1) + ",\"target\":\"web\",\"kind\":\"tcp\",\"started_at\":\"" + base.plusSeconds(60L * m + 10)
                    + "\",\"success\":" + ok + (ok ? "" : ",\"failure_reason\":\"refused\"") + ",\"response_time_seconds\":0.001}");
        }
        DashboardIT.post(server, "hist-1", credential, results);
        String path = "/api/v1/reports/uptime/web?from=" + day + "&to=" + base.plus(Duration.ofDays(1)).toString().substring(0, 10);
        for (int i = 0; i < 240 && server.admin("GET", path, null).statusCode() != 200; i++) { // the uptime job: every 15 s
            Thread.sleep(500);
        }
        assertEquals("web's past day counted", 200, server.admin("GET", path, null).statusCode());
        DashboardIT.ok(server.admin("PUT", "/api/v1/maintenance/db-move", "{\"starts_at\": \"" + Instant.now().minusSeconds(60)
                + "\", \"ends_at\": \"" + Instant.now().plus(Duration.ofHours(1)) + "\", \"targets\": \"web\", \"comment\": \"Moving the database\"}"));
        HttpResponse<String> put = server.admin("PUT", "/api/v1/status-pages/shop", "{\"title\": \"Shop status\", \"description\":"
                + " \"The web shop and its API\", \"notice\": \"We are looking into <b>slow</b> checkouts.\","
                + " \"groups\": [{\"name\": \"Storefront\", \"targets\": \"shop\"}]}");
        assertEquals(put.body(), 201, put.statusCode());
        // the page says dead is down once the agent's failures stand
        for (int i = 0; i < 300; i++) {
            JsonObject doc = document();
            if (doc != null && doc.get("state").getAsString().equals("partial_outage")) {
                return;
            }
            Thread.sleep(500); // a build serves 10 s
        }
    }

    @AfterClass
    public static void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        if (server != null) {
            server.close();
        }
        if (web != null) {
            web.close();
        }
    }

    /** GET without any credential. */
    private static HttpResponse<String> anonymous(String path) throws Exception {
        return server.request("GET", path, null, null);
    }

    private static JsonObject document() throws Exception {
        HttpResponse<String> r = anonymous("/status/shop/status.json");
        return r.statusCode() == 200 ? JsonParser.parseString(r.body()).getAsJsonObject() : null;
    }

    @Test
    public void a_thePageIsServedWithoutLoginAndShowsOnlyWhatItSelects() throws Exception {
        HttpResponse<String> r = anonymous("/status/shop");
        assertEquals(r.body(), 200, r.statusCode());
        assertEquals("text/html;charset=utf-8", r.headers().firstValue("Content-Type").orElse("").replace(" ", "").toLowerCase());
        assertTrue(r.headers().firstValue("Content-Security-Policy").orElse("").startsWith("default-src 'none'; style-src 'self'"));
        assertEquals("public, max-age=10", r.headers().firstValue("Cache-Control").orElse(""));
        String html = r.body();
        assertTrue(html, html.contains("<h1>Shop status</h1>"));
        HttpResponse<byte[]> gz = server.client().send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.url() + "/status/shop"))
                .header("Accept-Encoding", "gzip").build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals("gzip", gz.headers().firstValue("Content-Encoding").orElse(""));
        assertEquals("the same page, gzipped", html, new String(new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(gz.body()))
                .readAllBytes(), StandardCharsets.UTF_8));
        assertTrue(html, html.contains("Partial outage"));
        assertTrue("the notice as text", html.contains("We are looking into &lt;b&gt;slow&lt;/b&gt; checkouts."));
        assertTrue(html, html.contains("<strong>dead</strong> is down since"));
        assertTrue(html, html.contains("<strong>Under way</strong>: Moving the database"));
        for (String secret : List.of("secret-db", "page-probe-1", "hist-1", "127.0.0.1", String.valueOf(web.port), "refused", "internal")) {
            assertFalse("the page shows " + secret, html.contains(secret));
        }
        JsonObject doc = document();
        for (String secret : List.of("secret-db", "page-probe-1", "hist-1", "127.0.0.1", "refused")) {
            assertFalse("the document shows " + secret, doc.toString().contains(secret));
        }
    }

    @Test
    public void b_theDocumentHoldsTheStatesTheDaysAndTheIncidents() throws Exception {
        JsonObject doc = document();
        assertEquals("partial_outage", doc.get("state").getAsString());
        JsonObject group = doc.getAsJsonArray("groups").get(0).getAsJsonObject();
        assertEquals("Storefront", group.get("name").getAsString());
        assertEquals("down", group.get("state").getAsString());
        Set<String> names = new HashSet<>();
        JsonObject webShown = null;
        for (JsonElement e : group.getAsJsonArray("targets")) {
            JsonObject t = e.getAsJsonObject();
            names.add(t.get("name").getAsString());
            assertEquals(90, t.getAsJsonArray("days").size());
            if (t.get("name").getAsString().equals("web")) {
                webShown = t;
            }
            assertEquals(t.get("name").getAsString(), t.get("name").getAsString().equals("dead") ? "down" : "up", t.get("state").getAsString());
        }
        assertEquals(Set.of("web", "shop-api", "dead"), names);
        // two days ago: 167 minutes up of 182 known (15 down; its last result stood two minutes into the next hour)
        assertEquals(167.0 / 182 * 100, webShown.getAsJsonArray("days").get(87).getAsDouble(), 1e-3);
        assertTrue(webShown.getAsJsonArray("days").get(0).isJsonNull());
        JsonArray ongoing = doc.getAsJsonObject("incidents").getAsJsonArray("ongoing");
        assertEquals(1, ongoing.size());
        assertEquals("dead", ongoing.get(0).getAsJsonObject().get("target").getAsString());
        JsonArray past = doc.getAsJsonObject("incidents").getAsJsonArray("past");
        JsonObject webPast = null;
        for (JsonElement e : past) {
            if (e.getAsJsonObject().get("target").getAsString().equals("web")) {
                webPast = e.getAsJsonObject();
            }
        }
        assertEquals(past.toString(), base.plus(Duration.ofMinutes(30)).toString(), webPast.get("start").getAsString());
        assertEquals(15, webPast.get("minutes").getAsInt());
        JsonObject m = doc.getAsJsonArray("maintenance").get(0).getAsJsonObject();
        assertEquals("Moving the database", m.get("title").getAsString());
        assertTrue(m.get("active").getAsBoolean());
        assertEquals("[\"web\"]", m.getAsJsonArray("targets").toString());
    }

    @Test
    public void c_aBadgePerTargetOfThePageAndNothingElse() throws Exception {
        HttpResponse<String> badge = anonymous("/status/shop/badge/web.svg");
        assertEquals(badge.body(), 200, badge.statusCode());
        assertTrue(badge.headers().firstValue("Content-Type").orElse(""), badge.headers().firstValue("Content-Type").orElse("").startsWith("image/svg+xml"));
        assertTrue(badge.body(), badge.body().startsWith("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assertTrue(badge.body(), badge.body().contains(">up</text>"));
        // 30 days: two days ago's 167 of 182 minutes and today's, all up
        assertTrue(badge.body(), badge.body().matches("(?s).*>9\\d\\.\\d\\d %</text>.*"));
        HttpResponse<String> dead = anonymous("/status/shop/badge/dead.svg");
        assertTrue(dead.body(), dead.body().contains(">down</text>") && dead.body().contains("#d64545"));
        HttpResponse<String> secret = anonymous("/status/shop/badge/secret-db.svg");
        HttpResponse<String> none = anonymous("/status/nothing-here");
        assertEquals(404, secret.statusCode());
        assertEquals(404, none.statusCode());
        assertEquals("the same answer: a page tells nothing beyond what it selects", none.body(), secret.body());
        for (String odd : List.of("/status/", "/status/Shop", "/status/shop/../../api/v1/agents", "/status/shop/badge/.svg",
                "/status/shop/x", "/status/" + "a".repeat(700))) {
            HttpResponse<String> r = anonymous(odd);
            assertTrue(odd + ": " + r.statusCode(), r.statusCode() == 404 || r.statusCode() == 400 || r.statusCode() == 401); // .. goes to the API: refused there
        }
    }

    @Test
    public void d_requestsShareOneBuildEveryTenSeconds() throws Exception {
        String before = server.get("/metrics").body();
        double builds0 = AgentProcess.value(before, "sonde_server_status_page_builds_total ");
        double requests0 = AgentProcess.value(before, "sonde_server_status_page_requests_total ");
        long t0 = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<Future<Integer>> answers = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            String path = i % 4 == 0 ? "/status/shop/badge/web.svg" : i % 4 == 1 ? "/status/shop/status.json" : "/status/shop";
            answers.add(pool.submit(() -> anonymous(path).statusCode()));
        }
        for (Future<Integer> f : answers) {
            assertEquals(200, (int) f.get(120, TimeUnit.SECONDS));
        }
        pool.shutdown();
        double seconds = (System.nanoTime() - t0) / 1e9;
        String after = server.get("/metrics").body();
        double builds = AgentProcess.value(after, "sonde_server_status_page_builds_total ") - builds0;
        assertEquals(400, AgentProcess.value(after, "sonde_server_status_page_requests_total ") - requests0, 0);
        assertTrue(builds + " builds for 400 requests in " + seconds + " s", builds <= Math.floor(seconds / 10) + 1);
    }

    @Test
    public void e_aBadPageIsRefusedAndAViewerDefinesNone() throws Exception {
        HttpResponse<String> bad = server.admin("PUT", "/api/v1/status-pages/shop2", "{\"title\": \"x\", \"groups\": [{\"name\": \"a\", \"targets\": \"((\"}]}");
        assertEquals(bad.body(), 400, bad.statusCode());
        assertTrue(bad.body(), bad.body().contains("groups[0].targets: "));
        HttpResponse<String> badName = server.admin("PUT", "/api/v1/status-pages/Shop", "{\"title\": \"x\", \"groups\": [{\"name\": \"a\", \"targets\": \"x\"}]}");
        assertEquals(400, badName.statusCode());
        assertTrue(badName.body(), badName.body().contains("name: 'Shop' is not a page's name"));
        DashboardIT.ok(server.admin("PUT", "/api/v1/users/pia", "{\"password\": \"a viewer's password\", \"role\": \"viewer\"}"));
        HttpResponse<String> login = server.post("/api/v1/session", null, "{\"user\":\"pia\",\"password\":\"a viewer's password\"}"
                .getBytes(StandardCharsets.UTF_8), "Content-Type", "application/json");
        String cookie = login.headers().firstValue("Set-Cookie").orElseThrow();
        cookie = cookie.substring(0, cookie.indexOf(';'));
        String csrf = JsonParser.parseString(server.request("GET", "/api/v1/session", null, null, "Cookie", cookie).body()).getAsJsonObject()
                .get("csrf").getAsString();
        HttpResponse<String> viewer = server.request("PUT", "/api/v1/status-pages/mine", null,
                "{\"title\": \"x\", \"groups\": [{\"name\": \"a\", \"targets\": \"x\"}]}".getBytes(StandardCharsets.UTF_8), "Cookie", cookie,
                "X-CSRF-Token", csrf, "Content-Type", "application/json");
        assertEquals(viewer.body(), 403, viewer.statusCode());
        JsonObject listed = server.json(server.admin("GET", "/api/v1/status-pages", null));
        assertEquals(1, listed.getAsJsonArray("items").size());
        assertEquals("/status/shop", listed.getAsJsonArray("items").get(0).getAsJsonObject().get("path").getAsString());
    }

    @Test
    public void f_onAPhoneThePageReadsInChromium() throws Exception {
        try (Browser browser = Browser.start()) {
            JsonObject metrics = new JsonObject();
            metrics.addProperty("width", 390);
            metrics.addProperty("height", 844);
            metrics.addProperty("deviceScaleFactor", 1);
            metrics.addProperty("mobile", true);
            browser.call("Emulation.setDeviceMetricsOverride", metrics);
            browser.open(server.url() + "/status/shop");
            assertEquals("Partial outage", browser.text("document.getElementById('banner').textContent"));
            assertEquals(3, browser.eval("document.querySelectorAll('.target').length").getAsInt());
            assertEquals("each bar stands for 90 days", "90,90,90", browser.text("[...document.querySelectorAll('.target')].map(t =>"
                    + " [...t.querySelectorAll('.day')].reduce((n, d) => n + Number((d.className.match(/g(\\d+)/) || [0, 1])[1]), 0)).join()"));
            assertEquals("the style sheet applies: the banner is coloured", "rgb(232, 89, 12)",
                    browser.text("getComputedStyle(document.getElementById('banner')).backgroundColor"));
            assertTrue("nothing runs off the screen", browser.eval("document.documentElement.scrollWidth <= 390").getAsBoolean());
            browser.screenshot(DashboardIT.SHOTS.resolve("status-page-phone.png"));
            metrics.addProperty("width", 1280);
            metrics.addProperty("height", 900);
            metrics.addProperty("mobile", false);
            browser.call("Emulation.setDeviceMetricsOverride", metrics);
            browser.open(server.url() + "/status/shop");
            browser.screenshot(DashboardIT.SHOTS.resolve("status-page.png"));
        }
    }

    /** The README's recipe: a page on a domain of its own, HAProxy in front passing that page and nothing else. */
    @Test
    public void fa_onADomainOfItsOwnBehindAReverseProxy() throws Exception {
        int port = AgentProcess.freePort();
        String config = "global\n    maxconn 256\n"
                + "defaults\n    mode http\n    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n"
                + "frontend status\n    bind 127.0.0.1:" + port + "\n"
                + "    http-request deny unless { hdr(host) -i status.example.test }\n"
                + "    http-request set-path /status/shop if { path / }\n"
                + "    http-request deny unless { path /status/shop } || { path_beg /status/shop/ }\n"
                + "    default_backend sonde\n"
                + "backend sonde\n    http-request set-header Host 127.0.0.1\n" // a name of the server's certificate, as Jetty checks
                + "    server sonde " + server.url().substring("https://".length()) + " ssl verify required ca-file "
                + server.home.resolve("data/tls/ca.pem") + "\n";
        try (LoadBalancer proxy = LoadBalancer.start(port, config)) {
            String base = "http://127.0.0.1:" + port;
            String page = AgentProcess.output(0, "curl", "-s", "--max-time", "10", "-H", "Host: status.example.test", base + "/");
            assertTrue(page, page.contains("<h1>Shop status</h1>"));
            assertTrue("its style sheet is under the page's path: " + page, page.contains("href=\"/status/shop/status.css\""));
            assertEquals("200", AgentProcess.output(0, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", "-H",
                    "Host: status.example.test", base + "/status/shop/status.css"));
            assertTrue(AgentProcess.output(0, "curl", "-s", "--max-time", "10", "-H", "Host: status.example.test", base + "/status/shop/status.json")
                    .contains("\"title\":\"Shop status\""));
            for (String[] refused : new String[][] {{"status.example.test", "/api/v1/agents"}, {"status.example.test", "/ui/"},
                {"status.example.test", "/status/other"}, {"sonde.example.test", "/"}}) {
                assertEquals(refused[0] + refused[1], "403", AgentProcess.output(0, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                        "--max-time", "10", "-H", "Host: " + refused[0], base + refused[1]));
            }
        }
    }

    /**
     * The page takes the server's offline rule (offline_after_s, 60 s by default): with the agent gone and the rule at
     * 3 s, its targets are unknown well before a minute has passed.
     */
    @Test
    public void fc_anAgentGoneLongerThanTheServersOfflineRuleLeavesItsTargetsUnknown() throws Exception {
        assertEquals("up", targetState("shop-api"));
        agent.kill();
        Path cfg = server.home.resolve("etc/io.sonde.server.cfg");
        Files.writeString(cfg, Files.readString(cfg) + "offline_after_s = 3\n");
        long deadline = System.nanoTime() + Duration.ofSeconds(45).toNanos(); // the default rule would keep it up 60 s
        while (!"unknown".equals(targetState("shop-api")) && System.nanoTime() < deadline) {
            Thread.sleep(500);
        }
        assertEquals("unknown", targetState("shop-api"));
        assertEquals("unknown", targetState("dead"));
    }

    private static String targetState(String name) throws Exception {
        JsonObject doc = document();
        for (JsonElement e : doc.getAsJsonArray("groups").get(0).getAsJsonObject().getAsJsonArray("targets")) {
            if (e.getAsJsonObject().get("name").getAsString().equals(name)) {
                return e.getAsJsonObject().get("state").getAsString();
            }
        }
        return null;
    }

    @Test
    public void g_aDeletedPageIsGoneAtOnce() throws Exception {
        assertEquals(200, anonymous("/status/shop").statusCode());
        assertEquals(204, server.admin("DELETE", "/api/v1/status-pages/shop", null).statusCode());
        assertEquals(404, anonymous("/status/shop").statusCode());
        assertEquals(404, anonymous("/status/shop/badge/web.svg").statusCode());
    }
}
