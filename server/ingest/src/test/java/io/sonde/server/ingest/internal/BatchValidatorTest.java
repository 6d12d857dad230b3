package io.sonde.server.ingest.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.Test;

import io.sonde.wire.ResultBatch;
import io.sonde.wire.WireException;
import io.sonde.wire.WireResult;

public class BatchValidatorTest {

    private static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");
    private final BatchValidator v = new BatchValidator(100,
            Duration.ofMinutes(10), Duration.ofDays(90));

    private static WireResult ok(long seq) {
        return new WireResult(seq, "t", "tcp", NOW.minusSeconds(5), true, null, null, 0.001, null);
    }

    private static ResultBatch batch(WireResult... results) {
        return new ResultBatch(1, "a", "0123abcd", List.of(results));
    }

    private void refused(ResultBatch b, String message) {
        try {
            v.validate(b, "a", NOW);
            fail("accepted " + b);
        } catch (WireException e) {
            assertTrue(e.getMessage(), e.getMessage().contains(message));
        }
    }

    @Test
    public void aGoodBatchPasses() throws Exception {
        v.validate(batch(ok(1), ok(2), new WireResult(7, "p", "icmp", NOW.plusSeconds(60), false, "timeout", "no reply", 3, null),
                new WireResult(8, "q", "x.plugin", NOW.minus(Duration.ofDays(80)), true, null, null, 0, null)), "a", NOW);
    }

    @Test
    public void anyKindAnAgentRunsIsTakenBuiltInOrNot() throws Exception {
        for (String kind : List.of("icmp", "tls", "grpc", "io.example.smtp", "ntp-offset", "k8s_api")) {
            v.validate(batch(new WireResult(1, "t", kind, NOW.minusSeconds(5), true, null, null, 0.001, null)), "a", NOW);
        }
    }

    @Test
    public void everyRuleNamesItsField() {
        refused(new ResultBatch(3, "a", "e", List.of(ok(1))), "schema 3 is newer");
        refused(new ResultBatch(1, "b", "e", List.of(ok(1))), "agent_id: 'b' is not the agent of the URL");
        refused(new ResultBatch(1, "a", null, List.of(ok(1))), "epoch: missing");
        refused(new ResultBatch(1, "a", "x".repeat(65), List.of(ok(1))), "is not a spool epoch");
        refused(new ResultBatch(1, "a", "e", null), "results: missing or empty");
        refused(batch(ok(0)), "results[0].seq: 0 is not a sequence number");
        refused(batch(ok(1), ok(1)), "results[1].seq: 1 does not rise above the one before (1)");
        refused(batch(ok(1), new WireResult(2, null, "tcp", NOW, true, null, null, 0, null)), "results[1].target: missing");
        refused(batch(new WireResult(1, "t", "Warp Drive", NOW, true, null, null, 0, null)), "results[0].kind: 'Warp Drive' is not a kind's name");
        refused(batch(new WireResult(1, "t", "x".repeat(65), NOW, true, null, null, 0, null)), "is not a kind's name (1 to 64");
        refused(batch(new WireResult(1, "t", null, NOW, true, null, null, 0, null)), "results[0].kind: missing");
        refused(batch(new WireResult(1, "t", "tcp", null, true, null, null, 0, null)), "results[0].started_at: missing");
        refused(batch(new WireResult(1, "t", "tcp", NOW.plusSeconds(601), true, null, null, 0, null)), "more than 600 s in the future");
        refused(batch(new WireResult(1, "t", "tcp", NOW.minus(Duration.ofDays(91)), true, null, null, 0, null)), "older than 90 days");
        refused(batch(new WireResult(1, "t", "tcp", NOW, true, "timeout", null, 0, null)), "a successful result has none");
        refused(batch(new WireResult(1, "t", "tcp", NOW, false, "zap", null, 0, null)), "'zap' is not one of");
        refused(batch(new WireResult(1, "t", "tcp", NOW, true, null, null, Double.NaN, null)), "NaN is not a response time");
        refused(batch(new WireResult(1, "t", "tcp", NOW, true, null, null, 4000, null)), "4000.0 is not a response time");
        refused(batch(new WireResult(1, "t", "tcp", NOW, false, "error", "e".repeat(5000), 0, null)), "results[0].error: 5000 characters");
        refused(batch(ok(1), new WireResult(2, "a\u0000b", "tcp", NOW, true, null, null, 0, null)),
                "results[1].target: a control character (U+0000) at position 2");
        refused(batch(new WireResult(1, "tab\there", "tcp", NOW, true, null, null, 0, null)), "(U+0009) at position 4");
        com.google.gson.JsonObject big = new com.google.gson.JsonObject();
        com.google.gson.JsonArray list = new com.google.gson.JsonArray();
        for (int i = 0; i < 7000; i++) {
            list.add("0123456789");
        }
        big.add("hops", list);
        refused(batch(new WireResult(1, "t", "tcp", NOW, true, null, null, 0, big)), "results[0].details: larger than 65536 bytes");
    }

    private static WireResult labelled(Map<String, String> labels) {
        return new WireResult(1, "t", "tcp", NOW, true, null, null, 0, null, null, false, labels);
    }

    @Test
    public void labelsAreCheckedByTheAgentsRuleNamingTheLabel() throws Exception {
        v.validate(batch(labelled(Map.of("site", "fra", "team", "db"))), "a", NOW);
        refused(batch(labelled(Map.of("target", "x"))), "results[0].labels: 'target' is a label name Sonde or Prometheus sets itself");
        refused(batch(labelled(Map.of("a-b", "x"))), "results[0].labels: 'a-b' is not a label name");
        refused(batch(labelled(Map.of("site", ""))), "results[0].labels.site: must be a text of 1-200 characters without control characters");
        refused(batch(labelled(Map.of("site", "a\u0000b"))), "results[0].labels.site: must be a text of 1-200");
        refused(batch(labelled(Map.of("site", "x".repeat(201)))), "results[0].labels.site: must be a text of 1-200");
        Map<String, String> many = new java.util.HashMap<>();
        for (int i = 0; i < 17; i++) {
            many.put("l" + i, "v");
        }
        refused(batch(labelled(many)), "results[0].labels: 17 labels, at most 16");
    }

    @Test
    public void detailsAreMeasuredAsTheirJson() {
        com.google.gson.JsonObject d = com.google.gson.JsonParser.parseString(
                "{\"a\":[1,2.5,\"x\",null,true,{\"b\":\"\"}],\"c\":{}}").getAsJsonObject();
        assertEquals(d.toString().length(), BatchValidator.jsonLength(d, Long.MAX_VALUE));
    }

    @Test
    public void tooManyResultsIsTooLarge() {
        List<WireResult> many = new ArrayList<>();
        for (int i = 1; i <= 101; i++) {
            many.add(ok(i));
        }
        try {
            v.validate(new ResultBatch(1, "a", "e", many), "a", NOW);
            fail();
        } catch (WireException e) {
            assertEquals(WireException.Problem.TOO_LARGE, e.problem());
        }
    }
}
