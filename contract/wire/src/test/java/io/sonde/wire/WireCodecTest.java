package io.sonde.wire;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

import org.junit.Test;

import com.google.gson.JsonObject;

public class WireCodecTest {

    private static ResultBatch batch() {
        JsonObject details = new JsonObject();
        details.addProperty("sent", 3);
        return new ResultBatch(WireCodec.SCHEMA, "a1", "e1", List.of(
                new WireResult(1, "web", "tcp", Instant.parse("2026-12-01T10:00:00.123456Z"), true, null, null, 0.0012, null),
                new WireResult(2, "ping", "icmp", Instant.parse("2026-12-01T10:00:01Z"), false, "timeout", "no reply", 3.0, details)));
    }

    @Test
    public void roundTripThroughGzipKeepsEveryField() throws Exception {
        byte[] body = WireCodec.gzip(WireCodec.json(batch()));
        ResultBatch back = WireCodec.read(new ByteArrayInputStream(body), true, 1 << 20, ResultBatch.class);
        assertEquals(batch(), back);
    }

    @Test
    public void namesAreSnakeCase() {
        String json = new String(WireCodec.json(batch()), StandardCharsets.UTF_8);
        assertTrue(json, json.contains("\"agent_id\":\"a1\""));
        assertTrue(json, json.contains("\"started_at\":\"2026-12-01T10:00:00.123456Z\""));
        assertTrue(json, json.contains("\"response_time_seconds\":0.0012"));
        assertTrue(json, json.contains("\"failure_reason\":\"timeout\""));
        assertFalse(json, json.contains("\"error\":null"));
    }

    @Test
    public void unknownFieldsAreIgnored() throws Exception {
        String json = "{\"schema\":1,\"agent_id\":\"a\",\"epoch\":\"e\",\"future\":{\"x\":[1,2]},\"results\":[]}";
        ResultBatch b = read(json);
        assertEquals("a", b.agentId());
    }

    @Test
    public void malformedJsonSaysWhere() {
        WireException e = failsWith("{\"schema\":1,\"results\":[{\"seq\":\"x\"}]}", WireException.Problem.MALFORMED);
        assertTrue(e.getMessage(), e.getMessage().contains("results[0].seq"));
        failsWith("{\"schema\":1,", WireException.Problem.MALFORMED);
        failsWith("", WireException.Problem.MALFORMED);
        failsWith("[1,2]", WireException.Problem.MALFORMED);
        failsWith("{\"schema\":1} trailing", WireException.Problem.MALFORMED);
        WireException t = failsWith("{\"schema\":1,\"results\":[{\"seq\":1,\"started_at\":\"yesterday\"}]}",
                WireException.Problem.MALFORMED);
        assertTrue(t.getMessage(), t.getMessage().contains("'yesterday' is not an RFC 3339 time"));
    }

    @Test
    public void notGzipWhenGzipIsSaid() {
        try {
            WireCodec.read(new ByteArrayInputStream("{}".getBytes(StandardCharsets.UTF_8)), true, 1000, ResultBatch.class);
            fail();
        } catch (WireException e) {
            assertEquals(WireException.Problem.MALFORMED, e.problem());
            assertTrue(e.getMessage(), e.getMessage().contains("not gzip"));
        }
    }

    @Test
    public void truncatedGzip() {
        byte[] body = WireCodec.gzip(WireCodec.json(batch()));
        byte[] cut = java.util.Arrays.copyOf(body, body.length / 2);
        try {
            WireCodec.read(new ByteArrayInputStream(cut), true, 1 << 20, ResultBatch.class);
            fail();
        } catch (WireException e) {
            assertEquals(e.getMessage(), WireException.Problem.MALFORMED, e.problem());
        }
    }

    @Test
    public void boundedBeforeAndAfterDecompression() {
        byte[] zeros = new byte[10 << 20]; // a 10 MB document of spaces compresses to a few KB
        java.util.Arrays.fill(zeros, (byte) ' ');
        byte[] bomb = WireCodec.gzip(zeros);
        assertTrue(bomb.length < 100_000);
        try {
            WireCodec.read(new ByteArrayInputStream(bomb), true, 1 << 20, ResultBatch.class);
            fail();
        } catch (WireException e) {
            assertEquals(WireException.Problem.TOO_LARGE, e.problem());
            assertTrue(e.getMessage(), e.getMessage().contains("uncompressed document is larger than 1048576 bytes"));
        }
        try {
            WireCodec.read(new ByteArrayInputStream(zeros), false, 1 << 20, ResultBatch.class);
            fail();
        } catch (WireException e) {
            assertEquals(WireException.Problem.TOO_LARGE, e.problem());
        }
    }

    @Test
    public void schemaVersions() throws Exception {
        WireCodec.checkSchema(1, "batch");
        try {
            WireCodec.checkSchema(2, "batch");
            fail();
        } catch (WireException e) {
            assertEquals(WireException.Problem.SCHEMA, e.problem());
            assertTrue(e.getMessage(), e.getMessage().contains("schema 2 is newer"));
        }
        try {
            WireCodec.checkSchema(0, "batch");
            fail();
        } catch (WireException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("schema is missing"));
        }
    }

    private static ResultBatch read(String json) throws WireException {
        return WireCodec.read(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), false, 1 << 20, ResultBatch.class);
    }

    private static WireException failsWith(String json, WireException.Problem problem) {
        try {
            read(json);
        } catch (WireException e) {
            assertEquals(e.getMessage(), problem, e.problem());
            return e;
        }
        throw new AssertionError("accepted: " + json);
    }
}
