package io.sonde.e2e;

import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.io.File;
import java.util.ArrayList;
import java.util.List;

import org.junit.Test;

import com.google.gson.JsonObject;

/**
 * The network between agent and server fails without a word: a firewall (an nftables table of the
 * test's own, as root) drops the agent's packets to the server. The agent spools and says so, and
 * delivers everything once the rule goes. And a server that answers nothing useful is asked again
 * with a growing pause, never in a tight loop.
 */
public class FirewallIT {

    @Test
    public void droppedPacketsAreAnOutageLikeAnyOther() throws Exception {
        assumeTrue("the firewall needs root and nft", "root".equals(System.getProperty("user.name"))
                && new File("/usr/sbin/nft").canExecute() || System.getenv("CI") != null);
        String table = "sonde_e2e_fw_" + ProcessHandle.current().pid();
        try (ServerProcess server = ServerProcess.start("");
                AgentProcess agent = AgentProcess.start();
                CountingListener listener = new CountingListener()) {
            agent.write("etc/io.sonde.agent.cfg", "agent_id = e2e-fw\n");
            agent.write("etc/io.sonde.uplink.cfg", server.uplinkConfig(server.enrollmentToken("{}"), ""));
            agent.awaitLogLine("Enrolled with");
            agent.write("etc/io.sonde.target-fw.cfg", UplinkIT.targetCfg("fw", listener.port(), 100));
            agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_acked_total ") > 20);
            try {
                AgentProcess.run("nft", "add", "table", "inet", table);
                AgentProcess.run("nft", "add", "chain", "inet", table, "out", "{ type filter hook output priority 0 ; }");
                AgentProcess.run("nft", "add", "rule", "inet", table, "out", "ip", "daddr", "127.0.0.1", "tcp", "dport",
                        String.valueOf(server.port), "drop");
                agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_up ") == 0
                        && AgentProcess.value(m, "sonde_spool_records ") > 50);
                agent.awaitLogLine("Uplink to " + server.url(), "cannot reach the server");
            } finally {
                AgentProcess.run("nft", "delete", "table", "inet", table);
            }
            agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_up ") == 1 && AgentProcess.value(m, "sonde_spool_records ") < 20);
            agent.awaitLogLine("works again");
            java.nio.file.Files.delete(agent.home.resolve("etc/io.sonde.target-fw.cfg"));
            Thread.sleep(1500);
            UplinkIT.awaitDrained(agent);
            List<JsonObject> results = server.results("e2e-fw", "fw");
            UplinkIT.assertIdentitiesContiguous(server.results("e2e-fw", null));
            assertTrue("results: " + results.size(), results.size() >= listener.accepted.get() - 1);
        }
    }

    @Test
    public void aServerThatDoesNotWorkIsAskedAgainWithGrowingPauses() throws Exception {
        try (AgentProcess agent = AgentProcess.start(); CountingListener fake = new CountingListener()) {
            // accepts and closes: every attempt fails in the TLS handshake
            agent.write("etc/io.sonde.uplink.cfg", "server_url = https://127.0.0.1:" + fake.port() + "\nenrollment_token = t\n"
                    + "server_ca_sha256 = " + "00".repeat(32) + "\n");
            agent.awaitLogLine("Uplink to https://127.0.0.1:" + fake.port());
            // backoff 1, 2, 4, 8 s, each shortened by jitter to no less than half: wait for five attempts (a connection
            // or two each, close together), then each pause is at least half its step, where a tight loop makes none
            List<Long> attempts = new ArrayList<>();
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(120);
            while (attempts.size() < 5 && System.nanoTime() < deadline) {
                Thread.sleep(200);
                attempts.clear();
                for (long t : fake.times) {
                    if (attempts.isEmpty() || t - attempts.get(attempts.size() - 1) > 300_000_000L) {
                        attempts.add(t);
                    }
                }
            }
            assertTrue("five attempts: " + attempts.size(), attempts.size() >= 5);
            for (int k = 1; k < 5; k++) {
                double pause = (attempts.get(k) - attempts.get(k - 1)) / 1e9;
                double step = Math.pow(2, k - 1);
                assertTrue("pause " + k + " is " + pause + " s, at least half of " + step + " s", pause >= step / 2 - 0.35);
            }
            assertTrue("no log line per attempt", agent.countLogLines("Uplink to https://127.0.0.1:" + fake.port()) <= 5);
        }
    }
}
