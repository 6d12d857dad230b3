package io.sonde.uplink.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.Test;

import com.google.gson.JsonObject;

import io.sonde.api.FailureReason;
import io.sonde.api.MeasuredResult;
import io.sonde.api.ResultSchema;
import io.sonde.plugin.icmp.internal.PingResult;
import io.sonde.api.Target;
import io.sonde.plugin.traceroute.internal.TracerouteResult;
import io.sonde.wire.WireResult;

public class ResultEncoderTest {

    private static final Target T = new Target("p", "icmp", "127.0.0.1", 0, Duration.ofSeconds(1), Duration.ofMillis(900),
            null, null, "test");
    private static final Instant AT = Instant.parse("2026-12-01T10:00:00.000123Z");

    @Test
    public void theWireKnowsEveryFailureReasonOfTheApi() {
        List<String> labels = new ArrayList<>();
        for (FailureReason r : FailureReason.values()) {
            labels.add(r.label());
        }
        assertEquals(labels, WireResult.FAILURE_REASONS);
    }

    @Test
    public void pingKeepsItsRttsAndCounts() throws Exception {
        PingResult p = new PingResult(T, AT, Duration.ofMillis(2), FailureReason.TIMEOUT, "1 of 3 lost",
                InetAddress.getByName("127.0.0.1"), 3, List.of(Duration.ofMillis(1), Duration.ofMillis(3)), 0, 64);
        WireResult w = ResultEncoder.toWire(9, p);
        assertEquals(9, w.seq());
        assertEquals("timeout", w.failureReason());
        assertEquals("1 of 3 lost", w.error());
        assertEquals(AT, w.startedAt());
        JsonObject d = w.details();
        assertEquals(3, d.get("sent").getAsInt());
        assertEquals(2, d.get("received").getAsInt());
        assertEquals(0.003, d.getAsJsonArray("rtts").get(1).getAsDouble(), 1e-12);
        assertEquals(64, d.get("reply_ttl").getAsInt());
    }

    @Test
    public void tracerouteKeepsItsHops() throws Exception {
        TracerouteResult t = new TracerouteResult(T, AT, Duration.ofMillis(5), null, null, InetAddress.getByName("127.0.0.1"),
                List.of(new TracerouteResult.Hop(1, null, List.of(), 3),
                        new TracerouteResult.Hop(2, InetAddress.getByName("127.0.0.1"), List.of(Duration.ofMillis(1)), 3)), true);
        JsonObject d = ResultEncoder.toWire(1, t).details();
        assertEquals(2, d.getAsJsonArray("hops").size());
        assertEquals("127.0.0.1", d.getAsJsonArray("hops").get(1).getAsJsonObject().get("address").getAsString());
        assertNull(ResultEncoder.toWire(1, t).failureReason());
    }

