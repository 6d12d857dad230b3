package io.sonde.server.config.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.time.Instant;
import java.util.List;

import org.junit.Test;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import io.sonde.server.spi.AgentRecord;
import io.sonde.server.spi.Definition;

public class ConfigModelTest {

    static final Instant T0 = Instant.parse("2026-12-01T00:00:00Z");

    static AgentRecord agent(String id, String address, String... tags) {
        return new AgentRecord(id, List.of(tags), "v", T0, T0, null, 0, address);
    }

    static Definition target(String name, String body) {
        return new Definition(Definition.TARGET, name, body, T0);
    }

    static JsonObject doc(ConfigModel m, String id) {
        return JsonParser.parseString(m.document(id).orElseThrow().json()).getAsJsonObject();
    }

    @Test
    public void theSameDefinitionsAndAgentsMakeTheSameDocumentsEverywhere() {
        List<Definition> targets = List.of(target("web", "{\"name\":\"web\",\"agents\":\"eu\",\"kind\":\"tcp\",\"host\":\"h\",\"port\":1}"));
        List<Definition> meshes = List.of(new Definition(Definition.MESH, "m",
                "{\"name\":\"m\",\"members\":\"*\",\"fanout\":1,\"kinds\":{\"icmp\":{}}}", T0));
        List<AgentRecord> agents = List.of(agent("a", "127.0.0.2", "eu"), agent("b", "127.0.0.3"), agent("c", null, "eu"));
        ConfigModel one = new ConfigModel(targets, meshes, agents);
        ConfigModel two = new ConfigModel(targets, meshes, List.of(agents.get(2), agents.get(0), agents.get(1)));
        for (String id : List.of("a", "b", "c")) {
            assertEquals(one.document(id), two.document(id));
        }
        assertNotEquals(one.document("a").orElseThrow().version(), one.document("c").orElseThrow().version());
        // the document as assembled: whole JSON, its version the one asked for alone, its entries where they belong
        JsonObject a = doc(one, "a");
        assertEquals(one.version("a").orElseThrow(), a.get("version").getAsString());
        assertEquals("a", a.get("agent_id").getAsString());
        JsonObject view = a.getAsJsonArray("meshes").get(0).getAsJsonObject();
        assertEquals("one peer, reachable or waiting", 1, view.getAsJsonArray("peers").size() + view.getAsJsonArray("waiting").size());
        assertEquals("web, and an icmp target for a reachable peer", 1 + view.getAsJsonArray("peers").size(),
                a.getAsJsonArray("targets").size());
        assertEquals("web", a.getAsJsonArray("targets").get(0).getAsJsonObject().get("name").getAsString());
        assertTrue(!a.getAsJsonArray("targets").get(0).getAsJsonObject().has("agents"));
        JsonObject b = doc(one, "b"); // no target of its tags: only its mesh part
        assertEquals(1, b.getAsJsonArray("meshes").size());
        assertTrue(b.getAsJsonArray("targets").size() <= 1);
        ConfigModel noMesh = new ConfigModel(targets, List.of(), agents);
        assertEquals("[]", doc(noMesh, "b").getAsJsonArray("targets").toString());
        assertEquals(1, doc(noMesh, "a").getAsJsonArray("targets").size());
        AgentRecord quoted = agent("q\"uote", "127.0.0.4", "eu");
        assertEquals("q\"uote", doc(new ConfigModel(targets, meshes, List.of(quoted)), "q\"uote").get("agent_id").getAsString());
        assertTrue("an unknown agent has none", one.document("x").isEmpty());
        AgentRecord revoked = new AgentRecord("r", List.of("eu"), "v", T0, T0, T0, 0, "127.0.0.9");
        assertTrue("nor has a revoked one", new ConfigModel(targets, meshes, List.of(revoked)).document("r").isEmpty());
    }

    @Test
    public void aStoredDefinitionThisServerCannotReadIsLeftOutNotFatal() {
        List<Definition> targets = List.of(target("good", "{\"name\":\"good\",\"agents\":\"*\",\"kind\":\"tcp\",\"host\":\"h\",\"port\":1}"),
                target("newer", "{\"name\":\"newer\",\"selector\":{\"any\":[\"eu\"]}}"), target("garbage", "not json"));
        List<Definition> meshes = List.of(new Definition(Definition.MESH, "odd", "{\"name\":\"odd\",\"members\":\"*\",\"fanout\":1,\"kinds\":[1]}", T0));
        ConfigModel m = new ConfigModel(targets, meshes, List.of(agent("a", "127.0.0.2")));
        assertEquals(1, doc(m, "a").getAsJsonArray("targets").size());
        assertEquals(3, m.unreadable().size());
        assertTrue(m.unreadable().toString(), m.unreadable().get(0).startsWith("target 'newer': "));
        assertTrue(m.unreadable().toString(), m.unreadable().get(2).startsWith("mesh 'odd': "));
    }

