package io.sonde.e2e;

import static io.sonde.e2e.AgentProcess.value;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import io.sonde.plugin.dns.testing.TestDnsServer;

/**
 * The DNS plugin, a third-party style bundle with a library bundle of its own (dnsjava), in the
 * built agent: it probes a DNS server the test starts, and it can be taken out of plugins/ and
 * dropped back in, the plugin before its library, while the agent runs.
 */
public class DnsIT {

    private static AgentProcess agent;
    private static TestDnsServer server;

    @BeforeClass
    public static void start() throws Exception {
        server = new TestDnsServer().add("www.example.test.", "A", "192.0.2.10").add("www.example.test.", "A", "192.0.2.11");
        agent = AgentProcess.start();
    }

    @AfterClass
    public static void stop() throws Exception {
        agent.close();
        server.close();
    }

    @Test
    public void probesAndSurvivesBeingRedeployedPluginFirst() throws Exception {
        agent.write("etc/io.sonde.target-resolver.cfg", "kind = dns\nhost = 127.0.0.1\nport = " + server.port()
                + "\nquery = www.example.test\ninterval_ms = 500\ntimeout_ms = 400\n");
        agent.write("etc/io.sonde.target-missing.cfg", "kind = dns\nhost = 127.0.0.1\nport = " + server.port()
                + "\nquery = missing.example.test\ninterval_ms = 500\ntimeout_ms = 400\n");
        // a scrape is not one instant: a result that lands while it is written can show in probe_success (written
        // last) and not yet in the kind's own families (written before), so the answers are awaited in the same scrape
        String m = agent.awaitMetrics(p -> value(p, "probe_success{target=\"resolver\",kind=\"dns\"}") == 1.0
                && !Double.isNaN(value(p, "probe_dns_answer_rrs{target=\"resolver\",kind=\"dns\"}"))
                && value(p, "probe_failure_total{target=\"missing\",kind=\"dns\",reason=\"status\"}") >= 1);
        assertEquals(2, value(m, "probe_dns_answer_rrs{target=\"resolver\",kind=\"dns\"}"), 0);
        assertEquals(3, value(m, "probe_dns_rcode{target=\"missing\",kind=\"dns\"}"), 0); // NXDOMAIN
        assertEquals(0, value(m, "probe_success{target=\"missing\",kind=\"dns\"}"), 0);

        // take both bundles away: the targets wait for a prober
        Path plugin = agent.home.resolve("plugins/io.sonde.plugin.dns.jar");
        Path library = agent.home.resolve("plugins/dnsjava.jar");
        Path aside = Files.createTempDirectory(agent.home, "aside");
        Files.move(plugin, aside.resolve(plugin.getFileName()));
        Files.move(library, aside.resolve(library.getFileName()));
        agent.awaitMetrics(p -> value(p, "sonde_targets{state=\"no_prober\",}") >= 2);
        int queries = server.udpQueries();
        // /probe says why it cannot answer for the module of a kind that is gone
        java.net.http.HttpResponse<String> gone = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest
                .newBuilder(java.net.URI.create("http://127.0.0.1:" + agent.port + "/probe?module=dns_udp&target=127.0.0.1:"
                        + server.port())).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(gone.body(), 503, gone.statusCode());
        assertTrue(gone.body(), gone.body().endsWith("no prober of kind 'dns' is installed\n"));

        // an operator drops the plugin in first, its library a moment later
        Files.copy(aside.resolve(plugin.getFileName()), agent.home.resolve("plugins/.dns.tmp"));
        Files.move(agent.home.resolve("plugins/.dns.tmp"), plugin, StandardCopyOption.ATOMIC_MOVE);
        Thread.sleep(1500);
        Files.copy(aside.resolve(library.getFileName()), agent.home.resolve("plugins/.dnsjava.tmp"));
        Files.move(agent.home.resolve("plugins/.dnsjava.tmp"), library, StandardCopyOption.ATOMIC_MOVE);
        // all three probed again ('missing', failing with NXDOMAIN, may be in backoff by now)
        agent.awaitMetrics(p -> value(p, "sonde_targets{state=\"no_prober\",}") == 0
                && value(p, "sonde_targets{state=\"active\",}") + value(p, "sonde_targets{state=\"backoff\",}") >= 3);
        long deadline = System.nanoTime() + AgentProcess.PATIENCE.toNanos();
        while (server.udpQueries() <= queries + 2 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertTrue("the redeployed plugin asks the server again", server.udpQueries() > queries + 2);
        for (String name : new String[] {"resolver", "missing"}) {
            Files.delete(agent.home.resolve("etc/io.sonde.target-" + name + ".cfg"));
        }
    }
}
