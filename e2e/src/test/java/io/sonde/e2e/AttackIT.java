package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.GZIPOutputStream;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * The server attacked as an outsider would in an afternoon (the holes an outside review found),
 * each test sending the request that proved the hole and checking that it is refused now: taking
 * over another agent's identity, claiming tags, credentials that outlive the password or admin
 * token they came from, parallel and distributed password guessing, cross-site logins, and bodies
 * within the byte bound that made the server run out of memory.
 */
public class AttackIT {

    private static ServerProcess server;

    @BeforeClass
    public static void start() throws Exception {
        server = ServerProcess.start("");
    }

    @AfterClass
    public static void stop() throws Exception {
        server.close();
    }

    static HttpResponse<String> enroll(String token, String id, String tags, String bearer) throws Exception {
        return server.post("/api/v1/enroll", bearer, ("{\"schema\":1,\"enrollment_token\":\"" + token + "\",\"agent_id\":\"" + id
                + "\",\"version\":\"test\"" + (tags == null ? "" : ",\"tags\":" + tags) + "}").getBytes(StandardCharsets.UTF_8),
                "Content-Type", "application/json");
    }

    static HttpResponse<String> enrollOn(ServerProcess server, String token, String id) throws Exception {
        HttpResponse<String> r = server.post("/api/v1/enroll", null, ("{\"schema\":1,\"enrollment_token\":\"" + token + "\",\"agent_id\":\""
                + id + "\",\"version\":\"test\"}").getBytes(StandardCharsets.UTF_8), "Content-Type", "application/json");
        assertEquals(r.body(), 200, r.statusCode());
        return r;
    }

    static String credential(HttpResponse<String> r) {
        assertEquals(r.body(), 200, r.statusCode());
        return JsonParser.parseString(r.body()).getAsJsonObject().get("credential").getAsString();
    }

    static int status(String credential, String agent) throws Exception {
        return server.post("/api/v1/agents/" + agent + "/status", credential, "{\"schema\":1,\"spool_records\":0}".getBytes(StandardCharsets.UTF_8),
                "Content-Type", "application/json").statusCode();
    }

    /** Hole 1: any holder of a multi-use token replaced an enrolled agent's credential and merged its own tags in. */
    @Test
    public void anEnrollmentTokenDoesNotTakeOverAnEnrolledAgentNorGiveTagsOfItsOwn() throws Exception {
        String token = server.enrollmentToken("{\"tags\": [\"edge\"]}");
        String victim = credential(enroll(token, "victim-1", null, null));
        assertEquals(204, status(victim, "victim-1"));

        // the request that proved the hole: the same token, the victim's id, tags of the attacker's choosing
        HttpResponse<String> takeover = enroll(token, "victim-1", "[\"edge\",\"core\"]", null);
        assertEquals(takeover.body(), 403, takeover.statusCode()); // its tags are checked first: not the token's
        assertTrue(takeover.body(), takeover.body().contains("tags [core] are not the enrollment token's ([edge])"));
        takeover = enroll(token, "victim-1", null, null);
        assertEquals(takeover.body(), 409, takeover.statusCode());
        assertTrue(takeover.body(), takeover.body().contains("agent 'victim-1' is enrolled already")
                && takeover.body().contains("POST /api/v1/agents/victim-1/reset"));
        assertEquals("the agent keeps working", 204, status(victim, "victim-1"));
        assertEquals("[\"edge\"]", server.agent("victim-1").get("tags").toString());
        // another agent's credential proves nothing for this id
        String other = credential(enroll(token, "other-1", null, null));
        assertEquals(403, enroll(token, "victim-1", null, other).statusCode());
        assertEquals(204, status(victim, "victim-1"));

        // the agent itself, proving its credential, may enroll again: a new credential, the old one ends
        String renewed = credential(enroll(token, "victim-1", null, victim));
        assertEquals(401, status(victim, "victim-1"));
        assertEquals(204, status(renewed, "victim-1"));
        // an admin's reset ends the credential at once; the next enrollment under the id takes it
        HttpResponse<String> reset = server.admin("POST", "/api/v1/agents/victim-1/reset", "{}");
        assertEquals(reset.body(), 200, reset.statusCode());
        assertEquals(401, status(renewed, "victim-1"));
        assertEquals(404, server.admin("POST", "/api/v1/agents/nobody/reset", "{}").statusCode());
        assertEquals("a viewer or an agent may not reset", 403, server.post("/api/v1/agents/other-1/reset", other, new byte[0]).statusCode());
        String rebuilt = credential(enroll(token, "victim-1", null, null));
        assertEquals(204, status(rebuilt, "victim-1"));
        assertEquals(409, enroll(token, "victim-1", null, null).statusCode());
        // a token made to let agents add their own tags does
        String open = server.enrollmentToken("{\"tags\": [\"edge\"], \"agent_tags\": true}");
        HttpResponse<String> own = enroll(open, "tagged-1", "[\"rack7\"]", null);
        assertEquals(own.body(), 200, own.statusCode());
        assertEquals("[\"rack7\",\"edge\"]", server.agent("tagged-1").get("tags").toString());
    }

