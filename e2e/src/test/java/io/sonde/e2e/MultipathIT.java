package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.FixMethodOrder;
import org.junit.Test;
import org.junit.runners.MethodSorters;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

/**
 * Multipath traceroute end to end, through two equal-cost paths of the lab (lab/router-chain.sh:
 * r1 hashes flows over r2 and r2b): a real agent traces 198.18.9.1 on 16 flows for a server
 * definition; the stored results hold both paths and every flow on one of them; the agent's
 * /metrics says 2 paths; the dashboard (Chromium) shows the branches side by side; when r1 loses
 * one of the two routes, the set of paths changes and a route_change rule fires. The server has an
 * IP-to-AS table (iptoasn's format, each link of the lab an AS): the API and the dashboard give
 * each hop its AS, and a one-flow trace whose path moves to r2b fires a new_as rule naming the AS
 * and the hop.
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class MultipathIT {

    private static final String PREFIX = "mp" + (ProcessHandle.current().pid() % 100_000);
    private static boolean labUp;
    private static ServerProcess server;
    private static AgentProcess agent;

    @BeforeClass
    public static void start() throws Exception {
        boolean root = "root".equals(System.getProperty("user.name"));
        assumeTrue("the lab's namespaces need root", root || System.getenv("CI") != null);
        lab("up");
        labUp = true;
        server = ServerProcess.prepared("alert_eval_s = 2\n");
        // the operator's IP-to-AS table (iptoasn's format), the lab's links each an AS of its own
        Files.writeString(server.home.resolve("etc/ip2asn-lab.tsv"), "198.18.0.0\t198.18.0.255\t64500\tZZ\tLAB-EDGE\n"
                + "198.18.1.0\t198.18.1.255\t64501\tZZ\tLAB-R2\n198.18.2.0\t198.18.2.255\t64502\tZZ\tLAB-R3\n"
                + "198.18.3.0\t198.18.9.255\t64509\tZZ\tLAB-DST\n198.18.10.0\t198.18.11.255\t64510\tZZ\tLAB-R2B\n");
        Files.writeString(server.home.resolve("etc/io.sonde.asn.cfg"), "file = " + server.home.resolve("etc/ip2asn-lab.tsv") + "\nreload_s = 1\n");
        server.launch();
        DashboardIT.ok(server.admin("PUT", "/api/v1/targets/paths", "{\"kind\": \"traceroute\", \"host\": \"198.18.9.1\", \"interval_ms\": 2000,"
                + " \"timeout_ms\": 1900, \"agents\": \"*\", \"flows\": 16, \"max_hops\": 8, \"hop_timeout_ms\": 500}"));
        DashboardIT.ok(server.admin("PUT", "/api/v1/targets/chain", "{\"kind\": \"traceroute\", \"host\": \"198.18.3.2\", \"interval_ms\": 2000,"
                + " \"timeout_ms\": 1900, \"agents\": \"*\", \"flows\": 1, \"max_hops\": 8, \"hop_timeout_ms\": 500}"));
        for (String[] m : new String[][] {{"mtu4", "198.18.12.2"}, {"mtu6", "fd00:18:12::2"}}) {
            DashboardIT.ok(server.admin("PUT", "/api/v1/targets/" + m[0], "{\"kind\": \"mtu\", \"host\": \"" + m[1]
                    + "\", \"interval_ms\": 2000, \"timeout_ms\": 1900, \"agents\": \"*\"}"));
        }
        DashboardIT.ok(server.admin("PUT", "/api/v1/alert-rules/new-as", "{\"type\": \"new_as\", \"target\": \"chain\", \"for\": \"0s\","
                + " \"window\": \"10s\"}"));
        DashboardIT.ok(server.admin("PUT", "/api/v1/alert-rules/rerouted", "{\"type\": \"route_change\", \"target\": \"paths\", \"threshold\": 0,"
                + " \"for\": \"0s\"}"));
        String token = server.enrollmentToken("{\"tags\": [\"lab\"]}");
        // the agent's own table knows the destinations' network by another AS: what an agent sends is kept
        agent = AgentProcess.start(Map.of("etc/io.sonde.agent.cfg", "agent_id = multipath\n",
                "etc/ip2asn-agent.tsv", "198.18.9.0\t198.18.9.255\t65009\tZZ\tAGENT-DST\n",
                "etc/io.sonde.asn.cfg", "file = etc/ip2asn-agent.tsv\n",
                "etc/io.sonde.uplink.cfg", server.uplinkConfig(token, "config_poll_s = 1\n")));
    }

    @AfterClass
    public static void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        if (server != null) {
            server.close();
        }
        if (labUp) {
            lab("down");
        }
    }

    private static String lab(String action) throws Exception {
        return RouterChain.run(PREFIX, action);
    }

    /** @return the paths of the latest stored result that has them, each as its hops joined by spaces, by its flows */
    private static Map<Set<Integer>, String> storedPaths() throws Exception {
        JsonArray items = server.json(server.admin("GET", "/api/v1/results?agent=multipath&target=paths&limit=10000", null)).getAsJsonArray("items");
        Map<Set<Integer>, String> out = new java.util.HashMap<>();
        if (items.isEmpty()) {
            return out;
        }
        JsonElement paths = items.get(items.size() - 1).getAsJsonObject().getAsJsonObject("details").get("paths"); // oldest first
        if (paths == null) {
            return out;
        }
        for (JsonElement p : paths.getAsJsonArray()) {
            Set<Integer> flows = new TreeSet<>();
            p.getAsJsonObject().getAsJsonArray("flows").forEach(f -> flows.add(f.getAsInt()));
            StringBuilder hops = new StringBuilder();
            p.getAsJsonObject().getAsJsonArray("hops").forEach(h -> hops.append(hops.length() > 0 ? " " : "").append(h.isJsonNull() ? "*" : h.getAsString()));
            out.put(flows, hops.toString());
        }
        return out;
    }

    @Test
    public void a_theStoredResultsHoldBothPathsAndEveryFlowOnOne() throws Exception {
        Map<Set<Integer>, String> paths = Map.of();
        for (int i = 0; i < 600 && paths.size() != 2; i++) {
            Thread.sleep(100);
            paths = storedPaths();
        }
        assertEquals(paths.toString(), Set.of("198.18.0.2 198.18.1.2 198.18.2.2 198.18.9.1", "198.18.0.2 198.18.10.2 198.18.2.2 198.18.9.1"),
                new TreeSet<>(paths.values()));
        Set<Integer> flows = new TreeSet<>();
        paths.keySet().forEach(flows::addAll);
        assertEquals(16, flows.size());
        assertEquals(paths.keySet().stream().mapToInt(Set::size).sum(), 16); // each flow on one path
        String m = agent.awaitMetrics(p -> p.contains("probe_traceroute_paths{target=\"paths\",kind=\"traceroute\"} 2"));
        assertTrue(m, m.contains("probe_success{target=\"paths\",kind=\"traceroute\"} 1"));
        AgentProcess.promtool(m);
    }

    @Test
    public void b_theDashboardShowsTheBranches() throws Exception {
        Path shots = DashboardIT.SHOTS;
        Files.createDirectories(shots);
        DashboardIT.ok(server.admin("PUT", "/api/v1/users/mia", "{\"password\": \"a viewer's password\", \"role\": \"viewer\"}"));
        try (Browser browser = Browser.start()) {
            browser.logIn(server.url(), "mia", "a viewer's password");
            browser.eval("location.hash = '#/target/paths'; true");
            browser.await("the branches", 60, "window.__sonde.view === 'target' && document.querySelector('table.branches')");
            // a column per path, headed by the flows that took it: the paths stored
            Set<String> columns = new TreeSet<>(List.of(browser.text("[...document.querySelectorAll('table.branches th .flows')]"
                    + ".map(t => t.textContent).join(';')").split(";")));
            Set<String> stored = new TreeSet<>();
            for (Set<Integer> flows : storedPaths().keySet()) {
                stored.add("flows " + String.join(", ", flows.stream().map(String::valueOf).toList()));
            }
            assertEquals(stored, columns);
            List<String> parted = List.of(browser.text("[...document.querySelectorAll('table.branches tr.parted td.branch')]"
                    + ".map(t => t.textContent).sort().join(',')").split(","));
            assertEquals("the hop where the paths part, and only that, with its AS", List.of("198.18.1.2AS64501", "198.18.10.2AS64510"), parted);
            assertEquals("the agent's AS of the destination on every path", "AS65009,AS65009", browser.text(
                    "[...document.querySelectorAll('table.branches tbody tr:last-child td .asn')].map(t => t.textContent).join(',')"));
            List<String> asColumn = List.of(browser.text("[...document.querySelectorAll('table.path td.asn')].map(t => t.textContent)"
                    + ".join(';')").split(";"));
            assertEquals(asColumn.toString(), 4, asColumn.size());
            assertEquals("the agent's AS of the destination, the server's of the others",
                    List.of("AS64500 LAB-EDGE", "AS64502 LAB-R3", "AS65009 AGENT-DST"), List.of(asColumn.get(0), asColumn.get(2), asColumn.get(3)));
            assertTrue(asColumn.toString(), Set.of("AS64501 LAB-R2", "AS64510 LAB-R2B").contains(asColumn.get(1)));
            String title = browser.text("document.querySelector('div.branches h3').textContent");
            assertEquals("2 distinct paths of 16 flows from multipath", title);
            browser.screenshot(shots.resolve("multipath.png"));
        }
    }

    @Test
    public void c_oneRouteGoneIsARouteChange() throws Exception {
        assertFalse("no change yet: " + server.admin("GET", "/api/v1/alerts", null).body(), firing());
        // r1 now forwards 198.18.9.0/24 over r2 only
        AgentProcess.output(0, "ip", "-n", PREFIX + "-r1", "route", "replace", "198.18.9.0/24", "via", "198.18.1.2");
        Map<Set<Integer>, String> paths = Map.of();
        for (int i = 0; i < 600 && paths.size() != 1; i++) {
            Thread.sleep(100);
            paths = storedPaths();
        }
        assertEquals(paths.toString(), List.of("198.18.0.2 198.18.1.2 198.18.2.2 198.18.9.1"), List.copyOf(paths.values()));
        assertEquals(16, paths.keySet().iterator().next().size());
        for (int i = 0; i < 300 && !firing(); i++) {
            Thread.sleep(100);
        }
        assertTrue(server.admin("GET", "/api/v1/alerts", null).body(), firing());
        agent.awaitMetrics(p -> p.contains("probe_traceroute_paths{target=\"paths\",kind=\"traceroute\"} 1"));
    }

    private static boolean firing() throws Exception {
        return firing("rerouted") != null;
    }

    /** @return the rule's alert when it fires, or null */
    private static JsonObject firing(String rule) throws Exception {
        for (JsonElement e : server.json(server.admin("GET", "/api/v1/alerts", null)).getAsJsonArray("items")) {
            JsonObject a = e.getAsJsonObject();
            if (a.get("rule").getAsString().equals(rule) && a.get("state").getAsString().equals("firing")) {
                return a;
            }
        }
        return null;
    }

    /** @return the hops of the latest stored result of a target, each "address ASn" */
    private static List<String> storedHops(String target) throws Exception {
        JsonArray items = server.json(server.admin("GET", "/api/v1/results?agent=multipath&target=" + target + "&limit=10000", null))
                .getAsJsonArray("items");
        List<String> out = new java.util.ArrayList<>();
        if (items.isEmpty()) {
            return out;
        }
        for (JsonElement h : items.get(items.size() - 1).getAsJsonObject().getAsJsonObject("details").getAsJsonArray("hops")) {
            JsonObject o = h.getAsJsonObject();
            out.add((o.get("address").isJsonNull() ? "*" : o.get("address").getAsString()) + " "
                    + (o.has("asn") ? "AS" + o.get("asn").getAsLong() + " " + o.get("as_name").getAsString() : "-"));
        }
        return out;
    }

    /**
     * The mtu kind in the built agent, both families: the lab's 1,400-byte link is found, r3 named as the hop that said
     * so, in the agent's /metrics and in the server's stored results.
     */
    @Test
    public void ab_thePathMtuOfTheSmallerLinkIsMeasuredAndStored() throws Exception {
        String m = agent.awaitMetrics(p -> p.contains("probe_path_mtu_bytes{target=\"mtu4\",kind=\"mtu\"} 1400")
                && p.contains("probe_path_mtu_bytes{target=\"mtu6\",kind=\"mtu\"} 1400"));
        assertTrue(m, m.contains("probe_success{target=\"mtu4\",kind=\"mtu\"} 1"));
        assertTrue(m, m.contains("probe_success{target=\"mtu6\",kind=\"mtu\"} 1"));
        for (String[] t : new String[][] {{"mtu4", "198.18.2.2"}, {"mtu6", "fd00:18:2::2"}}) {
            JsonObject details = null;
            for (int i = 0; i < 300 && details == null; i++) {
                JsonArray items = server.json(server.admin("GET", "/api/v1/results?agent=multipath&target=" + t[0] + "&limit=10000", null))
                        .getAsJsonArray("items");
                if (!items.isEmpty()) {
                    details = items.get(items.size() - 1).getAsJsonObject().getAsJsonObject("details");
                } else {
                    Thread.sleep(100);
                }
            }
            assertTrue(t[0] + " stored", details != null);
            assertEquals(details.toString(), 1400, details.get("path_mtu").getAsInt());
            assertEquals(details.toString(), t[1], details.get("limited_by").getAsString());
        }
    }

    @Test
    public void d_aPathThatNowCrossesAnotherAsFiresNewAs() throws Exception {
        List<String> before = List.of();
        for (int i = 0; i < 600 && before.size() != 4; i++) {
            Thread.sleep(100);
            before = storedHops("chain");
        }
        assertEquals("the API gives each hop the AS of the server's table", List.of("198.18.0.2 AS64500 LAB-EDGE",
                "198.18.1.2 AS64501 LAB-R2", "198.18.2.2 AS64502 LAB-R3", "198.18.3.2 AS64509 LAB-DST"), before);
        Thread.sleep(4000); // a few traces on the old path: what the hour before crossed
        assertEquals("nothing new yet: " + server.admin("GET", "/api/v1/alerts", null).body(), null, firing("new-as"));
        // r1 now sends 198.18.3.0/24 through r2b: a hop of another AS
        AgentProcess.output(0, "ip", "-n", PREFIX + "-r1", "route", "add", "198.18.3.0/24", "via", "198.18.10.2");
        JsonObject alert = null;
        for (int i = 0; i < 600 && alert == null; i++) {
            Thread.sleep(100);
            alert = firing("new-as");
        }
        assertTrue(server.admin("GET", "/api/v1/alerts", null).body() + "; chain's hops now " + storedHops("chain") + "; the server's log: "
                + server.log().lines().filter(l -> l.contains("AS table") || l.contains("lert") || l.contains("xception")).toList(), alert != null);
        String text = alert.toString();
        assertTrue(text, text.contains("the path to chain crosses 1 AS it did not cross an hour ago"));
        assertTrue(text, text.contains("multipath crosses AS64510 LAB-R2B at hop 2"));
        assertEquals(List.of("198.18.0.2 AS64500 LAB-EDGE", "198.18.10.2 AS64510 LAB-R2B", "198.18.2.2 AS64502 LAB-R3",
                "198.18.3.2 AS64509 LAB-DST"), storedHops("chain"));
    }
}
