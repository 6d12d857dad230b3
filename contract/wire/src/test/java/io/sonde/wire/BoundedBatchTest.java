package io.sonde.wire;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;

import org.junit.Test;

public class BoundedBatchTest {

    static String result(int seq, String details) {
        return "{\"seq\":" + seq + ",\"target\":\"t\",\"kind\":\"tcp\",\"started_at\":\"2026-01-01T00:00:00Z\",\"success\":true,"
                + "\"response_time_seconds\":0.001,\"details\":" + details + "}";
    }

    static ResultBatch read(String json, long values) throws WireException {
        return WireCodec.readBatch(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), false, 32 << 20, values);
    }

    static WireException refused(String json, long values) {
        try {
            read(json, values);
            fail("accepted");
            return null;
        } catch (WireException e) {
            return e;
        }
    }

    @Test
    public void detailsAreReadAsTheyAreWithinTheBounds() throws Exception {
        ResultBatch b = read("{\"schema\":1,\"agent_id\":\"a\",\"epoch\":\"e\",\"results\":[" + result(1,
                "{\"rtt\":[0.5,1e-3,12345678901234567890],\"ok\":true,\"none\":null,\"s\":\"x\",\"o\":{\"k\":1}}") + "]}", 1000);
        assertEquals(com.google.gson.JsonParser.parseString("{\"rtt\":[0.5,1e-3,12345678901234567890],\"ok\":true,\"none\":null,"
                + "\"s\":\"x\",\"o\":{\"k\":1}}"), b.results().get(0).details());
        assertEquals("{\"rtt\":[0.5,1e-3,12345678901234567890],\"ok\":true,\"s\":\"x\",\"o\":{\"k\":1}}",
                WireCodec.gson().toJson(b.results().get(0).details()));
        assertEquals(0.001, b.results().get(0).details().getAsJsonArray("rtt").get(1).getAsDouble(), 0);
        assertEquals(1, b.results().get(0).details().getAsJsonObject("o").get("k").getAsInt());
    }

    @Test
    public void detailsBeyondTheirBytesStopTheReadThere() {
        StringBuilder d = new StringBuilder("{");
        for (int k = 0; k < 8000; k++) {
            d.append(k == 0 ? "" : ",").append('"').append(k).append("\":0");
        }
        WireException e = refused("{\"schema\":1,\"results\":[" + result(1, "{}") + "," + result(2, d + "}") + "]}", 1_000_000);
        assertEquals(WireException.Problem.TOO_LARGE, e.problem());
        assertTrue(e.getMessage(), e.getMessage().startsWith("$.results[1].details: larger than 65536 bytes of JSON (stopped at $.results[1].details."));
    }

    @Test
    public void aBatchBeyondItsValuesStopsThere() {
        StringBuilder json = new StringBuilder("{\"schema\":1,\"results\":[");
        for (int r = 0; r < 100; r++) {
            json.append(r == 0 ? "" : ",").append(result(r + 1, "{\"a\":[" + "0,".repeat(99) + "0]}"));
        }
        WireException e = refused(json + "]}", 5000);
        assertEquals(WireException.Problem.TOO_LARGE, e.problem());
        assertTrue(e.getMessage(), e.getMessage().startsWith("the batch holds more than 5000 values (stopped at $.results[3"));
    }

    @Test
    public void labelsAreReadAsAMapAndAnythingElseIsMalformedWhereItIs() throws Exception {
        String ok = result(1, "{}");
        ResultBatch b = read("{\"schema\":1,\"results\":[" + ok.substring(0, ok.length() - 1) + ",\"labels\":{\"site\":\"fra\"}}]}", 1000);
        assertEquals(java.util.Map.of("site", "fra"), b.results().get(0).labels());
        for (String bad : new String[] {"[\"site\"]", "{\"site\":{\"x\":1}}", "\"site=fra\""}) {
            WireException e = refused("{\"schema\":1,\"results\":[" + ok + "," + ok.replace("\"seq\":1", "\"seq\":2").substring(0, ok.length() - 1)
                    + ",\"labels\":" + bad + "}]}", 10_000);
            assertEquals(bad, WireException.Problem.MALFORMED, e.problem());
            assertTrue(bad + ": " + e.getMessage(), e.getMessage().contains("$.results[1].labels"));
        }
    }

    @Test
    public void aWrongTypeSaysWhereInTheBatch() {
        WireException e = refused("{\"schema\":1,\"results\":[" + result(1, "{}") + "," + result(2, "{}").replace("\"success\":true",
                "\"success\":[1]") + "]}", 10_000);
        assertEquals(WireException.Problem.MALFORMED, e.problem());
        assertTrue(e.getMessage(), e.getMessage().contains("$.results[1].success"));
    }

    @Test
    public void nestingBeyondSixteenIsRefused() {
        WireException e = refused("{\"schema\":1,\"results\":[" + result(1, "{\"a\":" + "[".repeat(20) + "]".repeat(20) + "}") + "]}", 10_000);
        assertEquals(WireException.Problem.TOO_LARGE, e.problem());
        assertTrue(e.getMessage(), e.getMessage().startsWith("$.results[0].details: nested deeper than 16"));
    }
}
