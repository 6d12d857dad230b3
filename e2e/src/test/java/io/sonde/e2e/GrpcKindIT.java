package io.sonde.e2e;

import static io.sonde.e2e.AgentProcess.value;
import static io.sonde.e2e.NewKindIT.await;
import static io.sonde.e2e.NewKindIT.ok;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.After;
import org.junit.Test;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.sonde.plugin.grpc.testing.TestGrpcServer;

/**
 * The grpc plugin, grpc-java embedded in its bundle, in a real agent connected to a real server,
 * against a real gRPC server with the standard health service: with no setting anywhere but the
 * target's definition, its results are stored (each answered call one result: the server's count
 * is the ground truth), its families are in /metrics and /probe, a definition with a misspelt key
 * is refused at PUT by the options the agents announced, a series of its own phase is served, the
 * health model's down alert fires while the service is NOT_SERVING and resolves after, the
 * dashboard charts its phases in Chromium, and sonde-cli probes it.
 */
public class GrpcKindIT {

    private TestGrpcServer grpc;
    private ServerProcess server;
    private AgentProcess agent;
    private Browser browser;

    @After
    public void stop() throws Exception {
        if (browser != null) {
            browser.close();
        }
        if (agent != null) {
            agent.close();
        }
        if (server != null) {
            server.close();
        }
        if (grpc != null) {
            grpc.close();
        }
    }

