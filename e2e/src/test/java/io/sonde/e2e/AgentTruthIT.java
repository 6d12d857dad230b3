package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.util.List;
import java.util.Map;

import org.junit.Test;

/**
 * The agent tells the truth about itself: the running agent and {@code sonde-cli validate} find
 * the same problems in its files (one check); an agent whose metrics port another agent holds
 * says so, and {@code sonde-cli status} from its home does not report the other agent.
 */
public class AgentTruthIT {

    @Test
    public void theRunningAgentAndValidateNameTheSameProblemsOfEachFile() throws Exception {
        String sha1 = "A9:4A:8F:E5:CC:B1:9B:A6:1C:4C:08:73:D3:91:E9:87:98:2F:BB:D3";
        try (AgentProcess agent = AgentProcess.start(Map.of(
                "etc/io.sonde.agent.cfg", "agent_id = truth-1\ntag = edge\nprobe_interval_ms = fast\n",
                "etc/io.sonde.uplink.cfg", "server_url = https://127.0.0.1:" + AgentProcess.freePort() + "\nserver_ca_sha256 = " + sha1
                        + "\nenrollment_token = x\n"))) {
            String file = agent.home.resolve("etc/io.sonde.agent.cfg").toString();
            String unknown = agent.awaitLogLine("Configuration error: " + file + ": key 'tag': unknown to io.sonde.agent; did you mean 'tags'?");
            String bad = agent.awaitLogLine("Configuration error: " + file + ": key 'probe_interval_ms': 'fast' is not a whole number");
            String uplink = agent.awaitLogLine("Configuration error: ", "io.sonde.uplink.cfg", "is not a SHA-256 fingerprint", "SHA-1");
            CliIT.Run validate = CliIT.cli(agent.home, "validate", agent.home.resolve("etc").toString());
            assertEquals(validate.out(), 1, validate.exit());
            for (String line : List.of(unknown, bad, uplink)) {
                String problem = line.substring(line.indexOf("Configuration error: ") + "Configuration error: ".length()).strip();
                problem = problem.replaceAll("; results are kept in the spool until it is mended$", "");
                assertTrue("validate names what the agent logs: " + problem + "\n" + validate.out(), validate.out().contains(problem));
            }
            // the DS conversion's words, not a NumberFormatException's
            assertTrue(agent.log(), agent.log().contains("key 'probe_interval_ms': 'fast' is not a number; using 5000"));
            assertTrue(agent.log(), !agent.log().contains("NumberFormatException"));
            // and a file validate passes, the agent takes without a word
            Files.writeString(agent.home.resolve("etc/io.sonde.agent.cfg"), "agent_id = truth-1\ntags = edge\n");
            CliIT.Run clean = CliIT.cli(agent.home, "validate", agent.home.resolve("etc/io.sonde.agent.cfg").toString());
            assertEquals(clean.out(), 0, clean.exit());
        }
    }

    @Test
    public void anAgentWithoutItsPortSaysSoAndStatusDoesNotReportAnotherAgent() throws Exception {
        try (AgentProcess first = AgentProcess.start(Map.of("etc/io.sonde.agent.cfg", "agent_id = first\n"))) {
            first.awaitMetrics(m -> AgentProcess.value(m, "probe_success{target=\"self\",kind=\"tcp\"}") == 1);
            AgentProcess second = AgentProcess.start(Map.of("etc/io.sonde.agent.cfg", "agent_id = second\n"));
            try {
                // the second agent is given the first one's port
                Files.writeString(second.home.resolve("etc/io.sonde.exporter.cfg"), "port = " + first.port + "\nbind = 127.0.0.1\n");
                second.awaitLogLine("Cannot listen on 127.0.0.1:" + first.port, "Another process (another agent?) holds the port");
                CliIT.Run status = CliIT.cli(second.home, "status");
                assertEquals(status.out(), 1, status.exit());
                assertTrue(status.out(), status.out().startsWith("The agent of " + second.home.toRealPath() + " (process "));
                assertTrue(status.out(), status.out().contains("serves no /status: cannot listen on 127.0.0.1:" + first.port));
                assertTrue(status.out(), !status.out().contains("first"));
                // the first agent's own home still gets its own status
                CliIT.Run own = CliIT.cli(first.home, "status");
                assertEquals(own.out(), 0, own.exit());
                assertTrue(own.out(), own.out().startsWith("Agent    first "));
                // the second agent stops; its home's files name the first one's port, where the first answers: not taken for it
                assertTrue(second.terminate(java.time.Duration.ofSeconds(15)));
                CliIT.Run stopped = CliIT.cli(second.home, "status");
                assertEquals(stopped.out(), 1, stopped.exit());
                assertTrue(stopped.out(), stopped.out().startsWith("The agent answering at http://127.0.0.1:" + first.port + " is the one of "
                        + first.home.toRealPath() + ", not of " + second.home.toRealPath()));
            } finally {
                second.close();
            }
        }
    }
}
