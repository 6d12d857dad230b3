package io.sonde.core.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.Test;

import io.sonde.api.Target;

public class CatalogTest {

    private final Catalog catalog = new Catalog();

    private static Map<String, Object> tcp(String name, int port) {
        Map<String, Object> raw = new HashMap<>();
        raw.put("name", name);
        raw.put("kind", "tcp");
        raw.put("host", "127.0.0.1");
        raw.put("port", String.valueOf(port));
        return raw;
    }

    private final TestKinds kinds = TestKinds.standard();

    private Catalog.Result recompute() {
        return catalog.recompute(kinds, HostNames.Check.NONE);
    }

    private static List<String> names(Catalog.Result r) {
        return r.targets().stream().map(Target::name).toList();
    }

    @Test
    public void bothIpVersionsAreTwoTargetsEachWithItsLabel() {
        Map<String, Object> raw = tcp("web", 80);
        raw.put("host", "localhost");
        raw.put("ip_version", "both");
        raw.put("tags", "edge, site=fra");
        catalog.putConfiguration("p1", raw, "web.cfg", null);
        Catalog.Result r = recompute();
        assertEquals(List.of("web/ipv4", "web/ipv6"), names(r));
        assertEquals(4, r.targets().get(0).ipVersion());
        assertEquals(6, r.targets().get(1).ipVersion());
        assertEquals(java.util.Set.of("edge", "site=fra", "ip_version=4"), r.targets().get(0).tags());
        assertEquals(java.util.Set.of("edge", "site=fra", "ip_version=6"), r.targets().get(1).tags());
        assertEquals(80, r.targets().get(1).port());
        // a half's name is its own: another entry claiming it later is refused, as any name taken
        catalog.putConfiguration("p0", tcp("web/ipv6", 81), "other.cfg", null);
        r = recompute();
        assertEquals(List.of("web/ipv4", "web/ipv6"), names(r).stream().sorted().toList());
        assertEquals(80, r.targets().stream().filter(t -> t.name().equals("web/ipv6")).findFirst().get().port());
        assertEquals(1, r.newProblems().size());
        assertTrue(r.newProblems().get(0), r.newProblems().get(0).startsWith("other.cfg") && r.newProblems().get(0).contains("web/ipv6"));
        // back to one family: one target of the name written
        raw.put("ip_version", "6");
        catalog.removeConfiguration("p0");
        catalog.putConfiguration("p1", raw, "web.cfg", null);
        assertEquals(List.of("web"), names(recompute()));
    }

    @Test
    public void addChangeRemove() {
        catalog.putConfiguration("p1", tcp("a", 1), "a.cfg", null);
        Catalog.Result r = recompute();
        assertEquals(List.of("a"), names(r));
        assertEquals(1, r.targets().get(0).port());

        catalog.putConfiguration("p1", tcp("a", 2), "a.cfg", null);
        assertEquals(2, recompute().targets().get(0).port());

        catalog.removeConfiguration("p1");
        assertEquals(List.of(), names(recompute()));
    }

    @Test
    public void lastGoodVersionStaysInForceAndTheErrorIsReportedOnce() {
        catalog.putConfiguration("p1", tcp("a", 1), "a.cfg", null);
        recompute();
        catalog.putConfiguration("p1", tcp("a", 70000), "a.cfg", null);
        Catalog.Result r = recompute();
        assertEquals(1, r.targets().get(0).port());
        assertEquals(1, r.newProblems().size());
        assertTrue(r.newProblems().get(0), r.newProblems().get(0).startsWith("a.cfg: key 'port': 70000"));
        assertEquals(1, r.invalidEntries());

        // an unrelated change does not report it again
        catalog.putConfiguration("p2", tcp("b", 2), "b.cfg", null);
        r = recompute();
        assertEquals(List.of(), r.newProblems());
        assertEquals(List.of("a", "b"), names(r));

        // fixed: the new version replaces the old, the invalid count drops
        catalog.putConfiguration("p1", tcp("a", 3), "a.cfg", null);
        r = recompute();
        assertEquals(3, r.targets().get(0).port());
        assertEquals(0, r.invalidEntries());
    }

