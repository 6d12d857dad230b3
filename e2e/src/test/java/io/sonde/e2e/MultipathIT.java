package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

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
 * one of the two routes, the set of paths changes and a route_change rule fires.
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class MultipathIT {

    private static final Path LAB = Path.of("../lab/router-chain.sh").toAbsolutePath().normalize();
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
        server = ServerProcess.start("alert_eval_s = 2\n");
        DashboardIT.ok(server.admin("PUT", "/api/v1/targets/paths", "{\"kind\": \"traceroute\", \"host\": \"198.18.9.1\", \"interval_ms\": 2000,"
                + " \"timeout_ms\": 1900, \"agents\": \"*\", \"flows\": 16, \"max_hops\": 8, \"hop_timeout_ms\": 500}"));
        DashboardIT.ok(server.admin("PUT", "/api/v1/alert-rules/rerouted", "{\"type\": \"route_change\", \"target\": \"paths\", \"threshold\": 0,"
                + " \"for\": \"0s\"}"));
        String token = server.enrollmentToken("{\"tags\": [\"lab\"]}");
        agent = AgentProcess.start(Map.of("etc/io.sonde.agent.cfg", "agent_id = multipath\n",
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
        ProcessBuilder pb = new ProcessBuilder(LAB.toString(), action).redirectErrorStream(true);
        pb.environment().put("SONDE_LAB_PREFIX", PREFIX);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError("lab " + action + " failed: " + out);
        }
        return out;
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
            assertEquals("the hop where the paths part, and only that", List.of("198.18.1.2", "198.18.10.2"), parted);
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
        for (JsonElement e : server.json(server.admin("GET", "/api/v1/alerts", null)).getAsJsonArray("items")) {
            JsonObject a = e.getAsJsonObject();
            if (a.get("rule").getAsString().equals("rerouted") && a.get("state").getAsString().equals("firing")) {
                return true;
            }
        }
        return false;
    }
}
