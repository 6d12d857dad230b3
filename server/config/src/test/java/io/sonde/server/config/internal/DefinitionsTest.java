package io.sonde.server.config.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import org.junit.Test;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import io.sonde.wire.WireException;

public class DefinitionsTest {

    static JsonObject json(String text) {
        return JsonParser.parseString(text).getAsJsonObject();
    }

    interface Check {
        JsonObject run() throws WireException;
    }

    static void refused(Check check, String text) {
        try {
            JsonObject accepted = check.run();
            fail("accepted: " + accepted);
        } catch (WireException e) {
            assertEquals(WireException.Problem.INVALID, e.problem());
            assertTrue(e.getMessage(), e.getMessage().contains(text));
        }
    }

    @Test
    public void aTargetIsTheKeysOfACfgTargetAndItsAgents() throws Exception {
        JsonObject t = Definitions.target("web", json("{\"kind\":\"http\",\"host\":\"https://example.test/\",\"agents\":\"eu  and not edge\","
                + "\"interval_ms\":10000,\"tags\":[\"prod\",\"api\"],\"valid_status_codes\":\"200\"}"));
        assertEquals(json("{\"name\":\"web\",\"agents\":\"eu AND NOT edge\",\"kind\":\"http\",\"host\":\"https://example.test/\","
                + "\"interval_ms\":10000,\"tags\":[\"prod\",\"api\"],\"valid_status_codes\":\"200\"}"), t);
        assertEquals("a kind no agent may know is the agents' to report", "quic",
                Definitions.target("q", json("{\"kind\":\"quic\",\"host\":\"h\",\"agents\":\"*\"}")).get("kind").getAsString());
    }

    @Test
    public void aBadTargetIsRefusedNamingItsField() {
        refused(() -> Definitions.target("web", json("{\"kind\":\"tcp\",\"host\":\"h\"}")), "agents: missing");
        refused(() -> Definitions.target("web", json("{\"kind\":\"tcp\",\"host\":\"h\",\"agents\":\"eu AND\"}")),
                "agents: at column 7: expected a tag, NOT or '(', found the end");
        refused(() -> Definitions.target("web", json("{\"kind\":\"tcp\",\"host\":\"h\",\"agents\":[\"eu\"]}")), "agents: [\"eu\"] is not a selector");
        refused(() -> Definitions.target("web", json("{\"host\":\"h\",\"agents\":\"*\"}")), "kind: missing");
        refused(() -> Definitions.target("web", json("{\"kind\":\"tcp\",\"host\":\"h\",\"agents\":\"*\",\"port\":70000,\"interval_ms\":\"5\"}")),
                "port: 70000 is not a port number (1-65535); interval_ms: 5 is out of range");
        refused(() -> Definitions.target("web", json("{\"kind\":\"tcp\",\"host\":\"h\",\"agents\":\"*\",\"interval_ms\":1000,\"timeout_ms\":2000}")),
                "timeout_ms: 2000 exceeds the interval (1000 ms)");
        refused(() -> Definitions.target("web", json("{\"kind\":\"tcp\",\"host\":\"h\",\"agents\":\"*\",\"count\":{\"n\":1}}")),
                "count: an object is not a setting");
        refused(() -> Definitions.target("web", json("{\"kind\":\"tcp\",\"host\":\"h\",\"agents\":\"*\",\"bad key\":1}")), "'bad key' is not a key");
        refused(() -> Definitions.target("web", json("{\"kind\":\"tcp\",\"host\":\"h\",\"agents\":\"*\",\"name\":\"other\"}")),
                "differs from the name in the path, 'web'");
        refused(() -> Definitions.target("a/b", json("{}")), "name: 'a/b' is not a name");
        refused(() -> Definitions.target("x".repeat(201), json("{}")), "is not a name");
        refused(() -> Definitions.target("a\u0001", json("{}")), "is not a name");
        refused(() -> Definitions.target("web", json("{\"kind\":\"tcp\",\"host\":\"" + "h".repeat(5000) + "\",\"agents\":\"*\"}")),
                "host: 5000 characters, at most 4096");
    }