    @Test
    public void duplicateNameIsRefusedAndTheFirstOwnerKeepsIt() {
        catalog.putConfiguration("p2", tcp("a", 1), "first.cfg", null);
        recompute();
        catalog.putConfiguration("p1", tcp("a", 2), "second.cfg", null);
        Catalog.Result r = recompute();
        assertEquals(1, r.targets().size());
        assertEquals(1, r.targets().get(0).port());
        assertEquals(List.of("second.cfg: key 'name': 'a' is already used by first.cfg"), r.newProblems());

        // the owner goes: the other claimant takes the name
        catalog.removeConfiguration("p2");
        r = recompute();
        assertEquals(2, r.targets().get(0).port());
    }

    @Test
    public void aProgramsTargetsAreCheckedNamedAndGoWithIt() {
        catalog.putConfiguration("p1", tcp("a", 1), "a.cfg", null);
        java.util.List<Map<String, ?>> handed = new java.util.ArrayList<>(List.of(tcp("p", 2), tcp("a", 3), tcp("p", 4), tcp("q", 70000)));
        catalog.setProgram("7", "monitor", handed);
        Catalog.Result r = recompute();
        assertEquals(List.of("a", "p"), names(r));
        assertEquals(1, r.targets().get(0).port());
        assertEquals(2, r.targets().get(1).port());
        assertEquals(java.util.Set.of("monitor target \"a\": key 'name': 'a' is already used by a.cfg",
                "monitor target \"p\": key 'name': 'p' is already used by monitor target \"p\"",
                "monitor target \"q\": key 'port': 70000 is not a port number (1-65535)"), java.util.Set.copyOf(r.newProblems()));
        assertEquals(Map.of("7", 4), catalog.programEntries());

        handed.clear(); // the catalog holds what it was handed, not the program's list
        assertEquals(List.of("a", "p"), names(recompute()));

        catalog.setProgram("7", "monitor", List.of(tcp("p", 5)));
        assertEquals(5, recompute().targets().get(1).port());
        catalog.removeProgram("7");
        assertEquals(List.of("a"), names(recompute()));
        assertEquals(Map.of(), catalog.programEntries());
    }

    @Test
    public void fileEntriesAndDuplicatesWithinTheFile() {
        catalog.setFile("t.json", new TargetsFile(null, null, List.of(tcp("x", 1), tcp("y", 2), tcp("x", 3))));
        Catalog.Result r = recompute();
        assertEquals(List.of("x", "y"), names(r));
        assertEquals(1, r.newProblems().size());
        assertTrue(r.newProblems().get(0), r.newProblems().get(0).contains("targets[2] \"x\": key 'name'"));
    }

    @Test
    public void unusableFileKeepsThePreviousEntries() {
        catalog.setFile("t.json", new TargetsFile(null, null, List.of(tcp("x", 1))));
        recompute();
        catalog.fileUnusable(new ConfigProblem("t.json", null, "is not valid JSON: oops"));
        Catalog.Result r = recompute();
        assertEquals(List.of("x"), names(r));
        assertEquals(List.of("t.json: is not valid JSON: oops"), r.newProblems());
    }

    @Test
    public void fileWideDefaultsApply() {
        catalog.setFile("t.json", new TargetsFile(10_000L, 1_000L, List.of(tcp("x", 1))));
        Target t = recompute().targets().get(0);
        assertEquals(10_000, t.interval().toMillis());
        assertEquals(1_000, t.timeout().toMillis());
    }

    @Test
    public void badAgentDefaultsAreReportedAndThePreviousStay() {
        catalog.setAgentDefaults("0", "3000", "agent.cfg");
        catalog.putConfiguration("p1", tcp("a", 1), "a.cfg", null);
        Catalog.Result r = recompute();
        assertEquals(5000, r.targets().get(0).interval().toMillis());
        assertEquals(1, r.newProblems().size());
        assertTrue(r.newProblems().get(0), r.newProblems().get(0).startsWith("agent.cfg: key 'probe_interval_ms'"));
    }

