package io.sonde.e2e;

import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.Test;

import com.google.gson.JsonObject;

/**
 * The dashboard's figures (issue 14), measured in a real headless Chromium against the built
 * server: the fleet page with 1,000 agents, the targets page with 10,000 targets (10 agents with
 * 1,000 targets each), and a year of hourly steps in a smoke chart once the rollups are made. Not
 * part of the suite (its name does not end in IT): run it with
 * {@code mvn -pl e2e verify -Dit.test=DashboardBench -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false}.
 * It prints FIGURE lines; docs/performance.md has them.
 */
public class DashboardBench {

    @Test
    public void pagesAndChartsAtScale() throws Exception {
        try (ServerProcess server = ServerProcess.start("max_age_days = 400\nretention_raw_days = 400\n");
                Browser browser = Browser.start()) {
            String token = server.enrollmentToken("{\"tags\": [\"bench\"]}");
            List<String> credentials = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int i = 0; i < 1000; i++) {
                String id = String.format("agent-%04d", i);
                var r = server.post("/api/v1/enroll", null, ("{\"schema\":1,\"enrollment_token\":\"" + token + "\",\"agent_id\":\"" + id
                        + "\",\"tags\":[\"site-" + (i % 20) + "\"],\"version\":\"0.1.0\"}").getBytes(StandardCharsets.UTF_8));
                credentials.add(server.json(r).get("credential").getAsString());
            }
            System.out.println("enrolled 1,000 agents in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
            java.time.Instant now = java.time.Instant.now();
            for (int a = 0; a < 10; a++) {
                String id = String.format("agent-%04d", a);
                List<String> batch = new ArrayList<>();
                long seq = 0;
                for (int t = 0; t < 1000; t++) {
                    for (int k = 0; k < 3; k++) {
                        batch.add("{\"seq\":" + (++seq) + ",\"target\":\"t-" + (a * 1000 + t) + "\",\"kind\":\"tcp\",\"started_at\":\""
                                + now.minusSeconds(30 - k * 10) + "\",\"success\":true,\"response_time_seconds\":0.002}");
                    }
                    if (batch.size() >= 3000) {
                        DashboardIT.post(server, id, credentials.get(a), batch);
                    }
                }
                DashboardIT.post(server, id, credentials.get(a), batch);
            }
            DashboardIT.history(server, "year-1", 0);
            DashboardIT.history(server, "year-2", 3);
            for (int i = 0; i < 1200; i++) { // the rollups of the year, made by the server's job
                if (server.get("/metrics").body().contains("sonde_server_rollup_backlog 0.0")) {
                    break;
                }
                Thread.sleep(500);
            }
            browser.open(server.url() + "/ui/login");
            browser.eval("document.getElementById('user').value = 'admin'; document.getElementById('password').value = '" + server.adminToken()
                    + "'; document.getElementById('login').requestSubmit(); true");
            browser.await("the landing page", 60, "window.__sonde && window.__sonde.view === 'now'");
            System.out.println("rollup backlog at the start: " + server.get("/metrics").body().lines()
                    .filter(l -> l.startsWith("sonde_server_rollup_backlog")).findFirst().orElse("?"));
            for (int run = 0; run < 3; run++) {
                browser.open("about:blank"); // each page loaded anew: the time since its navigation is the whole load
                browser.open(server.url() + "/ui/#/fleet");
                browser.await("the fleet", 60, "window.__sonde && window.__sonde.view === 'fleet'");
                JsonObject s = browser.eval("({rows: document.querySelectorAll('#agents tbody tr').length, ms: window.__sonde.ms,"
                        + " load: window.__sonde.sinceNavigation})").getAsJsonObject();
                assertTrue(s.toString(), s.get("rows").getAsInt() >= 1000);
                System.out.println("FIGURE fleet page, " + s.get("rows") + " agents: shown " + s.get("load") + " ms after navigation (view "
                        + s.get("ms") + " ms)");
                browser.open("about:blank");
                browser.open(server.url() + "/ui/#/targets");
                browser.await("the targets", 60, "window.__sonde && window.__sonde.view === 'targets'");
                s = browser.eval("({rows: document.querySelectorAll('#targets tbody tr').length, ms: window.__sonde.ms,"
                        + " load: window.__sonde.sinceNavigation})").getAsJsonObject();
                assertTrue(s.toString(), s.get("rows").getAsInt() >= 10000);
                System.out.println("FIGURE targets page, " + s.get("rows") + " targets: shown " + s.get("load") + " ms after navigation (view "
                        + s.get("ms") + " ms)");
                browser.open("about:blank");
                browser.open(server.url() + "/ui/#/target/shop?range=1y&agents=overlay");
                browser.await("the year", 60, "window.__sonde && window.__sonde.view === 'target' && window.__sonde.charts.length === 2");
                s = browser.eval("window.__sonde.charts[0]").getAsJsonObject();
                System.out.println("FIGURE smoke chart, a year at 1 h from the rollups: " + s.get("points") + " steps, fetched in "
                        + s.get("fetchMs") + " ms, drawn in " + s.get("renderMs") + " ms");
            }
        }
    }
}
