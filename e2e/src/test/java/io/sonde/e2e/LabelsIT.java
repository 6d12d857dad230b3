package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.FixMethodOrder;
import org.junit.Test;
import org.junit.runners.MethodSorters;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * Operator labels end to end: a target's labels written in an agent's own {@code .cfg}, in its
 * targets file, in a server definition, and a mesh's {@code mesh} and {@code peer}, on two real
 * agents. They are labels of the target's series in the agent's {@code /metrics} (promtool checks
 * the exposition) and in a real Prometheus fed by the server's remote write; they are stored with
 * the results and read back with them; they filter the health API and the dashboard (Chromium);
 * a status page group is split per value of one; and alerts are routed by them: two webhooks, each
 * taking the alerts of one team, each gets its team's target going down and not the other's.
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class LabelsIT {

    private static PrometheusServer prometheus;
    private static ServerProcess server;
    private static final List<AgentProcess> agents = new ArrayList<>();
    private static AlertingIT.Target web;
    private static AlertingIT.Webhook dbTeam;
    private static AlertingIT.Webhook webTeam;

    @BeforeClass
    public static void start() throws Exception {
        prometheus = PrometheusServer.on(AgentProcess.freePort()).start();
        server = ServerProcess.prepared("");
        Files.writeString(server.home.resolve("etc/io.sonde.server.remotewrite.cfg"), "url = " + prometheus.writeUrl() + "\nlabels = region=lab\n");
        server.launch();
        server.awaitLogLine("Remote write to " + prometheus.writeUrl());
        web = new AlertingIT.Target();
        define("shop", web.port, "{\"site\": \"fra\", \"team\": \"web\"}");
        define("web-down", AgentProcess.freePort(), "{\"site\": \"fra\", \"team\": \"web\"}");
        define("db-down", AgentProcess.freePort(), "{\"site\": \"ams\", \"team\": \"db\"}");
        DashboardIT.ok(server.admin("PUT", "/api/v1/meshes/lab", "{\"members\": \"lab\", \"kinds\": [\"icmp\"], \"fanout\": \"all\", \"interval_ms\": 1000}"));
        Path key = server.home.resolve("data/alerts/webhook.key");
        for (int i = 0; i < 300 && !Files.exists(key); i++) {
            Thread.sleep(100);
        }
        byte[] secret = Files.readString(key).strip().getBytes(StandardCharsets.UTF_8);
        dbTeam = new AlertingIT.Webhook(secret);
        webTeam = new AlertingIT.Webhook(secret);
        DashboardIT.ok(server.admin("PUT", "/api/v1/alert-rules/down", "{\"type\": \"target_down\", \"target\": \"*\", \"for\": \"2s\","
                + " \"window\": \"3s\", \"notify\": [{\"webhook\": \"" + dbTeam.url() + "\", \"match\": {\"team\": \"db\"}},"
                + " {\"webhook\": \"" + webTeam.url() + "\", \"match\": {\"team\": \"web\", \"site\": \"f*\"}}]}"));
        String token = server.enrollmentToken("{\"tags\": [\"lab\"]}");
        agents.add(AgentProcess.start(Map.of("etc/io.sonde.agent.cfg", "agent_id = labels-a\ntargets_file = etc/targets.json\n",
                "etc/io.sonde.target-local.cfg", "kind = tcp\nhost = 127.0.0.1\nport = " + web.port + "\ninterval_ms = 1000\n"
                        + "labels = site=lab, team=ops\n",
                "etc/targets.json", "{\"targets\": [{\"name\": \"filed\", \"kind\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": " + web.port
                        + ", \"interval_ms\": 1000, \"labels\": {\"site\": \"ber\", \"rack\": \"r7\"}}]}",
                "etc/io.sonde.uplink.cfg", server.uplinkConfig(token, "config_poll_s = 1\n"))));
        agents.add(AgentProcess.start(Map.of("etc/io.sonde.agent.cfg", "agent_id = labels-b\n",
                "etc/io.sonde.uplink.cfg", server.uplinkConfig(token, "config_poll_s = 1\n"))));
        for (String[] awaited : new String[][] {{"labels-a", "local"}, {"labels-a", "filed"}, {"labels-a", "shop"}, {"labels-a", "db-down"},
            {"labels-b", "web-down"}, {"labels-a", "mesh/lab/icmp/labels-b"}, {"labels-b", "mesh/lab/icmp/labels-a"}}) {
            for (int i = 0; i < 600 && server.results(awaited[0], awaited[1]).isEmpty(); i++) {
                Thread.sleep(100);
            }
            assertFalse(awaited[0] + " has results of " + awaited[1], server.results(awaited[0], awaited[1]).isEmpty());
        }
    }

    private static void define(String name, int port, String labels) throws Exception {
        DashboardIT.ok(server.admin("PUT", "/api/v1/targets/" + name, "{\"kind\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": " + port
                + ", \"interval_ms\": 1000, \"agents\": \"*\", \"labels\": " + labels + "}"));
    }

    @AfterClass
    public static void stop() throws Exception {
        for (AgentProcess a : agents) {
            a.close();
        }
        for (AutoCloseable c : new AutoCloseable[] {server, prometheus, web, dbTeam, webTeam}) {
            if (c != null) {
                c.close();
            }
        }
    }

    private static JsonObject get(String path) throws Exception {
        HttpResponse<String> r = server.admin("GET", path, null);
        assertEquals(path + ": " + r.body(), 200, r.statusCode());
        return JsonParser.parseString(r.body()).getAsJsonObject();
    }

    private static TreeSet<String> healthTargets(String query) throws Exception {
        TreeSet<String> out = new TreeSet<>();
        get("/api/v1/health?per_agent=false&" + query).getAsJsonArray("items").forEach(e -> out.add(e.getAsJsonObject().get("target").getAsString()));
        return out;
    }

    private static Map<String, String> labels(JsonElement o) {
        Map<String, String> out = new TreeMap<>();
        o.getAsJsonObject().getAsJsonObject("labels").entrySet().forEach(e -> out.put(e.getKey(), e.getValue().getAsString()));
        return out;
    }

    @Test
    public void a_eachTargetsSeriesInMetricsCarryItsLabelsWhereverTheyWereWritten() throws Exception {
        String a = agents.get(0).awaitMetrics(m -> m.contains("target=\"mesh/lab/icmp/labels-b\""));
        assertTrue(a, a.contains("probe_success{target=\"local\",kind=\"tcp\",site=\"lab\",team=\"ops\"} 1"));
        assertTrue(a, a.contains("probe_success{target=\"filed\",kind=\"tcp\",rack=\"r7\",site=\"ber\"} 1"));
        assertTrue(a, a.contains("probe_success{target=\"shop\",kind=\"tcp\",site=\"fra\",team=\"web\"} 1"));
        assertTrue(a, a.contains("probe_success{target=\"db-down\",kind=\"tcp\",site=\"ams\",team=\"db\"} 0"));
        assertTrue("a mesh's series name the mesh and the peer: " + a,
                a.contains("probe_success{target=\"mesh/lab/icmp/labels-b\",kind=\"icmp\",mesh=\"lab\",peer=\"labels-b\"} 1"));
        assertTrue(a, a.contains("probe_failure_total{target=\"db-down\",kind=\"tcp\",site=\"ams\",team=\"db\",reason=\"refused\"}"));
        AgentProcess.promtool(a);
    }

    @Test
    public void b_theResultsAreStoredWithTheirLabels() throws Exception {
        JsonObject local = get("/api/v1/results?agent=labels-a&target=local&limit=5");
        assertFalse(local.getAsJsonArray("items").isEmpty());
        for (JsonElement r : local.getAsJsonArray("items")) {
            assertEquals(Map.of("site", "lab", "team", "ops"), labels(r));
        }
        JsonObject mesh = get("/api/v1/results?agent=labels-b&target=" + URLEncoder.encode("mesh/lab/icmp/labels-a", StandardCharsets.UTF_8) + "&limit=5");
        assertEquals(Map.of("mesh", "lab", "peer", "labels-a"), labels(mesh.getAsJsonArray("items").get(0)));
        JsonObject filed = get("/api/v1/health/filed");
        assertEquals(Map.of("rack", "r7", "site", "ber"), labels(filed));
    }

    @Test
    public void c_theHealthApiFiltersByLabelsAndABadFilterIsA400NamingIt() throws Exception {
        assertEquals(new TreeSet<>(List.of("shop", "web-down")), healthTargets("label=site=fra"));
        assertEquals(new TreeSet<>(List.of("shop", "web-down")), healthTargets("label=site=fra&label=team=web"));
        assertEquals(new TreeSet<>(List.of("db-down")), healthTargets("label=team=db"));
        assertEquals(new TreeSet<>(List.of("mesh/lab/icmp/labels-a", "mesh/lab/icmp/labels-b")), healthTargets("label=mesh=lab"));
        assertEquals(new TreeSet<>(List.of("mesh/lab/icmp/labels-a")), healthTargets("label=peer=labels-a"));
        assertEquals(new TreeSet<>(), healthTargets("label=site=nowhere"));
        HttpResponse<String> bad = server.admin("GET", "/api/v1/health?label=site", null);
        assertEquals(bad.body(), 400, bad.statusCode());
        assertTrue(bad.body(), bad.body().contains("parameter 'label': 'site' is not name=value with a label name"));
        HttpResponse<String> reserved = server.admin("PUT", "/api/v1/targets/bad", "{\"kind\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": 1,"
                + " \"agents\": \"*\", \"labels\": {\"target\": \"x\"}}");
        assertEquals(reserved.body(), 400, reserved.statusCode());
        assertTrue(reserved.body(), reserved.body().contains("'target' is a label name Sonde or Prometheus sets itself"));
    }

    @Test
    public void d_prometheusGetsTheLabelsThroughRemoteWrite() throws Exception {
        String fra = "count(count by (target) (sonde_probe_success{site=\"fra\",region=\"lab\"}))";
        for (int i = 0; i < 300 && prometheus.scalar(fra) < 2; i++) {
            Thread.sleep(200);
        }
        assertEquals(fra, 2, prometheus.scalar(fra), 0);
        String local = "count(sonde_probe_success{agent=\"labels-a\",target=\"local\",site=\"lab\",team=\"ops\"})";
        for (int i = 0; i < 300 && prometheus.scalar(local) < 1; i++) {
            Thread.sleep(200);
        }
        assertEquals(local, 1, prometheus.scalar(local), 0);
    }

    @Test
    public void e_aStatusPageGroupIsSplitPerValueOfALabel() throws Exception {
        DashboardIT.ok(server.admin("PUT", "/api/v1/status-pages/sites", "{\"title\": \"By site\", \"groups\": [{\"name\": \"Sites\","
                + " \"targets\": \"site=fra OR site=ams\", \"by_label\": \"site\"}]}"));
        HttpResponse<String> r = server.request("GET", "/status/sites/status.json", null, null);
        assertEquals(r.body(), 200, r.statusCode());
        Map<String, List<String>> groups = new TreeMap<>();
        for (JsonElement g : JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonArray("groups")) {
            List<String> names = new ArrayList<>();
            g.getAsJsonObject().getAsJsonArray("targets").forEach(t -> names.add(t.getAsJsonObject().get("name").getAsString()));
            names.sort(null);
            groups.put(g.getAsJsonObject().get("name").getAsString(), names);
        }
        assertEquals(Map.of("Sites: ams", List.of("db-down"), "Sites: fra", List.of("shop", "web-down")), groups);
    }

    @Test
    public void f_eachReceiverGetsTheAlertsOfItsLabelsOnly() throws Exception {
        for (int i = 0; i < 1200 && !(dbTeam.of("down").contains("firing db-down") && webTeam.of("down").contains("firing web-down")); i++) {
            Thread.sleep(100);
        }
        assertEquals("the db team hears of its target only: " + dbTeam.of("down"), new TreeSet<>(List.of("firing db-down")),
                new TreeSet<>(dbTeam.of("down")));
        assertEquals("the web team hears of its target only: " + webTeam.of("down"), new TreeSet<>(List.of("firing web-down")),
                new TreeSet<>(webTeam.of("down")));
        assertEquals(Map.of("site", "ams", "team", "db"), labels(dbTeam.received.get(0)));
        TreeSet<String> firing = new TreeSet<>();
        for (JsonElement a : get("/api/v1/alerts").getAsJsonArray("items")) {
            if (a.getAsJsonObject().get("rule").getAsString().equals("down") && a.getAsJsonObject().get("state").getAsString().equals("firing")) {
                firing.add(a.getAsJsonObject().get("subject").getAsString());
            }
        }
        assertEquals("what is down fires, whatever its labels", new TreeSet<>(List.of("db-down", "web-down")), firing);
    }

    @Test
    public void g_theDashboardListsAndFiltersTargetsByLabel() throws Exception {
        Path shots = DashboardIT.SHOTS;
        Files.createDirectories(shots);
        DashboardIT.ok(server.admin("PUT", "/api/v1/users/lena", "{\"password\": \"a viewer's password\", \"role\": \"viewer\"}"));
        try (Browser browser = Browser.start()) {
            browser.logIn(server.url(), "lena", "a viewer's password");
            browser.eval("location.hash = '#/targets'; true");
            browser.await("the targets", 30, "window.__sonde.view === 'targets' && document.querySelector('#targets tr[data-target=\"local\"]')");
            assertEquals("[\"site=lab\",\"team=ops\"]", browser.eval("JSON.stringify([...document.querySelectorAll('#targets tr[data-target=\"local\"]"
                    + " .label-link')].map(a => a.textContent))").getAsString());
            browser.eval("[...document.querySelectorAll('#targets tr[data-target=\"shop\"] .label-link')].find(a => a.textContent === 'site=fra')"
                    + ".click(); true");
            browser.await("the targets of site fra", 30, "window.__sonde.view === 'targets' && location.hash.includes('label=')"
                    + " && document.querySelectorAll('#targets tbody tr').length === 2");
            assertEquals("[\"shop\",\"web-down\"]", browser.eval("JSON.stringify([...document.querySelectorAll('#targets tbody tr')]"
                    + ".map(r => r.dataset.target).sort())").getAsString());
            assertEquals("site=fra", browser.text("document.getElementById('target-label-filter').value"));
            assertFalse("nothing shows the text null", browser.text("document.getElementById('view').innerText").contains("null"));
            browser.screenshot(shots.resolve("targets-by-label.png"));
            browser.eval("location.hash = '#/targets?label=site%3Dnowhere'; true");
            browser.await("no match said", 30, "window.__sonde.view === 'targets' && document.getElementById('no-label-match')");
            assertEquals("No target has the labels site=nowhere.", browser.text("document.getElementById('no-label-match').textContent"));
            browser.eval("location.hash = '#/target/filed'; true");
            browser.await("filed's page", 30, "window.__sonde.view === 'target' && document.getElementById('target-labels')");
            assertEquals("Labels rack=r7site=ber", browser.text("document.getElementById('target-labels').textContent"));
            browser.screenshot(shots.resolve("target-labels.png"));
        }
    }
}
