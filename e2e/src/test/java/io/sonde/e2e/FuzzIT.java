package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Random;

import org.junit.AfterClass;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.junit.runners.Parameterized;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import io.sonde.server.store.internal.PostgresCluster;

/**
 * Every endpoint that takes input, fed mutations of a valid request (cut short, values swapped for
 * nulls, wrong types, huge or deep ones, control characters, garbage, unknown keys) and query
 * strings no client sends, on both stores: each answer is a 2xx or a 4xx with the JSON error,
 * never a 5xx nor a page without a reason, and the server stays up. Seeded: a failure names its
 * request and repeats.
 */
@RunWith(Parameterized.class)
public class FuzzIT {

    @Parameterized.Parameters(name = "{0}")
    public static Collection<Object[]> stores() {
        return List.of(new Object[] {"h2"}, new Object[] {"postgres"});
    }

    private static PostgresCluster db;
    private final String store;

    public FuzzIT(String store) {
        this.store = store;
    }

    @AfterClass
    public static void stopDatabase() throws Exception {
        if (db != null) {
            db.close();
        }
    }

    private ServerProcess start() throws Exception {
        if (store.equals("h2")) {
            return ServerProcess.start("");
        }
        if (db == null) {
            db = PostgresCluster.start();
        }
        return ServerProcess.start(ServerProcess.postgres(db, db.newDatabase()));
    }

    /** One request to fuzz: its method, path, who sends it, and a valid body. */
    record Endpoint(String method, String path, String bearer, String body, String... headers) {
    }

    static final List<String> NASTY = List.of("null", "true", "-1", "0", "1e309", "99999999999999999999", "-99999999999999999999",
            "\"\"", "\"\\u0000\\r\\nX-Forged: 1\"", "[]", "{}", "\"" + "x".repeat(70_000) + "\"", "[".repeat(300) + "]".repeat(300),
            "\"9999-99-99T99:99:99Z\"", "\"+999999999-12-31T23:59:59Z\"", "\"-999999999-01-01T00:00:00Z\"", "0.5", "\"é\\ud800\"");

