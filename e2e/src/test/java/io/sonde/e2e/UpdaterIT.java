package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.Map;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.FixMethodOrder;
import org.junit.Test;
import org.junit.runners.MethodSorters;

import com.google.gson.JsonObject;

/**
 * The built agent's updater against the built server: a real newer build of the tcp plugin rolled
 * out, verified against the key the agent pins, installed and found healthy while its target goes
 * on being probed; a build that does not start rolled back by itself within the watch (and the
 * rollout paused by the server); a release signed by a key the server trusts but the agent does not
 * pin, and a downgrade, refused before anything is installed; an agent SIGKILLed during the watch;
 * builds whose prober never answers or whose component throws (compiled by the test), rolled back.
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class UpdaterIT {

    private static ServerProcess server;
    private static Releases releases;
    private static AgentProcess agent;

    @BeforeClass
    public static void start() throws Exception {
        server = ServerProcess.start("");
        releases = new Releases(server);
        releases.trust("owner", "stranger"); // the server takes both; the agent pins the owner's alone
        String token = server.enrollmentToken("{\"tags\": [\"canary\"]}");
        agent = releases.updatableAgent("updated", token, 300);
    }

    @AfterClass
    public static void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        server.close();
        releases.close();
    }

    static void rollout(String name, String version) throws Exception {
        releases.rollout(name, "io.sonde.plugin.tcp", version, "canary", "");
    }

    static void release(String owner, String version, Map<String, String> headers) throws Exception {
        releases.release(owner, releases.plugin(version, headers));
    }

    /** Waits (60 s at most) for the rollout to show the agent in {@code state}; @return the agent's entry */
    static JsonObject awaitState(String rollout, String state) throws Exception {
        return releases.awaitState(rollout, "updated", state, 60, () -> "agent log:\n" + agent.log());
    }

    @Test
    public void a_aSignedNewerPluginIsInstalledWatchedAndHealthyWhileItsTargetGoesOn() throws Exception {
        release("owner", "0.1.7", Map.of());
        rollout("tcp-017", "0.1.7");
        awaitState("tcp-017", "healthy");
        agent.awaitLogLine("Installed io.sonde.plugin.tcp 0.1.7 in place of");
        agent.awaitLogLine("io.sonde.plugin.tcp 0.1.7 is healthy after its 5 s watch");
        agent.awaitProbing("web", 4);
    }

    @Test
    public void b_aBuildThatDoesNotStartIsRolledBackByItselfAndTheRolloutPaused() throws Exception {
        release("owner", "0.1.8", Map.of("Bundle-Activator", "io.sonde.plugin.tcp.internal.NoSuchActivator"));
        long t0 = System.nanoTime();
        rollout("tcp-018", "0.1.8");
        JsonObject a = awaitState("tcp-018", "failed");
        long took = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("FIGURE rollout of a build that does not start -> rolled back and reported: " + took + " ms");
        assertTrue(a.toString(), a.get("reason").getAsString().contains("rolled back: did not start within 8 s"));
        agent.awaitLogLine("io.sonde.plugin.tcp 0.1.8 is rolled back");
        // the previous version probes again
        agent.awaitProbing("web", 4);
        JsonObject r = null;
        for (int i = 0; i < 100; i++) {
            r = server.json(server.admin("GET", "/api/v1/rollouts/tcp-018", null));
            if (r.get("state").getAsString().equals("paused")) {
                break;
            }
            Thread.sleep(100);
        }
        assertEquals("paused", r.get("state").getAsString());
        assertEquals(204, server.admin("DELETE", "/api/v1/rollouts/tcp-018", null).statusCode());
    }

    @Test
    public void c_aKeyTheAgentDoesNotPinAndADowngradeAreRefusedBeforeAnythingIsInstalled() throws Exception {
        release("stranger", "0.1.9", Map.of());
        rollout("tcp-019", "0.1.9");
        JsonObject a = awaitState("tcp-019", "failed");
        assertTrue(a.toString(), a.get("reason").getAsString().contains("the release manifest is refused: signed by key")
                && a.get("reason").getAsString().contains("which is not a trusted release key"));
        assertEquals(204, server.admin("DELETE", "/api/v1/rollouts/tcp-019", null).statusCode());

        // a lower version than the agent runs, with no other rollout of the bundle over it
        assertEquals(204, server.admin("DELETE", "/api/v1/rollouts/tcp-017", null).statusCode());
        release("owner", "0.1.5", Map.of());
        rollout("tcp-015", "0.1.5");
        a = awaitState("tcp-015", "failed");
        assertTrue(a.toString(), a.get("reason").getAsString().contains("a downgrade not asked for: this agent runs 0.1.7"));
        assertEquals(0, agent.countLogLines("Installed io.sonde.plugin.tcp 0.1.9"));
        assertEquals(0, agent.countLogLines("Installed io.sonde.plugin.tcp 0.1.5"));
    }

    @Test
    public void d_killedDuringTheHealthWatchTheAgentComesUpOnTheNewVersionAndFinishesTheWatch() throws Exception {
        server.admin("DELETE", "/api/v1/rollouts/tcp-015", null);
        release("owner", "0.1.10", Map.of());
        rollout("tcp-0110", "0.1.10");
        awaitState("tcp-0110", "watching");
        agent.kill(); // SIGKILL under the watch
        agent.launch();
        agent.awaitLogLine("The update of io.sonde.plugin.tcp to 0.1.10 is under its health watch: watching it from this start");
        awaitState("tcp-0110", "healthy");
        agent.awaitLogLine("io.sonde.plugin.tcp 0.1.10 is healthy after its 5 s watch");
        agent.awaitMetrics(m -> AgentProcess.value(m, "probe_success{target=\"web\",kind=\"tcp\"}") == 1);
    }

    /** The tcp plugin built again as {@code version} with its prober replaced by {@code body}, a class compiled here. */
    static java.nio.file.Path withProber(String version, String className, String body) throws Exception {
        String cls = "io.sonde.plugin.tcp.internal." + className;
        byte[] prober = releases.compile(cls, "package io.sonde.plugin.tcp.internal;\n"
                + "public class " + className + " implements io.sonde.api.Prober {\n" + body + "}\n");
        String component = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + "<scr:component xmlns:scr=\"http://www.osgi.org/xmlns/scr/v1.4.0\" name=\"io.sonde.plugin.tcp.internal.TcpProber\">\n"
                + "  <property name=\"probe.type\" type=\"String\" value=\"tcp\"/>\n"
                + "  <service><provide interface=\"io.sonde.api.Prober\"/></service>\n"
                + "  <implementation class=\"" + cls + "\"/>\n"
                + "</scr:component>\n";
        return releases.withEntries("plugins/io.sonde.plugin.tcp.jar", version, Map.of(cls.replace('.', '/') + ".class", prober,
                "OSGI-INF/io.sonde.plugin.tcp.internal.TcpProber.xml", component.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    @Test
    public void e_aBuildWhoseProberHangsEveryProbeIsRolledBack() throws Exception {
        server.admin("DELETE", "/api/v1/rollouts/tcp-0110", null);
        releases.release("owner", withProber("0.1.11", "HangingProber", ""
                + "  public java.util.concurrent.CompletionStage<? extends io.sonde.api.ProbeResult> probe(io.sonde.api.Target t) {\n"
                + "    return new java.util.concurrent.CompletableFuture<io.sonde.api.ProbeResult>(); // never answers\n"
                + "  }\n"));
        rollout("tcp-0111", "0.1.11");
        JsonObject a = awaitState("tcp-0111", "failed");
        assertTrue(a.toString(), a.get("reason").getAsString().contains("rolled back: no tcp probe succeeded in the 5 s after the install"));
        agent.awaitLogLine("io.sonde.plugin.tcp 0.1.11 is rolled back");
        agent.awaitProbing("web", 4);
    }

    @Test
    public void f_aBuildWhoseComponentThrowsIsRolledBack() throws Exception {
        releases.release("owner", withProber("0.1.12", "ThrowingProber", ""
                + "  public ThrowingProber() {\n"
                + "    throw new IllegalStateException(\"this build cannot start\");\n"
                + "  }\n"
                + "  public java.util.concurrent.CompletionStage<? extends io.sonde.api.ProbeResult> probe(io.sonde.api.Target t) {\n"
                + "    throw new UnsupportedOperationException();\n"
                + "  }\n"));
        rollout("tcp-0112", "0.1.12");
        JsonObject a = awaitState("tcp-0112", "failed");
        assertTrue(a.toString(), a.get("reason").getAsString().contains("rolled back: component io.sonde.plugin.tcp.internal.TcpProber failed"
                + " to activate"));
        agent.awaitLogLine("io.sonde.plugin.tcp 0.1.12 is rolled back");
        agent.awaitProbing("web", 4);
    }
}
