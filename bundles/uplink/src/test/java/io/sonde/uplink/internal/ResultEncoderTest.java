package io.sonde.uplink.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;

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
}