    /**
     * The locked-out agent ends well: an admin resets it, it says clearly why the server refuses
     * it and keeps spooling; given a new token it enrolls again under its id, and every result it
     * measured meanwhile reaches the server, counted against what the target saw.
     */
    @Test
    public void aResetAgentSaysWhyAndEnrollsAgainWithItsSpoolLosingNothing() throws Exception {
        try (CountingListener target = new CountingListener(); AgentProcess agent = AgentProcess.start()) {
            agent.write("etc/io.sonde.agent.cfg", "agent_id = reset-1\n");
            agent.write("etc/io.sonde.uplink.cfg", server.uplinkConfig(server.enrollmentToken("{}"), ""));
            agent.awaitLogLine("Enrolled with " + server.url() + " as agent reset-1");
            // the token is used once: it leaves the file (and so the framework's copy of the configuration)
            agent.awaitLogLine("the enrollment token is used once, and is removed from");
            String cfg = Files.readString(agent.home.resolve("etc/io.sonde.uplink.cfg"));
            assertFalse(cfg, cfg.contains("enrollment_token"));
            assertTrue(cfg, cfg.contains("server_url = " + server.url()));
            agent.write("etc/io.sonde.target-t.cfg", UplinkIT.targetCfg("t", target.port(), 100));
            agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_acked_total ") >= 5);

            assertEquals(200, server.admin("POST", "/api/v1/agents/reset-1/reset", "{}").statusCode());
            agent.awaitLogLine("the server refuses this agent's credential (401", "An admin reset or revoked it",
                    "POST /api/v1/agents/reset-1/reset", "enrollment_token in etc/io.sonde.uplink.cfg");
            agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_up ") == 0 && AgentProcess.value(m, "sonde_spool_records ") >= 10);
            assertEquals("said once", 1, agent.countLogLines("An admin reset or revoked it"));

            agent.write("etc/io.sonde.uplink.cfg", server.uplinkConfig(server.enrollmentToken("{}"), ""));
            agent.awaitLogLine("enrolling again with the enrollment_token configured");
            agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_up ") == 1 && AgentProcess.value(m, "sonde_spool_records ") < 5);
            Files.delete(agent.home.resolve("etc/io.sonde.target-t.cfg"));
            Thread.sleep(1500); // the target stops; its last results reach the spool
            UplinkIT.awaitDrained(agent);

            List<JsonObject> results = server.results("reset-1", "t");
            long successes = results.stream().filter(r -> r.get("success").getAsBoolean()).count();
            long accepted = target.accepted.get();
            // a probe gives up after 90 ms: on a busy machine the connection may complete as it does, counted by the target and
            // stored as a timeout; every connection is a stored result, the last maybe in flight when the target went
            long timeouts = results.stream().filter(r -> r.has("failure_reason") && !r.get("failure_reason").isJsonNull()
                    && r.get("failure_reason").getAsString().equals("timeout")).count();
            assertEquals("every failure a timeout", results.size() - successes, timeouts);
            assertTrue(accepted + " connections, " + successes + " successes and " + timeouts + " timeouts stored",
                    successes <= accepted && accepted <= successes + timeouts + 1);
            UplinkIT.assertIdentitiesContiguous(server.results("reset-1", null));
            JsonObject a = server.json(server.admin("GET", "/api/v1/agents/reset-1", null));
            assertEquals(a.toString(), 0, a.getAsJsonObject("sequence").get("gaps").getAsLong());
            assertEquals("one epoch: the spool stayed", 1, a.getAsJsonObject("sequence").getAsJsonArray("epochs").size());
        }
    }

    static String login(String user, String password) throws Exception {
        HttpResponse<String> r = server.post("/api/v1/session", null, ("{\"user\":\"" + user + "\",\"password\":\"" + password + "\"}")
                .getBytes(StandardCharsets.UTF_8), "Content-Type", "application/json");
        assertEquals(r.body(), 200, r.statusCode());
        String cookie = r.headers().firstValue("Set-Cookie").orElseThrow();
        return cookie.substring(0, cookie.indexOf(';'));
    }

