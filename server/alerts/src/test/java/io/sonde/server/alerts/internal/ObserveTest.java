package io.sonde.server.alerts.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.junit.Test;

import com.google.gson.JsonParser;

import io.sonde.server.spi.AgentRecord;
import io.sonde.server.spi.SeriesWindow;
import io.sonde.server.spi.StoredResult;
import io.sonde.wire.WireResult;

/** Vantage agents: x of N, offline ones left out, no data never down; agent rules; route changes. */
public class ObserveTest {

    static final Instant NOW = Instant.parse("2026-12-02T12:00:00Z");
    static final Duration OFFLINE = Duration.ofSeconds(60);

    static AgentRecord agent(String id, boolean online, String... tags) {
        return new AgentRecord(id, List.of(tags), "0.1.0", NOW.minusSeconds(3600), online ? NOW.minusSeconds(5) : NOW.minusSeconds(600), null, 0,
                null);
    }

    static SeriesWindow down(String agent, String target) {
        return new SeriesWindow(agent, target, "tcp", 5, 5, 1, null, null, null);
    }

    static SeriesWindow up(String agent, String target) {
        return new SeriesWindow(agent, target, "tcp", 5, 0, 0, 0.002, 0.004, 0.005);
    }

    static final Observe.Lookup NONE = new Observe.Lookup() {
        @Override
        public Optional<StoredResult> latest(String agentId, String target) {
            return Optional.empty();
        }

        @Override
        public List<StoredResult> lastHour(String agentId, String target) {
            return List.of();
        }

        @Override
        public Optional<String> configVersion(String agentId) {
            return Optional.of("v2");
        }

        @Override
        public io.sonde.api.ResultSchema schema(String kind) {
            return null;
        }
    };

    @Test
    public void xOfNVantageAgentsAndOfflineOnesLeftOut() throws Exception {
        AlertRule r = AlertRule.parse("down", JsonParser.parseString("{\"type\":\"target_down\",\"target\":\"web\",\"min_vantage\":2}").getAsJsonObject());
        Map<String, AgentRecord> agents = Map.of("a1", agent("a1", true), "a2", agent("a2", true), "a3", agent("a3", false));
        Observation two = Observe.targets(r, List.of(down("a1", "web"), down("a2", "web"), up("a1", "api")), agents, Map.of(), Set.of(), NOW, OFFLINE,
                NONE).get(0);
        assertEquals("web", two.subject());
        assertTrue(two.bad());
        assertEquals(2.0, two.value(), 0);
        assertEquals("web is down from 2 of 2 vantage agents, 2 needed", two.summary());
        Observation one = Observe.targets(r, List.of(down("a1", "web"), down("a3", "web")), agents, Map.of(), Set.of(), NOW, OFFLINE, NONE).get(0);
        assertTrue("one online agent sees it down, the other is offline: not down", !one.bad() && !one.nodata());
        Observation none = Observe.targets(r, List.of(down("a3", "web")), agents, Map.of(), Set.of(), NOW, OFFLINE, NONE).get(0);
        assertTrue(none.nodata());
        assertEquals("its vantage agents are offline", none.detail());
        Observation gone = Observe.targets(r, List.of(), agents, Map.of(), Set.of("web"), NOW, OFFLINE, NONE).get(0);
        assertTrue("a subject it had, without results now", gone.nodata());
    }

    static io.sonde.server.spi.TargetState failing(String agent, boolean backoff, Instant next) {
        return new io.sonde.server.spi.TargetState(agent, "web", "tcp", NOW.minusSeconds(120), false, "refused", "closed", NOW.minusSeconds(900),
                next, backoff, NOW.minusSeconds(120), "refused", "closed");
    }

