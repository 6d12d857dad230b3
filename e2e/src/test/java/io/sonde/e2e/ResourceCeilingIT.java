package io.sonde.e2e;

import static io.sonde.e2e.AgentProcess.value;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;

import org.junit.Test;

/**
 * A CPU ceiling set far below what a large target list needs: the agent says so once, shows it in
 * {@code sonde_resource_throttled}, stretches intervals (fewer probes a second), and goes back to
 * the configured intervals when the ceiling is lifted.
 */
public class ResourceCeilingIT {

    @Test
    public void aCeilingBelowTheLoadStretchesIntervalsAndIsSaidOnce() throws Exception {
        try (AgentProcess agent = AgentProcess.start()) {
            int refused = AgentProcess.freePort(); // nothing listens: each connect is refused at once, cheap for the kernel
            StringBuilder json = new StringBuilder("{\"probe_interval_ms\": 200, \"default_timeout_ms\": 150, \"targets\": [");
            for (int i = 0; i < 3000; i++) {
                json.append(i == 0 ? "" : ",").append("{\"name\": \"c").append(i)
                        .append("\", \"kind\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": ").append(refused).append('}');
            }
            agent.write("etc/targets.json", json.append("]}").toString());
            String cfg = Files.readString(agent.home.resolve("etc/io.sonde.agent.cfg"));
            String loaded = cfg.replaceAll("(?m)^targets_file =.*$", "targets_file = etc/targets.json")
                    + "\nbackoff = off\n"; // every probe fails: without this the circuit breaker would shed the load itself
            agent.write("etc/io.sonde.agent.cfg", loaded + "max_cpu_percent = 2\n");
            String m = agent.awaitMetrics(p -> value(p, "sonde_resource_throttled{resource=\"cpu\",}") == 1.0
                    && value(p, "sonde_resource_shed_level") >= 2);
            assertEquals(0.0, value(m, "sonde_resource_throttled{resource=\"memory\",}"), 0);
            agent.awaitLogLine("over max_cpu_percent = 2.0", "stretching target intervals");
            // two samples over: a quarter of the targets at doubled intervals, their series kept
            assertEquals("said once, not per sample", 1, agent.countLogLines("over max_cpu_percent"));
            assertTrue(agent.metrics().contains("probe_total{target=\"c0\",kind=\"tcp\"}"));

            // the ceiling lifted: the configured intervals come back
            agent.write("etc/io.sonde.agent.cfg", loaded);
            agent.awaitMetrics(p -> value(p, "sonde_resource_throttled{resource=\"cpu\",}") == 0.0
                    && value(p, "sonde_resource_shed_level") == 0.0);
        }
    }
}