    static String csrf(String cookie) throws Exception {
        HttpResponse<String> r = server.request("GET", "/api/v1/session", null, null, "Cookie", cookie);
        return JsonParser.parseString(r.body()).getAsJsonObject().get("csrf").getAsString();
    }

    static String apiToken(String cookie) throws Exception {
        HttpResponse<String> r = server.request("POST", "/api/v1/tokens", null, "{\"label\":\"ci\",\"expires_in_days\":366}"
                .getBytes(StandardCharsets.UTF_8), "Cookie", cookie, "X-CSRF-Token", csrf(cookie), "Content-Type", "application/json");
        assertEquals(r.body(), 201, r.statusCode());
        return JsonParser.parseString(r.body()).getAsJsonObject().get("token").getAsString();
    }

    static int asCookie(String cookie) throws Exception {
        return server.request("GET", "/api/v1/agents", null, null, "Cookie", cookie).statusCode();
    }

    static int asBearer(String token) throws Exception {
        return server.request("GET", "/api/v1/agents", token, null).statusCode();
    }

    /** Hole 5: a new password left the user's old sessions and API tokens working. */
    @Test
    public void aNewPasswordEndsTheSessionsAndTokensMadeWithTheOldOne() throws Exception {
        assertEquals(201, server.admin("PUT", "/api/v1/users/carol", "{\"password\":\"first password 1\",\"role\":\"viewer\"}").statusCode());
        String session = login("carol", "first password 1");
        String token = apiToken(session);
        assertEquals(200, asCookie(session));
        assertEquals(200, asBearer(token));
        HttpResponse<String> changed = server.admin("PUT", "/api/v1/users/carol", "{\"password\":\"second password 2\",\"role\":\"viewer\"}");
        assertEquals(200, changed.statusCode());
        assertEquals(changed.body(), 2, server.json(changed).get("credentials_ended").getAsInt());
        assertEquals(401, asCookie(session));
        assertEquals(401, asBearer(token));
        String fresh = login("carol", "second password 2");
        assertEquals(200, asCookie(fresh));
    }

    /** Hole 3: a new admin token left the sessions and the 366-day API tokens made with the old one working. */
    @Test
    public void aRotatedAdminTokenEndsTheSessionsAndTokensMadeWithTheOldOne() throws Exception {
        try (ServerProcess own = ServerProcess.start("")) {
            HttpResponse<String> r = own.post("/api/v1/session", null, ("{\"user\":\"admin\",\"password\":\"" + own.adminToken() + "\"}")
                    .getBytes(StandardCharsets.UTF_8), "Content-Type", "application/json");
            assertEquals(r.body(), 200, r.statusCode());
            String session = r.headers().firstValue("Set-Cookie").orElseThrow().split(";")[0];
            String csrf = own.json(own.request("GET", "/api/v1/session", null, null, "Cookie", session)).get("csrf").getAsString();
            r = own.request("POST", "/api/v1/tokens", null, "{\"expires_in_days\":366}".getBytes(StandardCharsets.UTF_8), "Cookie", session,
                    "X-CSRF-Token", csrf, "Content-Type", "application/json");
            assertEquals(r.body(), 201, r.statusCode());
            String token = own.json(r).get("token").getAsString();
            assertEquals(200, own.request("GET", "/api/v1/agents", token, null).statusCode());

            own.stop(); // the operator rotates the token: a new file, a restart
            Files.delete(own.home.resolve("data/admin.token"));
            own.launch();
            assertEquals(401, own.request("GET", "/api/v1/agents", token, null).statusCode());
            assertEquals(401, own.request("GET", "/api/v1/agents", null, null, "Cookie", session).statusCode());
            assertEquals(200, own.admin("GET", "/api/v1/agents", null).statusCode());
        }
    }