    @Test
    public void aGrpcServiceIsProbedStoredCountedAlertedChartedAndProbedFromTheCli() throws Exception {
        grpc = new TestGrpcServer(true, null);
        grpc.set("orders", ServingStatus.SERVING);
        server = ServerProcess.start("alert_eval_s = 2\n");
        ok(server.admin("PUT", "/api/v1/users/vera", "{\"password\": \"a viewer's password\", \"role\": \"viewer\"}"));
        ok(server.admin("PUT", "/api/v1/targets/orders", "{\"kind\": \"grpc\", \"host\": \"127.0.0.1\", \"port\": " + grpc.port()
                + ", \"service\": \"orders\", \"interval_ms\": 500, \"timeout_ms\": 450, \"agents\": \"*\"}"));
        ok(server.admin("PUT", "/api/v1/alert-rules/orders-down", "{\"type\": \"target_down\", \"target\": \"orders\", \"for\": \"1s\"}"));
        String token = server.enrollmentToken("{}");
        agent = AgentProcess.start(Map.of("etc/io.sonde.agent.cfg", "agent_id = a1\n",
                "etc/io.sonde.uplink.cfg", server.uplinkConfig(token, "config_poll_s = 1\n"),
                "etc/io.sonde.probe.module-grpc_orders.cfg", "prober = grpc\nservice = orders\n"));

        // stored, as the plugin describes them
        // (the first probe of a cold agent loads grpc-java's classes and may time out: a later one is looked at)
        await("results of the grpc kind stored", 60, () -> server.results("a1", "orders").stream()
                .filter(r -> r.get("success").getAsBoolean()).count() >= 6);
        List<JsonObject> stored = server.results("a1", "orders");
        JsonObject first = stored.get(stored.size() - 1);
        assertEquals("grpc", first.get("kind").getAsString());
        assertTrue(first.toString(), first.get("success").getAsBoolean());
        JsonObject details = first.getAsJsonObject("details");
        assertEquals("SERVING", details.get("serving_status").getAsString());
        assertEquals(0, details.get("status_code").getAsInt());
        assertTrue(details.toString(), details.getAsJsonObject("phases").has("check") && details.getAsJsonObject("phases").has("connect"));
        assertTrue("what stays on the agent is not sent: " + details, !details.has("is_serving"));
        assertEquals(agent.log(), 0, agent.countLogLines("announces a result schema"));

        // the options the agent announced check a definition at PUT
        HttpResponse<String> misspelt = server.admin("PUT", "/api/v1/targets/orders2", "{\"kind\": \"grpc\", \"host\": \"127.0.0.1\","
                + " \"port\": " + grpc.port() + ", \"servise\": \"orders\", \"agents\": \"*\"}");
        assertEquals(misspelt.body(), 400, misspelt.statusCode());
        assertTrue(misspelt.body(), misspelt.body().contains("servise") && misspelt.body().contains("did you mean 'service'?"));

        // counted: its own families in /metrics, and blackbox's in /probe
        String m = agent.awaitMetrics(p -> value(p,
                "probe_grpc_healthcheck_response{target=\"orders\",kind=\"grpc\",serving_status=\"SERVING\"}") == 1.0);
        assertEquals(0.0, value(m, "probe_grpc_healthcheck_response{target=\"orders\",kind=\"grpc\",serving_status=\"NOT_SERVING\"}"), 0);
        assertEquals(0.0, value(m, "probe_grpc_status_code{target=\"orders\",kind=\"grpc\"}"), 0);
        assertEquals(0.0, value(m, "probe_grpc_ssl{target=\"orders\",kind=\"grpc\"}"), 0);
        assertTrue(m, value(m, "probe_grpc_duration_seconds{target=\"orders\",kind=\"grpc\",phase=\"check\"}") > 0);
        AgentProcess.promtool(m);
        HttpResponse<String> probe = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.port
                + "/probe?target=127.0.0.1:" + grpc.port() + "&module=grpc_orders")).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(probe.body(), 200, probe.statusCode());
        assertEquals(probe.body(), 1.0, value(probe.body(), "probe_success "), 0);
        assertEquals(probe.body(), 1.0, value(probe.body(), "probe_grpc_healthcheck_response{serving_status=\"SERVING\"}"), 0);
        assertEquals(probe.body(), 0.0, value(probe.body(), "probe_grpc_status_code "), 0);
        AgentProcess.promtool(probe.body());

        // a series of the kind's own value
        JsonObject series = server.json(server.admin("GET", "/api/v1/series?target=orders&value=phases.check&step=10s&from="
                + java.time.Instant.now().minusSeconds(600), null));
        long counted = 0;
        for (JsonElement e : series.getAsJsonArray("items")) {
            counted += e.getAsJsonObject().get("count").getAsLong();
        }
        assertTrue(series.toString(), counted >= 6);

        // charted: its phases over time and its last values, from the roles and types it declared
        browser = Browser.start();
        browser.logIn(server.url(), "vera", "a viewer's password");
        browser.eval("location.hash = '#/target/orders?range=1h'; true");
        browser.await("the grpc phases chart", 30, "window.__sonde.view === 'target' && window.__sonde.charts.some((c) =>"
                + " c.kind === 'phases' && c.target === 'orders' && c.phases === 3 && c.points > 1)");
        assertEquals("SERVING", browser.text("document.querySelector('table.last-values tr[data-value=\"serving_status\"] td').textContent"));
        browser.screenshot(DashboardIT.SHOTS.resolve("grpc-target.png"));

        // alerted: the service stops serving, the health model calls the target down, and up again
        grpc.set("orders", ServingStatus.NOT_SERVING);
        await("the down rule firing while the service is NOT_SERVING", 60, () -> {
            JsonObject a = alert("orders-down");
            return a != null && "firing".equals(a.get("state").getAsString());
        });
        // (on a loaded machine a call may also overrun its 450 ms: a timeout is a failure too, but not the one looked for)
        await("a NOT_SERVING answer stored as a status failure", 60, () -> server.results("a1", "orders").stream()
                .anyMatch(r -> !r.get("success").getAsBoolean() && "status".equals(r.get("failure_reason").getAsString())));
        List<JsonObject> failing = server.results("a1", "orders").stream().filter(r -> !r.get("success").getAsBoolean()).toList();
        for (JsonObject f : failing) {
            String reason = f.get("failure_reason").getAsString();
            assertTrue(f.toString(), reason.equals("status") || reason.equals("timeout"));
            if (reason.equals("status")) {
                assertEquals(f.toString(), "service 'orders' is NOT_SERVING", f.get("error").getAsString());
            }
        }
        grpc.set("orders", ServingStatus.SERVING);
        await("the down rule resolved once the service serves again", 60, () -> {
            JsonObject a = alert("orders-down");
            return a != null && "resolved".equals(a.get("state").getAsString());
        });

        // sonde-cli probe knows it from the same plugins
        CliIT.Run cli = CliIT.cli(agent.home, "probe", "grpc", "127.0.0.1", "--port", Integer.toString(grpc.port()), "--set",
                "service=orders", "-c", "2", "-i", "5000", "-t", "5000");
        assertEquals(cli.out(), 0, cli.exit());
        assertTrue(cli.out(), cli.out().contains("status 0"));

        // nothing lost: every call the gRPC server answered is one stored result (less the one in flight at the
        // withdrawal, and results the scheduler timed out after the server had answered)
        ok(server.admin("DELETE", "/api/v1/targets/orders", null));
        await("the agent no longer probing the withdrawn target", 60, () -> {
            int before = grpc.calls.get();
            Thread.sleep(1500);
            return grpc.calls.get() == before;
        });
        int answered = grpc.calls.get() - 2 - 1; // sonde-cli's two, /probe's one
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        List<JsonObject> all = server.results("a1", "orders");
        while (System.nanoTime() < end && withAnswer(all) < answered) {
            Thread.sleep(500);
            all = server.results("a1", "orders");
        }
        long answers = withAnswer(all);
        long timeouts = all.stream().filter(r -> r.has("failure_reason") && !r.get("failure_reason").isJsonNull()
                && r.get("failure_reason").getAsString().equals("timeout")).count();
        System.out.println("FIGURE grpc kind: " + answers + " answered results stored of " + answered + " calls the server answered, "
                + timeouts + " timeouts, " + all.size() + " results");
        assertTrue(answers + " stored, " + answered + " answered: never more", answers <= answered);
        assertTrue("missing " + (answered - answers) + " > 1 in flight at the withdrawal + " + timeouts + " timeouts",
                answered - answers <= 1 + timeouts);
        String serverMetrics = server.get("/metrics").body();
        for (String reason : List.of("malformed", "too_large", "schema", "invalid")) {
            assertEquals(reason, 0.0, value(serverMetrics, "sonde_server_rejected_batches_total{reason=\"" + reason + "\",}"), 0);
        }
    }

    /** Results whose call the server answered (SERVING or not). */
    private static long withAnswer(List<JsonObject> results) {
        return results.stream().filter(r -> r.has("details") && r.getAsJsonObject("details").has("serving_status")).count();
    }

    private JsonObject alert(String rule) throws Exception {
        for (JsonElement e : server.json(server.admin("GET", "/api/v1/alerts", null)).getAsJsonArray("items")) {
            if (e.getAsJsonObject().get("rule").getAsString().equals(rule)) {
                return e.getAsJsonObject();
            }
        }
        return null;
    }
}
