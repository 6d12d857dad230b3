package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.FixMethodOrder;
import org.junit.Test;
import org.junit.runners.MethodSorters;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

/**
 * The health model end to end, the built server with two built agents: a target on a closed port
 * under backoff (the shipped defaults' ratios, shortened twenty times: interval 250 ms for 5 s,
 * stretched up to 60 times that, 15 s for 5 minutes; the rule's window 3 s for a minute and its
 * for 3 s for a minute; 45 s of outage for 15 minutes) stays down for every consumer — the health API, the agents' /metrics and a
 * target_down rule that stays firing from 2 of 2 the whole time and never goes to nodata — and
 * resolves once a probe says it answers. Definitions are checked at PUT against the options the
 * agents announce.
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class HealthIT {

    private static ServerProcess server;
    private static final Map<String, AgentProcess> agents = new LinkedHashMap<>();
    private static AlertingIT.Target target;

    interface Check {
        boolean holds() throws Exception;
    }

    static void await(String what, int seconds, Check check) throws Exception {
        for (int i = 0; i < seconds * 10; i++) {
            if (check.holds()) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(what + " within " + seconds + " s; health: " + server.admin("GET", "/api/v1/health", null).body()
                + "; alerts: " + server.admin("GET", "/api/v1/alerts", null).body());
    }

    @BeforeClass
    public static void start() throws Exception {
        server = ServerProcess.start("offline_after_s = 10\nalert_eval_s = 1\n");
        target = new AlertingIT.Target();
        target.down();
        HttpResponse<String> put = server.admin("PUT", "/api/v1/targets/web",
                "{\"kind\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": " + target.port + ", \"interval_ms\": 250, \"timeout_ms\": 200,"
                        + " \"backoff_max_ms\": 15000, \"agents\": \"*\", \"tags\": [\"shop\"]}");
        assertEquals(put.body(), 201, put.statusCode());
        HttpResponse<String> rule = server.admin("PUT", "/api/v1/alert-rules/web-down",
                "{\"type\": \"target_down\", \"target\": \"web\", \"min_vantage\": 2, \"for\": \"3s\", \"window\": \"3s\"}");
        assertEquals(rule.body(), 201, rule.statusCode());
        String token = server.enrollmentToken("{\"tags\": [\"edge\"]}");
        for (String id : List.of("vantage-1", "vantage-2")) {
            agents.put(id, AgentProcess.start(Map.of("etc/io.sonde.agent.cfg", "agent_id = " + id + "\n",
                    "etc/io.sonde.uplink.cfg", server.uplinkConfig(token, "config_poll_s = 1\nstatus_interval_s = 2\n"))));
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
    }

    static JsonObject health(String name) throws Exception {
        HttpResponse<String> r = server.admin("GET", "/api/v1/health/" + name, null);
        return r.statusCode() == 200 ? server.json(r) : null;
    }

    static JsonObject alert(String rule) throws Exception {
        for (JsonElement e : server.json(server.admin("GET", "/api/v1/alerts", null)).getAsJsonArray("items")) {
            if (e.getAsJsonObject().get("rule").getAsString().equals(rule)) {
                return e.getAsJsonObject();
            }
        }
        return null;
    }

    @Test
    public void a_aTargetDownUnderBackoffStaysFiringFromTwoOfTwoAndResolvesOnItsNextProbe() throws Exception {
        await("firing from both vantage agents", 60, () -> {
            JsonObject a = alert("web-down");
            return a != null && a.get("state").getAsString().equals("firing");
        });
        await("both agents back off", 30, () -> {
            JsonObject h = health("web");
            return h != null && h.get("state").getAsString().equals("backoff") && h.get("text").getAsString().equals("down from 2 of 2");
        });
        JsonObject h = health("web");
        assertEquals("tcp", h.get("kind").getAsString());
        assertEquals(2, h.get("vantages").getAsInt());
        assertEquals("refused", h.getAsJsonObject("last_failure").get("reason").getAsString());
        Instant since = Instant.parse(h.get("since").getAsString());
        for (JsonElement e : h.getAsJsonArray("agents")) {
            JsonObject v = e.getAsJsonObject();
            assertEquals(v.toString(), "backoff", v.get("state").getAsString());
            assertTrue(v.toString(), v.get("reason").getAsString().startsWith("refused"));
            assertNotNull(v.toString(), v.get("next_probe").getAsString());
        }
        // three times the longest stretch (15 s): probes 15 s apart against a 3 s window
        List<String> seen = new ArrayList<>();
        long end = System.nanoTime() + 45_000_000_000L;
        int looks = 0;
        while (System.nanoTime() < end && looks < 200) {
            looks++;
            JsonObject a = alert("web-down");
            JsonObject now = health("web");
            String state = a == null ? "none" : a.get("state").getAsString();
            if (!state.equals("firing") || !now.get("text").getAsString().equals("down from 2 of 2")) {
                seen.add(state + " / " + now.get("text").getAsString() + " / " + (a == null ? "" : a));
            }
            Thread.sleep(200);
        }
        assertTrue("looked " + looks + " times", looks > 50);
        assertEquals("the alert stayed firing from 2 of 2 throughout", List.of(), seen);
        assertEquals("down since the first failure, the whole time", since, Instant.parse(health("web").get("since").getAsString()));
        String detail = alert("web-down").toString();
        assertTrue(detail, detail.contains("down from 2 of 2 vantage agents"));

        // each agent tells the same on /metrics
        for (AgentProcess agent : agents.values()) {
            String m = agent.metrics();
            assertTrue(m, m.contains("sonde_target_state{target=\"web\",kind=\"tcp\",state=\"backoff\"} 1"));
        }

        target.up();
        // the next probe of a backed-off target comes at most 15 s later: then the alert resolves
        await("resolved once a probe says it answers", 60, () -> {
            JsonObject a = alert("web-down");
            return a != null && a.get("state").getAsString().equals("resolved");
        });
        await("up from both", 30, () -> "up".equals(health("web").get("state").getAsString()));
        JsonObject up = health("web");
        assertEquals(2, up.get("vantages").getAsInt());
        assertEquals("up from 2 of 2", up.get("text").getAsString());
    }

    @Test
    public void b_theHealthListIsWorstFirstFilteredAndPaged() throws Exception {
        target.down();
        await("web down again", 30, () -> health("web").get("text").getAsString().equals("down from 2 of 2"));
        // a second target that answers: self, the agents' own metrics port, is not defined; define one that is up
        AlertingIT.Target open = new AlertingIT.Target();
        try {
            HttpResponse<String> put = server.admin("PUT", "/api/v1/targets/shop-api",
                    "{\"kind\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": " + open.port + ", \"interval_ms\": 250, \"agents\": \"*\"}");
            assertEquals(put.body(), 201, put.statusCode());
            await("shop-api up", 30, () -> health("shop-api") != null && "up".equals(health("shop-api").get("state").getAsString()));
            // the shipped self target waits for the agent's metrics port: its first probe did not fail
            JsonObject self = health("self");
            assertEquals(self.toString(), "up from 2 of 2", self.get("text").getAsString());
            assertTrue(self.toString(), self.get("last_failure").isJsonNull());
            JsonObject list = server.json(server.admin("GET", "/api/v1/health", null));
            JsonObject first = list.getAsJsonArray("items").get(0).getAsJsonObject();
            assertEquals(list.toString(), "web", first.get("target").getAsString());
            assertTrue(list.get("summary").getAsJsonObject().get("up").getAsInt() >= 1);
            JsonObject downOnly = server.json(server.admin("GET", "/api/v1/health?state=down", null));
            assertEquals(1, downOnly.getAsJsonArray("items").size());
            assertEquals("web", downOnly.getAsJsonArray("items").get(0).getAsJsonObject().get("target").getAsString());
            JsonObject tagged = server.json(server.admin("GET", "/api/v1/health?tag=shop", null));
            assertEquals(1, tagged.getAsJsonArray("items").size());
            // one agent's targets, each with that agent's word alone (an agent's page at ten thousand agents)
            JsonObject all = server.json(server.admin("GET", "/api/v1/health?limit=100", null));
            JsonObject mine = server.json(server.admin("GET", "/api/v1/health?limit=100&agent=vantage-1", null));
            assertEquals(mine.toString(), all.get("total").getAsInt(), mine.get("total").getAsInt());
            for (JsonElement e : mine.getAsJsonArray("items")) {
                JsonArray words = e.getAsJsonObject().getAsJsonArray("agents");
                assertEquals(e.toString(), 1, words.size());
                assertEquals(e.toString(), "vantage-1", words.get(0).getAsJsonObject().get("agent_id").getAsString());
            }
            JsonObject webFromAll = all.getAsJsonArray("items").get(0).getAsJsonObject();
            assertEquals(webFromAll.toString(), 2, webFromAll.getAsJsonArray("agents").size());
            assertEquals(webFromAll.toString(), 0, webFromAll.get("agents_omitted").getAsInt());
            // at most per_agent_limit words a target, the worst first, and how many were left out; the counts are of all
            JsonObject bounded = server.json(server.admin("GET", "/api/v1/health?limit=100&per_agent_limit=1", null))
                    .getAsJsonArray("items").get(0).getAsJsonObject();
            assertEquals(bounded.toString(), "web", bounded.get("target").getAsString());
            assertEquals(bounded.toString(), 1, bounded.getAsJsonArray("agents").size());
            assertEquals(bounded.toString(), webFromAll.getAsJsonArray("agents").get(0), bounded.getAsJsonArray("agents").get(0));
            assertEquals(bounded.toString(), 1, bounded.get("agents_omitted").getAsInt());
            assertEquals(bounded.toString(), webFromAll.get("counts"), bounded.get("counts"));
            assertEquals(bounded.toString(), 2, bounded.get("vantages").getAsInt());
            JsonObject nobody = server.json(server.admin("GET", "/api/v1/health?agent=no-such-agent", null));
            assertEquals(nobody.toString(), 0, nobody.get("total").getAsInt());
            assertEquals(nobody.toString(), 0, nobody.getAsJsonArray("items").size());
            JsonObject page = server.json(server.admin("GET", "/api/v1/health?limit=1", null));
            assertEquals(1, page.getAsJsonArray("items").size());
            assertEquals("1", page.get("next").getAsString());
            HttpResponse<String> bad = server.admin("GET", "/api/v1/health?state=broken", null);
            assertEquals(400, bad.statusCode());
            assertTrue(bad.body(), bad.body().contains("parameter 'state': 'broken' is not a state (down, backoff, degraded, refused, no_prober, unknown, up)"));
            assertEquals(404, server.admin("GET", "/api/v1/health/no-such-target", null).statusCode());
            // bad input is a 400 naming the parameter, never a 5xx; no credential is a 401, an agent's a 403
            for (String q : List.of("?limit=0", "?limit=x", "?after=-1", "?window=1s", "?window=2h", "?per_agent=maybe",
                    "?per_agent_limit=0", "?per_agent_limit=many",
                    "?agents=eu%20AND%20(", "?x=%ff")) {
                HttpResponse<String> r = server.admin("GET", "/api/v1/health" + q, null);
                assertEquals(q + " " + r.body(), 400, r.statusCode());
            }
            HttpResponse<String> oddPath = server.admin("GET", "/api/v1/health/%ff", null);
            assertEquals(oddPath.body(), 400, oddPath.statusCode()); // Jetty's own answer to a path that is not UTF-8
            assertEquals(401, server.get("/api/v1/health").statusCode());
            String agentCredential = SecurityIT.enroll(server, "health-reader");
            assertEquals(403, server.request("GET", "/api/v1/health", agentCredential, null).statusCode());
        } finally {
            open.close();
            server.admin("DELETE", "/api/v1/targets/shop-api", null);
        }
    }

    @Test
    public void c_definitionsAreCheckedAtPutAgainstWhatTheAgentsAnnounce() throws Exception {
        String base = "\"kind\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": " + target.port + ", \"agents\": \"*\"";
        HttpResponse<String> typo = server.admin("PUT", "/api/v1/targets/typo", "{" + base + ", \"intervall_ms\": 1000}");
        assertEquals(typo.body(), 400, typo.statusCode());
        assertTrue(typo.body(), typo.body().contains("key 'intervall_ms' is not known for kind tcp; did you mean 'interval_ms'?"));
        HttpResponse<String> badValue = server.admin("PUT", "/api/v1/targets/typo", "{" + base + ", \"degraded_loss_percent\": 140}");
        assertEquals(badValue.body(), 400, badValue.statusCode());
        assertTrue(badValue.body(), badValue.body().contains("degraded_loss_percent: 140 is out of range (0-100)"));
        assertEquals(404, server.admin("GET", "/api/v1/targets/typo", null).statusCode());
        HttpResponse<String> unknownKind = server.admin("PUT", "/api/v1/targets/later",
                "{\"kind\": \"frobnicate\", \"host\": \"127.0.0.1\", \"agents\": \"*\"}");
        assertEquals(unknownKind.body(), 201, unknownKind.statusCode());
        String warning = server.json(unknownKind).get("warning").getAsString();
        assertTrue(warning, warning.startsWith("no agent has announced the kind 'frobnicate' (announced: "));
        assertTrue(warning, warning.contains("tcp"));
        server.admin("DELETE", "/api/v1/targets/later", null);

        // an alert rule on a target nobody knows: taken, with a warning that says so
        HttpResponse<String> rule = server.admin("PUT", "/api/v1/alert-rules/ghost-down", "{\"type\": \"target_down\", \"target\": \"ghost\"}");
        assertEquals(rule.body(), 201, rule.statusCode());
        assertEquals("no target definition or result names 'ghost' yet: the rule shows no state until one does"
                + " (a target an agent configures in its own files appears with its first result)",
                server.json(rule).get("warning").getAsString());
        HttpResponse<String> known = server.admin("PUT", "/api/v1/alert-rules/self-down", "{\"type\": \"target_down\", \"target\": \"self\"}");
        assertEquals(known.body(), 201, known.statusCode());
        assertTrue(known.body(), !server.json(known).has("warning"));
        server.admin("DELETE", "/api/v1/alert-rules/ghost-down", null);
        server.admin("DELETE", "/api/v1/alert-rules/self-down", null);
    }

    @Test
    public void d_anAgentThatGoesOfflineIsUnknownAndNoLongerAVantage() throws Exception {
        target.down();
        await("down from both", 30, () -> health("web").get("text").getAsString().equals("down from 2 of 2"));
        agents.get("vantage-2").kill();
        // the server's offline_after_s is 10 here (the default is 60): the health API follows the server's setting
        await("vantage-2 offline, unknown", 40, () -> {
            JsonObject h = health("web");
            for (JsonElement e : h.getAsJsonArray("agents")) {
                JsonObject v = e.getAsJsonObject();
                if (v.get("agent_id").getAsString().equals("vantage-2")) {
                    return v.get("state").getAsString().equals("unknown") && v.get("reason").getAsString().startsWith("the agent is offline");
                }
            }
            return false;
        });
        JsonObject h = health("web");
        assertEquals(h.toString(), "down from 1 of 1", h.get("text").getAsString());
        assertEquals(h.toString(), 1, h.get("vantages").getAsInt());
        target.up();
    }
}
