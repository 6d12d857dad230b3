package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.FixMethodOrder;
import org.junit.Test;
import org.junit.runners.MethodSorters;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

/**
 * A canary rollout on the built server and seven built agents: six tagged {@code edge}, one
 * {@code core}. 50 % of the edge agents take a real newer build of the tcp plugin, exactly three,
 * and only they; the others keep the version they run. A bad build rolled out the same way fails on
 * its canaries, which roll back by themselves, and the server pauses the rollout: the rest of the
 * fleet never sees it.
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class CanaryIT {

    private static ServerProcess server;
    private static Releases releases;
    private static final Map<String, AgentProcess> agents = new LinkedHashMap<>();

    @BeforeClass
    public static void start() throws Exception {
        server = ServerProcess.start("");
        releases = new Releases(server);
        releases.trust("owner");
        String edge = server.enrollmentToken("{\"tags\": [\"edge\"]}");
        String core = server.enrollmentToken("{\"tags\": [\"core\"]}");
        for (int i = 1; i <= 7; i++) {
            String id = i <= 6 ? "edge-" + i : "core-1";
            agents.put(id, releases.updatableAgent(id, i <= 6 ? edge : core, 500));
        }
    }

    @AfterClass
    public static void stop() throws Exception {
        for (AgentProcess a : agents.values()) {
            a.close();
        }
        server.close();
        releases.close();
    }

    /** Waits (90 s at most) until the rollout counts {@code n} agents in {@code state}; @return the rollout */
    static JsonObject awaitCount(String rollout, String state, int n) throws Exception {
        JsonObject last = null;
        for (int i = 0; i < 900; i++) {
            last = server.json(server.admin("GET", "/api/v1/rollouts/" + rollout, null));
            JsonObject states = last.getAsJsonObject("states");
            if (states != null && states.has(state) && states.get(state).getAsInt() == n) {
                return last;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("rollout " + rollout + " never counted " + n + " " + state + ": " + last);
    }

    static List<String> taken(JsonObject rollout) {
        List<String> ids = new ArrayList<>();
        for (JsonElement e : rollout.getAsJsonArray("agents_status")) {
            ids.add(e.getAsJsonObject().get("agent_id").getAsString());
        }
        return ids;
    }

    @Test
    public void a_halfOfTheTaggedAgentsTakeTheNewBuildAndOnlyThey() throws Exception {
        releases.release("owner", releases.plugin("0.3.0", Map.of()));
        releases.rollout("canary-030", "io.sonde.plugin.tcp", "0.3.0", "edge", ",\"percent\":50");
        JsonObject r = awaitCount("canary-030", "healthy", 3);
        assertEquals(3, r.get("agents_taken").getAsInt());
        List<String> taken = taken(r);
        for (Map.Entry<String, AgentProcess> e : agents.entrySet()) {
            boolean in = taken.contains(e.getKey());
            assertEquals(e.getKey() + " in the canary " + taken, in ? 1 : 0,
                    e.getValue().countLogLines("io.sonde.plugin.tcp 0.3.0 is healthy after its 5 s watch"));
            assertEquals(e.getKey(), in ? 1 : 0, e.getValue().countLogLines("Installed io.sonde.plugin.tcp 0.3.0"));
        }
        assertTrue(!taken.contains("core-1"));
        for (AgentProcess a : agents.values()) {
            a.awaitProbing("web", 1);
        }
    }

    @Test
    public void b_aBadBuildFailsOnItsCanariesAndTheServerPausesTheRollout() throws Exception {
        releases.release("owner", releases.plugin("0.3.1", Map.of("Bundle-Activator", "io.sonde.plugin.tcp.internal.NoSuchActivator")));
        long t0 = System.nanoTime();
        releases.rollout("canary-031", "io.sonde.plugin.tcp", "0.3.1", "edge", ",\"percent\":50,\"max_failed_percent\":30");
        JsonObject r = null;
        for (int i = 0; i < 900; i++) {
            r = server.json(server.admin("GET", "/api/v1/rollouts/canary-031", null));
            if (r.get("state").getAsString().equals("paused")) {
                break;
            }
            Thread.sleep(100);
        }
        assertEquals(r.toString(), "paused", r.get("state").getAsString());
        System.out.println("FIGURE canary of a bad build on 3 of 6 agents -> rollout paused by the server: "
                + (System.nanoTime() - t0) / 1_000_000 + " ms");
        assertTrue(r.toString(), r.get("paused_reason").getAsString().contains("failed"));
        List<String> taken = taken(r);
        assertEquals(3, taken.size());
        for (Map.Entry<String, AgentProcess> e : agents.entrySet()) {
            if (!taken.contains(e.getKey())) {
                assertEquals(e.getKey(), 0, e.getValue().countLogLines("Installed io.sonde.plugin.tcp 0.3.1"));
            }
        }
        // every canary that installed it rolled back by itself, and probes with the version before
        for (String id : taken) {
            AgentProcess a = agents.get(id);
            if (a.countLogLines("Installed io.sonde.plugin.tcp 0.3.1") > 0) {
                a.awaitLogLine("io.sonde.plugin.tcp 0.3.1 is rolled back");
            }
            a.awaitProbing("web", 3);
        }
    }
}
