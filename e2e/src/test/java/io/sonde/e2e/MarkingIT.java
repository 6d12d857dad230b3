package io.sonde.e2e;

import static io.sonde.e2e.AgentProcess.value;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.AfterClass;
import org.junit.Assume;
import org.junit.BeforeClass;
import org.junit.Test;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * source_address and dscp as the packets carry them: the built agent probes tcp, http, udp, dns
 * (over UDP and TCP), tls and grpc targets in a network namespace of the test's own (198.19.77.0/24), where nftables counts, by
 * port, every packet that arrives, those from the source address asked for, and those marked EF.
 * The ground truth is the kernel's count at the target, not what the agent says it did.
 */
public class MarkingIT {

    private static final String NS = "sonde-mk";
    private static final String HOST_IF = "smk0";
    private static final String PEER = "198.19.77.2";
    private static final String SOURCE = "198.19.77.11";
    private static final Map<String, Integer> PORTS = Map.of("tcp", 7001, "http", 7002, "udp", 7003, "dns", 7004, "dnstcp", 7005,
            "tls", 7006, "grpc", 7007);
    /** The ports whose packets are UDP; the others' are TCP. */
    private static final java.util.Set<String> UDP = java.util.Set.of("udp", "dns");

    private static AgentProcess agent;
    private static Process servers;
    private static Path work;