    @Test
    public void targetDownByTheHealthModelCountsABackedOffAgentAsDownUntilItsNextProbe() throws Exception {
        AlertRule r = AlertRule.parse("down", JsonParser.parseString("{\"type\":\"target_down\",\"target\":\"web\",\"min_vantage\":2,"
                + "\"agents\":\"eu\"}").getAsJsonObject());
        Map<String, AgentRecord> agents = Map.of("a1", agent("a1", true, "eu"), "a2", agent("a2", true, "eu"), "a3", agent("a3", true, "us"));
        // nothing for two minutes from either, but each backs off and probes again in three: down from 2 of 2, not nodata
        List<io.sonde.server.spi.TargetState> states = List.of(failing("a1", true, NOW.plusSeconds(180)), failing("a2", true, NOW.plusSeconds(180)),
                failing("a3", false, NOW.plusSeconds(5)));
        List<io.sonde.server.spi.FleetHealth.TargetHealth> health = io.sonde.server.spi.FleetHealth.compute(states, agents, List.of(), List.of(),
                NOW, OFFLINE);
        Observation o = Observe.targetsDown(r, health, agents, Map.of()).get(0);
        assertTrue(o.bad());
        assertEquals("web is down from 2 of 2 vantage agents, 2 needed", o.summary());
        assertEquals(2.0, o.value(), 0);
        assertTrue(o.detail(), o.detail().contains("a1 backoff since " + NOW.minusSeconds(900) + " (refused: closed)"));
        // overdue: the next probe was due long ago and nothing came: no standing result, nodata
        states = List.of(failing("a1", true, NOW.minusSeconds(100)), failing("a2", true, NOW.minusSeconds(100)));
        health = io.sonde.server.spi.FleetHealth.compute(states, agents, List.of(), List.of(), NOW, OFFLINE);
        Observation overdue = Observe.targetsDown(r, health, agents, Map.of()).get(0);
        assertTrue(overdue.nodata());
        assertTrue(overdue.detail(), overdue.detail().startsWith("no vantage agent has a standing result for it (a1: no result since "));
        // a rule that does not take the target says nothing of it
        AlertRule other = AlertRule.parse("api", JsonParser.parseString("{\"type\":\"target_down\",\"target\":\"api\"}").getAsJsonObject());
        assertEquals(List.of(), Observe.targetsDown(other, health, agents, Map.of()));
    }

    @Test
    public void aTagSelectorTakesTheTargetsWithThoseTags() throws Exception {
        AlertRule r = AlertRule.parse("down", JsonParser.parseString("{\"type\":\"target_down\",\"target\":\"*\",\"targets\":\"core\"}").getAsJsonObject());
        List<Observation> o = Observe.targets(r, List.of(down("a1", "web"), down("a1", "db"), down("a1", "local")), Map.of("a1", agent("a1", true)),
                Map.of("web", List.of("edge"), "db", List.of("core")), Set.of(), NOW, OFFLINE, NONE);
        assertEquals(List.of("db"), o.stream().map(Observation::subject).toList());
    }

    @Test
    public void agentRules() throws Exception {
        AlertRule off = AlertRule.parse("off", JsonParser.parseString("{\"type\":\"agent_offline\",\"agents\":\"edge\"}").getAsJsonObject());
        List<Observation> o = Observe.agents(off, Map.of("a1", agent("a1", true, "edge"), "a2", agent("a2", false, "edge"), "a3", agent("a3", false)),
                NOW, OFFLINE, NONE);
        assertEquals(2, o.size());
        assertTrue(o.stream().anyMatch(x -> x.subject().equals("a2") && x.bad() && x.value() == 600));
        assertTrue(o.stream().anyMatch(x -> x.subject().equals("a1") && !x.bad()));
        AlertRule stale = AlertRule.parse("stale", JsonParser.parseString("{\"type\":\"config_stale\"}").getAsJsonObject());
        AgentRecord applies = new AgentRecord("a1", List.of(), "v", NOW, NOW, null, 0, null,
                new AgentRecord.ConfigReport("v1", "server-cache", List.of(), NOW));
        Observation s = Observe.agents(stale, Map.of("a1", applies), NOW, OFFLINE, NONE).get(0);
        assertTrue(s.bad());
        assertEquals("applies v1, the server's is v2 (from server-cache)", s.detail());
    }

    static StoredResult trace(String... hops) {
        com.google.gson.JsonObject d = new com.google.gson.JsonObject();
        com.google.gson.JsonArray a = new com.google.gson.JsonArray();
        for (String h : hops) {
            com.google.gson.JsonObject hop = new com.google.gson.JsonObject();
            hop.addProperty("ttl", a.size() + 1);
            hop.add("address", h == null ? com.google.gson.JsonNull.INSTANCE : new com.google.gson.JsonPrimitive(h));
            a.add(hop);
        }
        d.add("hops", a);
        return new StoredResult("a1", "e", new WireResult(1, "path", "traceroute", NOW, true, null, null, 0.01, d));
    }