    /**
     * Hole 4: 40 parallel wrong logins got 27 password checks (the limit is 5), and the count per
     * name let anyone lock the admin out. Now: five checks, and the user's own address still logs in.
     */
    @Test
    public void parallelGuessesGetFiveChecksAndTheUserStillLogsInFromElsewhere() throws Exception {
        assertEquals(201, server.admin("PUT", "/api/v1/users/dave", "{\"password\":\"right password\",\"role\":\"viewer\"}").statusCode());
        ExecutorService pool = Executors.newFixedThreadPool(40);
        List<Future<String>> answers = new ArrayList<>();
        try {
            for (int i = 0; i < 40; i++) {
                answers.add(pool.submit((Callable<String>) () -> server.requestFrom("127.0.0.3", "POST", "/api/v1/session", "application/json",
                        "{\"user\":\"dave\",\"password\":\"guess\"}")[0]));
            }
            Map<String, Integer> counts = new java.util.TreeMap<>();
            for (Future<String> f : answers) {
                counts.merge(f.get(), 1, Integer::sum);
            }
            assertEquals(Map.of("401", 5, "429", 35), counts);
        } finally {
            pool.shutdownNow();
        }
        String[] locked = server.requestFrom("127.0.0.3", "POST", "/api/v1/session", "application/json",
                "{\"user\":\"dave\",\"password\":\"right password\"}");
        assertEquals(locked[1], "429", locked[0]);
        assertTrue(locked[1], locked[1].contains("too many failed logins for 'dave' from 127.0.0.3"));
        String[] elsewhere = server.requestFrom("127.0.0.4", "POST", "/api/v1/session", "application/json",
                "{\"user\":\"dave\",\"password\":\"right password\"}");
        assertEquals(elsewhere[1], "200", elsewhere[0]);
    }

    /** Hole 5: a cross-site text/plain form logged the victim's browser into another account. */
    @Test
    public void aCrossSiteLoginIsRefused() throws Exception {
        String body = "{\"user\":\"admin\",\"password\":\"" + server.adminToken() + "\"}";
        HttpResponse<String> form = server.post("/api/v1/session", null, body.getBytes(StandardCharsets.UTF_8), "Content-Type", "text/plain");
        assertEquals(form.body(), 415, form.statusCode());
        assertTrue(form.body(), form.body().contains("log in with a JSON body (Content-Type: application/json), not 'text/plain'"));
        assertFalse(form.headers().firstValue("Set-Cookie").isPresent());
        HttpResponse<String> evil = server.post("/api/v1/session", null, body.getBytes(StandardCharsets.UTF_8), "Content-Type", "application/json",
                "Origin", "https://evil.sonde.test");
        assertEquals(evil.body(), 403, evil.statusCode());
        assertTrue(evil.body(), evil.body().contains("a login from another site (Origin https://evil.sonde.test) is refused"));
        HttpResponse<String> own = server.post("/api/v1/session", null, body.getBytes(StandardCharsets.UTF_8), "Content-Type", "application/json",
                "Origin", "https://127.0.0.1:" + server.port);
        assertEquals(own.body(), 200, own.statusCode());
    }

