package io.sonde.server.alerts.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.Test;

import com.google.gson.JsonParser;

import io.sonde.wire.WireException;

/** Rules are checked whole, every bad key named; the canonical form writes out every default. */
public class AlertRuleTest {

    static AlertRule parse(String json) throws WireException {
        return AlertRule.parse("r", JsonParser.parseString(json).getAsJsonObject());
    }

    static void refused(String json, String says) {
        try {
            parse(json);
            fail("took " + json);
        } catch (WireException e) {
            assertTrue(e.getMessage() + " should say " + says, e.getMessage().contains(says));
        }
    }

    @Test
    public void defaultsAreWrittenOut() throws Exception {
        AlertRule r = parse("{\"type\":\"loss\",\"target\":\"*\",\"targets\":\"core\",\"notify\":[{\"webhook\":\"https://127.0.0.1:8443/x\"}]}");
        assertEquals(5.0, r.threshold(), 0);
        assertEquals(5.0, r.recovery(), 0);
        assertEquals(Duration.ofMinutes(1), r.pending());
        assertEquals(r.pending(), r.recoverFor());
        assertEquals("{\"name\":\"r\",\"type\":\"loss\",\"target\":\"*\",\"targets\":\"core\",\"agents\":\"*\",\"for\":\"1m\",\"recover_for\":\"1m\","
                + "\"window\":\"1m\",\"threshold\":5.0,\"recovery\":5.0,\"min_vantage\":1,\"repeat\":\"4h\",\"severity\":\"warning\","
                + "\"notify\":[{\"webhook\":\"https://127.0.0.1:8443/x\"}]}", r.json().toString());
        assertEquals("the canonical form parses to the same rule", r, AlertRule.parse("r", r.json()));
        assertEquals("webhook https://127.0.0.1:8443", r.receivers().get(0).where());
        AlertRule off = parse("{\"type\":\"agent_offline\",\"agents\":\"edge\",\"for\":\"90s\"}");
        assertEquals(Duration.ofSeconds(90), off.pending());
        assertEquals("{\"name\":\"r\",\"type\":\"agent_offline\",\"agents\":\"edge\",\"for\":\"90s\",\"recover_for\":\"90s\",\"repeat\":\"4h\","
                + "\"severity\":\"warning\",\"notify\":[]}", off.json().toString());
    }

