package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.junit.Test;

/**
 * A public status page under load (issue 28), against the built server: a page of 100 targets
 * (results from 10 agents through the real ingest, a tenth of the targets down) read by
 * {@code wrk} over TLS with 64 connections for 30 s each — the HTML page, then status.json,
 * then a badge — while the server's metrics count the page's builds from the store. Not part of
 * the suite (its name does not end in IT):
 * {@code mvn -pl e2e verify -Dit.test=StatusPageBench -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false}
 * (needs {@code wrk}). It prints FIGURE lines; docs/performance.md has them.
 */
public class StatusPageBench {

    @Test
    public void aPageUnderLoadReachesTheStoreOnceEveryTenSeconds() throws Exception {
        try (ServerProcess server = ServerProcess.start("offline_after_s = 3600\n")) {
            Instant now = Instant.now();
            for (int a = 0; a < 10; a++) {
                String id = String.format("agent-%02d", a);
                String credential = SecurityIT.enroll(server, id);
                List<String> batch = new ArrayList<>();
                long seq = 0;
                for (int t = 0; t < 100; t++) {
                    boolean down = t % 10 == 0;
                    for (int k = 0; k < 3; k++) {
                        Instant at = now.minusSeconds(30 - k * 10);
                        batch.add("{\"seq\":" + (++seq) + ",\"target\":\"t-" + t + "\",\"kind\":\"tcp\",\"started_at\":\"" + at + "\",\"success\":"
                                + !down + (down ? ",\"failure_reason\":\"refused\"" : "") + ",\"response_time_seconds\":0.002,\"next_probe\":\""
                                + at.plusSeconds(600) + "\"}");
                    }
                }
                DashboardIT.post(server, id, credential, batch);
            }
            DashboardIT.ok(server.admin("PUT", "/api/v1/status-pages/bench", "{\"title\": \"Bench\", \"groups\": [{\"name\": \"All\", \"targets\": \"*\"}]}"));
            HttpResponse<String> page = server.request("GET", "/status/bench", null, null);
            assertEquals(200, page.statusCode());
            HttpResponse<byte[]> gz = server.client().send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.url() + "/status/bench"))
                    .header("Accept-Encoding", "gzip").build(), HttpResponse.BodyHandlers.ofByteArray());
            System.out.printf("FIGURE status page of 100 targets: %d bytes of HTML, %d gzipped%n", page.body().length(), gz.body().length);
            for (String run : List.of("/status/bench gzip", "/status/bench", "/status/bench/status.json gzip", "/status/bench/badge/t-5.svg")) {
                String path = run.split(" ")[0];
                double builds0 = AgentProcess.value(server.get("/metrics").body(), "sonde_server_status_page_builds_total ");
                List<String> wrk = new ArrayList<>(List.of("wrk", "-t", "2", "-c", "64", "-d", "30s", "--latency"));
                if (run.endsWith("gzip")) {
                    wrk.addAll(List.of("-H", "Accept-Encoding: gzip")); // as every browser asks
                }
                wrk.add(server.url() + path);
                String out = AgentProcess.output(0, wrk.toArray(new String[0]));
                double builds = AgentProcess.value(server.get("/metrics").body(), "sonde_server_status_page_builds_total ") - builds0;
                assertTrue(out, out.contains("Requests/sec"));
                String rps = out.lines().filter(l -> l.startsWith("Requests/sec")).findFirst().orElse("").replaceAll("\\s+", " ");
                String p50 = out.lines().filter(l -> l.strip().startsWith("50%")).findFirst().orElse("").strip().replaceAll("\\s+", " ");
                String p99 = out.lines().filter(l -> l.strip().startsWith("99%")).findFirst().orElse("").strip().replaceAll("\\s+", " ");
                String errors = out.lines().filter(l -> l.contains("Non-2xx") || l.contains("Socket errors")).reduce("", (x, y) -> x + " " + y.strip());
                System.out.printf("FIGURE %s: %s, latency %s / %s, %d builds from the store in 30 s%s%n", run, rps, p50, p99, (long) builds,
                        errors.isEmpty() ? "" : " (" + errors.strip() + ")");
            }
        }
    }
}