    /**
     * Hole 5: the store and backup files were 0644, answers carried no HSTS and swagger-ui no CSP,
     * and a query string that is not UTF-8 was a 500.
     */
    @Test
    public void theServersFilesAreItsOwnAndItsAnswersSayHowToTreatThem() throws Exception {
        assertEquals(200, server.admin("POST", "/api/v1/admin/backup", "{}").statusCode() / 100 * 100);
        List<String> open = new ArrayList<>();
        try (java.util.stream.Stream<java.nio.file.Path> all = Files.walk(server.home.resolve("data"))) {
            all.forEach(p -> {
                try {
                    java.util.Set<java.nio.file.attribute.PosixFilePermission> perms = Files.getPosixFilePermissions(p);
                    if (perms.stream().anyMatch(x -> x.name().startsWith("GROUP") || x.name().startsWith("OTHERS"))) {
                        open.add(server.home.relativize(p) + " " + java.nio.file.attribute.PosixFilePermissions.toString(perms));
                    }
                } catch (java.io.IOException e) {
                    // gone meanwhile (a temporary file)
                }
            });
        }
        assertEquals("readable by the server's user only", List.of(), open);
        assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(server.home.resolve("data"))));

        for (String path : List.of("/healthz", "/api/v1/agents", "/ui/login", "/api/docs/index.html")) {
            HttpResponse<String> r = server.request("GET", path, server.adminToken(), null);
            assertEquals(path, "max-age=31536000", r.headers().firstValue("Strict-Transport-Security").orElse(null));
            assertEquals(path, "nosniff", r.headers().firstValue("X-Content-Type-Options").orElse(null));
        }
        HttpResponse<String> docs = server.get("/api/docs/index.html");
        assertEquals(200, docs.statusCode());
        assertTrue(docs.body(), docs.body().contains("swagger-initializer.js"));
        for (String path : List.of("/api/docs", "/api/docs/")) { // as the README writes it: the page, not an empty listing
            HttpResponse<String> to = server.get(path);
            assertEquals(path + " " + to.body(), 302, to.statusCode());
            assertTrue(path, to.headers().firstValue("Location").orElse("").endsWith("/api/docs/index.html"));
        }
        String csp = docs.headers().firstValue("Content-Security-Policy").orElse("");
        assertTrue(csp, csp.contains("script-src 'self';") && csp.contains("frame-ancestors 'none'"));

        String[] bad = server.requestFrom("127.0.0.1", "GET", "/api/v1/agents?x=%ff", null, null, "Authorization", "Bearer " + server.adminToken());
        assertEquals(bad[1], "400", bad[0]);
        assertTrue(bad[1], bad[1].contains("the query string: its percent escapes are not UTF-8"));
        HttpResponse<String> far = server.admin("GET", "/api/v1/results?from=0&to=9999999999", null);
        assertEquals(far.body(), 200, far.statusCode());
        far = server.admin("GET", "/api/v1/results?from=99999999999999999", null);
        assertEquals(far.body(), 400, far.statusCode());
        assertTrue(far.body(), far.body().contains("parameter 'from': '99999999999999999' is not an RFC 3339 time or Unix seconds"));
    }

    static int statusWith(String credential, String agent, String address) throws Exception {
        return server.post("/api/v1/agents/" + agent + "/status", credential, ("{\"schema\":1,\"spool_records\":0" + (address == null ? ""
                : ",\"address\":\"" + address + "\"") + "}").getBytes(StandardCharsets.UTF_8), "Content-Type", "application/json").statusCode();
    }

    /**
     * Hole 5: an agent could report any address, and its mesh peers were told to probe it. Now it
     * must be an address or a host name, the server shows where it came from, and an admin may pin it.
     */
    @Test
    public void anAdvertisedAddressIsCheckedShownWithItsSourceAndAnAdminMayPinIt() throws Exception {
        String c = credential(enroll(server.enrollmentToken("{}"), "addr-1", null, null));
        HttpResponse<String> bad = server.post("/api/v1/agents/addr-1/status", c, "{\"schema\":1,\"spool_records\":0,\"address\":\"a..b\"}"
                .getBytes(StandardCharsets.UTF_8), "Content-Type", "application/json");
        assertEquals(bad.body(), 400, bad.statusCode());
        assertTrue(bad.body(), bad.body().contains("address: 'a..b' is neither an IP address nor a host name"));
        assertEquals(204, statusWith(c, "addr-1", "10.9.8.7"));
        JsonObject a = server.agent("addr-1");
        assertEquals("10.9.8.7", a.get("address").getAsString());
        assertEquals("advertised", a.get("address_source").getAsString());
        assertEquals(204, statusWith(c, "addr-1", null));
        assertEquals("127.0.0.1", server.agent("addr-1").get("address").getAsString());
        assertEquals("connection", server.agent("addr-1").get("address_source").getAsString());

        HttpResponse<String> pin = server.admin("PUT", "/api/v1/agents/addr-1/address", "{\"address\": \"10.1.1.1\"}");
        assertEquals(pin.body(), 200, pin.statusCode());
        assertEquals(204, statusWith(c, "addr-1", "10.9.8.7"));
        a = server.agent("addr-1");
        assertEquals("the pin holds whatever the agent says", "10.1.1.1", a.get("address").getAsString());
        assertEquals("pinned", a.get("address_source").getAsString());
        assertEquals(400, server.admin("PUT", "/api/v1/agents/addr-1/address", "{\"address\": \"not an address\"}").statusCode());
        assertEquals(404, server.admin("PUT", "/api/v1/agents/nobody/address", "{\"address\": null}").statusCode());
        assertEquals(403, server.request("PUT", "/api/v1/agents/addr-1/address", c, "{\"address\": null}".getBytes(StandardCharsets.UTF_8),
                "Content-Type", "application/json").statusCode());
        assertEquals(200, server.admin("PUT", "/api/v1/agents/addr-1/address", "{\"address\": null}").statusCode());
        assertEquals("10.9.8.7", server.agent("addr-1").get("address").getAsString());
        assertEquals("advertised", server.agent("addr-1").get("address_source").getAsString());
    }

    static byte[] gzip(String json) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(json.getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }

    /**
     * Hole 2: four parallel batches within max_batch_bytes (gzip of ~15 MiB JSON, results whose
     * details hold thousands of keys) drove the 1 GiB heap to OutOfMemoryError and the process
     * exited. Now the read stops at the bound it passes, with a 413 naming where.
     */
    @Test
    public void batchesWithinTheByteBoundThatWouldFillTheHeapAreRefusedAndTheServerLives() throws Exception {
        String credential = credential(enroll(server.enrollmentToken("{}"), "heavy-1", null, null));
        StringBuilder json = new StringBuilder(16 << 20).append("{\"schema\":1,\"agent_id\":\"heavy-1\",\"epoch\":\"e1\",\"results\":[");
        String now = java.time.Instant.now().toString();
        for (int r = 0; json.length() < 15 << 20; r++) {
            json.append(r == 0 ? "" : ",").append("{\"seq\":").append(r + 1).append(",\"target\":\"t\",\"kind\":\"tcp\",\"started_at\":\"")
                    .append(now).append("\",\"success\":true,\"response_time_seconds\":0.001,\"details\":{");
            for (int k = 0; k < 8000; k++) {
                json.append(k == 0 ? "" : ",").append('"').append(k).append("\":0");
            }
            json.append("}}");
        }
        byte[] body = gzip(json.append("]}").toString());
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<HttpResponse<String>>> sent = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                sent.add(pool.submit(() -> server.post("/api/v1/agents/heavy-1/results", credential, body, "Content-Type", "application/json",
                        "Content-Encoding", "gzip")));
            }
            for (Future<HttpResponse<String>> f : sent) {
                HttpResponse<String> r = f.get();
                assertTrue(r.statusCode() + " " + r.body(), r.statusCode() == 413 || r.statusCode() == 429);
                if (r.statusCode() == 413) {
                    assertTrue(r.body(), r.body().contains("$.results[0].details: larger than 65536 bytes of JSON"));
                }
            }
        } finally {
            pool.shutdownNow();
        }
        // many results, each small and within its bound, but more values in all than the heap takes for a batch
        StringBuilder many = new StringBuilder("{\"schema\":1,\"agent_id\":\"heavy-1\",\"epoch\":\"e1\",\"results\":[");
        for (int r = 0; r < 2000; r++) {
            many.append(r == 0 ? "" : ",").append("{\"seq\":").append(r + 1).append(",\"target\":\"t\",\"kind\":\"tcp\",\"started_at\":\"")
                    .append(now).append("\",\"success\":true,\"response_time_seconds\":0.001,\"details\":{\"a\":[");
            for (int k = 0; k < 3000; k++) {
                many.append(k == 0 ? "" : ",").append(0);
            }
            many.append("]}}");
        }
        HttpResponse<String> r = server.post("/api/v1/agents/heavy-1/results", credential, gzip(many.append("]}").toString()),
                "Content-Type", "application/json", "Content-Encoding", "gzip");
        assertEquals(r.body(), 413, r.statusCode());
        assertTrue(r.body(), r.body().contains("values (stopped at $.results[") && r.body().contains("send smaller batches"));
        // deeper than any measurement
        String deep = "{\"schema\":1,\"agent_id\":\"heavy-1\",\"epoch\":\"e1\",\"results\":[{\"seq\":1,\"target\":\"t\",\"kind\":\"tcp\","
                + "\"started_at\":\"" + now + "\",\"success\":true,\"response_time_seconds\":0.001,\"details\":{\"a\":" + "[".repeat(40)
                + "]".repeat(40) + "}}]}";
        r = server.post("/api/v1/agents/heavy-1/results", credential, deep.getBytes(StandardCharsets.UTF_8), "Content-Type", "application/json");
        assertEquals(r.body(), 413, r.statusCode());
        assertTrue(r.body(), r.body().contains("$.results[0].details: nested deeper than 16"));

        assertEquals(200, server.get("/healthz").statusCode());
        String ok = "{\"schema\":1,\"agent_id\":\"heavy-1\",\"epoch\":\"e1\",\"results\":[{\"seq\":1,\"target\":\"t\",\"kind\":\"tcp\",\"started_at\":\""
                + now + "\",\"success\":true,\"response_time_seconds\":0.001,\"details\":{\"address\":\"127.0.0.1\"}}]}";
        r = server.post("/api/v1/agents/heavy-1/results", credential, ok.getBytes(StandardCharsets.UTF_8), "Content-Type", "application/json");
        assertEquals(r.body(), 200, r.statusCode());
        assertTrue(server.log(), !server.log().contains("OutOfMemoryError"));
    }
}
