package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * Targets by tag and meshes through the built server's API, and the documents each agent gets:
 * only the targets its tags select, its mesh peers at the addresses they reached the server from,
 * a version to ask with (304 when unchanged), and every bad definition refused naming its field.
 */
public class ServerConfigurationIT {

    private static ServerProcess server;
    private static final Map<String, String> credentials = new HashMap<>();

    @BeforeClass
    public static void start() throws Exception {
        server = ServerProcess.start("offline_after_s = 5\n"); // an agent silent 5 s is offline: the matrix marks it
        // three groups: eu (one of them at the edge), us, and an agent of both
        enroll("cfg-eu-1", "eu");
        enroll("cfg-eu-2", "eu");
        enroll("cfg-eu-edge", "eu", "edge");
        enroll("cfg-us-1", "us");
        enroll("cfg-both", "eu", "us");
        for (String id : List.of("cfg-eu-1", "cfg-eu-2", "cfg-eu-edge", "cfg-us-1")) { // cfg-both has not reported yet
            HttpResponse<String> r = server.post("/api/v1/agents/" + id + "/status", credentials.get(id),
                    "{\"schema\":1,\"version\":\"test\",\"spool_records\":0}".getBytes(StandardCharsets.UTF_8));
            assertEquals(r.body(), 204, r.statusCode());
        }
    }

    @AfterClass
    public static void stop() throws Exception {
        server.close();
    }

    static void enroll(String id, String... tags) throws Exception {
        String token = server.enrollmentToken("{\"single_use\": true, \"tags\": [\"" + String.join("\",\"", tags) + "\"]}");
        HttpResponse<String> r = server.post("/api/v1/enroll", null, ("{\"schema\":1,\"enrollment_token\":\"" + token
                + "\",\"agent_id\":\"" + id + "\",\"version\":\"test\"}").getBytes(StandardCharsets.UTF_8));
        assertEquals(r.body(), 200, r.statusCode());
        credentials.put(id, JsonParser.parseString(r.body()).getAsJsonObject().get("credential").getAsString());
    }

    static HttpResponse<String> put(String path, String json) throws Exception {
        return server.admin("PUT", path, json);
    }

    static HttpResponse<String> document(String id, String... headers) throws Exception {
        return server.request("GET", "/api/v1/agents/" + id + "/config", credentials.get(id), null, headers);
    }

