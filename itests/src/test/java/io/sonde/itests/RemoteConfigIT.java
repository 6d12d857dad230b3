package io.sonde.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.ServiceRegistration;

import io.sonde.agent.spi.RemoteConfig;

/**
 * The server's document as the uplink hands it over, in a real framework: the core takes its
 * targets beside the ConfigAdmin ones and reports back what it applied and refused, a new document
 * replaces the old without touching the targets that stayed, the responder opens the ports the
 * document names, and when the service goes its targets go.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class RemoteConfigIT extends AgentTestSupport {

    @Configuration
    public Option[] config() {
        return agent();
    }

    /** A document holder as the uplink registers one. */
    static final class Holder implements RemoteConfig {
        volatile Document document;
        final List<String> reports = new CopyOnWriteArrayList<>();

        @Override
        public Document document() {
            return document;
        }

        @Override
        public void updated(List<BundleUpdate> updates) {
            reports.add("updates " + updates);
        }

        @Override
        public void applied(String version, List<Rejected> rejected) {
            reports.add(version + " " + rejected);
        }

        @Override
        public long delivered() {
            return 0;
        }
    }

    static Dictionary<String, Object> props(RemoteConfig.Document doc) {
        Dictionary<String, Object> p = new Hashtable<>();
        p.put(RemoteConfig.VERSION, doc.version());
        p.put(RemoteConfig.ORIGIN, doc.origin());
        return p;
    }

    void awaitReport(Holder h, String prefix) throws InterruptedException {
        for (int i = 0; i < 200 && h.reports.stream().noneMatch(r -> r.startsWith(prefix)); i++) {
            Thread.sleep(50);
        }
        assertTrue(h.reports.toString(), h.reports.stream().anyMatch(r -> r.startsWith(prefix)));
    }

    @Test
    public void theDocumentsTargetsAreAppliedReportedReplacedAndRemovedWithTheService() throws Exception {
        int open = openPort();
        int responder = closedPort();
        target("local", "name", "local", "kind", "tcp", "host", "127.0.0.1", "port", String.valueOf(open), "interval_ms", "200",
                "timeout_ms", "100");
        Holder h = new Holder();
        h.document = new RemoteConfig.Document("v1", "{\"schema\":1,\"agent_id\":\"x\",\"version\":\"v1\",\"targets\":["
                + "{\"name\":\"remote\",\"kind\":\"tcp\",\"host\":\"127.0.0.1\",\"port\":" + open + ",\"interval_ms\":200,\"timeout_ms\":100},"
                + "{\"name\":\"local\",\"kind\":\"tcp\",\"host\":\"127.0.0.1\",\"port\":1,\"interval_ms\":200,\"timeout_ms\":100},"
                + "{\"name\":\"odd\",\"kind\":\"gopher\",\"host\":\"127.0.0.1\"}],"
                + "\"responder\":{\"ports\":[" + responder + "]}}", RemoteConfig.SERVER_CACHE);
        ServiceRegistration<RemoteConfig> reg = context.registerService(RemoteConfig.class, h, props(h.document));
        try {
            String m = awaitMetrics(x -> value(x, "probe_success{target=\"remote\",kind=\"tcp\"}") == 1.0
                    && value(x, "probe_success{target=\"local\",kind=\"tcp\"}") == 1.0
                    && value(x, "sonde_config_source{source=\"server-cache\",}") == 1.0);
            assertEquals(2.0, value(m, "sonde_config_server_rejected"), 0);
            awaitReport(h, "v1 ");
            String report = h.reports.get(h.reports.size() - 1);
            assertTrue(report, report.contains("Rejected[name=local, reason=server document targets[1] \"local\": key 'name':"
                    + " 'local' is already used by"));
            assertTrue(report, report.contains("the local definition is in force"));
            assertTrue(report, report.contains("Rejected[name=odd, reason=no_prober: no installed plugin registers probe.type=gopher]"));

            // the responder answers the udp kind's datagrams on the document's port
            awaitMetrics(x -> value(x, "sonde_responder_ports") == 1.0);
            try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
                s.setSoTimeout(2000);
                byte[] q = ByteBuffer.allocate(32).put("SONDE-UD".getBytes(StandardCharsets.US_ASCII)).putLong(7).putLong(9).array();
                s.send(new DatagramPacket(q, q.length, InetAddress.getLoopbackAddress(), responder));
                DatagramPacket a = new DatagramPacket(new byte[64], 64);
                s.receive(a);
                assertEquals(32, a.getLength());
            }

            // the server's own copy of the same: only the source changes; then a new version, one target more
            double before = value(metrics(), "probe_total{target=\"remote\",kind=\"tcp\"}");
            h.document = new RemoteConfig.Document("v1", h.document.json(), RemoteConfig.SERVER);
            reg.setProperties(props(h.document));
            awaitMetrics(x -> value(x, "sonde_config_source{source=\"server\",}") == 1.0
                    && value(x, "sonde_config_source{source=\"server-cache\",}") == 0.0);
            h.document = new RemoteConfig.Document("v2", "{\"schema\":1,\"version\":\"v2\",\"targets\":["
                    + "{\"name\":\"remote\",\"kind\":\"tcp\",\"host\":\"127.0.0.1\",\"port\":" + open + ",\"interval_ms\":200,\"timeout_ms\":100},"
                    + "{\"name\":\"second\",\"kind\":\"tcp\",\"host\":\"127.0.0.1\",\"port\":" + open + ",\"interval_ms\":200,\"timeout_ms\":100}]}",
                    RemoteConfig.SERVER);
            reg.setProperties(props(h.document));
            m = awaitMetrics(x -> value(x, "probe_success{target=\"second\",kind=\"tcp\"}") == 1.0
                    && value(x, "sonde_responder_ports") == 0.0);
            assertTrue("the target that stayed kept its series", value(m, "probe_total{target=\"remote\",kind=\"tcp\"}") >= before);
            awaitReport(h, "v2 []");
        } finally {
            reg.unregister();
        }
        awaitMetrics(x -> !x.contains("target=\"remote\"") && !x.contains("target=\"second\"")
                && value(x, "probe_success{target=\"local\",kind=\"tcp\"}") == 1.0
                && value(x, "sonde_config_source{source=\"server\",}") == 0.0);
    }
}