    @Test
    public void entryThatIsNotAnObject() {
        java.util.ArrayList<Map<String, Object>> entries = new java.util.ArrayList<>();
        entries.add(null);
        catalog.setFile("t.json", new TargetsFile(null, null, entries));
        assertEquals(List.of("t.json targets[0]: is not a JSON object"), recompute().newProblems());
    }

    @Test
    public void aTargetWaitsForItsProberAndIsCheckedWhenItComes() {
        Map<String, Object> raw = tcp("g", 70);
        raw.put("kind", "gopher");
        raw.put("selector", "/");
        catalog.putConfiguration("p1", raw, "g.cfg", null);
        Catalog.Result r = recompute();
        assertEquals(List.of(), names(r));
        assertEquals(1, r.noProber());
        assertEquals(0, r.invalidEntries());
        assertEquals(List.of(), r.newProblems());
        // said once, with its file, name and kind, as it begins to wait; not again while it waits
        assertEquals(List.of(new Catalog.Held("g.cfg", "g", "gopher")), r.newlyHeld());
        assertEquals(List.of(), recompute().newlyHeld());

        // the plugin comes, and does not know the key: now it is an error, named with the file
        kinds.put("gopher", io.sonde.api.TargetSchema.of(io.sonde.api.HostForm.NAME, true), null);
        r = recompute();
        assertEquals(List.of(), names(r));
        assertEquals(0, r.noProber());
        assertEquals(1, r.invalidEntries());
        assertEquals(List.of("g.cfg: key 'selector' is not known for kind gopher; its own keys are none, only the generic ones"),
                r.newProblems());

        // a newer plugin knows it
        kinds.put("gopher", io.sonde.api.TargetSchema.of(io.sonde.api.HostForm.NAME, true,
                io.sonde.api.TargetOption.text("selector", "/", "what to ask for")), null);
        assertEquals(List.of("g"), names(recompute()));
    }

    @Test
    public void aReplacedProberChecksItsTargetsAgainAndTheOldVerdictDoesNotOutliveIt() {
        Map<String, Object> raw = tcp("a", 1);
        raw.put("close", "reset");
        catalog.putConfiguration("p1", raw, "a.cfg", null);
        assertEquals(List.of("a"), names(recompute()));

        // the prober goes: the target stays in force, waiting as no_prober
        kinds.remove("tcp");
        Catalog.Result r = recompute();
        assertEquals(List.of("a"), names(r));
        assertEquals(1, r.noProber());

        // another takes its place without the key: the target is checked again and withdrawn
        kinds.put("tcp", io.sonde.api.TargetSchema.of(io.sonde.api.HostForm.NAME, true), null);
        r = recompute();
        assertEquals(List.of(), names(r));
        assertEquals(1, r.invalidEntries());
        assertTrue(r.newProblems().toString(), r.newProblems().get(0).contains("key 'close' is not known for kind tcp"));
    }

    @Test
    public void oneChangedEntryOfAManyIsTheOnlyOneCheckedAgain() {
        List<Map<String, Object>> entries = new java.util.ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            entries.add(tcp("t" + i, 1 + i % 60000));
        }
        catalog.setFile("t.json", new TargetsFile(null, null, entries));
        Catalog.Result r = recompute();
        assertEquals(10_000, r.targets().size());
        assertEquals(10_000, r.checked());