    @Test
    public void membersRunAResponderAndTcpAndUdpProbeItAtTheMeshPortWhereTheKindSetsNone() {
        List<Definition> meshes = List.of(
                new Definition(Definition.MESH, "m", "{\"name\":\"m\",\"members\":\"eu\",\"fanout\":\"all\",\"responder_port\":7001,"
                        + "\"kinds\":{\"icmp\":{},\"tcp\":{},\"udp\":{\"port\":7}}}", T0),
                new Definition(Definition.MESH, "n", "{\"name\":\"n\",\"members\":\"eu\",\"fanout\":\"all\",\"kinds\":{\"tcp\":{}}}", T0));
        List<AgentRecord> agents = List.of(agent("a", "127.0.0.2", "eu"), agent("b", "127.0.0.3", "eu"), agent("c", "127.0.0.4"));
        ConfigModel model = new ConfigModel(List.of(), meshes, agents);
        JsonObject a = doc(model, "a");
        assertEquals("[7001," + ConfigModel.DEFAULT_RESPONDER_PORT + "]", a.getAsJsonObject("responder").getAsJsonArray("ports").toString());
        java.util.Map<String, JsonObject> byName = new java.util.HashMap<>();
        a.getAsJsonArray("targets").forEach(t -> byName.put(t.getAsJsonObject().get("name").getAsString(), t.getAsJsonObject()));
        assertEquals(byName.keySet().toString(), 4, byName.size());
        assertTrue(!byName.get("mesh/m/icmp/b").has("port"));
        assertEquals(7001, byName.get("mesh/m/tcp/b").get("port").getAsInt());
        assertEquals(7, byName.get("mesh/m/udp/b").get("port").getAsInt());
        assertEquals(ConfigModel.DEFAULT_RESPONDER_PORT, byName.get("mesh/n/tcp/b").get("port").getAsInt());
        assertEquals("{\"mesh\":\"m\",\"peer\":\"b\"}", byName.get("mesh/m/tcp/b").get("labels").toString());
        assertTrue("not a member: no responder", !doc(model, "c").has("responder"));
    }

    static Definition rollout(String name, String body) {
        return new Definition(Definition.ROLLOUT, name, body, T0);
    }

    static io.sonde.server.spi.Release release(String version) {
        return new io.sonde.server.spi.Release("io.sonde.plugin.tcp", version, version.replace(".", "").repeat(64).substring(0, 64), 1000,
                "{}", T0);
    }

    @Test
    public void rolloutsNameTheirBundleVersionToTheAgentsTheyTakeAndTheHighestWins() {
        List<AgentRecord> agents = new java.util.ArrayList<>();
        for (int i = 0; i < 200; i++) {
            agents.add(agent("a" + i, null, i % 2 == 0 ? "eu" : "us"));
        }
        List<io.sonde.server.spi.Release> releases = List.of(release("0.1.7"), release("0.1.10"));
        List<Definition> rollouts = List.of(
                rollout("eu-all", "{\"name\":\"eu-all\",\"bundle\":\"io.sonde.plugin.tcp\",\"version\":\"0.1.7\",\"agents\":\"eu\","
                        + "\"percent\":100,\"state\":\"active\"}"),
                rollout("canary", "{\"name\":\"canary\",\"bundle\":\"io.sonde.plugin.tcp\",\"version\":\"0.1.10\",\"agents\":\"*\","
                        + "\"percent\":25,\"state\":\"paused\"}"),
                rollout("gone", "{\"name\":\"gone\",\"bundle\":\"io.sonde.plugin.tcp\",\"version\":\"9.9.9\",\"agents\":\"*\","
                        + "\"percent\":100,\"state\":\"active\"}"));
        ConfigModel m = new ConfigModel(List.of(), List.of(), rollouts, releases, agents);
        assertEquals(List.of("rollout 'gone': java.lang.IllegalStateException: no release io.sonde.plugin.tcp 9.9.9"), m.unreadable());
        int canary = m.rollout("canary").agents().size();
        assertEquals("a quarter of 200", 50, canary);
        assertEquals(100, m.rollout("eu-all").agents().size());
        for (AgentRecord a : agents) {
            JsonObject d = doc(m, a.agentId());
            boolean inCanary = m.rollout("canary").agents().contains(a.agentId());
            boolean eu = a.tags().contains("eu");
            if (!inCanary && !eu) {
                assertTrue("no rollout, no bundles: " + d, !d.has("bundles"));
                continue;
            }
            JsonObject b = d.getAsJsonArray("bundles").get(0).getAsJsonObject();
            assertEquals(1, d.getAsJsonArray("bundles").size());
            assertEquals("0.1.10 is higher than 0.1.7 (not as text)", inCanary ? "0.1.10" : "0.1.7", b.get("version").getAsString());
            assertEquals(inCanary ? "paused" : "active", b.get("state").getAsString());
            assertEquals(1000, b.get("size").getAsLong());
        }
        // the same agents stay in as the percentage grows
        ConfigModel wider = new ConfigModel(List.of(), List.of(), List.of(rollout("canary", rollouts.get(1).body().replace("25", "50"))),
                releases, agents);
        assertTrue(wider.rollout("canary").agents().containsAll(m.rollout("canary").agents()));
        assertEquals(100, wider.rollout("canary").agents().size());
        assertEquals("rounded up: 1 % of 3 agents is one", List.of(1, 2, 3), List.of(1, 50, 67).stream()
                .map(p -> ConfigModel.canary("r", List.of("x", "y", "z"), p).size()).toList());
        // and a document without rollouts keeps the version it had
        assertEquals(new ConfigModel(List.of(), List.of(), agents).version("a1"),
                new ConfigModel(List.of(), List.of(), List.of(), releases, agents).version("a1"));
    }
}