    @BeforeClass
    public static void start() throws Exception {
        boolean root = Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("Uid:"))
                .anyMatch(l -> l.split("\\s+")[1].equals("0"));
        Assume.assumeTrue("the marking lab needs root (a network namespace)", root || System.getenv("CI") != null);
        for (String tool : new String[] {"/usr/sbin/nft", "/usr/bin/python3"}) {
            Assume.assumeTrue(tool + " is not installed; CI installs it", new File(tool).canExecute() || System.getenv("CI") != null);
        }
        down();
        work = Files.createTempDirectory("sonde-marking-");
        AgentProcess.output(0, "ip", "netns", "add", NS);
        AgentProcess.output(0, "ip", "link", "add", HOST_IF, "type", "veth", "peer", "name", "smk1");
        AgentProcess.output(0, "ip", "link", "set", "smk1", "netns", NS);
        AgentProcess.output(0, "ip", "addr", "add", "198.19.77.1/24", "dev", HOST_IF);
        AgentProcess.output(0, "ip", "addr", "add", SOURCE + "/24", "dev", HOST_IF);
        AgentProcess.output(0, "ip", "link", "set", HOST_IF, "up");
        inNs("ip", "addr", "add", PEER + "/24", "dev", "smk1");
        inNs("ip", "link", "set", "smk1", "up");
        inNs("ip", "link", "set", "lo", "up");
        StringBuilder nft = new StringBuilder("table inet marking {\n");
        for (Map.Entry<String, Integer> e : PORTS.entrySet()) {
            for (String c : new String[] {"all", "source", "ef"}) {
                nft.append("  counter ").append(e.getKey()).append('_').append(c).append(" { }\n");
            }
        }
        nft.append("  counter icmp_all { }\n  counter icmp_sized { }\n");
        nft.append("  chain input {\n    type filter hook input priority 0; policy accept;\n");
        // an echo request of 1,200 payload bytes is an IP packet of 1,228
        nft.append("    icmp type echo-request counter name icmp_all\n    icmp type echo-request ip length 1228 counter name icmp_sized\n");
        for (Map.Entry<String, Integer> e : PORTS.entrySet()) {
            String proto = UDP.contains(e.getKey()) ? "udp" : "tcp";
            String match = proto + " dport " + e.getValue();
            nft.append("    ").append(match).append(" counter name ").append(e.getKey()).append("_all\n");
            nft.append("    ip saddr ").append(SOURCE).append(' ').append(match).append(" counter name ").append(e.getKey()).append("_source\n");
            nft.append("    ip dscp ef ").append(match).append(" counter name ").append(e.getKey()).append("_ef\n");
        }
        nft.append("  }\n}\n");
        Path rules = Files.writeString(work.resolve("marking.nft"), nft.toString());
        inNs("nft", "-f", rules.toString());
        Path script = Files.writeString(work.resolve("servers.py"), String.join("\n",
                "import socket, threading, http.server",
                "def tcp(port):",
                "    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('" + PEER + "', port)); s.listen(64)",
                "    while True:",
                "        c, _ = s.accept(); c.close()",
                "def udp(port):",
                "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('" + PEER + "', port))",
                "    while True:",
                "        d, a = s.recvfrom(65536); s.sendto(d, a)",
                "def answer(q):", // the query back as an answer with no records: QR set, NOERROR
                "    return q[:2] + bytes([q[2] | 0x80, q[3] & 0xf0]) + q[4:]",
                "def dns_udp(port):",
                "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('" + PEER + "', port))",
                "    while True:",
                "        d, a = s.recvfrom(65536); s.sendto(answer(d), a)",
                "def dns_tcp(port):",
                "    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('" + PEER + "', port)); s.listen(64)",
                "    while True:",
                "        c, _ = s.accept()",
                "        try:",
                "            n = int.from_bytes(c.recv(2, socket.MSG_WAITALL), 'big'); q = c.recv(n, socket.MSG_WAITALL)",
                "            a = answer(q); c.sendall(len(a).to_bytes(2, 'big') + a)",
                "        except Exception:",
                "            pass",
                "        c.close()",
                "class Ok(http.server.BaseHTTPRequestHandler):",
                "    def do_GET(self):",
                "        self.send_response(200); self.send_header('Content-Length', '2'); self.end_headers(); self.wfile.write(b'ok')",
                "    def log_message(self, *a): pass",
                "threading.Thread(target=tcp, args=(" + PORTS.get("tcp") + ",), daemon=True).start()",
                "threading.Thread(target=udp, args=(" + PORTS.get("udp") + ",), daemon=True).start()",
                "threading.Thread(target=dns_udp, args=(" + PORTS.get("dns") + ",), daemon=True).start()",
                "threading.Thread(target=dns_tcp, args=(" + PORTS.get("dnstcp") + ",), daemon=True).start()",
                // tls and grpc meet a server that accepts and closes: their probes fail, every packet they send is counted
                "threading.Thread(target=tcp, args=(" + PORTS.get("tls") + ",), daemon=True).start()",
                "threading.Thread(target=tcp, args=(" + PORTS.get("grpc") + ",), daemon=True).start()",
                "http.server.ThreadingHTTPServer(('" + PEER + "', " + PORTS.get("http") + "), Ok).serve_forever()",
                ""));
        servers = new ProcessBuilder("ip", "netns", "exec", NS, "/usr/bin/python3", script.toString()).redirectErrorStream(true)
                .redirectOutput(work.resolve("servers.log").toFile()).start();
        agent = AgentProcess.start();
    }

    private static String inNs(String... command) throws Exception {
        String[] full = new String[command.length + 4];
        full[0] = "ip";
        full[1] = "netns";
        full[2] = "exec";
        full[3] = NS;
        System.arraycopy(command, 0, full, 4, command.length);
        return AgentProcess.output(0, full);
    }

    private static void down() throws Exception {
        AgentProcess.exitCode("ip", "netns", "del", NS);
        AgentProcess.exitCode("ip", "link", "del", HOST_IF);
    }

    @AfterClass
    public static void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        if (servers != null) {
            servers.destroy();
            servers.waitFor(10, TimeUnit.SECONDS);
        }
        down();
        if (work != null) {
            AgentProcess.run("rm", "-rf", work.toString());
        }
    }

    /** @return each named counter's packets, as nftables in the namespace counted them */
    private static Map<String, Long> counters() throws Exception {
        Map<String, Long> out = new HashMap<>();
        JsonObject doc = JsonParser.parseString(inNs("nft", "-j", "list", "counters")).getAsJsonObject();
        for (JsonElement e : doc.getAsJsonArray("nftables")) {
            JsonObject o = e.getAsJsonObject();
            if (o.has("counter")) {
                JsonObject c = o.getAsJsonObject("counter");
                out.put(c.get("name").getAsString(), c.get("packets").getAsLong());
            }
        }
        return out;
    }

    @Test
    public void everyPacketComesFromTheSourceAndCarriesTheMark() throws Exception {
        agent.write("etc/io.sonde.target-mtcp.cfg", "kind = tcp\nhost = " + PEER + "\nport = " + PORTS.get("tcp")
                + "\ninterval_ms = 500\ntimeout_ms = 400\nsource_address = " + SOURCE + "\ndscp = EF\n");
        agent.write("etc/io.sonde.target-mhttp.cfg", "kind = http\nhost = http://" + PEER + ":" + PORTS.get("http")
                + "/\ninterval_ms = 500\ntimeout_ms = 400\nsource_address = " + SOURCE + "\ndscp = 46\n");
        agent.write("etc/io.sonde.target-mudp.cfg", "kind = udp\nhost = " + PEER + "\nport = " + PORTS.get("udp")
                + "\ninterval_ms = 500\ntimeout_ms = 400\nsource_interface = " + HOST_IF + "\ndscp = ef\n");
        agent.write("etc/io.sonde.target-mdns.cfg", "kind = dns\nhost = " + PEER + "\nport = " + PORTS.get("dns")
                + "\nquery = example.test\ninterval_ms = 500\ntimeout_ms = 400\nsource_address = " + SOURCE + "\ndscp = EF\n");
        agent.write("etc/io.sonde.target-mdnstcp.cfg", "kind = dns\nhost = " + PEER + "\nport = " + PORTS.get("dnstcp")
                + "\nquery = example.test\ntransport = tcp\ninterval_ms = 500\ntimeout_ms = 400\nsource_address = " + SOURCE
                + "\ndscp = EF\n");
        agent.write("etc/io.sonde.target-mtls.cfg", "kind = tls\nhost = " + PEER + "\nport = " + PORTS.get("tls")
                + "\ninterval_ms = 500\ntimeout_ms = 400\nsource_address = " + SOURCE + "\ndscp = EF\n");
        agent.write("etc/io.sonde.target-mgrpc.cfg", "kind = grpc\nhost = " + PEER + "\nport = " + PORTS.get("grpc")
                + "\ninterval_ms = 500\ntimeout_ms = 400\nsource_address = " + SOURCE + "\ndscp = EF\n");
        agent.awaitMetrics(m -> value(m, "probe_total{target=\"mdns\",kind=\"dns\"}") >= 3
                && value(m, "probe_success{target=\"mdns\",kind=\"dns\"}") == 1
                && value(m, "probe_total{target=\"mdnstcp\",kind=\"dns\"}") >= 3
                && value(m, "probe_success{target=\"mdnstcp\",kind=\"dns\"}") == 1
                && value(m, "probe_total{target=\"mtls\",kind=\"tls\"}") >= 3
                && value(m, "probe_total{target=\"mgrpc\",kind=\"grpc\"}") >= 3
                && value(m, "probe_total{target=\"mtcp\",kind=\"tcp\"}") >= 3
                && value(m, "probe_success{target=\"mtcp\",kind=\"tcp\"}") == 1
                && value(m, "probe_total{target=\"mhttp\",kind=\"http\"}") >= 3
                && value(m, "probe_success{target=\"mhttp\",kind=\"http\"}") == 1
                && value(m, "probe_total{target=\"mudp\",kind=\"udp\"}") >= 3
                && value(m, "probe_success{target=\"mudp\",kind=\"udp\"}") == 1);
        for (String name : new String[] {"mtcp", "mhttp", "mudp", "mdns", "mdnstcp", "mtls", "mgrpc"}) {
            Files.delete(agent.home.resolve("etc/io.sonde.target-" + name + ".cfg"));
        }
        Thread.sleep(1000); // probes in flight end; the counters are read once they are still
        Map<String, Long> c = counters();
        for (String kind : PORTS.keySet()) {
            long all = c.get(kind + "_all");
            assertTrue(kind + " reached the namespace: " + c, all >= 3);
            assertEquals(kind + ": every packet marked EF " + c, all, (long) c.get(kind + "_ef"));
        }
        // the others name the address; udp names the interface (which of its two addresses is the system's first: either)
        for (String kind : PORTS.keySet()) {
            if (!kind.equals("udp")) {
                assertEquals(kind + " from " + SOURCE + " " + c, (long) c.get(kind + "_all"), (long) c.get(kind + "_source"));
            }
        }
    }

    /** size: every echo request the target gets is as long as asked, counted by the kernel that receives it. */
    @Test
    public void icmpRequestsAreOfTheSizeAsked() throws Exception {
        agent.write("etc/io.sonde.target-micmp.cfg", "kind = icmp\nhost = " + PEER + "\ninterval_ms = 500\ntimeout_ms = 400\n"
                + "count = 2\nsize = 1200\n");
        agent.awaitMetrics(m -> value(m, "probe_total{target=\"micmp\",kind=\"icmp\"}") >= 2
                && value(m, "probe_success{target=\"micmp\",kind=\"icmp\"}") == 1);
        Files.delete(agent.home.resolve("etc/io.sonde.target-micmp.cfg"));
        Thread.sleep(1000);
        Map<String, Long> c = counters();
        assertTrue("echo requests reached the namespace: " + c, c.get("icmp_all") >= 4);
        assertEquals("every one 1,228 bytes long " + c, c.get("icmp_all"), c.get("icmp_sized"));
    }
}