    @Test
    public void aMeshIsMembersKindsAndFanout() throws Exception {
        JsonObject m = Definitions.mesh("eu", json("{\"members\":\"eu\",\"kinds\":[\"ICMP\",\"tcp\"],\"fanout\":3,\"interval_ms\":30000}"));
        assertEquals(json("{\"name\":\"eu\",\"members\":\"eu\",\"fanout\":3,\"interval_ms\":30000,"
                + "\"kinds\":{\"icmp\":{\"interval_ms\":30000},\"tcp\":{\"interval_ms\":30000}}}"), m);
        JsonObject full = Definitions.mesh("all", json("{\"members\":\"*\",\"fanout\":\"all\",\"kinds\":{\"icmp\":{\"count\":5},"
                + "\"traceroute\":{\"interval_ms\":300000},\"tcp\":{\"port\":7007}}}"));
        assertEquals("all", full.get("fanout").getAsString());
        assertEquals(json("{\"icmp\":{\"count\":5},\"traceroute\":{\"interval_ms\":300000},\"tcp\":{\"port\":7007}}"), full.get("kinds"));
    }

    @Test
    public void aBadMeshIsRefusedNamingItsField() {
        refused(() -> Definitions.mesh("m", json("{\"kinds\":[\"icmp\"],\"fanout\":3}")), "members: missing");
        refused(() -> Definitions.mesh("m", json("{\"members\":\"(eu\",\"kinds\":[\"icmp\"],\"fanout\":3}")), "members: at column 4");
        refused(() -> Definitions.mesh("m", json("{\"members\":\"eu\",\"kinds\":[\"icmp\"]}")), "fanout: missing");
        refused(() -> Definitions.mesh("m", json("{\"members\":\"eu\",\"kinds\":[\"icmp\"],\"fanout\":0}")), "fanout: 0 is neither");
        refused(() -> Definitions.mesh("m", json("{\"members\":\"eu\",\"kinds\":[\"icmp\"],\"fanout\":\"some\"}")), "fanout: \"some\" is neither");
        refused(() -> Definitions.mesh("m", json("{\"members\":\"eu\",\"fanout\":3}")), "kinds: missing");
        refused(() -> Definitions.mesh("m", json("{\"members\":\"eu\",\"kinds\":[],\"fanout\":3}")), "kinds: 0 kinds");
        refused(() -> Definitions.mesh("m", json("{\"members\":\"eu\",\"kinds\":[\"icmp\",\"ICMP\"],\"fanout\":3}")), "icmp is named twice");
        refused(() -> Definitions.mesh("m", json("{\"members\":\"eu\",\"kinds\":{\"tcp\":{\"host\":\"x\"}},\"fanout\":3}")),
                "kinds.tcp.host: set by the mesh");
        refused(() -> Definitions.mesh("m", json("{\"members\":\"eu\",\"kinds\":{\"tcp\":{\"port\":0}},\"fanout\":3}")),
                "kinds.tcp.port: 0 is not a port number");
        refused(() -> Definitions.mesh("m", json("{\"members\":\"eu\",\"kinds\":{\"tcp\":{\"timeout_ms\":9000}},\"fanout\":3,\"interval_ms\":5000}")),
                "kinds.tcp.timeout_ms: 9000 exceeds the interval (5000 ms)");
        refused(() -> Definitions.mesh("m", json("{\"members\":\"eu\",\"kinds\":[\"icmp\"],\"fanout\":3,\"count\":4}")),
                "count: not a mesh setting");
        refused(() -> Definitions.mesh("m", json("{\"members\":\"eu\",\"kinds\":[\"icmp\"],\"fanout\":3,\"interval_ms\":\"often\"}")),
                "interval_ms: 'often' is not a whole number");
        // the mesh's own interval is named as the operator wrote it, not under each kind
        try {
            Definitions.mesh("m", json("{\"members\":\"eu\",\"kinds\":[\"icmp\"],\"fanout\":3,\"interval_ms\":5}"));
            fail("accepted an interval of 5 ms");
        } catch (WireException e) {
            assertEquals("interval_ms: 5 is out of range (10-86400000)", e.getMessage());
        }

    }