    /** The agent's document once it is no longer {@code version}: a change reaches it within a moment (bounded wait). */
    static HttpResponse<String> changedDocument(String id, String etag) throws Exception {
        for (int i = 0; i < 50; i++) {
            HttpResponse<String> r = document(id, "If-None-Match", etag);
            if (r.statusCode() != 304) {
                return r;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the document of " + id + " did not change from " + etag + " in 5 s");
    }

    static String etag(String id) throws Exception {
        return document(id).headers().firstValue("ETag").orElseThrow();
    }

    static Set<String> targetNames(HttpResponse<String> doc) {
        Set<String> names = new TreeSet<>();
        for (JsonElement e : server.json(doc).getAsJsonArray("targets")) {
            names.add(e.getAsJsonObject().get("name").getAsString());
        }
        return names;
    }

    @Test
    public void targetsByTagReachOnlyTheAgentsTheirSelectorTakes() throws Exception {
        String before = etag("cfg-both");
        HttpResponse<String> made = put("/api/v1/targets/cfg-web", "{\"kind\":\"tcp\",\"host\":\"127.0.0.1\",\"port\":9,"
                + "\"agents\":\"eu and not edge\",\"interval_ms\":10000}");
        assertEquals(made.body(), 201, made.statusCode());
        assertEquals("eu AND NOT edge", server.json(made).get("agents").getAsString());
        assertEquals(201, put("/api/v1/targets/cfg-dns", "{\"kind\":\"dns\",\"host\":\"127.0.0.1\",\"agents\":\"us\"}").statusCode());
        changedDocument("cfg-both", before);
        for (int i = 0; i < 50 && targetNames(document("cfg-both")).size() < 2; i++) { // both changes in
            Thread.sleep(100);
        }
        HttpResponse<String> eu = document("cfg-eu-1");
        assertEquals(eu.body(), 200, eu.statusCode());
        assertEquals(Set.of("cfg-web"), targetNames(eu));
        JsonObject web = server.json(eu).getAsJsonArray("targets").get(0).getAsJsonObject();
        assertTrue("the selector stays on the server: " + web, !web.has("agents"));
        assertEquals(Set.of(), targetNames(document("cfg-eu-edge")));
        assertEquals(Set.of("cfg-dns"), targetNames(document("cfg-us-1")));
        assertEquals(Set.of("cfg-dns", "cfg-web"), targetNames(document("cfg-both")));

        // unchanged: 304 on its version; changed: a new version at once
        String etag = eu.headers().firstValue("ETag").orElseThrow();
        assertEquals("\"" + server.json(eu).get("version").getAsString() + "\"", etag);
        assertEquals(304, document("cfg-eu-1", "If-None-Match", etag).statusCode());
        assertEquals(200, put("/api/v1/targets/cfg-web", "{\"kind\":\"tcp\",\"host\":\"127.0.0.1\",\"port\":10,"
                + "\"agents\":\"eu and not edge\"}").statusCode());
        HttpResponse<String> changed = changedDocument("cfg-eu-1", etag);
        assertEquals(200, changed.statusCode());
        assertNotEquals(etag, changed.headers().firstValue("ETag").orElseThrow());
        assertEquals("gzip where the agent takes it", "gzip",
                document("cfg-eu-1", "Accept-Encoding", "gzip").headers().firstValue("Content-Encoding").orElse(""));

        // listed, shown, deleted
        List<String> listed = new ArrayList<>();
        server.json(server.admin("GET", "/api/v1/targets", null)).getAsJsonArray("items")
                .forEach(e -> listed.add(e.getAsJsonObject().get("name").getAsString()));
        assertTrue(listed.toString(), listed.containsAll(List.of("cfg-dns", "cfg-web")));
        assertEquals(10, server.json(server.admin("GET", "/api/v1/targets/cfg-web", null)).get("port").getAsInt());
        String us = etag("cfg-us-1");
        assertEquals(204, server.admin("DELETE", "/api/v1/targets/cfg-dns", null).statusCode());
        assertEquals(404, server.admin("DELETE", "/api/v1/targets/cfg-dns", null).statusCode());
        assertEquals(404, server.admin("GET", "/api/v1/targets/cfg-dns", null).statusCode());
        assertEquals(Set.of(), targetNames(changedDocument("cfg-us-1", us)));
    }

    @Test
    public void aBadDefinitionIsRefusedNamingItsFieldAndNothingChanges() throws Exception {
        String[][] cases = {
            {"/api/v1/targets/cfg-bad", "{\"kind\":\"tcp\",\"host\":\"h\",\"port\":9,\"agents\":\"eu AND (us\"}",
                "agents: at column 11: expected AND, OR or ')' to close the '(' at column 8, found the end"},
            {"/api/v1/targets/cfg-bad", "{\"kind\":\"tcp\",\"host\":\"h\",\"port\":99999,\"agents\":\"eu\"}", "port: 99999 is not a port number"},
            {"/api/v1/targets/cfg-bad", "{\"kind\":\"tcp\",\"port\":9,\"agents\":\"eu\"}", "host: missing"},
            {"/api/v1/targets/cfg-bad", "{\"kind\":\"tcp\",\"host\":\"h\",\"agents\":\"eu\",\"count\":[1]}", "count: a list is not a setting"},
            {"/api/v1/targets/cfg-bad", "[1, 2]", ""},
            {"/api/v1/targets/cfg-bad", "{\"kind\":", ""},
            {"/api/v1/meshes/cfg-bad", "{\"members\":\"eu\",\"kinds\":[\"icmp\"],\"fanout\":9}", "fanout: 9 peers, but 'eu' takes 4 agents now"},
            {"/api/v1/meshes/cfg-bad", "{\"members\":\"eu\",\"kinds\":{\"tcp\":{\"host\":\"x\"}},\"fanout\":1}", "kinds.tcp.host: set by the mesh"},
        };
        for (String[] c : cases) {
            HttpResponse<String> r = put(c[0], c[1]);
            assertEquals(c[1] + ": " + r.body(), 400, r.statusCode());
            assertTrue(c[1] + ": " + r.body(), server.json(r).get("error").getAsString().contains(c[2]));
        }
        assertEquals(404, server.admin("GET", "/api/v1/targets/cfg-bad", null).statusCode());
        assertEquals(404, server.admin("GET", "/api/v1/meshes/cfg-bad", null).statusCode());
        // only the admin defines; an agent reads only its own document
        HttpResponse<String> asAgent = server.request("PUT", "/api/v1/targets/cfg-x", credentials.get("cfg-eu-1"),
                "{\"kind\":\"tcp\",\"host\":\"h\",\"port\":9,\"agents\":\"*\"}".getBytes(StandardCharsets.UTF_8));
        assertEquals(403, asAgent.statusCode());
        assertEquals(403, server.request("GET", "/api/v1/agents/cfg-us-1/config", credentials.get("cfg-eu-1"), null).statusCode());
        assertEquals(401, server.request("GET", "/api/v1/agents/cfg-us-1/config", null, null).statusCode());
        assertEquals(404, server.admin("GET", "/api/v1/agents/nobody/config", null).statusCode());
    }

    static void status(String id) throws Exception {
        HttpResponse<String> r = server.post("/api/v1/agents/" + id + "/status", credentials.get(id),
                "{\"schema\":1,\"version\":\"test\",\"spool_records\":0}".getBytes(StandardCharsets.UTF_8));
        assertEquals(r.body(), 204, r.statusCode());
    }

    static String result(long seq, String target, java.time.Instant at, boolean ok, double rt) {
        return "{\"seq\":" + seq + ",\"target\":\"" + target + "\",\"kind\":\"icmp\",\"started_at\":\"" + at + "\",\"success\":" + ok
                + (ok ? "" : ",\"failure_reason\":\"timeout\"") + ",\"response_time_seconds\":" + rt + "}";
    }

    @Test
    public void theMatrixShowsEachPairAndMarksAgentsThatAreDownAsSuch() throws Exception {
        assertEquals(201, put("/api/v1/meshes/cfg-mx", "{\"members\":\"eu\",\"kinds\":[\"icmp\",\"tcp\"],\"fanout\":\"all\"}").statusCode());
        // cfg-eu-1 measured cfg-eu-2 ten times (1 to 10 ms) and cfg-eu-edge five times, each lost
        java.time.Instant t = java.time.Instant.now().minusSeconds(60);
        List<String> results = new ArrayList<>();
        for (int i = 1; i <= 10; i++) {
            results.add(result(i, "mesh/cfg-mx/icmp/cfg-eu-2", t.plusSeconds(4L * i), true, 0.001 * i));
        }
        for (int i = 11; i <= 15; i++) {
            results.add(result(i, "mesh/cfg-mx/icmp/cfg-eu-edge", t.plusSeconds(4L * (i - 10)), false, 1.0));
        }
        HttpResponse<String> sent = server.post("/api/v1/agents/cfg-eu-1/results", credentials.get("cfg-eu-1"),
                ("{\"schema\":1,\"agent_id\":\"cfg-eu-1\",\"epoch\":\"mx\",\"results\":[" + String.join(",", results) + "]}")
                        .getBytes(StandardCharsets.UTF_8), "Content-Type", "application/json");
        assertEquals(sent.body(), 200, sent.statusCode());
        // cfg-eu-edge and cfg-both fall silent: offline after 5 s; cfg-eu-1 and cfg-eu-2 keep talking
        JsonObject matrix = null;
        for (int round = 0; round < 40; round++) {
            status("cfg-eu-1");
            status("cfg-eu-2");
            matrix = server.json(server.admin("GET", "/api/v1/meshes/cfg-mx/matrix", null));
            if (cell(matrix, "cfg-both", "cfg-eu-1").get("state").getAsString().equals("source_offline")
                    && cell(matrix, "cfg-eu-1", "cfg-eu-edge").get("state").getAsString().equals("destination_offline")) {
                break;
            }
            Thread.sleep(500);
        }
        assertEquals("icmp", matrix.get("kind").getAsString());
        assertEquals(4, matrix.getAsJsonArray("members").size());
        assertEquals("4 members, 3 peers each", 12, matrix.getAsJsonArray("cells").size());
        JsonObject good = cell(matrix, "cfg-eu-1", "cfg-eu-2");
        assertEquals(10, good.get("count").getAsInt());
        assertEquals(0.0, good.get("loss").getAsDouble(), 1e-9);
        assertEquals(0.005, good.get("median_seconds").getAsDouble(), 0.0001);
        assertEquals("up", good.get("state").getAsString());
        JsonObject lost = cell(matrix, "cfg-eu-1", "cfg-eu-edge");
        assertEquals(5, lost.get("count").getAsInt());
        assertEquals(1.0, lost.get("loss").getAsDouble(), 1e-9);
        assertEquals("a destination that is down is not loss of the path", "destination_offline", lost.get("state").getAsString());
        assertEquals("source_offline", cell(matrix, "cfg-both", "cfg-eu-1").get("state").getAsString());
        JsonObject silent = cell(matrix, "cfg-eu-2", "cfg-eu-1");
        assertEquals(0, silent.get("count").getAsInt());
        assertTrue(silent.get("loss").isJsonNull());
        assertEquals("no_data", silent.get("state").getAsString());
        // a range longer than an hour comes from the rollups pair by pair, a shorter one from the results at once: the same figures
        JsonObject longer = server.json(server.admin("GET", "/api/v1/meshes/cfg-mx/matrix?from="
                + java.time.Instant.now().minusSeconds(3 * 3600).truncatedTo(java.time.temporal.ChronoUnit.SECONDS), null));
        JsonObject goodLonger = cell(longer, "cfg-eu-1", "cfg-eu-2");
        assertEquals(longer.toString(), 10, goodLonger.get("count").getAsInt());
        assertEquals(0.0, goodLonger.get("loss").getAsDouble(), 1e-9);
        assertEquals(0.005, goodLonger.get("median_seconds").getAsDouble(), 0.0005);
        assertEquals(5, cell(longer, "cfg-eu-1", "cfg-eu-edge").get("count").getAsInt());
        assertEquals(1.0, cell(longer, "cfg-eu-1", "cfg-eu-edge").get("loss").getAsDouble(), 1e-9);
        assertEquals(0, cell(longer, "cfg-eu-2", "cfg-eu-1").get("count").getAsInt());
        assertEquals("tcp", server.json(server.admin("GET", "/api/v1/meshes/cfg-mx/matrix?kind=tcp", null)).get("kind").getAsString());
        HttpResponse<String> badKind = server.admin("GET", "/api/v1/meshes/cfg-mx/matrix?kind=http", null);
        assertEquals(400, badKind.statusCode());
        assertTrue(badKind.body(), badKind.body().contains("kind: 'http' is not one of the mesh's kinds"));
        assertEquals(400, server.admin("GET", "/api/v1/meshes/cfg-mx/matrix?from=yesterday", null).statusCode());
        assertEquals(400, server.admin("GET", "/api/v1/meshes/cfg-mx/matrix?from=2026-12-02T10:00:00Z&to=2026-12-01T10:00:00Z", null)
                .statusCode());
        assertEquals(404, server.admin("GET", "/api/v1/meshes/nothing/matrix", null).statusCode());
        assertEquals(204, server.admin("DELETE", "/api/v1/meshes/cfg-mx", null).statusCode());
    }

    static JsonObject cell(JsonObject matrix, String source, String destination) {
        for (JsonElement e : matrix.getAsJsonArray("cells")) {
            JsonObject c = e.getAsJsonObject();
            if (c.get("source").getAsString().equals(source) && c.get("destination").getAsString().equals(destination)) {
                return c;
            }
        }
        throw new AssertionError("no cell " + source + " -> " + destination + " in " + matrix);
    }

    @Test
    public void aMeshGivesEachMemberItsPeersAtTheirAddresses() throws Exception {
        String before = etag("cfg-eu-1");
        HttpResponse<String> made = put("/api/v1/meshes/cfg-eu", "{\"members\":\"eu\",\"kinds\":{\"icmp\":{},\"tcp\":{\"port\":7}},"
                + "\"fanout\":2,\"interval_ms\":30000}");
        assertEquals(made.body(), 201, made.statusCode());
        JsonObject shown = server.json(server.admin("GET", "/api/v1/meshes/cfg-eu", null));
        JsonObject plan = shown.getAsJsonObject("plan");
        assertEquals(4, plan.get("members").getAsInt());
        assertEquals(2, plan.get("fanout").getAsInt());
        JsonObject peers = plan.getAsJsonObject("peers");
        changedDocument("cfg-eu-1", before);
        assertEquals(Set.of("cfg-both", "cfg-eu-1", "cfg-eu-2", "cfg-eu-edge"), peers.keySet());
        for (String member : peers.keySet()) {
            List<String> mine = new ArrayList<>();
            peers.getAsJsonArray(member).forEach(p -> mine.add(p.getAsString()));
            assertEquals(2, mine.size());
            JsonObject doc = server.json(document(member));
            JsonObject view = doc.getAsJsonArray("meshes").get(0).getAsJsonObject();
            assertEquals("cfg-eu", view.get("name").getAsString());
            Set<String> reachable = new TreeSet<>();
            view.getAsJsonArray("peers").forEach(p -> reachable.add(p.getAsString()));
            Set<String> waiting = new TreeSet<>();
            view.getAsJsonArray("waiting").forEach(p -> waiting.add(p.getAsString()));
            assertEquals("cfg-both has no address yet", mine.contains("cfg-both") ? Set.of("cfg-both") : Set.of(), waiting);
            for (JsonElement e : doc.getAsJsonArray("targets")) {
                JsonObject t = e.getAsJsonObject();
                if (!t.get("name").getAsString().startsWith("mesh/")) {
                    continue;
                }
                JsonObject labels = t.getAsJsonObject("labels");
                assertTrue(t.toString(), reachable.contains(labels.get("peer").getAsString()));
                assertEquals("mesh/cfg-eu/" + t.get("kind").getAsString() + "/" + labels.get("peer").getAsString(), t.get("name").getAsString());
                assertEquals("the address it reached the server from", "127.0.0.1", t.get("host").getAsString());
                assertEquals(30000, t.get("interval_ms").getAsInt());
                if (t.get("kind").getAsString().equals("tcp")) {
                    assertEquals(7, t.get("port").getAsInt());
                }
            }
            assertEquals("two kinds a reachable peer", 2 * reachable.size(),
                    doc.getAsJsonArray("targets").asList().stream().filter(t -> t.getAsJsonObject().get("name").getAsString()
                            .startsWith("mesh/")).count());
        }
        assertEquals("not a member: no mesh", 0, server.json(document("cfg-us-1")).getAsJsonArray("meshes").size());
        String withMesh = etag("cfg-eu-1");
        assertEquals(204, server.admin("DELETE", "/api/v1/meshes/cfg-eu", null).statusCode());
        assertEquals(0, server.json(changedDocument("cfg-eu-1", withMesh)).getAsJsonArray("meshes").size());
    }

    static HttpResponse<String> statusOf(String id, String json) throws Exception {
        return server.post("/api/v1/agents/" + id + "/status", credentials.get(id), json.getBytes(StandardCharsets.UTF_8));
    }

    static JsonObject configOf(String id) throws Exception {
        return server.agent(id).getAsJsonObject("config");
    }

    @Test
    public void whatAnAgentAppliesIsShownAndAStaleOneSaysWhy() throws Exception {
        String current = server.json(document("cfg-us-1")).get("version").getAsString();
        // behind: it says it applies an older document
        assertEquals(204, statusOf("cfg-us-1", "{\"schema\":1,\"version\":\"test\",\"spool_records\":0,\"config_version\":\"older\","
                + "\"config_source\":\"server\",\"config_rejected\":[{\"name\":\"web\",\"reason\":\"key 'port': 70000 is not a port\"}]}")
                .statusCode());
        JsonObject c = configOf("cfg-us-1");
        assertEquals(current, c.get("current").getAsString());
        assertEquals("older", c.get("applied").getAsString());
        assertTrue(c.get("stale").getAsBoolean());
        assertTrue(c.toString(), c.get("stale_reason").getAsString().contains("applies older; the new document reaches it at its next poll"));
        assertEquals("key 'port': 70000 is not a port", c.getAsJsonArray("rejected").get(0).getAsJsonObject().get("reason").getAsString());
        assertTrue(listedIds("?stale=true").contains("cfg-us-1"));
        assertTrue(!listedIds("?stale=false").contains("cfg-us-1"));
        // on its kept copy: said so
        statusOf("cfg-us-1", "{\"schema\":1,\"version\":\"test\",\"config_version\":\"older\",\"config_source\":\"server-cache\"}");
        assertTrue(configOf("cfg-us-1").get("stale_reason").getAsString().contains("runs on its kept copy older"));
        // up to date, with its advertised address
        assertEquals(204, statusOf("cfg-us-1", "{\"schema\":1,\"version\":\"test\",\"config_version\":\"" + current
                + "\",\"config_source\":\"server\",\"address\":\"127.0.0.99\"}").statusCode());
        c = configOf("cfg-us-1");
        assertTrue(!c.get("stale").getAsBoolean());
        assertTrue(c.get("stale_reason").isJsonNull());
        assertEquals(0, c.getAsJsonArray("rejected").size());
        assertEquals("127.0.0.99", server.agent("cfg-us-1").get("address").getAsString());
        // an agent that never said, and is silent: stale, and why
        assertTrue(configOf("cfg-both").toString(), configOf("cfg-both").get("stale_reason").getAsString().contains("offline since"));

        // bad reports: refused naming the field, nothing kept
        HttpResponse<String> r = statusOf("cfg-us-1", "{\"schema\":1,\"version\":\"test\",\"config_version\":\"x\",\"config_source\":\"disk\"}");
        assertEquals(400, r.statusCode());
        assertTrue(r.body(), r.body().contains("config_source: 'disk' is neither server nor server-cache"));
        r = statusOf("cfg-us-1", "{\"schema\":1,\"version\":\"test\",\"address\":\"10.0.0.1; rm -rf /\"}");
        assertEquals(400, r.statusCode());
        assertTrue(r.body(), r.body().contains("address: '10.0.0.1; rm -rf /' is neither an IP address nor a host name"));
        r = statusOf("cfg-us-1", "{\"schema\":1,\"version\":\"test\",\"config_rejected\":{\"web\":\"bad\"}}");
        assertEquals(400, r.statusCode());
        assertEquals(current, configOf("cfg-us-1").get("applied").getAsString());
        assertEquals("127.0.0.99", server.agent("cfg-us-1").get("address").getAsString());
        assertEquals(400, server.admin("GET", "/api/v1/agents?stale=maybe", null).statusCode());
        // a long list is cut at 100 entries, each reason at 1,000 characters
        StringBuilder many = new StringBuilder("{\"schema\":1,\"version\":\"test\",\"config_version\":\"" + current
                + "\",\"config_source\":\"server\",\"config_rejected\":[");
        for (int i = 0; i < 150; i++) {
            many.append(i == 0 ? "" : ",").append("{\"name\":\"t").append(i).append("\",\"reason\":\"").append("x".repeat(2000)).append("\"}");
        }
        assertEquals(204, statusOf("cfg-us-1", many.append("]}").toString()).statusCode());
        c = configOf("cfg-us-1");
        assertEquals(100, c.getAsJsonArray("rejected").size());
        assertEquals(1000, c.getAsJsonArray("rejected").get(0).getAsJsonObject().get("reason").getAsString().length());
        statusOf("cfg-us-1", "{\"schema\":1,\"version\":\"test\",\"config_version\":\"" + current + "\",\"config_source\":\"server\"}");
    }

    static Set<String> listedIds(String query) throws Exception {
        Set<String> ids = new TreeSet<>();
        for (JsonElement e : server.json(server.admin("GET", "/api/v1/agents" + query, null)).getAsJsonArray("items")) {
            ids.add(e.getAsJsonObject().get("agent_id").getAsString());
        }
        return ids;
    }

    @Test
    public void theAgentListIsPagedInIdOrderWithItsTotalAndSummaryOverEveryPage() throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 23; i++) {
            ids.add(String.format("page-%02d", i));
        }
        for (String id : ids) {
            enroll(id, "paged");
        }
        assertEquals(204, server.admin("DELETE", "/api/v1/agents/page-07", null).statusCode());
        List<String> seen = new ArrayList<>();
        List<Integer> sizes = new ArrayList<>();
        String after = null;
        for (int page = 0; page < 10; page++) {
            JsonObject body = server.json(server.admin("GET", "/api/v1/agents?selector=paged&limit=10"
                    + (after == null ? "" : "&after=" + after), null));
            assertEquals(23, body.get("total").getAsInt());
            body.getAsJsonArray("items").forEach(e -> seen.add(e.getAsJsonObject().get("agent_id").getAsString()));
            sizes.add(body.getAsJsonArray("items").size());
            if (body.get("next").isJsonNull()) {
                break;
            }
            after = body.get("next").getAsString();
            assertEquals("next names the page's last agent", seen.get(seen.size() - 1), after);
        }
        assertEquals(List.of(10, 10, 3), sizes);
        assertEquals("every agent once, in id order", ids, seen);
        // the summary counts every agent the query takes, not the page's
        JsonObject whole = server.json(server.admin("GET", "/api/v1/agents?selector=paged&limit=10000", null));
        JsonObject summary = whole.getAsJsonObject("summary");
        int online = 0;
        int offline = 0;
        int revoked = 0;
        for (JsonElement e : whole.getAsJsonArray("items")) {
            JsonObject a = e.getAsJsonObject();
            if (a.get("revoked").getAsBoolean()) {
                revoked++;
            } else if (a.get("online").getAsBoolean()) {
                online++;
            } else {
                offline++;
            }
        }
        assertEquals(1, revoked);
        assertEquals(revoked, summary.get("revoked").getAsInt());
        assertEquals(online, summary.get("online").getAsInt());
        assertEquals(offline, summary.get("offline").getAsInt());
        assertEquals(22, online + offline);
        assertEquals(summary.toString(), 0, summary.get("refusing").getAsInt());
        JsonObject one = server.json(server.admin("GET", "/api/v1/agents?selector=paged&limit=1", null));
        assertEquals("a page of one has the whole query's summary", summary, one.getAsJsonObject("summary"));
        assertEquals("page-00", one.get("next").getAsString());
        // past the last, and after an id that is no agent's: the order still holds
        JsonObject past = server.json(server.admin("GET", "/api/v1/agents?selector=paged&after=page-22", null));
        assertEquals(0, past.getAsJsonArray("items").size());
        assertTrue(past.get("next").isJsonNull());
        JsonObject between = server.json(server.admin("GET", "/api/v1/agents?selector=paged&limit=2&after=page-10x", null));
        assertEquals("page-11", between.getAsJsonArray("items").get(0).getAsJsonObject().get("agent_id").getAsString());
        for (String bad : List.of("0", "-3", "10001", "ten", "1e3")) {
            HttpResponse<String> r = server.admin("GET", "/api/v1/agents?limit=" + bad, null);
            assertEquals(bad, 400, r.statusCode());
            assertTrue(r.body(), r.body().contains("limit: '" + bad + "' is not a whole number from 1 to 10000"));
        }
    }
}
