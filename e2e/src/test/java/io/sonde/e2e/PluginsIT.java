package io.sonde.e2e;

import static io.sonde.e2e.AgentProcess.value;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/** Probe bundles come and go through plugins/ while the agent runs. */
public class PluginsIT {

    private AgentProcess agent;
    private Path plugin;
    private byte[] pluginBytes;

    @Before
    public void start() throws Exception {
        agent = AgentProcess.start();
        plugin = agent.home.resolve("plugins/io.sonde.plugin.tcp.jar");
        pluginBytes = Files.readAllBytes(plugin);
        agent.awaitMetrics(p -> value(p, "probe_success{target=\"self\",kind=\"tcp\"}") == 1.0);
    }

    @After
    public void stop() throws Exception {
        agent.close();
    }

    private void restorePlugin() throws Exception {
        Path tmp = plugin.resolveSibling(".restore.tmp");
        Files.write(tmp, pluginBytes);
        Files.move(tmp, plugin, StandardCopyOption.ATOMIC_MOVE);
    }

    @Test
    public void deletedProberStopsProbingAndItsReturnResumesIt() throws Exception {
        Files.delete(plugin);
        // a probe in flight when the prober went still reports ("the TCP prober stopped"); then none starts
        String m = agent.awaitMetrics(p -> value(p, "sonde_targets{state=\"no_prober\",}") == 1.0
                && value(p, "sonde_targets{state=\"active\",}") == 0.0 && value(p, "sonde_probes_in_flight") == 0.0);
        double stalled = value(m, "probe_total{target=\"self\",kind=\"tcp\"}");
        Thread.sleep(1500); // three intervals of the self target: proving that nothing happens takes waiting
        assertEquals(stalled, value(agent.metrics(), "probe_total{target=\"self\",kind=\"tcp\"}"), 0);

        restorePlugin();
        agent.awaitMetrics(p -> value(p, "sonde_targets{state=\"active\",}") == 1.0
                && value(p, "probe_total{target=\"self\",kind=\"tcp\"}") > stalled + 1);
        assertTrue(agent.alive());
    }

    @Test
    public void corruptJarIsReportedAndHarmsNothing() throws Exception {
        Files.write(agent.home.resolve("plugins/broken.jar"), "this is not a jar".getBytes());
        String line = agent.awaitLogLine("broken.jar");
        assertTrue(line, line.contains("WARN") || line.contains("SEVERE"));
        double probes = value(agent.metrics(), "probe_total{target=\"self\",kind=\"tcp\"}");
        agent.awaitMetrics(p -> value(p, "probe_total{target=\"self\",kind=\"tcp\"}") > probes + 1
                && value(p, "sonde_targets{state=\"active\",}") == 1.0);
        assertTrue(agent.alive());
    }

    @Test
    public void halfCopiedJarIsNeverInstalled() throws Exception {
        Files.delete(plugin);
        agent.awaitMetrics(p -> value(p, "sonde_targets{state=\"no_prober\",}") == 1.0);
        long startedBefore = agent.countLogLines("Started bundle", "io.sonde.plugin.tcp.jar");

        // the copy stalls halfway for several polls, as a slow network copy would
        Files.write(plugin, Arrays.copyOf(pluginBytes, pluginBytes.length / 2));
        Thread.sleep(3500);
        String m = agent.metrics();
        assertEquals(1.0, value(m, "sonde_targets{state=\"no_prober\",}"), 0);
        assertEquals(startedBefore, agent.countLogLines("Started bundle", "io.sonde.plugin.tcp.jar"));

        // the copy completes: now it is installed
        Files.write(plugin, pluginBytes);
        agent.awaitMetrics(p -> value(p, "sonde_targets{state=\"active\",}") == 1.0);
        assertFalse(agent.log().contains("Exception in thread"));
    }
}