        // the file read again, one entry edited, one inserted at the top (every index moves)
        List<Map<String, Object>> edited = new java.util.ArrayList<>();
        edited.add(tcp("new", 9));
        for (Map<String, Object> e : entries) {
            edited.add(new HashMap<>(e));
        }
        edited.get(5001).put("port", "7");
        catalog.setFile("t.json", new TargetsFile(null, null, edited));
        r = recompute();
        assertEquals(10_001, r.targets().size());
        assertEquals(2, r.checked());
        assertEquals(7, r.targets().stream().filter(t -> t.name().equals("t5000")).findFirst().orElseThrow().port());
        assertEquals(0, recompute().checked());
    }

    @Test
    public void aHostBeingLookedUpKeepsTheLastGoodVersion() {
        catalog.putConfiguration("p1", tcp("a", 1), "a.cfg", null);
        recompute();
        Map<String, Object> moved = tcp("a", 1);
        moved.put("host", "new-name.test");
        catalog.putConfiguration("p1", moved, "a.cfg", null);
        Catalog.Result r = catalog.recompute(kinds, (host, v) -> HostNames.Answer.PENDING);
        assertEquals("127.0.0.1", r.targets().get(0).host());
        assertEquals(1, r.resolving());
        r = catalog.recompute(kinds, (host, v) -> HostNames.Answer.OK);
        assertEquals("new-name.test", r.targets().get(0).host());
        assertEquals(0, r.resolving());
    }

    @Test
    public void backoffSettingsOfTheAgentApplyWhereATargetSetsNoneAndBadOnesAreNamed() {
        catalog.setAgentDefaults(5000L, 3000L, Map.of("backoff", "on", "backoff_after", "5", "backoff_max_ms", "300000"), "agent.cfg");
        Map<String, Object> own = tcp("own", 1);
        own.put("backoff_after", "2");
        catalog.putConfiguration("p1", own, "own.cfg", null);
        catalog.putConfiguration("p2", tcp("inherits", 2), "inherits.cfg", null);
        Catalog.Result r = recompute();
        Map<String, Target> byName = new HashMap<>();
        r.targets().forEach(t -> byName.put(t.name(), t));
        assertEquals("2", byName.get("own").option("backoff_after", null));
        assertEquals("5", byName.get("inherits").option("backoff_after", null));
        assertEquals("the built-in default is not copied into every target", null, byName.get("inherits").option("backoff_max_ms", null));

        catalog.setAgentDefaults(5000L, 3000L, Map.of("backoff", "sometimes"), "agent.cfg");
        r = recompute();
        assertEquals(List.of("agent.cfg: key 'backoff': 'sometimes' is not one of on, off"), r.newProblems());
        Map<String, Object> bad = tcp("bad", 3);
        bad.put("backoff_max_ms", "1");
        catalog.putConfiguration("p3", bad, "bad.cfg", null);
        assertEquals(List.of("bad.cfg: key 'backoff_max_ms': 1 is out of range (10-86400000)"), recompute().newProblems());
    }

    // --- the server's document, a third source ---

    private static TargetsFile document(String json) throws TargetsFile.Unusable {
        return TargetsFile.of(json, "server document", new TargetsFile.Memo());
    }

    @Test
    public void aNameDefinedLocallyAndByTheServerIsTheLocalOneAndTheConflictIsReported() throws Exception {
        catalog.putConfiguration("p1", tcp("shared", 1), "shared.cfg", null);
        catalog.setServer("server document", document("{\"schema\":1,\"version\":\"v1\",\"targets\":["
                + "{\"name\":\"shared\",\"kind\":\"tcp\",\"host\":\"127.0.0.1\",\"port\":2},"
                + "{\"name\":\"only-server\",\"kind\":\"tcp\",\"host\":\"127.0.0.1\",\"port\":3}]}"));
        Catalog.Result r = recompute();
        assertEquals(List.of("shared", "only-server"), names(r));
        assertEquals(1, r.targets().get(0).port());
        assertEquals(1, r.serverRejected().size());
        assertEquals("shared", r.serverRejected().get(0).name());
        assertTrue(r.serverRejected().get(0).reason(), r.serverRejected().get(0).reason()
                .contains("'shared' is already used by shared.cfg; the local definition is in force"));

        // the server had it first: a local definition made later still wins
        catalog.removeConfiguration("p1");
        r = recompute();
        assertEquals(2, r.targets().stream().filter(t -> t.name().equals("shared")).findFirst().orElseThrow().port());
        assertEquals(List.of(), r.serverRejected());
        catalog.putConfiguration("p1", tcp("shared", 5), "shared.cfg", null);
        r = recompute();
        assertEquals(5, r.targets().stream().filter(t -> t.name().equals("shared")).findFirst().orElseThrow().port());
        assertEquals(1, r.serverRejected().size());
    }

    @Test
    public void theServersEntriesAreReportedByNameWithTheirReasonsAndUnknownKindsAsNoProber() throws Exception {
        catalog.setServer("server document", document("{\"schema\":1,\"version\":\"v1\",\"targets\":["
                + "{\"name\":\"bad-port\",\"kind\":\"tcp\",\"host\":\"127.0.0.1\",\"port\":70000},"
                + "{\"name\":\"future\",\"kind\":\"quic\",\"host\":\"127.0.0.1\"},"
                + "{\"kind\":\"tcp\",\"host\":\"127.0.0.1\",\"port\":1},"
                + "{\"name\":\"good\",\"kind\":\"tcp\",\"host\":\"127.0.0.1\",\"port\":4,\"closee\":\"fin\"},"
                + "{\"name\":\"fine\",\"kind\":\"tcp\",\"host\":\"127.0.0.1\",\"port\":4}]}"));
        Catalog.Result r = recompute();
        assertEquals(List.of("fine"), names(r));
        Map<String, String> why = new HashMap<>();
        r.serverRejected().forEach(x -> why.put(x.name(), x.reason()));
        assertEquals(why.toString(), 4, why.size());
        assertTrue(why.get("bad-port"), why.get("bad-port").startsWith("server document targets[0] \"bad-port\": key 'port': 70000"));
        assertEquals("no_prober: no installed plugin registers probe.type=quic", why.get("future"));
        assertTrue(why.get("targets[2]"), why.get("targets[2]").contains("key 'name': missing"));
        assertTrue(why.get("good"), why.get("good").contains("closee") && why.get("good").contains("close"));
    }

    @Test
    public void aTargetThatDidNotChangeInANewDocumentStaysTheSameTarget() throws Exception {
        TargetsFile.Memo memo = new TargetsFile.Memo();
        String a = "{\"name\":\"a\",\"kind\":\"tcp\",\"host\":\"127.0.0.1\",\"port\":1}";
        catalog.setServer("server document", TargetsFile.of("{\"version\":\"v1\",\"targets\":[" + a + "]}", "v1", memo));
        Target before = recompute().targets().get(0);
        catalog.setServer("server document", TargetsFile.of("{\"version\":\"v2\",\"targets\":[" + a
                + ",{\"name\":\"b\",\"kind\":\"tcp\",\"host\":\"127.0.0.1\",\"port\":2}]}", "v2", memo));
        Catalog.Result r = recompute();
        assertEquals(List.of("a", "b"), names(r));
        assertEquals(before, r.targets().get(0));
        assertEquals(1, r.checked()); // only the new entry
        catalog.clearServer();
        assertEquals(List.of(), names(recompute()));
    }

    @Test
    public void labelsAreCarriedAsNameValueTags() throws Exception {
        catalog.setServer("server document", document("{\"version\":\"v1\",\"targets\":["
                + "{\"name\":\"mesh/m/tcp/b\",\"kind\":\"tcp\",\"host\":\"127.0.0.2\",\"port\":9,"
                + "\"labels\":{\"mesh\":\"m\",\"peer\":\"b\"}},"
                + "{\"name\":\"bad\",\"kind\":\"tcp\",\"host\":\"127.0.0.2\",\"port\":9,\"labels\":{\"1x\":\"m\"}}]}"));
        Catalog.Result r = recompute();
        assertEquals(List.of("mesh/m/tcp/b"), names(r));
        assertEquals(java.util.Set.of("mesh=m", "peer=b"), r.targets().get(0).tags());
        assertTrue(r.serverRejected().get(0).reason(), r.serverRejected().get(0).reason().contains("'1x' is not a label name"));
        // in a .cfg file: name=value text
        Map<String, Object> raw = tcp("c", 1);
        raw.put("labels", "site=ams, rack=4");
        catalog.putConfiguration("p", raw, "c.cfg", null);
        assertTrue(recompute().targets().stream().anyMatch(t -> t.tags().equals(java.util.Set.of("site=ams", "rack=4"))));
    }
}
