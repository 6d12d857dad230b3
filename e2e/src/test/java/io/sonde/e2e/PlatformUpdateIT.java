package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.FixMethodOrder;
import org.junit.Test;
import org.junit.runners.MethodSorters;

import com.google.gson.JsonObject;

/**
 * Updates of the agent's platform bundles (system/) on the built agent and server: the updater
 * updating itself; a core that does not start, rolled back through the launcher's guard; a broken
 * updater, which cannot watch itself, rolled back by the launcher at its deadline; a rollout rolled
 * back by the operator; the sockets bundle staged, applied at the next start, and a broken one rolled
 * back at the start that applied it; an agent SIGKILLed right after a platform jar was swapped; an
 * uplink build that is active but delivers nothing, rolled back; the framework's own jar staged and
 * put in place at the next start, before the launcher loads it.
 * Probing goes on through each.
 */
@FixMethodOrder(MethodSorters.NAME_ASCENDING)
public class PlatformUpdateIT {

    private static final String ID = "platform";
    private static ServerProcess server;
    private static Releases releases;
    private static AgentProcess agent;

    @BeforeClass
    public static void start() throws Exception {
        server = ServerProcess.start("");
        releases = new Releases(server);
        releases.trust("owner");
        String token = server.enrollmentToken("{\"tags\": [\"platform\"]}");
        agent = releases.updatableAgent(ID, token, 300);
    }