    @Test
    public void routeChangesCountPathsThatDifferAHopThatDidNotAnswerMatchingAny() {
        assertEquals(2, Observe.routeChanges(List.of(trace("10.0.0.1", "10.0.1.1"), trace("10.0.0.1", null), trace("10.0.0.1", "10.0.2.1"),
                trace("10.0.0.1", "10.0.2.1"), trace("10.0.0.1", "10.0.2.1", "10.0.3.1")), "hops"));
    }

    /** A trace on several flows: flow 0's hops, and the distinct paths (each a list of addresses). */
    static StoredResult flows(List<List<String>> paths) {
        StoredResult r = trace(paths.get(0).toArray(new String[0]));
        com.google.gson.JsonArray branches = new com.google.gson.JsonArray();
        int flow = 0;
        for (List<String> p : paths) {
            com.google.gson.JsonObject b = new com.google.gson.JsonObject();
            com.google.gson.JsonArray f = new com.google.gson.JsonArray();
            f.add(flow++);
            b.add("flows", f);
            com.google.gson.JsonArray hops = new com.google.gson.JsonArray();
            p.forEach(a -> hops.add(a == null ? com.google.gson.JsonNull.INSTANCE : new com.google.gson.JsonPrimitive(a)));
            b.add("hops", hops);
            branches.add(b);
        }
        r.details().add("paths", branches);
        return r;
    }

    @Test
    public void withSeveralFlowsARouteChangeIsAChangeInTheSetOfPaths() {
        List<String> a = List.of("198.18.0.2", "198.18.1.2", "198.18.9.1");
        List<String> b = List.of("198.18.0.2", "198.18.10.2", "198.18.9.1");
        List<String> c = List.of("198.18.0.2", "198.18.11.2", "198.18.9.1");
        List<String> silent = java.util.Arrays.asList("198.18.0.2", null, "198.18.9.1");
        // the same set in another order, a silent hop: no change; b gone, then c new: two changes
        assertEquals(2, Observe.routeChanges(List.of(flows(List.of(a, b)), flows(List.of(b, a)), flows(List.of(a, silent)),
                flows(List.of(a, b)), flows(List.of(a)), flows(List.of(a, c))), "hops", "paths"));
        // the kind's results without the value (one flow): the hops, as before
        assertEquals(1, Observe.routeChanges(List.of(trace("10.0.0.1", "10.0.1.1"), trace("10.0.0.1", "10.0.2.1")), "hops", "paths"));
    }

    /** A kind no module of the server knows, with a path under a name of its own and a certificate. */
    static final io.sonde.api.ResultSchema MTRX = new io.sonde.api.ResultSchema("1", List.of(
            io.sonde.api.ResultSchema.Value.of("route", io.sonde.api.ResultSchema.Type.HOPS, "", io.sonde.api.ResultSchema.Role.PATH, "p"),
            io.sonde.api.ResultSchema.Value.of("valid_until", io.sonde.api.ResultSchema.Type.TIMESTAMP, "",
                    io.sonde.api.ResultSchema.Role.CERT_EXPIRY, "e")), List.of(), List.of());

    static Observe.Lookup announcing(List<StoredResult> hour) {
        return new Observe.Lookup() {
            @Override
            public Optional<StoredResult> latest(String agentId, String target) {
                return Optional.of(hour.get(hour.size() - 1));
            }

            @Override
            public List<StoredResult> lastHour(String agentId, String target) {
                return hour;
            }

            @Override
            public Optional<String> configVersion(String agentId) {
                return Optional.empty();
            }

            @Override
            public io.sonde.api.ResultSchema schema(String kind) {
                return kind.equals("mtrx") ? MTRX : null;
            }
        };
    }

    static StoredResult mtrx(String expiry, String... hops) {
        com.google.gson.JsonObject d = trace(hops).details();
        d.add("route", d.remove("hops"));
        d.addProperty("valid_until", expiry);
        return new StoredResult("a1", "e", new WireResult(1, "path", "mtrx", NOW, true, null, null, 0.01, d));
    }

