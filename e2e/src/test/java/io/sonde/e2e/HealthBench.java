package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.Test;

import com.google.gson.JsonObject;

/**
 * The health model's figures (issue 24), against the built server: {@code GET /api/v1/health}
 * (every target, its per-agent states) and the dashboard's landing page in a real headless
 * Chromium, for 10 agents × 500 targets and 10 agents × 5,000 targets, a tenth of them down.
 * Results are seeded through the real ingest as agents send them (three per agent and target in
 * the last minute, each with its next probe). Not part of the suite (its name does not end in IT):
 * {@code mvn -pl e2e verify -Dit.test=HealthBench -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false}.
 * It prints FIGURE lines; docs/performance.md has them.
 */
public class HealthBench {

    static final int AGENTS = 10;

    @Test
    public void healthApiAndLandingPage() throws Exception {
        for (String size : System.getProperty("health.bench.targets", "500,5000").split(",")) {
            measure(Integer.parseInt(size.strip()));
        }
    }

    private static void measure(int targets) throws Exception {
        try (ServerProcess server = ServerProcess.start("offline_after_s = 3600\n"); Browser browser = Browser.start()) {
            Instant now = Instant.now();
            for (int a = 0; a < AGENTS; a++) {
                String id = String.format("agent-%02d", a);
                String credential = SecurityIT.enroll(server, id);
                List<String> batch = new ArrayList<>();
                long seq = 0;
                for (int t = 0; t < targets; t++) {
                    boolean down = t % 10 == 0;
                    for (int k = 0; k < 3; k++) {
                        Instant at = now.minusSeconds(30 - k * 10);
                        batch.add("{\"seq\":" + (++seq) + ",\"target\":\"t-" + t + "\",\"kind\":\"tcp\",\"started_at\":\"" + at + "\",\"success\":"
                                + !down + (down ? ",\"failure_reason\":\"refused\",\"error\":\"connection refused\"" : "")
                                + ",\"response_time_seconds\":0.002,\"next_probe\":\"" + at.plusSeconds(600) + "\",\"backoff\":" + down + "}");
                    }
                    if (batch.size() >= 3000) {
                        DashboardIT.post(server, id, credential, batch);
                    }
                }
                DashboardIT.post(server, id, credential, batch);
            }
            // the servlet's breakdown (states, window, rule) at FINE, applied live
            java.nio.file.Files.writeString(server.home.resolve("etc/logging.properties"), "\nio.sonde.server.query.level = FINE\n",
                    java.nio.file.StandardOpenOption.APPEND);
            Thread.sleep(3000);
            // cold: the window's figures computed anew too (a scan of every result in it, kept 10 s);
            // warm: the states read anew, the window's figures from the last 10 s (the servlet's own cache is 2 s)
            List<Long> cold = new ArrayList<>();
            List<Long> warm = new ArrayList<>();
            for (int round = 0; round < 3; round++) {
                Thread.sleep(10_100);
                for (int i = 0; i < 4; i++) {
                    if (i > 0) {
                        Thread.sleep(2100);
                    }
                    long t0 = System.nanoTime();
                    HttpResponse<String> r = server.admin("GET", "/api/v1/health?limit=50000", null);
                    (i == 0 ? cold : warm).add((System.nanoTime() - t0) / 1_000_000);
                    assertEquals(200, r.statusCode());
                    JsonObject body = server.json(r);
                    assertEquals(targets, body.get("total").getAsInt());
                    if (body.getAsJsonObject("summary").get("backoff").getAsInt() != targets / 10) {
                        System.out.println("t-0: " + server.admin("GET", "/api/v1/health/t-0", null).body());
                        System.out.println("agent-00: " + server.admin("GET", "/api/v1/agents/agent-00", null).body());
                    }
                    assertEquals(body.get("summary").toString(), targets / 10, body.getAsJsonObject("summary").get("backoff").getAsInt());
                    if (round == 0 && i == 0) {
                        System.out.println("health document: " + r.body().length() + " bytes");
                    }
                }
            }
            server.log().lines().filter(l -> l.contains("Health of")).forEach(l -> System.out.println("breakdown: " + l));
            cold.sort(null);
            warm.sort(null);
            System.out.println("FIGURE GET /api/v1/health, " + AGENTS + " agents x " + targets + " targets (every target, per-agent states): cold"
                    + " median " + cold.get(1) + " ms " + cold + ", warm median " + warm.get(warm.size() / 2) + " ms " + warm);
            browser.open(server.url() + "/ui/login");
            browser.eval("document.getElementById('user').value = 'admin'; document.getElementById('password').value = '" + server.adminToken()
                    + "'; document.getElementById('login').requestSubmit(); true");
            browser.await("the landing page", 60, "window.__sonde && window.__sonde.view === 'now'");
            long[] load = new long[3];
            for (int run = 0; run < load.length; run++) {
                Thread.sleep(2100);
                browser.open("about:blank");
                browser.open(server.url() + "/ui/#/now");
                browser.await("the landing page", 60, "window.__sonde && window.__sonde.view === 'now'");
                JsonObject s = browser.eval("({rows: document.querySelectorAll('#broken tbody tr').length,"
                        + " cells: document.querySelectorAll('#state-grid td').length, ms: window.__sonde.ms,"
                        + " load: window.__sonde.sinceNavigation})").getAsJsonObject();
                assertTrue(s.toString(), s.get("rows").getAsInt() >= Math.min(250, targets / 10));
                load[run] = s.get("load").getAsLong();
                System.out.println("landing page run " + run + ": " + s);
                if (run == 0) {
                    browser.screenshot(java.nio.file.Path.of("target", "health-bench-" + targets + ".png"));
                }
            }
            Arrays.sort(load);
            System.out.println("FIGURE landing page, " + AGENTS + " agents x " + targets + " targets: shown " + load[1]
                    + " ms after navigation (median of 3; min " + load[0] + ", max " + load[2] + ")");
        }
    }
}