    @AfterClass
    public static void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        server.close();
        releases.close();
    }

    static JsonObject awaitState(String rollout, String state, int seconds) throws Exception {
        return releases.awaitState(rollout, ID, state, seconds, () -> "agent log:\n" + agent.log());
    }

    static void release(String bundle, String version, Map<String, String> headers) throws Exception {
        releases.release("owner", releases.platform(bundle, version, headers));
    }

    /** The tcp target goes on being probed, with success. */
    static void stillProbing() throws Exception {
        agent.awaitProbing("web", 4);
    }

    @Test
    public void a_theUpdaterUpdatesItselfAndTheNewOneFinishesTheWatch() throws Exception {
        release("io.sonde.updater", "0.1.1", Map.of());
        releases.rollout("updater-011", "io.sonde.updater", "0.1.1", "platform", "");
        awaitState("updater-011", "healthy", 60);
        agent.awaitLogLine("Installed io.sonde.updater 0.1.1 in place of 0.1.0.");
        agent.awaitLogLine("The update of io.sonde.updater to 0.1.1 is under its health watch");
        agent.awaitLogLine("io.sonde.updater 0.1.1 is healthy after its 5 s watch");
        assertTrue(Files.exists(agent.home.resolve("data/updates/kept/io.sonde.updater.jar")));
        assertTrue("the guard is gone once healthy", !Files.exists(agent.home.resolve("data/updates/guard.properties")));
        stillProbing();
    }

    @Test
    public void b_aCoreThatDoesNotStartIsRolledBackThroughTheLauncher() throws Exception {
        release("io.sonde.core", "0.1.2", Map.of("Bundle-Activator", "io.sonde.core.internal.NoSuchActivator"));
        long t0 = System.nanoTime();
        releases.rollout("core-012", "io.sonde.core", "0.1.2", "platform", "");
        JsonObject a = awaitState("core-012", "failed", 90);
        long took = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("FIGURE rollout of a core that does not start -> rolled back and reported: " + took + " ms");
        assertTrue(a.toString(), a.get("reason").getAsString().contains("rolled back: did not start within 8 s"));
        agent.awaitLogLine("Rolled back io.sonde.core 0.1.2 to the jar it replaced");
        agent.awaitLogLine("Restarting the Sonde agent's framework");
        stillProbing();
        assertEquals(204, server.admin("DELETE", "/api/v1/rollouts/core-012", null).statusCode());
    }

    @Test
    public void c_aBrokenUpdaterThatCannotWatchItselfIsRolledBackByTheLauncherAtItsDeadline() throws Exception {
        release("io.sonde.updater", "0.1.3", Map.of("Import-Package", "io.sonde.no.such.api"));
        long t0 = System.nanoTime();
        releases.rollout("updater-013", "io.sonde.updater", "0.1.3", "platform", "");
        // 8 s to start, 5 s of watch and 30 s more: then the launcher acts
        JsonObject a = awaitState("updater-013", "failed", 120);
        System.out.println("FIGURE a broken updater -> rolled back by the launcher and reported: " + (System.nanoTime() - t0) / 1_000_000
                + " ms");
        assertTrue(a.toString(), a.get("reason").getAsString().contains("rolled back: not found healthy by its deadline"));
        agent.awaitLogLine("io.sonde.updater 0.1.3 was rolled back by the launcher");
        stillProbing();
        assertEquals(204, server.admin("DELETE", "/api/v1/rollouts/updater-013", null).statusCode());
    }

    @Test
    public void d_aRolloutRolledBackByTheOperatorTakesTheAgentBackToTheVersionBefore() throws Exception {
        assertEquals(204, server.admin("DELETE", "/api/v1/rollouts/updater-011", null).statusCode());
        release("io.sonde.scheduler", "0.1.4", Map.of());
        releases.rollout("scheduler-014", "io.sonde.scheduler", "0.1.4", "platform", "");
        awaitState("scheduler-014", "healthy", 60);
        stillProbing();
        releases.rollout("scheduler-014", "io.sonde.scheduler", "0.1.4", "platform", ",\"state\":\"rolled_back\"");
        JsonObject a = awaitState("scheduler-014", "rolled_back", 60);
        assertTrue(a.toString(), a.get("reason").getAsString().contains("0.1.0."));
        agent.awaitLogLine("io.sonde.scheduler is back on 0.1.0.", "as rollout 'scheduler-014' asked");
        stillProbing();
        assertEquals(204, server.admin("DELETE", "/api/v1/rollouts/scheduler-014", null).statusCode());
    }

    @Test
    public void e_theSocketsBundleIsStagedAndTakesEffectAtTheNextStart() throws Exception {
        release("io.sonde.sockets", "0.1.5", Map.of());
        releases.rollout("sockets-015", "io.sonde.sockets", "0.1.5", "platform", "");
        JsonObject a = awaitState("sockets-015", "staged", 60);
        assertTrue(a.toString(), a.get("reason").getAsString().contains("next start"));
        agent.awaitLogLine("Staged io.sonde.sockets 0.1.5 in place of 0.1.0.");
        Thread.sleep(2000);
        assertEquals("never swapped while the agent runs", 0, agent.countLogLines("Installed io.sonde.sockets"));
        assertTrue(agent.terminate(Duration.ofSeconds(20)));
        agent.launch();
        agent.awaitLogLine("Applied the staged update of io.sonde.sockets 0.1.5");
        agent.awaitLogLine("The staged update of io.sonde.sockets to 0.1.5 took effect at this start");
        awaitState("sockets-015", "healthy", 60);
        stillProbing();
    }

    @Test
    public void f_aBrokenStagedSocketsBundleIsRolledBackAtTheStartThatAppliedIt() throws Exception {
        release("io.sonde.sockets", "0.1.6", Map.of("Import-Package", "io.sonde.no.such.api"));
        releases.rollout("sockets-016", "io.sonde.sockets", "0.1.6", "platform", "");
        awaitState("sockets-016", "staged", 60);
        agent.kill(); // a crash is a start too
        agent.launch();
        agent.awaitLogLine("Applied the staged update of io.sonde.sockets 0.1.6");
        JsonObject a = awaitState("sockets-016", "failed", 90);
        assertTrue(a.toString(), a.get("reason").getAsString().contains("rolled back: did not start within 8 s"));
        agent.awaitLogLine("Rolled back io.sonde.sockets 0.1.6 to the jar it replaced");
        stillProbing();
    }

    @Test
    public void g_killedRightAfterAPlatformJarWasSwappedTheAgentComesUpConsistentAndFinishes() throws Exception {
        release("io.sonde.exporter", "0.1.7", Map.of());
        releases.rollout("exporter-017", "io.sonde.exporter", "0.1.7", "platform", "");
        agent.awaitLogLine("Installed io.sonde.exporter 0.1.7 in place of");
        agent.kill(); // the bundle is being updated and refreshed
        agent.launch();
        awaitState("exporter-017", "healthy", 90);
        agent.awaitLogLine("io.sonde.exporter 0.1.7 is healthy after its 5 s watch");
        stillProbing();
    }

    @Test
    public void h_anUplinkThatStopsDeliveringIsRolledBack() throws Exception {
        String xml = "OSGI-INF/io.sonde.uplink.internal.Uplink.xml";
        String component;
        try (java.util.jar.JarFile in = new java.util.jar.JarFile(releases.platform("io.sonde.uplink", "0.0.0", Map.of()).toFile())) {
            component = new String(in.getInputStream(in.getEntry(xml)).readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        // a build that looks for its configuration under another PID: active, and delivering nothing
        component = component.replace("configuration-pid=\"io.sonde.uplink\"", "configuration-pid=\"io.sonde.uplink.elsewhere\"");
        String system;
        try (var jars = Files.list(AgentProcess.distribution().resolve("system"))) {
            system = jars.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("io.sonde.uplink-")).findFirst().orElseThrow();
        }
        releases.release("owner", releases.withEntries("system/" + system, "0.1.8", Map.of(xml,
                component.getBytes(java.nio.charset.StandardCharsets.UTF_8))));
        releases.rollout("uplink-018", "io.sonde.uplink", "0.1.8", "platform", "");
        JsonObject a = awaitState("uplink-018", "failed", 90);
        assertTrue(a.toString(), a.get("reason").getAsString().contains("rolled back: the uplink delivered no results"));
        agent.awaitLogLine("Rolled back io.sonde.uplink 0.1.8 to the jar it replaced");
        stillProbing();
    }

    @Test
    public void i_theFrameworkIsStagedAndTakesEffectAtTheNextStart() throws Exception {
        // Felix takes its version from Felix.properties as well as from its manifest: a release changes both
        releases.release("owner", releases.withEntries("system/boot/org.apache.felix.framework.jar", "7.0.6",
                Map.of("org/apache/felix/framework/Felix.properties", "felix.version=7.0.6\n".getBytes(java.nio.charset.StandardCharsets.UTF_8))));
        releases.rollout("framework-706", "org.apache.felix.framework", "7.0.6", "platform", "");
        awaitState("framework-706", "staged", 60);
        agent.awaitLogLine("Staged org.apache.felix.framework 7.0.6 in place of 7.0.5");
        assertTrue(agent.terminate(Duration.ofSeconds(20)));
        agent.launch();
        agent.awaitLogLine("Applied the staged update of org.apache.felix.framework 7.0.6");
        awaitState("framework-706", "healthy", 60);
        agent.awaitLogLine("org.apache.felix.framework 7.0.6 is healthy after its 5 s watch");
        stillProbing();
    }
}