    @Test
    public void aMeshResponderPortIsAPortAndLabelsAreTheMeshs() throws WireException {
        assertEquals(7001, Definitions.mesh("m", json("{\"members\":\"*\",\"kinds\":[\"tcp\"],\"fanout\":2,\"responder_port\":\"7001\"}"))
                .get("responder_port").getAsInt());
        refused(() -> Definitions.mesh("m", json("{\"members\":\"*\",\"kinds\":[\"tcp\"],\"fanout\":2,\"responder_port\":0}")),
                "responder_port: 0 is not a port number");
        refused(() -> Definitions.mesh("m", json("{\"members\":\"*\",\"kinds\":{\"tcp\":{\"labels\":\"a=b\"}},\"fanout\":2}")),
                "kinds.tcp.labels: set by the mesh");
        // a target's own labels: an object of texts, by the agents' rule
        assertEquals("{\"site\":\"ams\"}", Definitions.target("web", json("{\"kind\":\"tcp\",\"host\":\"h\",\"port\":1,\"agents\":\"*\","
                + "\"labels\":{\"site\":\"ams\"}}")).get("labels").toString());
        refused(() -> Definitions.target("web", json("{\"kind\":\"tcp\",\"host\":\"h\",\"port\":1,\"agents\":\"*\",\"labels\":{\"9\":\"x\"}}")),
                "labels: '9' is not a label name");
        refused(() -> Definitions.target("web", json("{\"kind\":\"tcp\",\"host\":\"h\",\"port\":1,\"agents\":\"*\",\"labels\":{\"a\":[1]}}")),
                "labels.a: a label is a text");
    }

    @Test
    public void aRolloutNamesABundleVersionAgentsAPercentageAndAState() throws WireException {
        assertEquals(json("{\"name\":\"r\",\"bundle\":\"io.sonde.plugin.tcp\",\"version\":\"0.1.7\",\"agents\":\"eu\","
                + "\"percent\":100,\"state\":\"active\",\"max_failed_percent\":20}"),
                Definitions.rollout("r", json("{\"bundle\":\"io.sonde.plugin.tcp\",\"version\":\"0.1.7\",\"agents\":\"eu\"}")));
        assertEquals("paused", Definitions.rollout("r", json("{\"bundle\":\"b\",\"version\":\"1\",\"agents\":\"*\",\"percent\":\"50\","
                + "\"state\":\"PAUSED\"}")).get("state").getAsString());
        refused(() -> Definitions.rollout("r", json("{\"version\":\"1\",\"agents\":\"*\"}")), "bundle: missing");
        refused(() -> Definitions.rollout("r", json("{\"bundle\":\"b\",\"agents\":\"*\"}")), "version: missing");
        refused(() -> Definitions.rollout("r", json("{\"bundle\":\"b\",\"version\":\"1\",\"agents\":\"eu AND\"}")), "agents: ");
        refused(() -> Definitions.rollout("r", json("{\"bundle\":\"b\",\"version\":\"1\",\"agents\":\"*\",\"percent\":0}")),
                "percent: 0 is not a percentage");
        refused(() -> Definitions.rollout("r", json("{\"bundle\":\"b\",\"version\":\"1\",\"agents\":\"*\",\"state\":\"on\"}")),
                "state: \"on\" is not one of active, paused, rolled_back");
        refused(() -> Definitions.rollout("r", json("{\"bundle\":\"b\",\"version\":\"1\",\"agents\":\"*\",\"max_failed_percent\":101}")),
                "max_failed_percent: 101 is not a percentage");
        refused(() -> Definitions.rollout("r", json("{\"bundle\":\"b\",\"version\":\"1\",\"agents\":\"*\",\"when\":1}")),
                "when: not a rollout setting");
    }
}
