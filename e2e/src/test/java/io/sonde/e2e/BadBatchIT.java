package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import io.sonde.wire.WireCodec;

/**
 * Every bad batch gets a 4xx that says what is wrong, nothing of it is stored, and no input makes
 * the server answer 5xx: the named cases, then thousands of random and mutated batches.
 */
public class BadBatchIT {

    private static ServerProcess server;
    private static String credential;
    private static final String PATH = "/api/v1/agents/bad-1/results";

    @BeforeClass
    public static void start() throws Exception {
        server = ServerProcess.start("max_batch_bytes = 1048576\n");
        credential = SecurityIT.enroll(server, "bad-1");
    }

    @AfterClass
    public static void stop() throws Exception {
        server.close();
    }

    static String result(long seq, String extra) {
        return "{\"seq\":" + seq + ",\"target\":\"t\",\"kind\":\"tcp\",\"started_at\":\"" + Instant.now()
                + "\",\"success\":true,\"response_time_seconds\":0.001" + extra + "}";
    }

    static String batch(String epoch, String... results) {
        return "{\"schema\":1,\"agent_id\":\"bad-1\",\"epoch\":\"" + epoch + "\",\"results\":[" + String.join(",", results) + "]}";
    }

    private static HttpResponse<String> send(byte[] body, boolean gzip) throws Exception {
        return gzip ? server.post(PATH, credential, body, "Content-Encoding", "gzip", "Content-Type", "application/json")
                : server.post(PATH, credential, body, "Content-Type", "application/json");
    }

    private static long stored() throws Exception {
        return server.results("bad-1", null).size();
    }

    private static void refused(String json, int status, String message) throws Exception {
        long before = stored();
        HttpResponse<String> r = send(WireCodec.gzip(json.getBytes(StandardCharsets.UTF_8)), true);
        assertEquals(r.body(), status, r.statusCode());
        assertTrue("expected '" + message + "' in " + r.body(), r.body().contains(message));
        assertEquals("nothing of a refused batch is stored", before, stored());
    }

    static double metric(String sample) throws Exception {
        return AgentProcess.value(server.get("/metrics").body(), sample);
    }

    @Test
    public void eachBadBatchIsRefusedWithWhatIsWrongAndNothingStored() throws Exception {
        double invalidBefore = metric("sonde_server_rejected_batches_total{reason=\"invalid\",} ");
        double duplicatesBefore = metric("sonde_server_duplicate_results_total ");
        double tooLargeBefore = metric("sonde_server_rejected_batches_total{reason=\"too_large\",} ");
        String ok = result(1, "");
        refused("{\"schema\":1,\"agent_id\":", 400, "the body ends early");
        refused("not json at all", 400, "malformed JSON");
        refused(batch("e1", ok).replace("\"schema\":1", "\"schema\":2"), 400, "batch: schema 2 is newer than this side speaks (1)");
        refused(batch("e1", ok).replace("\"schema\":1,", ""), 400, "batch: schema is missing");
        refused(batch("e1", ok, result(-1, "")), 400, "results[1].seq: -1 is not a sequence number");
        refused(batch("e1", ok, result(1L << 50, "")), 400, "results[1].seq: 1125899906842624 is not a sequence number");
        refused(batch("e1", result(5, ""), result(4, "")), 400, "results[1].seq: 4 does not rise above the one before (5)");
        refused(batch("e1", ok, result(2, "").replaceAll("\"started_at\":\"[^\"]+\"", "\"started_at\":\"" + Instant.now().plusSeconds(3 * 86400) + "\"")),
                400, "results[1].started_at");
        refused(batch("e1", ok, result(2, "").replace("\"kind\":\"tcp\"", "\"kind\":\"Warp Drive\"")), 400,
                "results[1].kind: 'Warp Drive' is not a kind's name");
        refused(batch("e1", ok, result(2, ",\"error\":\"" + "x".repeat(2_000_000) + "\"")), 413, "larger than 1048576 bytes");
        refused(batch("e1", ok, result(2, ",\"error\":\"" + "x".repeat(5000) + "\"")), 400, "results[1].error: 5000 characters, at most 4096");
        refused(batch("e1", ok, result(2, "").replace("\"target\":\"t\"", "\"target\":\"" + "y".repeat(300) + "\"")), 400,
                "results[1].target: 300 characters, at most 256");
        refused(batch("e1", ok, result(2, "").replace("\"success\":true", "\"success\":false")), 400,
                "results[1].failure_reason: missing on a failed result");
        refused(batch("e1", ok, result(2, ",\"failure_reason\":\"gremlins\"").replace("\"success\":true", "\"success\":false")), 400,
                "'gremlins' is not one of");
        refused(batch("e1", ok, result(2, "").replace("0.001", "-3")), 400, "results[1].response_time_seconds: -3.0 is not a response time");
        refused(batch("e1", ok).replace("\"agent_id\":\"bad-1\"", "\"agent_id\":\"someone\""), 400,
                "agent_id: 'someone' is not the agent of the URL and credential");
        refused(batch("e/1", ok), 400, "epoch: 'e/1' is not a spool epoch");
        refused(batch("e1"), 400, "results: missing or empty");

        long before = stored();
        HttpResponse<String> r = send(batch("e1", ok).getBytes(StandardCharsets.UTF_8), true);
        assertEquals(400, r.statusCode());
        assertTrue(r.body(), r.body().contains("not gzip as its Content-Encoding says"));
        r = server.post(PATH, credential, WireCodec.gzip(batch("e1", ok).getBytes()), "Content-Encoding", "br");
        assertEquals(400, r.statusCode());
        assertTrue(r.body(), r.body().contains("Content-Encoding 'br' is not supported"));
        byte[] bomb = new byte[50 << 20];
        java.util.Arrays.fill(bomb, (byte) ' ');
        r = send(WireCodec.gzip(bomb), true);
        assertEquals("a gzip bomb is cut at the bound", 413, r.statusCode());
        assertEquals(before, stored());

        // and a good batch still goes, once, also when sent twice
        assertEquals(200, send(WireCodec.gzip(batch("e1", ok, result(2, "")).getBytes()), true).statusCode());
        r = send(WireCodec.gzip(batch("e1", ok, result(2, "")).getBytes()), true);
        assertEquals(200, r.statusCode());
        assertTrue(r.body(), r.body().contains("\"accepted\":0") && r.body().contains("\"duplicates\":2"));
        assertEquals(before + 2, stored());
        // counted as what they were: 13 invalid batches above, 2 too large (the long error, the bomb), the 2 results sent again
        assertEquals(13, metric("sonde_server_rejected_batches_total{reason=\"invalid\",} ") - invalidBefore, 0);
        assertEquals(2, metric("sonde_server_rejected_batches_total{reason=\"too_large\",} ") - tooLargeBefore, 0);
        assertEquals(2, metric("sonde_server_duplicate_results_total ") - duplicatesBefore, 0);
    }