    @Test
    public void routeChangesAndCertificateExpiryOfAnyKindByTheRolesItsAgentsAnnounce() throws Exception {
        String soon = NOW.plus(java.time.Duration.ofDays(3)).toString();
        List<StoredResult> hour = List.of(mtrx(soon, "198.18.0.1", "198.18.1.1"), mtrx(soon, "198.18.0.1", "198.18.2.1"),
                mtrx(soon, "198.18.0.1", "198.18.1.1"));
        Map<String, AgentRecord> agents = Map.of("a1", agent("a1", true));
        AlertRule route = AlertRule.parse("route", JsonParser.parseString("{\"type\":\"route_change\",\"target\":\"path\",\"threshold\":1}")
                .getAsJsonObject());
        SeriesWindow w = new SeriesWindow("a1", "path", "mtrx", 3, 0, 0, 0.002, 0.004, 0.005);
        Observation o = Observe.targets(route, List.of(w), agents, Map.of(), Set.of(), NOW, OFFLINE, announcing(hour)).get(0);
        assertTrue(o.summary(), o.bad());
        assertEquals(2.0, o.value(), 0);
        AlertRule expiry = AlertRule.parse("cert", JsonParser.parseString("{\"type\":\"tls_expiry\",\"target\":\"path\",\"threshold\":14}")
                .getAsJsonObject());
        Observation e = Observe.targets(expiry, List.of(w), agents, Map.of(), Set.of(), NOW, OFFLINE, announcing(hour)).get(0);
        assertTrue(e.summary(), e.bad());
        assertEquals(3.0, e.value(), 0.01);
        // the same results from a kind nobody announced: neither rule has anything to say of them
        SeriesWindow other = new SeriesWindow("a1", "path", "other", 3, 0, 0, 0.002, 0.004, 0.005);
        assertTrue(Observe.targets(route, List.of(other), agents, Map.of(), Set.of(), NOW, OFFLINE, announcing(hour)).get(0).nodata());
    }

    /** @return {@code inner} with an AS table */
    static Observe.Lookup withTable(Observe.Lookup inner, io.sonde.asn.AsnLookup asns) {
        return new Observe.Lookup() {
            @Override
            public Optional<StoredResult> latest(String agentId, String target) {
                return inner.latest(agentId, target);
            }

            @Override
            public List<StoredResult> lastHour(String agentId, String target) {
                return inner.lastHour(agentId, target);
            }

            @Override
            public Optional<String> configVersion(String agentId) {
                return inner.configVersion(agentId);
            }

            @Override
            public io.sonde.api.ResultSchema schema(String kind) {
                return inner.schema(kind);
            }

            @Override
            public io.sonde.asn.AsnLookup asns() {
                return asns;
            }
        };
    }

    /** @return the result as started {@code secondsAgo} before NOW */
    static StoredResult at(StoredResult r, long secondsAgo) {
        WireResult w = r.result();
        return new StoredResult(r.agentId(), r.epoch(), new WireResult(w.seq(), w.target(), w.kind(), NOW.minusSeconds(secondsAgo),
                w.success(), w.failureReason(), w.error(), w.responseTimeSeconds(), r.details()));
    }

