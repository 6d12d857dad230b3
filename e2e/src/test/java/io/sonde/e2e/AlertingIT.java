package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.FixMethodOrder;
import org.junit.Test;
import org.junit.runners.MethodSorters;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpServer;

/**
 * The server's alerting with the built server, two built agents probing a loopback TCP target the
 * test turns off and on, a webhook receiver of the test's own that checks every signature, and a
 * real Alertmanager (Debian's): pending → firing → resolved with the rule's timings; a flapping
 * target pages no one; a receiver that is down gets every notification once, in order, when it is
 * back; a silence holds notifications back until it is deleted; x of N vantage agents with one
 * offline; and the API refuses what it should.
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class AlertingIT {

    private static ServerProcess server;
    private static final Map<String, AgentProcess> agents = new LinkedHashMap<>();
    private static Target target;
    private static Webhook webhook;
    private static Process alertmanager;
    private static int alertmanagerPort;
    private static Path alertmanagerHome;

    /** The loopback TCP target: listening (up) or not (connections refused: down), on one port. */
    static final class Target implements AutoCloseable {
        final int port;
        private ServerSocket socket;

        Target() throws IOException {
            port = AgentProcess.freePort();
            up();
        }

        synchronized void up() throws IOException {
            if (socket == null) {
                ServerSocket s = new ServerSocket();
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
                socket = s;
                Thread t = new Thread(() -> {
                    while (!s.isClosed()) {
                        try {
                            s.accept().close();
                        } catch (IOException e) {
                            return;
                        }
                    }
                }, "target-accept");
                t.setDaemon(true);
                t.start();
            }
        }

        synchronized void down() throws IOException {
            if (socket != null) {
                socket.close();
                socket = null;
            }
        }

        @Override
        public void close() throws IOException {
            down();
        }
    }

    /** A webhook receiver: keeps each delivery whose signature verifies with the server's key; refuses others. */
    static final class Webhook implements AutoCloseable {
        final int port;
        final byte[] key;
        final List<JsonObject> received = new CopyOnWriteArrayList<>();
        final List<String> deliveries = new CopyOnWriteArrayList<>();
        final List<String> refused = new CopyOnWriteArrayList<>();
        private HttpServer http;

        Webhook(byte[] key) throws IOException {
            this.key = key;
            this.port = AgentProcess.freePort();
            start();
        }

        synchronized void start() throws IOException {
            http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
            http.createContext("/hook", x -> {
                byte[] body = x.getRequestBody().readAllBytes();
                String ts = x.getRequestHeaders().getFirst("X-Sonde-Timestamp");
                String sig = x.getRequestHeaders().getFirst("X-Sonde-Signature");
                boolean ok = ts != null && sig != null && sig.equals(sign(key, ts, body));
                if (ok) {
                    received.add(JsonParser.parseString(new String(body, StandardCharsets.UTF_8)).getAsJsonObject());
                    deliveries.add(x.getRequestHeaders().getFirst("X-Sonde-Delivery"));
                } else {
                    refused.add(sig + " " + ts);
                }
                x.sendResponseHeaders(ok ? 204 : 401, -1);
                x.close();
            });
            http.start();
        }

        synchronized void stop() {
            http.stop(0);
        }

        String url() {
            return "http://127.0.0.1:" + port + "/hook";
        }

        /** @return the deliveries of a rule, "status target" each, in the order received */
        List<String> of(String rule) {
            List<String> out = new ArrayList<>();
            for (JsonObject o : received) {
                if (o.get("rule").getAsString().equals(rule)) {
                    out.add(o.get("status").getAsString() + " " + o.get("target").getAsString());
                }
            }
            return out;
        }

        /** @return as {@link #of}, a delivery received again (the same X-Sonde-Delivery) counted once, as a receiver should */
        List<String> distinct(String rule) {
            List<String> out = new ArrayList<>();
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (int i = 0; i < received.size(); i++) {
                JsonObject o = received.get(i);
                if (o.get("rule").getAsString().equals(rule) && seen.add(deliveries.get(i))) {
                    out.add(o.get("status").getAsString() + " " + o.get("target").getAsString());
                }
            }
            return out;
        }

        @Override
        public void close() {
            stop();
        }
    }

    static String sign(byte[] key, String ts, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update((ts + ".").getBytes(StandardCharsets.US_ASCII));
            return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @BeforeClass
    public static void start() throws Exception {
        // the rules here count seconds (a 5 s window, a flap every 1.5 s): the agents send as soon as they have results, as a
        // pace of seconds would be as long as the rules' timings (README: for and window well above batch_interval_s)
        server = ServerProcess.start("offline_after_s = 6\nalert_eval_s = 1\nbatch_interval_s = 0\n");
        target = new Target();
        // the target, defined on the server for every agent: one probe every 500 ms
        HttpResponse<String> put = server.admin("PUT", "/api/v1/targets/web",
                "{\"kind\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": " + target.port + ", \"interval_ms\": 500, \"timeout_ms\": 400,"
                        + " \"agents\": \"*\", \"tags\": [\"shop\"]}");
        assertEquals(put.body(), 201, put.statusCode());
        String token = server.enrollmentToken("{\"tags\": [\"edge\"]}");
        for (String id : List.of("vantage-1", "vantage-2")) {
            agents.put(id, AgentProcess.start(Map.of("etc/io.sonde.agent.cfg", "agent_id = " + id + "\n",
                    "etc/io.sonde.uplink.cfg", server.uplinkConfig(token, "config_poll_s = 1\n"))));
        }
        Path key = server.home.resolve("data/alerts/webhook.key");
        for (int i = 0; i < 300 && !Files.exists(key); i++) {
            Thread.sleep(100);
        }
        webhook = new Webhook(Files.readString(key).strip().getBytes(StandardCharsets.UTF_8));
        alertmanagerPort = AgentProcess.freePort();
        alertmanagerHome = Files.createTempDirectory("sonde-alertmanager-");
        Files.writeString(alertmanagerHome.resolve("alertmanager.yml"), "route:\n  receiver: sink\n  group_by: [alertname]\n"
                + "  group_wait: 1s\n  group_interval: 1s\nreceivers:\n  - name: sink\n");
        alertmanager = new ProcessBuilder("prometheus-alertmanager", "--config.file=" + alertmanagerHome.resolve("alertmanager.yml"),
                "--storage.path=" + alertmanagerHome.resolve("data"), "--web.listen-address=127.0.0.1:" + alertmanagerPort,
                "--cluster.listen-address=").redirectErrorStream(true).redirectOutput(alertmanagerHome.resolve("alertmanager.log").toFile()).start();
        for (String id : agents.keySet()) {
            awaitResults(id);
        }
    }

    @AfterClass
    public static void stop() throws Exception {
        for (AgentProcess a : agents.values()) {
            a.close();
        }
        if (server != null) {
            server.close();
        }
        if (target != null) {
            target.close();
        }
        if (webhook != null) {
            webhook.close();
        }
        if (alertmanager != null) {
            alertmanager.destroy();
            if (!alertmanager.waitFor(10, TimeUnit.SECONDS)) {
                alertmanager.destroyForcibly();
            }
        }
    }

    static void awaitResults(String agent) throws Exception {
        for (int i = 0; i < 600; i++) {
            if (!server.results(agent, "web").isEmpty()) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(agent + " stored no result for web");
    }

    static void rule(String name, String json) throws Exception {
        HttpResponse<String> r = server.admin("PUT", "/api/v1/alert-rules/" + name, json);
        assertTrue(r.statusCode() + " " + r.body(), r.statusCode() == 201 || r.statusCode() == 200);
    }

    /** @return the alert of a rule as the API lists it, or null */
    static JsonObject alert(String rule) throws Exception {
        for (JsonElement e : server.json(server.admin("GET", "/api/v1/alerts", null)).getAsJsonArray("items")) {
            if (e.getAsJsonObject().get("rule").getAsString().equals(rule)) {
                return e.getAsJsonObject();
            }
        }
        return null;
    }

    interface Check {
        boolean holds() throws Exception;
    }

    /** Waits until {@code check} holds, {@code seconds} at most; @return the milliseconds it took */
    static long await(String what, int seconds, Check check) throws Exception {
        long t0 = System.nanoTime();
        for (int i = 0; i < seconds * 10; i++) {
            if (check.holds()) {
                return (System.nanoTime() - t0) / 1_000_000;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(what + " within " + seconds + " s; alerts: " + server.admin("GET", "/api/v1/alerts", null).body()
                + "; webhook got " + webhook.received);
    }

    static JsonArray alertmanagerAlerts() throws Exception {
        java.net.http.HttpClient c = java.net.http.HttpClient.newHttpClient();
        HttpResponse<String> r = c.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + alertmanagerPort
                + "/api/v2/alerts")).build(), HttpResponse.BodyHandlers.ofString());
        return JsonParser.parseString(r.body()).getAsJsonArray();
    }

    @Test
    public void a_firesAfterItsForAndResolvesAfterRecoveryOnceEachSignedAndAlertmanagerShowsIt() throws Exception {
        rule("web-down", "{\"type\": \"target_down\", \"target\": \"web\", \"min_vantage\": 2, \"for\": \"4s\", \"recover_for\": \"3s\","
                + " \"window\": \"5s\", \"severity\": \"critical\", \"notify\": [{\"webhook\": \"" + webhook.url() + "\"},"
                + " {\"alertmanager\": \"http://127.0.0.1:" + alertmanagerPort + "\"}]}");
        Thread.sleep(3000);
        assertEquals("up: nothing", List.of(), webhook.of("web-down"));
        long down = System.nanoTime();
        target.down();
        await("pending", 20, () -> alert("web-down") != null && alert("web-down").get("state").getAsString().equals("pending"));
        long firing = await("the firing notification", 40, () -> webhook.of("web-down").contains("firing web"));
        long afterDown = (System.nanoTime() - down) / 1_000_000;
        System.out.println("FIGURE target down -> firing notification: " + afterDown + " ms (for 4s, window 5s)");
        assertTrue("fired " + afterDown + " ms after the target went down, before its for of 4 s", afterDown >= 4000);
        JsonObject a = alert("web-down");
        assertEquals("firing", a.get("state").getAsString());
        assertEquals(2.0, a.get("value").getAsDouble(), 0);
        assertTrue(a.get("detail").getAsString(), a.get("detail").getAsString().contains("down from 2 of 2 vantage agents"));
        JsonObject sent = webhook.received.stream().filter(o -> o.get("rule").getAsString().equals("web-down")).findFirst().orElseThrow();
        assertEquals("critical", sent.get("severity").getAsString());
        assertEquals("target_down", sent.get("type").getAsString());
        await("Alertmanager has the alert", 20, () -> {
            for (JsonElement e : alertmanagerAlerts()) {
                JsonObject labels = e.getAsJsonObject().getAsJsonObject("labels");
                if (labels.get("alertname").getAsString().equals("web-down") && labels.get("target").getAsString().equals("web")
                        && labels.get("severity").getAsString().equals("critical")
                        && e.getAsJsonObject().getAsJsonObject("status").get("state").getAsString().equals("active")) {
                    return true;
                }
            }
            return false;
        });
        // grouped by alertname, as its route says, for its one receiver
        JsonArray groups = JsonParser.parseString(java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + alertmanagerPort + "/api/v2/alerts/groups")).build(),
                HttpResponse.BodyHandlers.ofString()).body()).getAsJsonArray();
        JsonObject group = groups.get(0).getAsJsonObject();
        assertEquals(groups.toString(), "web-down", group.getAsJsonObject("labels").get("alertname").getAsString());
        assertEquals("sink", group.getAsJsonObject("receiver").get("name").getAsString());
        assertEquals(1, group.getAsJsonArray("alerts").size());
        long up = System.nanoTime();
        target.up();
        await("the resolved notification", 40, () -> webhook.of("web-down").contains("resolved web"));
        long afterUp = (System.nanoTime() - up) / 1_000_000;
        System.out.println("FIGURE target up -> resolved notification: " + afterUp + " ms (recover_for 3s) ; pending to firing notification: " + firing + " ms");
        assertTrue("resolved " + afterUp + " ms after the target came up, before its recover_for of 3 s", afterUp >= 3000);
        await("Alertmanager no longer shows it active", 30, () -> {
            for (JsonElement e : alertmanagerAlerts()) {
                if (e.getAsJsonObject().getAsJsonObject("labels").get("alertname").getAsString().equals("web-down")) {
                    return false;
                }
            }
            return true;
        });
        Thread.sleep(3000);
        assertEquals("each once", List.of("firing web", "resolved web"), webhook.of("web-down"));
        assertEquals("every delivery signed right", List.of(), webhook.refused);
        assertEquals("resolved", alert("web-down").get("state").getAsString());
    }

    @Test
    public void b_aFlappingTargetPagesNoOne() throws Exception {
        int before = webhook.received.size();
        for (int i = 0; i < 8; i++) { // down 1.5 s, up 1.5 s: never down for the whole 5 s window, never for 4 s
            target.down();
            Thread.sleep(1500);
            target.up();
            Thread.sleep(1500);
        }
        Thread.sleep(3000);
        assertEquals("no notification for a flapping target", before, webhook.received.size());
    }

    @Test
    public void c_aReceiverThatIsDownGetsEveryNotificationOnceInOrderWhenItIsBack() throws Exception {
        rule("web-down", "{\"type\": \"target_down\", \"target\": \"web\", \"min_vantage\": 2, \"for\": \"2s\", \"recover_for\": \"2s\","
                + " \"window\": \"5s\", \"notify\": [{\"webhook\": \"" + webhook.url() + "\"}]}");
        int before = webhook.of("web-down").size();
        webhook.stop();
        target.down();
        await("firing while the receiver is down", 40, () -> "firing".equals(alert("web-down").get("state").getAsString()));
        target.up();
        await("resolved while the receiver is down", 40, () -> "resolved".equals(alert("web-down").get("state").getAsString()));
        JsonArray queued = server.json(server.admin("GET", "/api/v1/notifications", null)).getAsJsonArray("items");
        JsonObject newest = queued.get(0).getAsJsonObject();
        assertEquals(newest.toString(), "pending", newest.get("state").getAsString());
        assertTrue("a receiver's URL path is not shown: " + newest, newest.get("receiver").getAsString().equals("webhook http://127.0.0.1:"
                + webhook.port));
        assertTrue(queued.get(1).getAsJsonObject().get("attempts").getAsInt() >= 1);
        webhook.start();
        await("both delivered", 60, () -> webhook.of("web-down").size() == before + 2);
        Thread.sleep(3000);
        assertEquals(List.of("firing web", "resolved web"), webhook.of("web-down").subList(before, webhook.of("web-down").size()));
        assertEquals("no delivery twice: " + webhook.deliveries, webhook.deliveries.size(), new java.util.HashSet<>(webhook.deliveries).size());
    }

    @Test
    public void d_aSilenceHoldsNotificationsBackUntilItIsDeleted() throws Exception {
        HttpResponse<String> s = server.admin("POST", "/api/v1/silences",
                "{\"matchers\": {\"rule\": \"web-*\", \"subject\": \"web\"}, \"duration\": \"1h\", \"comment\": \"maintenance\"}");
        assertEquals(s.body(), 201, s.statusCode());
        String id = server.json(s).get("id").getAsString();
        int before = webhook.of("web-down").size();
        target.down();
        await("firing, silenced", 40, () -> alert("web-down") != null && alert("web-down").get("state").getAsString().equals("firing")
                && alert("web-down").get("silenced").getAsBoolean());
        Thread.sleep(3000);
        assertEquals("silenced: nothing sent", before, webhook.of("web-down").size());
        assertEquals(204, server.admin("DELETE", "/api/v1/silences/" + id, null).statusCode());
        await("the firing notification once the silence is gone", 30, () -> webhook.of("web-down").size() == before + 1);
        target.up();
        await("resolved", 40, () -> webhook.of("web-down").size() == before + 2);
    }

    @Test
    public void e_xOfNVantageAgentsWithOneOfflineAndNoDataWhenAllAre() throws Exception {
        rule("web-down-1", "{\"type\": \"target_down\", \"target\": \"web\", \"min_vantage\": 1, \"for\": \"2s\", \"window\": \"5s\","
                + " \"notify\": [{\"webhook\": \"" + webhook.url() + "\"}]}");
        agents.get("vantage-2").kill();
        await("vantage-2 offline", 30, () -> !server.agent("vantage-2").get("online").getAsBoolean());
        int before = webhook.of("web-down").size();
        target.down();
        await("one vantage agent sees it down: the 1-of-N rule fires", 40, () -> webhook.of("web-down-1").contains("firing web"));
        Thread.sleep(4000);
        JsonObject two = alert("web-down");
        assertTrue("2 of 2 needed, one offline: not firing: " + two, two == null || !two.get("state").getAsString().equals("firing"));
        assertEquals(before, webhook.of("web-down").size());
        agents.get("vantage-1").kill();
        await("no data once every vantage agent is offline", 40, () -> "nodata".equals(alert("web-down-1").get("state").getAsString()));
        Thread.sleep(3000);
        assertEquals("no data is neither down again nor resolved", List.of("firing web"), webhook.of("web-down-1"));
        target.up();
    }

    @Test
    public void f_theApiRefusesWhatItShould() throws Exception {
        for (String path : List.of("/api/v1/alerts", "/api/v1/alert-rules", "/api/v1/silences", "/api/v1/notifications")) {
            assertEquals(path, 401, server.get(path).statusCode());
        }
        String agentCredential = SecurityIT.enroll(server, "not-an-admin");
        assertEquals(403, server.request("GET", "/api/v1/alerts", agentCredential, null).statusCode());
        assertEquals(403, server.request("PUT", "/api/v1/alert-rules/x", agentCredential,
                "{\"type\":\"agent_offline\"}".getBytes(StandardCharsets.UTF_8)).statusCode());
        HttpResponse<String> bad = server.admin("PUT", "/api/v1/alert-rules/x", "{\"type\": \"loss\", \"target\": \"web\", \"threshold\": 150}");
        assertEquals(400, bad.statusCode());
        assertTrue(bad.body(), bad.body().contains("threshold: 150.0 is not a share of packets"));
        HttpResponse<String> notJson = server.admin("PUT", "/api/v1/alert-rules/x", "{\"type\": ");
        assertEquals(notJson.body(), 400, notJson.statusCode());
        HttpResponse<String> badSilence = server.admin("POST", "/api/v1/silences", "{\"matchers\": {}, \"duration\": \"1h\"}");
        assertEquals(400, badSilence.statusCode());
        assertTrue(badSilence.body(), badSilence.body().contains("matchers: missing"));
        assertEquals(404, server.admin("DELETE", "/api/v1/alert-rules/nothing", null).statusCode());
        assertEquals(400, server.admin("GET", "/api/v1/alerts?state=burning", null).statusCode());
        String metrics = server.get("/metrics").body();
        assertTrue(metrics, java.util.regex.Pattern.compile("sonde_server_notifications_total\\{receiver=\"webhook\",outcome=\"sent\",?\\} [1-9]")
                .matcher(metrics).find());
        assertTrue(metrics, metrics.contains("sonde_server_alert_leader 1.0"));
        assertTrue("the key is never logged", !server.log().contains(new String(webhook.key, StandardCharsets.UTF_8)));
    }
}
