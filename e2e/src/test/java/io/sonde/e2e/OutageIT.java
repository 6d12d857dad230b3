package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.util.Set;

import org.junit.Test;

/**
 * Nothing lost, nothing twice: the server goes away (SIGKILL) while results flow, the agent is
 * killed (SIGKILL) during the outage and started again, the server comes back and is killed again
 * in the middle of the backlog's delivery; in the end every (agent, epoch) has its sequence whole.
 */
public class OutageIT {

    @Test
    public void outagesAndKillsLoseNothingAndStoreNothingTwice() throws Exception {
        try (ServerProcess server = ServerProcess.start("");
                AgentProcess agent = AgentProcess.start();
                CountingListener listener = new CountingListener()) {
            agent.write("etc/io.sonde.agent.cfg", "agent_id = e2e-outage\n");
            String token = server.enrollmentToken("{}");
            agent.write("etc/io.sonde.uplink.cfg", server.uplinkConfig(token, "batch_max_results = 500\n"));
            agent.awaitLogLine("Enrolled with");
            agent.write("etc/targets.json", UplinkIT.targetsFile(40, listener.port(), 100));
            agent.write("etc/io.sonde.agent.cfg", "agent_id = e2e-outage\ntargets_file = etc/targets.json\n");
            agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_acked_total ") > 500);

            // the server dies mid-stream: the agent keeps probing and spools
            server.kill();
            String during = agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_up ") == 0
                    && AgentProcess.value(m, "sonde_spool_records ") > 1000 && AgentProcess.value(m, "sonde_spool_oldest_seconds ") > 3);
            // probing goes on while the uploads fail: results keep coming, every target's
            double produced = AgentProcess.value(during, "sonde_results_total ");
            agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_results_total ") >= produced + 200);
            agent.awaitLogLine("Uplink to " + server.url(), "cannot reach the server");

            // the agent dies during the outage and comes back on its spool
            String epoch = Files.readString(agent.home.resolve("data/spool/epoch")).strip();
            agent.kill();
            agent.launch();
            agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_spool_records ") > 1000);
            assertEquals("the spool keeps its epoch", epoch, Files.readString(agent.home.resolve("data/spool/epoch")).strip());

            // the server comes back and is killed in the middle of the backlog
            server.launch();
            agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_acked_total ") > 1000);
            server.kill();
            Thread.sleep(1500);
            server.launch();

            // everything arrives; then the targets stop and the last results drain
            assertEquals("one spool, one epoch, across the kill", Set.of(epoch),
                    UplinkIT.stopAndCheckEverythingArrived(agent, server, "e2e-outage", 3000));
            // what the server saw twice it stored once: each number once (checked above, with what the kill lost missing
            // exactly as the agent counted it), and the server's own count of what it stored agrees with the results there
            com.google.gson.JsonObject seq = server.json(server.admin("GET", "/api/v1/agents/e2e-outage", null)).getAsJsonObject("sequence");
            com.google.gson.JsonObject e = seq.getAsJsonArray("epochs").get(0).getAsJsonObject();
            assertEquals(seq.toString(), server.results("e2e-outage", null).size(), e.get("stored").getAsLong());
        }
    }
}
