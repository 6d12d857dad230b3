package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.Test;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * sonde-cli status against running agents: one enrolled with the built server, one whose server is
 * gone (its spool growing), none at all; and GET /status answering loopback only unless opened,
 * tested from another network namespace (lab/router-chain.sh).
 */
public class StatusIT {

    private static CliIT.Run status(AgentProcess agent, String... more) throws Exception {
        String[] args = new String[more.length + 1];
        args[0] = "status";
        System.arraycopy(more, 0, args, 1, more.length);
        return CliIT.cli(agent.home, args);
    }

    @Test
    public void statusShowsTargetsWithStateAndLastResultTheUplinkAndTheSpool() throws Exception {
        try (ServerProcess server = ServerProcess.start("");
                AgentProcess agent = AgentProcess.start(Map.of(
                        "etc/io.sonde.agent.cfg", "agent_id = status-1\ntags = edge,lab\n",
                        "etc/io.sonde.target-closed.cfg", "kind = tcp\nhost = 127.0.0.1\nport = " + AgentProcess.freePort()
                                + "\ninterval_ms = 200\ntimeout_ms = 200\n",
                        "etc/io.sonde.uplink.cfg", server.uplinkConfig(server.enrollmentToken("{\"agent_tags\": true}"), "")))) {
            agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_up ") == 1
                    && m.contains("sonde_targets{state=\"backoff\",} 1.0"));
            // the uplink may start again as the agent's settings arrive (its document then from its cache until it asks the
            // server): what status shows once it has delivered and taken the server's document is awaited, at most 30 s
            CliIT.Run r = status(agent);
            for (int i = 0; i < 60 && !(r.out().contains(" up, enrolled, last delivery") && r.out().contains(" (server); ")); i++) {
                Thread.sleep(500);
                r = status(agent);
            }
            assertEquals(r.out(), 0, r.exit());
            assertTrue(r.out(), r.out().matches("(?s)Agent +status-1  version \\S+, up \\d+s, tags edge,lab\n.*"));
            assertTrue(r.out() + "\nagent log:\n" + agent.log(),
                    r.out().matches("(?s).*\nConfig   etc/, server document [0-9a-f]+ \\(server\\); 0 config errors since start\n.*"));
            assertTrue(r.out() + "\nagent log:\n" + agent.log(), r.out().matches("(?s).*Uplink   " + java.util.regex.Pattern.quote(server.url())
                    + "/? up, enrolled, last delivery \\d+s ago; spool \\d+ results, \\d+ bytes.*"));
            assertTrue(r.out(), r.out().matches("(?s).*\nclosed +tcp +127\\.0\\.0\\.1:\\d+ +backoff +refused \\d+s ago +[\\d.]+ +\\d+ .*"));
            assertTrue(r.out(), r.out().matches("(?s).*\nself +tcp +127\\.0\\.0\\.1:" + agent.port + " +up +ok \\d+s ago .*"));

            CliIT.Run json = status(agent, "--output", "json");
            JsonObject doc = JsonParser.parseString(json.out()).getAsJsonObject();
            assertEquals("status-1", doc.getAsJsonObject("config").get("agent_id").getAsString());
            assertEquals("backoff", doc.getAsJsonObject("scheduler").getAsJsonObject("targets").getAsJsonObject("closed")
                    .get("state").getAsString());
            assertTrue(doc.getAsJsonObject("uplink").get("up").getAsBoolean());
            assertTrue(doc.getAsJsonObject("updater").has("public_key_pinned"));

            // the server goes away: the uplink is down, and the results wait in the spool
            server.kill();
            agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_up ") == 0 && AgentProcess.value(m, "sonde_spool_records ") > 5);
            CliIT.Run down = status(agent);
            assertTrue(down.out(), down.out().matches("(?s).*Uplink   \\S+ DOWN, enrolled, last delivery \\d+s ago; spool [1-9]\\d* results,"
                    + " \\d+ bytes, oldest \\d+s ago\n {9}\\S.*"));
        }
    }

    @Test
    public void noAgentIsSaidAsSuch() throws Exception {
        Path home = AgentProcess.distribution();
        int port = AgentProcess.freePort();
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/sonde-cli").toString(), "status", "--agent",
                "http://127.0.0.1:" + port).redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(out, 1, p.exitValue());
        assertTrue(out, out.startsWith("No agent answers at http://127.0.0.1:" + port + "/status"));
    }

    @Test
    public void statusAnswersLoopbackOnlyUnlessOpened() throws Exception {
        boolean root = "root".equals(System.getProperty("user.name"));
        assumeTrue("the lab's namespaces need root", root || System.getenv("CI") != null);
        Path lab = Path.of("../lab/router-chain.sh").toAbsolutePath().normalize();
        String prefix = "ss" + (ProcessHandle.current().pid() % 100_000);
        labRun(lab, prefix, "up");
        try {
            // the agent in the lab's destination namespace, listening on every address there
            try (AgentProcess agent = AgentProcess.start(prefix + "-dst", null)) {
                agent.write("etc/io.sonde.exporter.cfg", "port = " + agent.port + "\nbind = 0.0.0.0\n");
                agent.awaitMetrics(m -> m.contains("probe_total"));
                String remote = "http://198.18.3.2:" + agent.port + "/status";
                String refused = awaitCurl(remote, "403");
                assertTrue(refused, refused.contains("/status answers this host only; set status_remote = true in etc/io.sonde.exporter.cfg"));
                String inside = AgentProcess.output(0, "ip", "netns", "exec", prefix + "-dst", "curl", "-s", "--max-time", "10",
                        "http://127.0.0.1:" + agent.port + "/status");
                assertTrue(inside, inside.contains("\"agent\""));
                agent.write("etc/io.sonde.exporter.cfg", "port = " + agent.port + "\nbind = 0.0.0.0\nstatus_remote = true\n");
                String opened = awaitCurl(remote, "200");
                assertTrue(opened, opened.contains("\"results\""));
            }
        } finally {
            labRun(lab, prefix, "down");
        }
    }

    /** Asks with curl from this namespace until the answer has {@code status}; returns the body. */
    private static String awaitCurl(String url, String status) throws Exception {
        long deadline = System.nanoTime() + AgentProcess.PATIENCE.toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            try {
                last = AgentProcess.output(0, "curl", "-s", "--max-time", "5", "-w", "\n%{http_code}", url);
                if (last.strip().endsWith("\n" + status) || last.strip().equals(status)) {
                    return last;
                }
            } catch (AssertionError notYet) { // not listening there yet
                last = notYet.getMessage();
            }
            Thread.sleep(200);
        }
        throw new AssertionError(url + " never answered " + status + "; last: " + last);
    }

    private static void labRun(Path lab, String prefix, String action) throws Exception {
        RouterChain.run(prefix, action);
    }
}
