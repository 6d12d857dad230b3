package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.Test;

/**
 * {@code ip_version = both}: a target probed over IPv4 and over IPv6 each round, as two targets
 * ({@code lo/ipv4}, {@code lo/ipv6}) with the label {@code ip_version}. The peer, listening on both
 * loopback addresses, counts the connections that came from each family; the agent's /metrics has
 * a series of each (promtool checks the exposition), and a target that sets both with a label of
 * the same name has it replaced, not doubled.
 */
public class DualStackIT {

    @Test
    public void bothFamiliesAreProbedEachAsASeriesOfItsOwn() throws Exception {
        Map<String, AtomicInteger> from = new ConcurrentHashMap<>();
        try (ServerSocket v4 = new ServerSocket(); ServerSocket v6 = new ServerSocket()) {
            v4.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0));
            v6.bind(new InetSocketAddress(InetAddress.getByName("::1"), v4.getLocalPort()));
            for (ServerSocket s : new ServerSocket[] {v4, v6}) {
                Thread t = new Thread(() -> {
                    while (!s.isClosed()) {
                        try (Socket c = s.accept()) {
                            String family = c.getInetAddress() instanceof Inet6Address ? "6" : "4";
                            from.computeIfAbsent(family, k -> new AtomicInteger()).incrementAndGet();
                        } catch (java.io.IOException closed) {
                            return;
                        }
                    }
                }, "dual-stack-peer");
                t.setDaemon(true);
                t.start();
            }
            int port = v4.getLocalPort();
            try (AgentProcess agent = AgentProcess.start(Map.of("etc/io.sonde.target-lo.cfg", "kind = tcp\nhost = localhost\nport = " + port
                    + "\ninterval_ms = 500\nip_version = both\nlabels = team=ops, ip_version=x\n"))) {
                String m = agent.awaitMetrics(p -> p.contains("probe_success{target=\"lo/ipv4\",kind=\"tcp\",ip_version=\"4\",team=\"ops\"} 1")
                        && p.contains("probe_success{target=\"lo/ipv6\",kind=\"tcp\",ip_version=\"6\",team=\"ops\"} 1"));
                AgentProcess.promtool(m);
                assertTrue(m, !m.contains("target=\"lo\""));
                // what the peer saw: connections of both families, as many as the agent counted for each
                double v4Probes = AgentProcess.value(m, "probe_total{target=\"lo/ipv4\",kind=\"tcp\",ip_version=\"4\",team=\"ops\"}");
                double v6Probes = AgentProcess.value(m, "probe_total{target=\"lo/ipv6\",kind=\"tcp\",ip_version=\"6\",team=\"ops\"}");
                assertTrue(m, v4Probes >= 1 && v6Probes >= 1);
                assertTrue(from.toString(), from.get("4").get() >= v4Probes && from.get("6").get() >= v6Probes);
                String status = agent.status();
                assertTrue(status, status.contains("lo/ipv4") && status.contains("lo/ipv6"));
            }
        }
        assertEquals(java.util.Set.of("4", "6"), from.keySet());
    }
}