    @Test
    public void withTheAgentsAsTableHopsAndPathsAreSentWithTheirAs() throws Exception {
        io.sonde.asn.AsnTable table = io.sonde.asn.AsnTable.read(new java.io.ByteArrayInputStream(
                "198.18.0.0/24\t64500\n198.18.1.0/24\t64501\n".getBytes(java.nio.charset.StandardCharsets.UTF_8)), "ipasn.dat");
        io.sonde.asn.AsnLookup asns = io.sonde.asn.AsnLookup.of(table);
        InetAddress a = InetAddress.getByName("198.18.0.2");
        InetAddress b = InetAddress.getByName("198.18.1.2");
        TracerouteResult t = new TracerouteResult(T, AT, Duration.ofMillis(5), null, null, b,
                List.of(new TracerouteResult.Hop(1, a, List.of(Duration.ofMillis(1)), 3), new TracerouteResult.Hop(2, null, List.of(), 3),
                        new TracerouteResult.Hop(3, b, List.of(Duration.ofMillis(2)), 3)), true,
                List.of(new TracerouteResult.FlowPath(List.of(0, 1), java.util.Arrays.asList(a, null, b))));
        JsonObject d = com.google.gson.JsonParser.parseString(new String(ResultEncoder.encode(1, t, null, asns),
                java.nio.charset.StandardCharsets.UTF_8)).getAsJsonObject().getAsJsonObject("details");
        assertEquals(64500, d.getAsJsonArray("hops").get(0).getAsJsonObject().get("asn").getAsLong());
        assertTrue(!d.getAsJsonArray("hops").get(1).getAsJsonObject().has("asn"));
        assertEquals(64501, d.getAsJsonArray("hops").get(2).getAsJsonObject().get("asn").getAsLong());
        assertEquals("[64500,null,64501]", d.getAsJsonArray("paths").get(0).getAsJsonObject().get("asns").toString());
        // without a table, no AS anywhere
        String plain = new String(ResultEncoder.encode(1, t, null, null), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(plain, !plain.contains("asn") && plain.contains("\"address\":\"198.18.1.2\""));
    }

    @Test
    public void aPingsDetailsAreWhatTheServerHasAlwaysStoredAndNoLocalFigure() throws Exception {
        PingResult p = new PingResult(T, AT, Duration.ofMillis(2), null, null, InetAddress.getByName("127.0.0.1"), 3,
                List.of(Duration.ofMillis(1), Duration.ofMillis(3)), 0, 64);
        assertEquals("{\"address\":\"127.0.0.1\",\"sent\":3,\"received\":2,\"rtts\":[0.001,0.003],\"reply_ttl\":64}",
                ResultEncoder.toWire(1, p).details().toString());
    }

    @Test
    public void aKindNoModuleKnowsIsEncodedFromItsValuesLeavingOutWhatStaysOnTheAgent() {
        ResultSchema schema = new ResultSchema("3", List.of(
                ResultSchema.Value.of("handshake", ResultSchema.Type.DURATION, "seconds", ResultSchema.Role.NONE, "h"),
                ResultSchema.Value.of("not_after", ResultSchema.Type.TIMESTAMP, "", ResultSchema.Role.CERT_EXPIRY, "e"),
                ResultSchema.Value.local("days_left", ResultSchema.Type.NUMBER, "days", "d")), List.of(), List.of());
        Map<String, Object> values = new java.util.LinkedHashMap<>();
        values.put("handshake", Duration.ofMillis(12));
        values.put("not_after", Instant.parse("2027-01-02T03:04:05Z"));
        values.put("days_left", 28);
        values.put("chain", List.of(Map.of("subject", "CN=a"), Map.of("subject", "CN=b")));
        MeasuredResult r = MeasuredResult.success(new Target("t", "tlsx", "127.0.0.1", 443, Duration.ofSeconds(1),
                Duration.ofMillis(900), null, null, "test"), AT, Duration.ofMillis(12), schema, values);
        WireResult w = ResultEncoder.toWire(4, r);
        assertEquals("tlsx", w.kind());
        assertEquals("{\"handshake\":0.012,\"not_after\":\"2027-01-02T03:04:05Z\",\"chain\":[{\"subject\":\"CN=a\"},"
                + "{\"subject\":\"CN=b\"}]}", w.details().toString());
    }

    /** What the encoder writes straight from a result is byte for byte what Gson writes for the same wire document. */
    @Test
    public void theStreamedDocumentIsTheOneGsonWouldWrite() throws Exception {
        ResultSchema schema = new ResultSchema("1", List.of(
                ResultSchema.Value.of("odd", ResultSchema.Type.NUMBER, "", ResultSchema.Role.NONE, "o"),
                ResultSchema.Value.of("text", ResultSchema.Type.TEXT, "", ResultSchema.Role.NONE, "t"),
                ResultSchema.Value.of("phases", ResultSchema.Type.DURATION_MAP, "seconds", ResultSchema.Role.PHASES, "p"),
                ResultSchema.Value.of("when", ResultSchema.Type.TIMESTAMP, "", ResultSchema.Role.NONE, "w"),
                ResultSchema.Value.of("hops", ResultSchema.Type.HOPS, "", ResultSchema.Role.PATH, "h")), List.of(), List.of());
        Map<String, Object> values = new java.util.LinkedHashMap<>();
        values.put("odd", Double.NaN);
        values.put("text", "<a href='x'>é \u2028 \" \\ \u0001</a>");
        values.put("phases", Map.of("connect", Duration.ofNanos(1234567)));
        values.put("when", Instant.parse("2027-01-02T03:04:05.123456789Z"));
        Map<String, Object> silent = new java.util.LinkedHashMap<>();
        silent.put("ttl", 2);
        silent.put("address", null);
        silent.put("rtts", List.of());
        Map<String, Object> hop = new java.util.LinkedHashMap<>();
        hop.put("ttl", 1);
        hop.put("rtts", List.of(Duration.ofMillis(1), 0.5f, Long.MAX_VALUE));
        values.put("hops", List.of(hop, silent));
        io.sonde.agent.spi.NextProbe next = new io.sonde.agent.spi.NextProbe(Instant.parse("2026-12-01T10:00:10Z"), true);
        List<io.sonde.api.ProbeResult> results = List.of(
                MeasuredResult.success(T, AT, Duration.ofMillis(3), schema, values),
                MeasuredResult.failure(T, AT, Duration.ofMillis(3), FailureReason.ERROR, null, schema, Map.of()),
                MeasuredResult.failure(T, AT, Duration.ZERO, FailureReason.TLS, "bad \"chain\"", ResultSchema.NONE, Map.of()),
                new PingResult(T, AT, Duration.ofMillis(2), null, null, InetAddress.getByName("::1"), 3,
                        List.of(Duration.ofMillis(1), Duration.ofMillis(3)), 0, 64));
        for (io.sonde.api.ProbeResult r : results) {
            for (io.sonde.agent.spi.NextProbe n : java.util.Arrays.asList(null, next)) {
                byte[] streamed = ResultEncoder.encode(42, r, n);
                WireResult read = io.sonde.wire.WireCodec.gson().fromJson(new String(streamed, java.nio.charset.StandardCharsets.UTF_8),
                        WireResult.class);
                assertEquals(new String(io.sonde.wire.WireCodec.json(read), java.nio.charset.StandardCharsets.UTF_8),
                        new String(streamed, java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        String first = new String(ResultEncoder.encode(42, results.get(0), next), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals("{\"seq\":42,\"target\":\"p\",\"kind\":\"icmp\",\"started_at\":\"2026-12-01T10:00:00.000123Z\",\"success\":true,"
                + "\"response_time_seconds\":0.003,\"details\":{\"odd\":\"NaN\",\"text\":\"<a href='x'>é \\u2028 \\\" \\\\ \\u0001</a>\","
                + "\"phases\":{\"connect\":0.001234567},\"when\":\"2027-01-02T03:04:05.123456789Z\",\"hops\":[{\"ttl\":1,"
                + "\"rtts\":[0.001,0.5,9223372036854775807]},{\"ttl\":2,\"rtts\":[]}]},\"next_probe\":\"2026-12-01T10:00:10Z\","
                + "\"backoff\":true}", first);
    }

    @Test
    public void aTargetsLabelsTravelWithEachResultAsGsonWritesThem() throws Exception {
        io.sonde.api.Target labelled = new io.sonde.api.Target("web", "tcp", "h", 1, Duration.ofSeconds(5), Duration.ofSeconds(1),
                java.util.Set.of("eu", "team=db", "site=fra", "=odd"), Map.of(), "test");
        io.sonde.api.ProbeResult r = MeasuredResult.success(labelled, AT, Duration.ofMillis(3), ResultSchema.NONE, Map.of());
        WireResult w = ResultEncoder.toWire(5, r);
        assertEquals(Map.of("site", "fra", "team", "db"), w.labels());
        String streamed = new String(ResultEncoder.encode(5, r, null), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(new String(io.sonde.wire.WireCodec.json(w), java.nio.charset.StandardCharsets.UTF_8), streamed);
        assertTrue(streamed, streamed.endsWith("\"backoff\":false,\"labels\":{\"site\":\"fra\",\"team\":\"db\"}}"));
        assertNull("no labels, no key", ResultEncoder.toWire(5, MeasuredResult.success(T, AT, Duration.ofMillis(3), ResultSchema.NONE,
                Map.of())).labels());
    }
}
