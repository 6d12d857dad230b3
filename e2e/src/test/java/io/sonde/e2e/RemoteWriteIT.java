package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.util.List;
import java.util.function.DoublePredicate;

import org.junit.Test;

import com.google.gson.JsonObject;

/**
 * The server forwards every stored result to a real Prometheus's remote-write receiver, through
 * its durable queue: Prometheus away and the server SIGKILLed meanwhile, then back — in the end
 * what the target counted is what the server stored is what Prometheus holds, sample for sample;
 * and a backlog that outgrows its bound drops its oldest, counted, to the result; a wrong setting
 * is named and leaves the server running without it.
 */
public class RemoteWriteIT {

    static final int TARGETS = 5;

    @Test
    public void whatTheTargetSawIsStoredAndInPrometheusThroughItsAbsenceAndAServerCrash() throws Exception {
        try (PrometheusServer prom = PrometheusServer.on(AgentProcess.freePort()).start();
                ServerProcess server = ServerProcess.prepared("");
                AgentProcess agent = AgentProcess.start();
                CountingListener target = new CountingListener()) {
            Files.writeString(server.home.resolve("etc/io.sonde.server.remotewrite.cfg"),
                    "url = " + prom.writeUrl() + "\nlabels = region=lab\n");
            server.launch();
            server.awaitLogLine("Remote write to " + prom.writeUrl());
            agent.write("etc/io.sonde.agent.cfg", "agent_id = rw-1\n");
            agent.write("etc/io.sonde.uplink.cfg", server.uplinkConfig(server.enrollmentToken("{}"), ""));
            agent.awaitLogLine("Enrolled with " + server.url() + " as agent rw-1");
            agent.write("etc/targets.json", UplinkIT.targetsFile(TARGETS, target.port(), 200));
            agent.write("etc/io.sonde.agent.cfg", "agent_id = rw-1\ntargets_file = etc/targets.json\n");
            String inPrometheus = "sum(count_over_time(sonde_probe_success{agent=\"rw-1\",target=~\"t[0-9]+\"}[1h]))";
            awaitQuery(prom, inPrometheus, v -> v >= 50);

            prom.stop(); // the receiver goes away; the results wait in the server's queue
            awaitMetric(server, "sonde_server_remote_write_backlog_results ", v -> v >= 100);
            // the backlog may pass 100 while the first write to the stopped receiver is still on its way: its failure is awaited
            server.awaitLogLine("Remote write to " + prom.writeUrl() + " failed");
            server.kill(); // and the server dies with a backlog on disk
            server.launch();
            awaitMetric(server, "sonde_server_remote_write_backlog_results ", v -> v >= 100);
            double backAfterCrash = value(server, "sonde_server_remote_write_backlog_results ");
            agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_up ") == 1);
            prom.start();
            awaitMetric(server, "sonde_server_remote_write_sent_results_total ", v -> v >= backAfterCrash);

            agent.write("etc/io.sonde.agent.cfg", "agent_id = rw-1\n"); // the targets go
            Thread.sleep(1500);
            UplinkIT.awaitDrained(agent);
            awaitMetric(server, "sonde_server_remote_write_backlog_results ", v -> v == 0);

            List<JsonObject> stored = server.results("rw-1", null);
            long storedCount = stored.stream().filter(r -> r.get("target").getAsString().matches("t[0-9]+")).count();
            long storedSuccesses = stored.stream().filter(r -> r.get("target").getAsString().matches("t[0-9]+")
                    && r.get("success").getAsBoolean()).count();
            long saw = target.accepted.get();
            double promCount = prom.scalar(inPrometheus);
            double promSuccesses = prom.scalar("sum(sum_over_time(sonde_probe_success{agent=\"rw-1\",target=~\"t[0-9]+\"}[1h]))");
            System.out.println("FIGURE remote write: target saw " + saw + " connections, server stored " + storedSuccesses + " successes of "
                    + storedCount + " results, Prometheus holds " + (long) promCount + " results (" + (long) promSuccesses + " successes); "
                    + (long) backAfterCrash + " waited through the server's crash");
            assertTrue("stored " + storedSuccesses + " of " + saw + " connections", storedSuccesses <= saw && saw - storedSuccesses <= TARGETS);
            assertTrue(saw + " connections", saw > 300);
            assertEquals("Prometheus holds each stored result once", storedCount, promCount, 0);
            assertEquals(storedSuccesses, promSuccesses, 0);
            assertEquals("every series has the configured label", storedCount,
                    prom.scalar("sum(count_over_time(sonde_probe_duration_seconds{agent=\"rw-1\",region=\"lab\",kind=\"tcp\"," +
                            "target=~\"t[0-9]+\"}[1h]))"), 0);
            double full = value(server, "sonde_server_remote_write_dropped_results_total{reason=\"full\",} ");
            double age = value(server, "sonde_server_remote_write_dropped_results_total{reason=\"age\",} ");
            assertEquals("nothing dropped for the bound", 0, full + age, 0);
        }
    }

