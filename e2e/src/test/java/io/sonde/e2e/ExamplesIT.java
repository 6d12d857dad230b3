package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.Test;

/**
 * examples/: every ready configuration passes the check that judges it — sonde-cli validate of the
 * agent (and of the server), promtool for the Prometheus job, the built server's API for the
 * definitions it takes — and the Latency Probe's targets.json runs as is.
 */
public class ExamplesIT {

    private static final Path EXAMPLES = Path.of("../examples").toAbsolutePath().normalize();

    @Test
    public void theAgentsFilesPassItsValidation() throws Exception {
        CliIT.Run r = CliIT.cli(AgentProcess.distribution(), "validate",
                EXAMPLES.resolve("small-fleet/agent-etc").toString(), EXAMPLES.resolve("latency-probe/targets.json").toString(),
                EXAMPLES.resolve("blackbox/etc").toString(), EXAMPLES.resolve("mesh/agent-etc").toString());
        assertEquals(r.out(), 0, r.exit());
        assertTrue(r.out(), r.out().contains("8 files checked, no problems"));
    }

    @Test
    public void theServersFilesPassItsValidation() throws Exception {
        CliIT.Run r = CliIT.cli(ServerProcess.distribution(), "validate", EXAMPLES.resolve("small-fleet/server-etc").toString());
        assertEquals(r.out(), 0, r.exit());
    }

    @Test
    public void theBlackboxScrapeJobPassesPromtool() throws Exception {
        String out = AgentProcess.output(0, "promtool", "check", "config", "--syntax-only",
                EXAMPLES.resolve("blackbox/prometheus.yml").toString());
        assertTrue(out, out.contains("SUCCESS"));
    }

    @Test
    public void theServerTakesTheTargetsAndTheMeshAsTheyAre() throws Exception {
        try (ServerProcess server = ServerProcess.start("")) {
            for (String name : List.of("web", "resolver")) {
                HttpResponse<String> put = server.admin("PUT", "/api/v1/targets/" + name,
                        Files.readString(EXAMPLES.resolve("small-fleet/targets/" + name + ".json")));
                assertEquals(put.body(), 201, put.statusCode());
            }
            HttpResponse<String> mesh = server.admin("PUT", "/api/v1/meshes/eu", Files.readString(EXAMPLES.resolve("mesh/mesh.json")));
            assertEquals(mesh.body(), 201, mesh.statusCode());
        }
    }

    @Test
    public void theLatencyProbesTargetsFileRunsAsIs() throws Exception {
        try (AgentProcess agent = AgentProcess.start(Map.of(),
                Map.of("TARGET_CONFIG", EXAMPLES.resolve("latency-probe/targets.json").toString()))) {
            String m = agent.awaitMetrics(x -> AgentProcess.value(x, "sonde_targets{state=\"active\",} ")
                    + AgentProcess.value(x, "sonde_targets{state=\"backoff\",} ") == 6
                    && x.contains("probe_total{target=\"gateway\",kind=\"icmp\"}"));
            assertEquals(m, 0, AgentProcess.value(m, "sonde_targets{state=\"invalid\",} "), 0);
            agent.awaitLogLine("Sonde's loggers log at INFO (info from ");
        }
    }
}
