package io.sonde.server.spi;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.Test;

import io.sonde.agent.spi.Health.State;
import io.sonde.wire.AgentStatus;

public class FleetHealthTest {

    private static final Instant NOW = Instant.parse("2026-12-04T12:00:00Z");
    private static final Duration OFFLINE_AFTER = Duration.ofSeconds(60);

    private static AgentRecord agent(String id, Instant lastSeen, AgentRecord.ConfigReport config, String... tags) {
        return new AgentRecord(id, List.of(tags), "1", NOW.minusSeconds(3600), lastSeen, null, 0, null, config);
    }

    private static TargetState failed(String agent, String target, Instant at, Instant since, Instant next, boolean backoff) {
        return new TargetState(agent, target, "tcp", at, false, "refused", "connection refused", since, next, backoff, at, "refused",
                "connection refused");
    }

    private static TargetState ok(String agent, String target, Instant at, Instant since, Instant next) {
        return new TargetState(agent, target, "tcp", at, true, null, null, since, next, false, null, null, null);
    }

    @Test
    public void aBackedOffTargetIsDownUntilItsNextProbeIsDueAndUnknownOnceOverdue() {
        Instant since = NOW.minusSeconds(900);
        // probed 4 min ago, next probe in 1 min (stretched by backoff): down, though nothing came for 4 minutes
        TargetState s = failed("a1", "web", NOW.minusSeconds(240), since, NOW.plusSeconds(60), true);
        Map<String, AgentRecord> agents = Map.of("a1", agent("a1", NOW.minusSeconds(5), null));
        FleetHealth.TargetHealth t = FleetHealth.compute(List.of(s), agents, List.of(), List.of(), NOW, OFFLINE_AFTER).get(0);
        assertEquals(State.BACKOFF, t.overall().state());
        assertEquals("down from 1 of 1", t.overall().text());
        assertEquals(since, t.since());
        assertEquals("refused: connection refused", t.vantages().get(0).reason());

        // the next probe was due 2 minutes ago and nothing came: no longer known
        TargetState overdue = failed("a1", "web", NOW.minusSeconds(400), since, NOW.minus(FleetHealth.GRACE).minusSeconds(60), true);
        FleetHealth.TargetHealth u = FleetHealth.compute(List.of(overdue), agents, List.of(), List.of(), NOW, OFFLINE_AFTER).get(0);
        assertEquals(State.UNKNOWN, u.overall().state());
        assertTrue(u.vantages().get(0).reason(), u.vantages().get(0).reason().startsWith("no result since "));
    }

    @Test
    public void anOfflineAgentIsUnknownAndDoesNotCountAsAVantage() {
        Map<String, AgentRecord> agents = Map.of("a1", agent("a1", NOW.minusSeconds(5), null), "a2", agent("a2", NOW.minusSeconds(600), null));
        List<TargetState> states = List.of(failed("a1", "web", NOW.minusSeconds(2), NOW.minusSeconds(30), NOW.plusSeconds(3), false),
                failed("a2", "web", NOW.minusSeconds(610), NOW.minusSeconds(700), NOW.minusSeconds(600), false));
        FleetHealth.TargetHealth t = FleetHealth.compute(states, agents, List.of(), List.of(), NOW, OFFLINE_AFTER).get(0);
        assertEquals(State.DOWN, t.overall().state());
        assertEquals("down from 1 of 1", t.overall().text());
        assertEquals(State.UNKNOWN, t.vantages().get(1).state());
        assertEquals("a2", t.vantages().get(1).agentId());
    }

