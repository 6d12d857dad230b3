package io.sonde.agent.spi;

import io.sonde.api.TargetProblem;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.Test;

public class TargetKeysTest {

    static List<String> problems(Map<String, ?> raw, Long defaultIntervalMs) {
        return TargetKeys.check(raw, null, defaultIntervalMs).problems().stream().map(TargetProblem::toString).toList();
    }

    @Test
    public void aGoodDescriptionIsReadAsWritten() {
        TargetKeys.Generic g = TargetKeys.check(Map.of("name", " web ", "kind", "TCP", "host", " 127.0.0.1 ", "port", 443,
                "interval_ms", "1000", "timeout_ms", 500.0, "tags", List.of("eu", " edge ", ""), "ip_version", 4), null, 5000L);
        assertEquals(List.of(), g.problems());
        assertEquals("web", g.name());
        assertEquals("tcp", g.kind());
        assertEquals("127.0.0.1", g.host());
        assertEquals(443, g.port());
        assertEquals(Long.valueOf(1000), g.intervalMs());
        assertEquals(Long.valueOf(500), g.timeoutMs());
        assertEquals(Set.of("eu", "edge"), g.tags());
    }

    @Test
    public void eachGenericKeyIsNamedWithWhatIsWrong() {
        assertEquals(List.of("key 'name': missing; every target needs a unique name",
                "key 'kind': missing; the probe type, for example icmp, tcp or http", "key 'host': missing"), problems(Map.of(), 5000L));
        assertEquals(List.of("key 'port': 70000 is not a port number (1-65535)", "key 'interval_ms': 'soon' is not a whole number",
                "key 'ip_version': '5' is not 4, 6 or both"),
                problems(Map.of("name", "a", "kind", "tcp", "host", "h", "port", "70000", "interval_ms", "soon", "ip_version", "5"), 5000L));
        assertEquals(List.of("key 'interval_ms': 5 is out of range (10-86400000)", "key 'timeout_ms': 0 must be at least 1"),
                problems(Map.of("name", "a", "kind", "tcp", "host", "h", "interval_ms", 5, "timeout_ms", 0), 5000L));
        assertEquals(List.of("key 'name': contains control characters"), problems(Map.of("name", "a\u0007", "kind", "tcp", "host", "h"), 5000L));
        assertTrue(problems(Map.of("name", "a", "kind", "tcp", "host", "h", "backoff", "sometimes"), 5000L).get(0).startsWith("key 'backoff': "));
    }

    /** A server does not know an agent's default interval: a timeout is held against an interval the description sets. */
    @Test
    public void aTimeoutIsCheckedAgainstTheIntervalInForceOrOnlyTheOneSetWhereTheDefaultIsUnknown() {
        Map<String, Object> longTimeout = Map.of("name", "a", "kind", "tcp", "host", "h", "timeout_ms", 8000);
        assertEquals(List.of("key 'timeout_ms': 8000 exceeds the interval (5000 ms); a probe must end before the next one starts"),
                problems(longTimeout, 5000L));
        assertEquals(List.of(), problems(longTimeout, null));
        assertEquals(1, problems(Map.of("name", "a", "kind", "tcp", "host", "h", "timeout_ms", 8000, "interval_ms", 2000), null).size());
        TargetKeys.Generic bad = TargetKeys.check(longTimeout, null, 5000L);
        assertNull("a bad timeout is not read", bad.timeoutMs());
        assertEquals("the file's name stands in for a missing one", "from-file",
                TargetKeys.check(Map.of("kind", "tcp", "host", "h"), "from-file", null).name());
    }

    @Test
    public void labelsAreTagsNameEqualsValueInNameOrder() {
        TargetKeys.Generic g = TargetKeys.check(Map.of("name", "a", "kind", "tcp", "host", "h", "tags", "eu, env=prod",
                "labels", Map.of("team", "db", "site", "fra 1")), null, 5000L);
        assertEquals(List.of(), g.problems());
        assertEquals(Set.of("eu", "env=prod", "team=db", "site=fra 1"), g.tags());
        assertEquals(List.of("env", "site", "team"), List.copyOf(TargetKeys.labels(g.tags()).keySet()));
        assertEquals("fra 1", TargetKeys.labels(g.tags()).get("site"));
        assertEquals("the .cfg form", Map.of("a", "1", "b", "x y"), TargetKeys.labels(TargetKeys.check(Map.of("name", "a", "kind", "tcp",
                "host", "h", "labels", "a=1, b = x y"), null, 5000L).tags()));
    }

    @Test
    public void aLabelNameSondeOrPrometheusSetsIsRefusedNamingIt() {
        for (String reserved : List.of("target", "kind", "agent", "le", "job", "instance", "__meta")) {
            List<String> p = problems(Map.of("name", "a", "kind", "tcp", "host", "h", "labels", Map.of(reserved, "x")), 5000L);
            assertEquals(reserved, 1, p.size());
            assertTrue(p.get(0), p.get(0).startsWith("key 'labels': '" + reserved + "' is a label name Sonde or Prometheus sets itself"));
        }
        List<String> tag = problems(Map.of("name", "a", "kind", "tcp", "host", "h", "tags", List.of("kind=x")), 5000L);
        assertEquals(List.of("key 'tags': 'kind=x': a tag name=value is a label, and 'kind' is a label name Sonde or Prometheus sets itself"
                + " (agent, agent_id, instance, job, kind, le, quantile, reason, state, target, __*)"), tag);
        assertEquals(List.of("key 'labels': '9x' is not a label name (a letter or _, then letters, digits, _; at most 64)"),
                problems(Map.of("name", "a", "kind", "tcp", "host", "h", "labels", Map.of("9x", "1")), 5000L));
        assertEquals(List.of("key 'labels.a': must be a text of 1-200 characters without ',' or control characters"),
                problems(Map.of("name", "a", "kind", "tcp", "host", "h", "labels", Map.of("a", "x".repeat(201))), 5000L));
        Map<String, Object> many = new java.util.HashMap<>();
        for (int i = 0; i < 17; i++) {
            many.put("l" + i, "v");
        }
        assertEquals(List.of("key 'labels': 17 labels, at most 16"), problems(Map.of("name", "a", "kind", "tcp", "host", "h", "labels", many), 5000L));
        many.remove("l16");
        assertEquals("sixteen in labels and one more written as a tag", List.of("key 'labels': 17 labels with the tags written name=value, at most 16"),
                problems(Map.of("name", "a", "kind", "tcp", "host", "h", "labels", many, "tags", "extra=1"), 5000L));
    }
}