    @Test
    public void fuzzedBatchesNeverGetA5xx() throws Exception {
        Random random = new Random(20261201);
        String[] pieces = {"{", "}", "[", "]", ",", ":", "\"", "null", "true", "-1", "1e309", "9223372036854775808",
                "\"seq\"", "\"results\"", "\"schema\"", "\"started_at\"", "\"details\"", "{\"a\":", "\\u0000", "\u00e9", "0.5"};
        String base = batch("fz", result(1, ",\"details\":{\"rtts\":[0.001,0.002],\"sent\":2}"), result(2, ""));
        int cases = 4000;
        int accepted = 0;
        List<String> fives = new ArrayList<>();
        for (int i = 0; i < cases; i++) {
            byte[] body;
            int mode = i % 4;
            if (mode == 0) { // random bytes
                body = new byte[random.nextInt(400)];
                random.nextBytes(body);
            } else if (mode == 1) { // a valid batch with bytes flipped, cut or repeated
                byte[] b = base.getBytes(StandardCharsets.UTF_8);
                for (int k = 0; k < 1 + random.nextInt(4); k++) {
                    b[random.nextInt(b.length)] = (byte) random.nextInt(256);
                }
                body = random.nextBoolean() ? b : java.util.Arrays.copyOf(b, random.nextInt(b.length));
            } else { // JSON-looking pieces spliced into the batch
                StringBuilder s = new StringBuilder(base);
                for (int k = 0; k < 1 + random.nextInt(5); k++) {
                    int at = random.nextInt(s.length());
                    if (random.nextBoolean()) {
                        s.insert(at, pieces[random.nextInt(pieces.length)]);
                    } else {
                        s.delete(at, Math.min(s.length(), at + 1 + random.nextInt(8)));
                    }
                }
                body = s.toString().getBytes(StandardCharsets.UTF_8);
            }
            boolean gzip = random.nextInt(3) > 0;
            if (gzip && random.nextInt(5) > 0) {
                body = WireCodec.gzip(body);
            } else if (gzip) { // gzip, then damaged
                body = WireCodec.gzip(body);
                body[random.nextInt(body.length)] ^= 0x5a;
            }
            HttpResponse<String> r = send(body, gzip);
            if (r.statusCode() >= 500) {
                fives.add(r.statusCode() + " " + r.body() + " for " + new String(body, StandardCharsets.ISO_8859_1));
            } else if (r.statusCode() == 200) {
                accepted++;
            } else {
                assertTrue(r.statusCode() + " " + r.body(), r.statusCode() >= 400 && r.body().startsWith("{\"error\":"));
            }
        }
        assertEquals("no 5xx, of " + cases + ": " + fives, List.of(), fives);
        assertTrue("the server is well after the fuzz", server.get("/healthz").statusCode() == 200);
        System.out.println("fuzz: " + cases + " cases, " + accepted + " accepted, none 5xx");
    }