    @Test
    public void badRulesAreRefusedNamingTheKey() {
        refused("{}", "type: missing");
        refused("{\"type\":\"down\"}", "type: 'down' is not a rule type");
        refused("{\"type\":\"target_down\"}", "target: missing");
        refused("{\"type\":\"latency\",\"target\":\"web\"}", "threshold: missing");
        refused("{\"type\":\"loss\",\"target\":\"web\",\"threshold\":120}", "threshold: 120.0 is not a share");
        refused("{\"type\":\"loss\",\"target\":\"web\",\"threshold\":10,\"recovery\":20}", "recovery: 20.0 must be at or below");
        refused("{\"type\":\"tls_expiry\",\"target\":\"web\",\"threshold\":14,\"recovery\":7}", "recovery: 7.0 must be at or above");
        refused("{\"type\":\"value\",\"target\":\"web\",\"threshold\":1}", "value: missing: the name of a value");
        refused("{\"type\":\"value\",\"target\":\"web\",\"value\":\"Bad Name\",\"threshold\":1}", "value: 'Bad Name' is not a value's name");
        refused("{\"type\":\"value\",\"target\":\"web\",\"value\":\"days\"}", "threshold: missing: the value limit");
        refused("{\"type\":\"value\",\"target\":\"web\",\"value\":\"days\",\"threshold\":5,\"below\":\"yes\"}", "below: not true or false");
        refused("{\"type\":\"value\",\"target\":\"web\",\"value\":\"days\",\"threshold\":5,\"below\":true,\"recovery\":4}",
                "recovery: 4.0 must be at or above");
        refused("{\"type\":\"loss\",\"target\":\"web\",\"value\":\"days\"}", "value: only a value rule has one");
        refused("{\"type\":\"target_down\",\"target\":\"web\",\"for\":\"5 minutes\"}", "for: '5 minutes' is not a duration");
        refused("{\"type\":\"target_down\",\"target\":\"web\",\"window\":\"1s\"}", "window: '1s' is out of range");
        refused("{\"type\":\"target_down\",\"target\":\"web\",\"threshold\":3}", "threshold: a target_down rule has none");
        refused("{\"type\":\"target_down\",\"target\":\"web\",\"targets\":\"core\"}", "targets: a selector of tags goes with target '*' only");
        refused("{\"type\":\"target_down\",\"target\":\"*\",\"targets\":\"(core\"}", "targets:");
        refused("{\"type\":\"agent_offline\",\"target\":\"web\"}", "target: a agent_offline rule is about agents");
        refused("{\"type\":\"target_down\",\"target\":\"web\",\"min_vantage\":0}", "min_vantage: 0.0 is not a number of agents");
        refused("{\"type\":\"target_down\",\"target\":\"web\",\"severity\":\"page\"}", "severity: 'page' is not");
        refused("{\"type\":\"target_down\",\"target\":\"web\",\"notify\":[{\"email\":\"x@y\"}]}", "notify[0]: 'email' is not a receiver");
        refused("{\"type\":\"target_down\",\"target\":\"web\",\"notify\":[{\"webhook\":\"file:///etc/passwd\"}]}", "is not an http(s) URL");
        refused("{\"type\":\"target_down\",\"target\":\"web\",\"notify\":{\"webhook\":\"http://a/\"}}", "notify: not a list");
        refused("{\"type\":\"target_down\",\"target\":\"web\",\"colour\":\"red\"}", "colour: not a key of an alert rule");
        refused("{\"type\":\"target_down\",\"target\":\"web\",\"name\":\"other\"}", "differs from the name in the path");
        try {
            AlertRule.parse("a/b", JsonParser.parseString("{\"type\":\"agent_offline\"}").getAsJsonObject());
            fail();
        } catch (WireException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith("name:"));
        }
    }

    @Test
    public void webhookSignaturesAreHmacSha256OfTimeAndBody() {
        byte[] key = "0123456789abcdef0123".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String sig = Notifier.sign(key, 1764676800L, "{\"a\":1}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertTrue(sig, sig.matches("sha256=[0-9a-f]{64}"));
        assertEquals(sig, Notifier.sign(key, 1764676800L, "{\"a\":1}".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertTrue(!sig.equals(Notifier.sign(key, 1764676801L, "{\"a\":1}".getBytes(java.nio.charset.StandardCharsets.UTF_8))));
    }

    @Test
    public void silencesMatchByPattern() throws Exception {
        java.time.Instant now = java.time.Instant.parse("2026-12-02T12:00:00Z");
        Silence s = Silence.parse("s1", JsonParser.parseString("{\"matchers\":{\"rule\":\"web-*\",\"subject\":\"*-eu\"},\"duration\":\"2h\"}")
                .getAsJsonObject(), now);
        assertTrue(s.matches("web-down", "shop-eu", "critical"));
        assertTrue(!s.matches("db-down", "shop-eu", "critical"));
        assertTrue(!s.matches("web-down", "shop-eu-2", "critical"));
        assertTrue(s.activeAt(now.plusSeconds(3600)));
        assertTrue(!s.activeAt(now.plusSeconds(7200)));
        assertEquals(s, Silence.fromJson(s.json()));
        try {
            Silence.parse("s2", JsonParser.parseString("{\"matchers\":{\"host\":\"x\"},\"duration\":\"1h\"}").getAsJsonObject(), now);
            fail();
        } catch (WireException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("matchers.host: not a matcher"));
        }
    }

    @Test
    public void aReceiverMayTakeOnlyAlertsWhoseLabelsMatch() throws Exception {
        AlertRule r = parse("{\"type\":\"target_down\",\"target\":\"*\",\"notify\":[{\"receiver\":\"db-pager\",\"match\":{\"team\":\"db\","
                + "\"site\":\"fra*\"}},{\"webhook\":\"https://127.0.0.1:8443/all\"}]}");
        AlertRule.Receiver db = r.receivers().get(0);
        assertEquals(Map.of("team", "db", "site", "fra*"), db.match());
        assertTrue(db.takes(Map.of("team", "db", "site", "fra2", "env", "prod")));
        assertFalse("another team", db.takes(Map.of("team", "web", "site", "fra2")));
        assertFalse("no site", db.takes(Map.of("team", "db")));
        assertTrue("no match: every alert", r.receivers().get(1).takes(Map.of()));
        assertEquals("the canonical form keeps the match", r, AlertRule.parse("r", r.json()));
        assertTrue(r.json().toString(), r.json().toString().contains("{\"receiver\":\"db-pager\",\"match\":{\"site\":\"fra*\",\"team\":\"db\"}}"));
        refused("{\"type\":\"target_down\",\"target\":\"*\",\"notify\":[{\"receiver\":\"x\",\"match\":{\"a-b\":\"1\"}}]}",
                "notify[0].match: 'a-b' is not a label name");
        refused("{\"type\":\"target_down\",\"target\":\"*\",\"notify\":[{\"receiver\":\"x\",\"match\":{\"job\":\"1\"}}]}",
                "notify[0].match: 'job' is a label name Sonde or Prometheus sets itself");
        refused("{\"type\":\"target_down\",\"target\":\"*\",\"notify\":[{\"receiver\":\"x\",\"match\":{\"team\":3}}]}",
                "notify[0].match.team: a pattern of 1-200 characters is needed");
        refused("{\"type\":\"target_down\",\"target\":\"*\",\"notify\":[{\"receiver\":\"x\",\"match\":[]}]}",
                "notify[0].match: an object of label names and patterns is needed");
        refused("{\"type\":\"target_down\",\"target\":\"*\",\"notify\":[{\"match\":{\"team\":\"db\"}}]}", "notify[0]: 'match' is not a receiver");
    }

    @Test
    public void anAlertsLabelsAreItsTargetsOrItsAgentsTagsWrittenNameValue() throws Exception {
        AlertRule down = parse("{\"type\":\"target_down\",\"target\":\"*\"}");
        assertEquals(Map.of("site", "fra"), AlertService.labels(down, "web", Map.of("web", Map.of("site", "fra")), Map.of()));
        assertEquals(Map.of(), AlertService.labels(down, "db", Map.of("web", Map.of("site", "fra")), Map.of()));
        AlertRule off = parse("{\"type\":\"agent_offline\",\"agents\":\"*\"}");
        io.sonde.server.spi.AgentRecord a = new io.sonde.server.spi.AgentRecord("a1", List.of("edge", "site=ams"), "1", null, null, null, 0);
        assertEquals(Map.of("site", "ams"), AlertService.labels(off, "a1", Map.of(), Map.of("a1", a)));
    }
}