    /** @return mutations of a valid JSON body, reproducible by the seed */
    static List<byte[]> mutations(String valid, long seed) {
        Random r = new Random(seed);
        List<byte[]> out = new ArrayList<>();
        byte[] bytes = valid.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < 6; i++) {
            out.add(Arrays.copyOf(bytes, r.nextInt(Math.max(1, bytes.length)))); // cut short
        }
        JsonElement tree = JsonParser.parseString(valid);
        if (tree.isJsonObject()) {
            List<String> keys = new ArrayList<>(tree.getAsJsonObject().keySet());
            for (String key : keys) {
                for (String nasty : NASTY) {
                    if (r.nextInt(3) == 0) {
                        continue; // a third left out: many requests, not all of them
                    }
                    String body = tree.getAsJsonObject().deepCopy().toString();
                    JsonObject o = JsonParser.parseString(body).getAsJsonObject();
                    o.remove(key);
                    String rest = o.toString();
                    String mutated = "{\"" + key + "\":" + nasty + (rest.equals("{}") ? "}" : "," + rest.substring(1));
                    out.add(mutated.getBytes(StandardCharsets.UTF_8));
                }
                JsonObject without = tree.getAsJsonObject().deepCopy();
                without.remove(key);
                out.add(without.toString().getBytes(StandardCharsets.UTF_8));
            }
            JsonObject extra = tree.getAsJsonObject().deepCopy();
            extra.addProperty("no_such_key_" + r.nextInt(100), 1);
            out.add(extra.toString().getBytes(StandardCharsets.UTF_8));
            if (!keys.isEmpty()) { // the same key twice
                out.add(("{\"" + keys.get(0) + "\":1," + valid.substring(1)).getBytes(StandardCharsets.UTF_8));
            }
        }
        for (String nasty : NASTY) {
            out.add(nasty.getBytes(StandardCharsets.UTF_8)); // not an object at all
        }
        byte[] garbage = new byte[1 + r.nextInt(2000)];
        r.nextBytes(garbage);
        out.add(garbage);
        out.add(new byte[0]);
        return out;
    }

    private final List<String> wrong = new ArrayList<>();

    /** Notes an answer that is not a 2xx or a 4xx with the JSON error; all of them are reported at the end. */
    void check(String what, HttpResponse<String> r) {
        check(what, r.statusCode(), r.body());
    }

    void check(String what, int status, String body) {
        record Answer(int statusCode, String body) {
        }
        Answer r = new Answer(status, body);
        if (r.statusCode() >= 500) {
            wrong.add(what + " answered " + r.statusCode() + ": " + abbreviate(r.body().getBytes(StandardCharsets.UTF_8)));
            return;
        }
        if (r.statusCode() >= 400) {
            try {
                JsonObject o = JsonParser.parseString(r.body()).getAsJsonObject();
                if (!o.has("error") || o.get("error").getAsString().isBlank()) {
                    wrong.add(what + " answered " + r.statusCode() + " without a reason: " + r.body());
                }
            } catch (RuntimeException e) {
                wrong.add(what + " answered " + r.statusCode() + " without the JSON error: " + abbreviate(r.body().getBytes(StandardCharsets.UTF_8)));
            }
        }
    }

    private static String tail(String log) {
        return log.length() <= 6000 ? log : log.substring(log.length() - 6000);
    }

    @Test
    public void everyEndpointAnswersBadInputWithA4xxThatSaysWhy() throws Exception {
        try (ServerProcess server = start()) {
            String token = server.enrollmentToken("{\"tags\": [\"fuzz\"]}");
            HttpResponse<String> e = AttackIT.enrollOn(server, token, "fuzz-1");
            String agent = server.json(e).get("credential").getAsString();
            assertEquals(201, server.admin("PUT", "/api/v1/users/fuzzer", "{\"password\":\"fuzzing password\",\"role\":\"admin\"}").statusCode());
            String now = Instant.now().toString();
            String json = "application/json";
            List<Endpoint> endpoints = List.of(
                    new Endpoint("POST", "/api/v1/enroll", null, "{\"schema\":1,\"enrollment_token\":\"" + token
                            + "\",\"agent_id\":\"fuzz-2\",\"tags\":[\"fuzz\"],\"version\":\"1\"}"),
                    new Endpoint("POST", "/api/v1/agents/fuzz-1/status", agent, "{\"schema\":1,\"version\":\"1\",\"spool_records\":3,"
                            + "\"spool_oldest_seconds\":1.5,\"config_version\":\"v1\",\"config_source\":\"server\",\"config_rejected\":"
                            + "[{\"name\":\"a\",\"reason\":\"b\"}],\"address\":\"127.0.0.1\",\"updates\":[],\"kinds\":{},"
                            + "\"kinds_hash\":\"" + "ab".repeat(32) + "\"}"),
                    new Endpoint("POST", "/api/v1/agents/fuzz-1/results", agent, "{\"schema\":1,\"agent_id\":\"fuzz-1\",\"epoch\":\"e1\","
                            + "\"results\":[{\"seq\":1,\"target\":\"t\",\"kind\":\"tcp\",\"started_at\":\"" + now + "\",\"success\":false,"
                            + "\"failure_reason\":\"refused\",\"error\":\"x\",\"response_time_seconds\":0.1,\"details\":{\"sent\":1},"
                            + "\"next_probe\":\"" + now + "\",\"backoff\":false}]}"),
                    new Endpoint("POST", "/api/v1/session", null, "{\"user\":\"fuzzer\",\"password\":\"wrong\"}"),
                    new Endpoint("PUT", "/api/v1/users/fuzzed", "admin", "{\"password\":\"a good password\",\"role\":\"viewer\"}"),
                    new Endpoint("POST", "/api/v1/enrollment-tokens", "admin", "{\"tags\":[\"a\"],\"expires_at\":\"2099-01-01T00:00:00Z\","
                            + "\"single_use\":true,\"agent_tags\":false}"),
                    new Endpoint("PUT", "/api/v1/targets/fz", "admin", "{\"kind\":\"tcp\",\"host\":\"127.0.0.1\",\"port\":9,"
                            + "\"interval_ms\":1000,\"timeout_ms\":500,\"agents\":\"fuzz\"}"),
                    new Endpoint("PUT", "/api/v1/meshes/fz", "admin", "{\"members\":\"fuzz\",\"kinds\":[\"icmp\"],\"fanout\":\"all\","
                            + "\"interval_ms\":1000}"),
                    new Endpoint("PUT", "/api/v1/rollouts/fz", "admin", "{\"bundle\":\"io.sonde.plugin.tcp\",\"version\":\"9.9.9\","
                            + "\"agents\":\"fuzz\"}"),
                    new Endpoint("PUT", "/api/v1/alert-rules/fz", "admin", "{\"type\":\"target_down\",\"target\":\"t\",\"for\":\"2s\","
                            + "\"window\":\"3s\"}"),
                    new Endpoint("POST", "/api/v1/silences", "admin", "{\"matchers\":{\"rule\":\"fz\"},\"duration\":\"1h\",\"comment\":\"c\"}"),
                    new Endpoint("PUT", "/api/v1/receivers/fz-mail", "admin", "{\"type\":\"email\",\"host\":\"127.0.0.1\",\"port\":9,"
                            + "\"tls\":\"starttls\",\"username\":\"u\",\"password\":\"p\",\"from\":\"a@example.test\",\"to\":[\"b@example.test\"],"
                            + "\"title\":\"{{severity}}: {{target}}\",\"text\":\"{{summary}}\\n{{link}}\"}"),
                    new Endpoint("PUT", "/api/v1/receivers/fz-tg", "admin", "{\"type\":\"telegram\",\"bot_token\":\"123:ABCDEFGHIJKLMNOPQRSTUVWX\","
                            + "\"chat_id\":-100123,\"url\":\"https://127.0.0.1:9\"}"),
                    new Endpoint("PUT", "/api/v1/maintenance/fz", "admin", "{\"weekly\":[{\"days\":[\"sat\",\"sun\"],\"from\":\"22:00\","
                            + "\"to\":\"02:00\"}],\"time_zone\":\"Europe/Berlin\",\"targets\":\"fuzz OR t\",\"rules\":\"fz*\",\"comment\":\"c\"}"),
                    new Endpoint("PUT", "/api/v1/objectives/fz", "admin", "{\"targets\":\"fz*\",\"tag\":\"eu\",\"percent\":99.9,"
                            + "\"days\":30,\"comment\":\"c\"}"),
                    new Endpoint("PUT", "/api/v1/agents/fuzz-1/tags", "admin", "{\"tags\":[\"fuzz\",\"b\"]}"),
                    new Endpoint("POST", "/api/v1/agents/fuzz-1/reset", "admin", "{}"),
                    new Endpoint("POST", "/api/v1/bundles", "admin", "{\"not\":\"multipart\"}", "Content-Type",
                            "multipart/form-data; boundary=xyz"));
            // a status naming its kinds by a hash: one that is no SHA-256 is refused, naming the field; one the server does not
            // hold is answered with a request for the kinds themselves
            HttpResponse<String> badHash = server.post("/api/v1/agents/fuzz-1/status", agent,
                    "{\"schema\":1,\"version\":\"1\",\"kinds_hash\":\"ABC\"}".getBytes(StandardCharsets.UTF_8), "Content-Type", json);
            assertEquals(badHash.body(), 400, badHash.statusCode());
            assertTrue(badHash.body(), badHash.body().contains("kinds_hash must be a SHA-256 in 64 lower-case hex digits, not 'ABC'"));
            HttpResponse<String> unknownHash = server.post("/api/v1/agents/fuzz-1/status", agent,
                    ("{\"schema\":1,\"version\":\"1\",\"kinds_hash\":\"" + "0f".repeat(32) + "\"}").getBytes(StandardCharsets.UTF_8),
                    "Content-Type", json);
            assertEquals(unknownHash.body(), 200, unknownHash.statusCode());
            assertTrue(unknownHash.body(), server.json(unknownHash).get("kinds_wanted").getAsBoolean());
            int sent = 0;
            long seed = 25;
            for (Endpoint ep : endpoints) {
                for (byte[] body : mutations(ep.body(), seed++)) {
                    String bearer = "admin".equals(ep.bearer()) ? server.adminToken() : ep.bearer();
                    List<String> headers = new ArrayList<>(List.of(ep.headers()));
                    if (headers.isEmpty()) {
                        headers.addAll(List.of("Content-Type", json));
                    }
                    String what = ep.method() + " " + ep.path() + " with " + abbreviate(body);
                    try {
                        check(what, server.request(ep.method(), ep.path(), bearer, body, headers.toArray(new String[0])));
                    } catch (java.io.IOException x) {
                        wrong.add(what + " got no answer: " + x + (server.alive() ? "" : " (the server died)"));
                        if (!server.alive()) {
                            fail(String.join("\n", wrong) + "\n" + tail(server.log()));
                        }
                    }
                    sent++;
                }
            }
            // query strings no client sends, on every endpoint that reads them
            List<String> gets = List.of("/api/v1/results", "/api/v1/series?target=t", "/api/v1/agents", "/api/v1/health",
                    "/api/v1/targets", "/api/v1/alerts", "/api/v1/meshes/fz/matrix", "/api/v1/health/t", "/api/v1/observed",
                    "/api/v1/enrollment-tokens", "/api/v1/users", "/api/v1/tokens", "/api/v1/bundles", "/api/v1/rollouts", "/api/v1/receivers",
                    "/api/v1/maintenance?target=t", "/api/v1/notifications", "/api/v1/reports/uptime", "/api/v1/reports/uptime/t",
                    "/api/v1/reports/objectives", "/api/v1/objectives");
            List<String> queries = List.of("from=0&to=9999999999", "from=99999999999999999", "to=-99999999999999999",
                    "to=1970-01-01T00:00:00Z", "to=-999999999-01-01T00:00:00Z", "from=+999999999-12-31T23:59:59Z", "x=%ff", "x=%zz",
                    "limit=99999999999999999999", "limit=-1", "after=%00", "step=99999999999999999d", "step=0", "state=%0d%0a",
                    "selector=((((((((((", "selector=" + "a%20AND%20".repeat(500) + "a", "per_agent=maybe", "stale=2", "kind=%E2%80%AE",
                    "agent=" + "a".repeat(5000), "from=2026-01-01T00:00:00Z&from=2026-01-02T00:00:00Z");
            for (String get : gets) {
                for (String q : queries) {
                    String path = get + (get.contains("?") ? "&" : "?") + q;
                    try { // a socket of its own: the JDK's client sends no broken escapes
                        String[] r = server.requestFrom("127.0.0.1", "GET", path, null, null, "Authorization", "Bearer " + server.adminToken());
                        check("GET " + path, Integer.parseInt(r[0]), r[1]);
                    } catch (java.io.IOException x) {
                        wrong.add("GET " + path + " got no answer: " + x);
                    }
                    sent++;
                }
            }
            if (!wrong.isEmpty()) {
                fail(wrong.size() + " of " + sent + " answers are wrong:\n" + String.join("\n", wrong) + "\nserver log tail:\n" + tail(server.log()));
            }
            assertTrue("the server stayed up through " + sent + " requests", server.alive());
            assertEquals(200, server.get("/healthz").statusCode());
            assertTrue("no forged log line", server.log().lines().noneMatch(l -> l.startsWith("X-Forged")));
        }
    }

    static String abbreviate(byte[] body) {
        String s = new String(body, StandardCharsets.UTF_8);
        return s.length() <= 300 ? s : s.substring(0, 300) + "... (" + body.length + " bytes)";
    }
}