    @Test
    public void aDefinitionNamesItsVantagesAndTheirRefusalsAndItsThresholds() {
        AgentRecord.ConfigReport refused = new AgentRecord.ConfigReport("v1", "server",
                List.of(new AgentStatus.Rejected("api", "key 'intervall_ms' is not known for kind tcp; did you mean 'interval_ms'?")), NOW);
        Map<String, AgentRecord> agents = Map.of("a1", agent("a1", NOW, null, "eu"), "a2", agent("a2", NOW, refused, "eu"),
                "a3", agent("a3", NOW, null, "us"), "a4", agent("a4", NOW, null, "eu"));
        Definition def = new Definition(Definition.TARGET, "api", "{\"name\":\"api\",\"agents\":\"eu\",\"kind\":\"tcp\",\"host\":\"h\","
                + "\"port\":1,\"tags\":[\"prod\"],\"degraded_latency_ms\":\"50\"}", NOW);
        List<TargetState> states = List.of(ok("a1", "api", NOW.minusSeconds(1), NOW.minusSeconds(300), NOW.plusSeconds(4)));
        List<SeriesWindow> window = List.of(new SeriesWindow("a1", "api", "tcp", 12, 0, 0, 0.080, 0.09, 0.1));
        FleetHealth.TargetHealth t = FleetHealth.compute(states, agents, List.of(def), window, NOW, OFFLINE_AFTER).get(0);
        assertEquals(List.of("prod"), t.tags());
        assertEquals(3, t.vantages().size()); // a3 is not selected
        assertEquals(State.DEGRADED, t.vantages().get(0).state());
        assertEquals("latency 80.0 ms > 50 ms", t.vantages().get(0).reason());
        assertEquals(State.REFUSED, t.vantages().get(1).state());
        assertTrue(t.vantages().get(1).reason().contains("intervall_ms"));
        assertEquals(State.UNKNOWN, t.vantages().get(2).state());
        assertEquals("not probed yet", t.vantages().get(2).reason());
        assertEquals(State.DEGRADED, t.overall().state());
        assertEquals("degraded from 1 of 2", t.overall().text());
        assertEquals(0.080, t.p50(), 1e-9);
    }

    @Test
    public void anEntryOfAKindAnAgentHasNoPluginForIsNoProberNotRefused() {
        AgentRecord.ConfigReport held = new AgentRecord.ConfigReport("v1", "server",
                List.of(new AgentStatus.Rejected("ntp", "no_prober: no installed plugin registers probe.type=ntp")), NOW);
        Map<String, AgentRecord> agents = Map.of("a1", agent("a1", NOW, held));
        Definition def = new Definition(Definition.TARGET, "ntp", "{\"name\":\"ntp\",\"agents\":\"*\",\"kind\":\"ntp\",\"host\":\"h\"}", NOW);
        FleetHealth.TargetHealth t = FleetHealth.compute(List.of(), agents, List.of(def), List.of(), NOW, OFFLINE_AFTER).get(0);
        assertEquals(State.NO_PROBER, t.overall().state());
        assertEquals("no_prober from 1 of 1", t.overall().text());
        assertEquals("ntp", t.kind());
    }

    @Test
    public void anOddKindLeavesItselfUnannouncedNotTheOthers() {
        com.google.gson.JsonObject kinds = com.google.gson.JsonParser.parseString("{\"tcp\": {\"host\": \"NAME\", \"port_required\": true,"
                + " \"options\": []}, \"bad kind!\": {\"host\": \"NAME\"}, \"odd\": {\"host\": \"NOT_A_FORM\"}}").getAsJsonObject();
        assertEquals(java.util.Set.of("tcp"), AnnouncedKinds.check(kinds).keySet());
        io.sonde.api.TargetSchema tcp = AnnouncedKinds.merge(List.of(AnnouncedKinds.check(kinds).toString())).get("tcp");
        assertTrue(tcp.portRequired());
    }

    @Test
    public void listsAreWorstFirst() {
        Map<String, AgentRecord> agents = Map.of("a1", agent("a1", NOW, null));
        List<TargetState> states = List.of(ok("a1", "b-up", NOW, NOW, NOW.plusSeconds(5)),
                failed("a1", "c-down", NOW, NOW.minusSeconds(10), NOW.plusSeconds(5), false),
                failed("a1", "a-down-longer", NOW, NOW.minusSeconds(100), NOW.plusSeconds(5), false));
        List<String> order = FleetHealth.compute(states, agents, List.of(), List.of(), NOW, OFFLINE_AFTER).stream()
                .map(FleetHealth.TargetHealth::target).toList();
        assertEquals(List.of("a-down-longer", "c-down", "b-up"), order);
    }
}