    /**
     * A batch tells the results left in the agent's spool (header {@code Sonde-Spool-Records}), so
     * that a busy agent need not send a status to tell its backlog: a count that is not one is
     * refused naming the header and nothing of the batch is stored; a good one is what the agent's
     * record shows. The answer asks for a status while the server holds none of the agent.
     */
    @Test
    public void aBatchTellsTheSpoolCountAndIsAskedForAStatusUntilTheServerHoldsOne() throws Exception {
        String c = SecurityIT.enroll(server, "spool-1");
        String path = "/api/v1/agents/spool-1/results";
        for (String bad : List.of("4x", "-3", "", "99999999999999999999", "1 2")) {
            HttpResponse<String> r = server.post(path, c, WireCodec.gzip(batch("s1", result(1, "")).replace("bad-1", "spool-1")
                    .getBytes(StandardCharsets.UTF_8)), "Content-Encoding", "gzip", "Content-Type", "application/json",
                    "Sonde-Spool-Records", bad);
            assertEquals(bad + ": " + r.body(), 400, r.statusCode());
            assertTrue(r.body(), r.body().contains("header Sonde-Spool-Records: the results left in the spool must be a whole number"));
        }
        assertEquals("nothing of a refused batch is stored", 0, server.results("spool-1", null).size());

        HttpResponse<String> first = server.post(path, c, WireCodec.gzip(batch("s1", result(1, "")).replace("bad-1", "spool-1")
                .getBytes(StandardCharsets.UTF_8)), "Content-Encoding", "gzip", "Content-Type", "application/json",
                "Sonde-Spool-Records", "42");
        assertEquals(first.body(), 200, first.statusCode());
        com.google.gson.JsonObject ack = com.google.gson.JsonParser.parseString(first.body()).getAsJsonObject();
        assertEquals(1, ack.get("accepted").getAsInt());
        assertTrue("no status of spool-1 yet: one is asked for: " + first.body(), ack.get("status_wanted").getAsBoolean());
        awaitSpool("spool-1", 42);

        HttpResponse<String> status = server.post("/api/v1/agents/spool-1/status", c,
                "{\"schema\":1,\"version\":\"test\",\"spool_records\":5}".getBytes(StandardCharsets.UTF_8), "Content-Type", "application/json");
        assertEquals(status.body(), 204, status.statusCode());
        awaitSpool("spool-1", 5);
        HttpResponse<String> next = server.post(path, c, WireCodec.gzip(batch("s1", result(2, "")).replace("bad-1", "spool-1")
                .getBytes(StandardCharsets.UTF_8)), "Content-Encoding", "gzip", "Content-Type", "application/json",
                "Sonde-Spool-Records", "7");
        assertEquals(next.body(), 200, next.statusCode());
        assertEquals("the server holds its status now: " + next.body(), false,
                com.google.gson.JsonParser.parseString(next.body()).getAsJsonObject().get("status_wanted").getAsBoolean());
        awaitSpool("spool-1", 7);
        // a batch without the header (an agent before 1.6) leaves the count of the last status or batch
        HttpResponse<String> old = server.post(path, c, WireCodec.gzip(batch("s1", result(3, "")).replace("bad-1", "spool-1")
                .getBytes(StandardCharsets.UTF_8)), "Content-Encoding", "gzip", "Content-Type", "application/json");
        assertEquals(old.body(), 200, old.statusCode());
        Thread.sleep(6000); // past the last-seen write (every 5 s at most)
        assertEquals(7, spool("spool-1"));
        assertEquals(3, server.results("spool-1", null).size());
    }

    private static long spool(String agent) throws Exception {
        HttpResponse<String> r = server.admin("GET", "/api/v1/agents/" + agent, null);
        assertEquals(r.body(), 200, r.statusCode());
        return com.google.gson.JsonParser.parseString(r.body()).getAsJsonObject().get("spool_records").getAsLong();
    }

    private static void awaitSpool(String agent, long expected) throws Exception {
        long seen = -1;
        for (int i = 0; i < 300; i++) { // 30 s
            seen = spool(agent);
            if (seen == expected) {
                return;
            }
            Thread.sleep(100);
        }
        assertEquals("the spool count the server shows for " + agent, expected, seen);
    }
}