    @Test
    public void aNewAsOnThePathIsNamedWithItsHop() throws Exception {
        io.sonde.asn.AsnTable table = io.sonde.asn.AsnTable.read(new java.io.ByteArrayInputStream(("198.18.0.0\t198.18.0.255\t64500\tZZ\tLAB-A\n"
                + "198.18.1.0\t198.18.1.255\t64501\tZZ\tLAB-B\n198.18.2.0\t198.18.2.255\t64530\tZZ\tLAB-NEW\n")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8)), "t.tsv");
        io.sonde.asn.AsnLookup asns = io.sonde.asn.AsnLookup.of(table);
        String later = NOW.plus(java.time.Duration.ofDays(300)).toString();
        Map<String, AgentRecord> agents = Map.of("a1", agent("a1", true));
        AlertRule rule = AlertRule.parse("as", JsonParser.parseString("{\"type\":\"new_as\",\"target\":\"path\"}").getAsJsonObject());
        assertEquals(0.0, rule.threshold(), 0);
        SeriesWindow w = new SeriesWindow("a1", "path", "mtrx", 3, 0, 0, 0.002, 0.004, 0.005);
        // at the start of the hour through AS64501, now (within the rule's window, 60 s) through AS64530
        List<StoredResult> hour = List.of(at(mtrx(later, "198.18.0.1", "198.18.1.1", "198.18.9.1"), 3000),
                at(mtrx(later, "198.18.0.1", null, "198.18.9.1"), 1800), at(mtrx(later, "198.18.0.1", "198.18.2.1", "198.18.9.1"), 30),
                at(mtrx(later, "198.18.0.1", "198.18.2.1", "198.18.9.1"), 0));
        Observe.Lookup withTable = withTable(announcing(hour), asns);
        Observation o = Observe.targets(rule, List.of(w), agents, Map.of(), Set.of(), NOW, OFFLINE, withTable).get(0);
        assertTrue(o.summary(), o.bad());
        assertEquals(1.0, o.value(), 0);
        assertEquals("the path to path crosses 1 AS it did not cross an hour ago (1 of 1 vantage agents)", o.summary());
        assertEquals("a1 crosses AS64530 LAB-NEW at hop 2", o.detail());
        // the same path all the hour: nothing new
        List<StoredResult> same = List.of(at(mtrx(later, "198.18.0.1", "198.18.2.1"), 3000), at(mtrx(later, "198.18.0.1", "198.18.2.1"), 10));
        Observation calm = Observe.targets(rule, List.of(w), agents, Map.of(), Set.of(), NOW, OFFLINE, withTable(announcing(same), asns)).get(0);
        assertTrue(calm.summary(), !calm.bad());
        assertEquals("a1 no new AS", calm.detail());
        // without a table the rule has nothing to say
        assertTrue(Observe.targets(rule, List.of(w), agents, Map.of(), Set.of(), NOW, OFFLINE, announcing(hour)).get(0).nodata());
    }

    @Test
    public void aValueRuleWatchesAnyNamedValueOfAnyKindAboveOrBelowItsThreshold() throws Exception {
        com.google.gson.JsonObject d = new com.google.gson.JsonObject();
        d.addProperty("offset_seconds", 0.35);
        com.google.gson.JsonObject phases = new com.google.gson.JsonObject();
        phases.addProperty("handshake", 0.004);
        d.add("phases", phases);
        d.addProperty("verified", false);
        List<StoredResult> hour = List.of(new StoredResult("a1", "e", new WireResult(1, "clock", "ntpx", NOW, true, null, null, 0.01, d)));
        Map<String, AgentRecord> agents = Map.of("a1", agent("a1", true));
        SeriesWindow w = new SeriesWindow("a1", "clock", "ntpx", 3, 0, 0, 0.002, 0.004, 0.005);
        AlertRule offset = AlertRule.parse("offset", JsonParser.parseString(
                "{\"type\":\"value\",\"target\":\"clock\",\"value\":\"offset_seconds\",\"threshold\":0.1}").getAsJsonObject());
        Observation o = Observe.targets(offset, List.of(w), agents, Map.of(), Set.of(), NOW, OFFLINE, announcing(hour)).get(0);
        assertTrue(o.summary(), o.bad());
        assertEquals(0.35, o.value(), 1e-9);
        assertEquals("clock: offset_seconds 0.350000 (1 of 1 vantage agents over 0.1)", o.summary());
        AlertRule handshake = AlertRule.parse("hs", JsonParser.parseString(
                "{\"type\":\"value\",\"target\":\"clock\",\"value\":\"phases.handshake\",\"threshold\":0.01}").getAsJsonObject());
        assertTrue(!Observe.targets(handshake, List.of(w), agents, Map.of(), Set.of(), NOW, OFFLINE, announcing(hour)).get(0).bad());
        AlertRule verified = AlertRule.parse("v", JsonParser.parseString(
                "{\"type\":\"value\",\"target\":\"clock\",\"value\":\"verified\",\"threshold\":1,\"below\":true}").getAsJsonObject());
        assertTrue(Observe.targets(verified, List.of(w), agents, Map.of(), Set.of(), NOW, OFFLINE, announcing(hour)).get(0).bad());
        AlertRule absent = AlertRule.parse("x", JsonParser.parseString(
                "{\"type\":\"value\",\"target\":\"clock\",\"value\":\"no_such\",\"threshold\":1}").getAsJsonObject());
        assertTrue("a value the results do not have: nothing to say", Observe.targets(absent, List.of(w), agents, Map.of(), Set.of(), NOW,
                OFFLINE, announcing(hour)).get(0).nodata());
    }
}