    @Test
    public void aBacklogBeyondItsBoundDropsItsOldestCountedAndSendsTheRest() throws Exception {
        int port = AgentProcess.freePort();
        try (PrometheusServer prom = PrometheusServer.on(port);
                ServerProcess server = ServerProcess.prepared("");
                AgentProcess agent = AgentProcess.start();
                CountingListener target = new CountingListener()) {
            // a wrong setting is named, and the server runs without remote write until it is put right
            Files.writeString(server.home.resolve("etc/io.sonde.server.remotewrite.cfg"), "url = ftp://" + prom.writeUrl().substring(7) + "\n");
            server.launch();
            server.awaitLogLine("Remote write is off: etc/io.sonde.server.remotewrite.cfg: url: 'ftp://");
            Files.writeString(server.home.resolve("etc/io.sonde.server.remotewrite.cfg"), "url = " + prom.writeUrl()
                    + "\nlabels = agent=x\n");
            server.awaitLogLine("Remote write is off: etc/io.sonde.server.remotewrite.cfg: labels: 'agent' is set by Sonde");
            assertEquals(200, server.get("/healthz").statusCode());
            Files.writeString(server.home.resolve("etc/io.sonde.server.remotewrite.cfg"),
                    "url = " + prom.writeUrl() + "\nmax_backlog_bytes = 262144\n");
            server.awaitLogLine("Remote write to " + prom.writeUrl() + ": 0 results waiting");
            agent.write("etc/io.sonde.agent.cfg", "agent_id = rw-2\n");
            agent.write("etc/io.sonde.uplink.cfg", server.uplinkConfig(server.enrollmentToken("{}"), ""));
            agent.awaitLogLine("Enrolled with " + server.url() + " as agent rw-2");
            agent.write("etc/targets.json", UplinkIT.targetsFile(20, target.port(), 100));
            agent.write("etc/io.sonde.agent.cfg", "agent_id = rw-2\ntargets_file = etc/targets.json\n");
            String full = "sonde_server_remote_write_dropped_results_total{reason=\"full\",} ";
            awaitMetric(server, full, v -> v >= 200); // nobody listens there yet
            assertTrue(value(server, "sonde_server_remote_write_backlog_bytes ") <= 262144);
            prom.start();
            agent.write("etc/io.sonde.agent.cfg", "agent_id = rw-2\n");
            Thread.sleep(1500);
            UplinkIT.awaitDrained(agent);
            awaitMetric(server, "sonde_server_remote_write_backlog_results ", v -> v == 0);

            double ingested = value(server, "sonde_server_ingested_results_total ");
            double sent = value(server, "sonde_server_remote_write_sent_results_total ");
            double dropped = value(server, full);
            double skipped = value(server, "sonde_server_remote_write_skipped_results_total ");
            double rejected = value(server, "sonde_server_remote_write_dropped_results_total{reason=\"rejected\",} ");
            System.out.println("FIGURE remote write bound: " + (long) ingested + " stored, " + (long) sent + " sent, " + (long) dropped
                    + " dropped for the 256 KiB bound, " + (long) skipped + " skipped, " + (long) rejected + " refused");
            assertEquals("each stored result is sent or counted", ingested, sent + dropped + skipped + rejected, 0);
            assertEquals("Prometheus holds what was sent", sent,
                    prom.scalar("sum(count_over_time(sonde_probe_success{agent=\"rw-2\"}[1h]))"), 0);
            assertTrue("the oldest went: Prometheus misses the first results", prom.scalar(
                    "sum(count_over_time(sonde_probe_success{agent=\"rw-2\",target=~\"t[0-9]+\"}[1h]))") < target.accepted.get());
        }
    }

    private static double value(ServerProcess server, String prefix) throws Exception {
        return AgentProcess.value(server.get("/metrics").body(), prefix);
    }

    private static void awaitMetric(ServerProcess server, String prefix, DoublePredicate condition) throws Exception {
        double v = Double.NaN;
        for (int i = 0; i < 600; i++) {
            v = value(server, prefix);
            if (condition.test(v)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(prefix + "is " + v + " after a minute; the server's log:\n" + server.log());
    }

    private static void awaitQuery(PrometheusServer prom, String promql, DoublePredicate condition) throws Exception {
        double v = Double.NaN;
        for (int i = 0; i < 600; i++) {
            v = prom.scalar(promql);
            if (condition.test(v)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(promql + " is " + v + " after a minute; prometheus's log:\n" + prom.log());
    }
}
