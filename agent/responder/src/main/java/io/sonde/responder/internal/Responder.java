package io.sonde.responder.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import io.prometheus.client.Collector;
import io.prometheus.client.CounterMetricFamily;
import io.prometheus.client.GaugeMetricFamily;
import io.sonde.agent.spi.RemoteConfig;

/**
 * What mesh peers probe: on each port the server's document asks for (its meshes'
 * {@code responder_port}), a UDP echo of the udp kind's datagrams and a TCP listener that takes a
 * connection and closes it. Never an amplifier: an echo is the datagram it answers, byte for byte;
 * only datagrams of the udp kind are answered, never one from a responder port (two responders
 * cannot be set to answer each other); answers are rate-limited in all and per source. One thread.
 */
@Component(configurationPid = ResponderConfig.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL,
        service = Collector.class, immediate = true)
@Designate(ocd = ResponderConfig.class)
public final class Responder extends Collector {

    private static final Logger LOG = LoggerFactory.getLogger(Responder.class);
    /** Most ports one agent opens for its meshes. */
    static final int MAX_PORTS = 8;
    /** How often ports that could not be opened are tried again. */
    static final long RETRY_MS = 30_000;
    /**
     * The echo protocol's request, as the udp plugin sends it (its UdpConnectResult keeps the same two constants, the
     * client's side of one wire format): a magic of 8 ASCII bytes, and at least 24 bytes.
     */
    private static final byte[] MAGIC = "SONDE-UD".getBytes(StandardCharsets.US_ASCII);
    private static final int ECHO_MIN_BYTES = 24;

    /** The listeners of one port. */
    private record Port(DatagramChannel udp, ServerSocketChannel tcp) {
    }

    private final ResponderConfig config;
    private final Selector selector;
    private final Thread thread;
    private final RateLimit limit;
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(65536);
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final Map<Integer, Port> open = new HashMap<>(); // the thread's
    private final Set<Integer> failed = new TreeSet<>();
    private final Map<String, java.util.concurrent.atomic.AtomicLong> counts = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile boolean running = true;
    private volatile int listening;
    private Set<Integer> wanted = Set.of(); // the thread's
    /** The ports of the file, which win over the server's; none: the server's. */
    private final Set<Integer> local;
    private long nextRetry;

    @Activate
    public Responder(ResponderConfig config) throws IOException {
        this.config = config;
        this.limit = new RateLimit(config.max__per__s(), config.max__per__source__per__s(), System::nanoTime);
        this.selector = Selector.open();
        this.thread = io.sonde.base.DaemonThreads.of("sonde-responder", this::loop);
        this.thread.start();
        Set<Integer> fromFile = Set.of();
        try {
            fromFile = ports(config.ports(), "etc/" + ResponderConfig.PID + ".cfg: key 'ports'");
        } catch (IllegalArgumentException e) {
            LOG.error("Configuration error: {}; the responder opens the server's ports only", e.getMessage());
        }
        this.local = fromFile;
        if (!local.isEmpty()) {
            submit(() -> reconcile(local, "etc/" + ResponderConfig.PID + ".cfg"));
        }
    }

    @Deactivate
    void deactivate() throws InterruptedException {
        running = false;
        selector.wakeup();
        thread.join(2000);
        for (Port p : open.values()) {
            close(p);
        }
        try {
            selector.close();
        } catch (IOException e) {
            // closing
        }
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void setRemoteConfig(RemoteConfig remote) {
        document(remote.document());
    }

    /** For tests: what the metrics say, {@code proto/outcome} to count. */
    Map<String, Long> counts() {
        Map<String, Long> out = new java.util.TreeMap<>();
        counts.forEach((k, v) -> out.put(k.replace('\u0000', '/'), v.get()));
        return out;
    }

    /** For tests: the ports listened on now. */
    int listening() {
        return listening;
    }

    /** For tests: takes a document as the service would give it. */
    void takeDocument(RemoteConfig.Document doc) {
        document(doc);
    }

    void updatedRemoteConfig(RemoteConfig remote) {
        document(remote.document());
    }

    void unsetRemoteConfig(RemoteConfig remote) {
        submit(() -> reconcile(Set.of(), "no server document"));
    }

    /** The ports the document asks for; a document that says it badly changes nothing and is said. */
    private void document(RemoteConfig.Document doc) {
        if (doc == null) {
            return;
        }
        Set<Integer> ports;
        try {
            ports = documentPorts(doc.json());
        } catch (IllegalArgumentException e) {
            LOG.warn("Configuration error: server document {}: key 'responder': {}; the responder keeps its ports", doc.version(),
                    e.getMessage());
            return;
        }
        submit(() -> reconcile(ports, "server document " + doc.version()));
    }

    /** @return the ports of a document's {@code responder.ports}, none when it has no responder */
    static Set<Integer> documentPorts(String json) {
        JsonObject doc = JsonParser.parseString(json).getAsJsonObject();
        JsonElement r = doc.get("responder");
        if (r == null || r.isJsonNull()) {
            return Set.of();
        }
        JsonElement ports = r.isJsonObject() ? r.getAsJsonObject().get("ports") : null;
        if (ports == null || !ports.isJsonArray()) {
            throw new IllegalArgumentException("must be {\"ports\": [...]}");
        }
        StringBuilder text = new StringBuilder();
        for (JsonElement p : ports.getAsJsonArray()) {
            text.append(text.length() == 0 ? "" : ",").append(p.isJsonPrimitive() ? p.getAsString() : p.toString());
        }
        return ports(text.toString(), "ports");
    }

    /** @return the ports of a comma-separated list, each 1-65535, at most {@link #MAX_PORTS} */
    static Set<Integer> ports(String text, String where) {
        Set<Integer> out = new TreeSet<>();
        for (String part : text.split(",")) {
            if (part.isBlank()) {
                continue;
            }
            int port;
            try {
                port = Integer.parseInt(part.strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(where + ": '" + part.strip() + "' is not a port number");
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException(where + ": " + port + " is not a port number (1-65535)");
            }
            out.add(port);
        }
        if (out.size() > MAX_PORTS) {
            throw new IllegalArgumentException(where + ": " + out.size() + " ports, at most " + MAX_PORTS);
        }
        return out;
    }

    private void submit(Runnable task) {
        tasks.add(task);
        selector.wakeup();
    }

    // --- the responder's thread ---

    /** Opens the ports wanted now (the file's, else the server's) and closes the others. */
    private void reconcile(Set<Integer> ports, String why) {
        Set<Integer> next = local.isEmpty() ? ports : local;
        if (next.equals(wanted) && failed.isEmpty()) {
            return;
        }
        wanted = next;
        for (Integer port : new ArrayList<>(open.keySet())) {
            if (!next.contains(port)) {
                close(open.remove(port));
                LOG.info("Responder closed port {} ({})", port, why);
            }
        }
        failed.clear();
        for (Integer port : next) {
            if (!open.containsKey(port)) {
                try {
                    open.put(port, listen(port));
                    LOG.info("Responder answers UDP echo and TCP on {}:{} ({}), at most {}/s and {}/s per source", bindText(), port,
                            why, config.max__per__s(), config.max__per__source__per__s());
                } catch (IOException e) {
                    failed.add(port);
                    LOG.error("Responder cannot listen on {}:{} ({}); mesh peers' tcp and udp probes of this agent fail until it"
                            + " can (tried again every {} s)", bindText(), port, e.getMessage(), RETRY_MS / 1000);
                }
            }
        }
        nextRetry = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RETRY_MS);
        listening = open.size();
    }

    private String bindText() {
        return config.bind().isBlank() ? "*" : config.bind().strip();
    }

    private Port listen(int port) throws IOException {
        InetSocketAddress at = config.bind().isBlank() ? new InetSocketAddress(port)
                : new InetSocketAddress(InetAddress.getByName(config.bind().strip()), port);
        DatagramChannel udp = DatagramChannel.open();
        ServerSocketChannel tcp = null;
        try {
            udp.bind(at);
            udp.configureBlocking(false);
            tcp = ServerSocketChannel.open();
            tcp.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            tcp.bind(at, 128);
            tcp.configureBlocking(false);
            udp.register(selector, SelectionKey.OP_READ);
            tcp.register(selector, SelectionKey.OP_ACCEPT);
            return new Port(udp, tcp);
        } catch (IOException e) {
            udp.close();
            if (tcp != null) {
                tcp.close();
            }
            throw e;
        }
    }

    private static void close(Port p) {
        try {
            p.udp().close();
        } catch (IOException e) {
            // closing
        }
        try {
            p.tcp().close();
        } catch (IOException e) {
            // closing
        }
    }

    private void loop() {
        while (running) {
            try {
                selector.select(1000);
                for (Runnable task; (task = tasks.poll()) != null;) {
                    task.run();
                }
                var keys = selector.selectedKeys().iterator();
                while (keys.hasNext()) {
                    SelectionKey key = keys.next();
                    keys.remove();
                    if (!key.isValid()) {
                        continue;
                    }
                    if (key.channel() instanceof DatagramChannel udp) {
                        echo(udp);
                    } else if (key.channel() instanceof ServerSocketChannel tcp) {
                        accept(tcp);
                    }
                }
                if (!failed.isEmpty() && System.nanoTime() - nextRetry > 0) {
                    Set<Integer> again = wanted;
                    wanted = Set.of();
                    reconcile(again, "trying again");
                }
            } catch (ClosedSelectorException e) {
                return;
            } catch (IOException | RuntimeException e) {
                if (running) {
                    LOG.warn("Responder: {}", e.toString());
                }
            }
        }
    }

    /** Answers the datagrams waiting on {@code udp}: at most a few dozen a turn, the other ports have their turn too. */
    private void echo(DatagramChannel udp) throws IOException {
        for (int i = 0; i < 64; i++) {
            buffer.clear();
            SocketAddress from = udp.receive(buffer);
            if (from == null) {
                return;
            }
            buffer.flip();
            InetSocketAddress source = (InetSocketAddress) from;
            if (!isProbe(buffer)) {
                count("udp", "not_probe");
            } else if (open.containsKey(source.getPort()) || wanted.contains(source.getPort())) {
                count("udp", "loop"); // from a responder's port: echoing it could start a ping-pong between two of them
            } else if (!limit.allow(source.getAddress())) {
                count("udp", "rate_limited");
            } else {
                udp.send(buffer, source); // the same bytes: an answer is never larger than its question
                count("udp", "echoed");
            }
        }
    }

    /** @return whether the datagram is one of the udp kind's */
    static boolean isProbe(ByteBuffer b) {
        if (b.remaining() < ECHO_MIN_BYTES) {
            return false;
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (b.get(b.position() + i) != MAGIC[i]) {
                return false;
            }
        }
        return true;
    }

    /** Takes the connections waiting and closes them: a connect is all a tcp probe measures. Over the limit, with a reset. */
    private void accept(ServerSocketChannel tcp) throws IOException {
        for (int i = 0; i < 64; i++) {
            SocketChannel c = tcp.accept();
            if (c == null) {
                return;
            }
            InetAddress source = ((InetSocketAddress) c.getRemoteAddress()).getAddress();
            try (c) {
                if (limit.allow(source)) {
                    count("tcp", "accepted");
                } else {
                    c.setOption(StandardSocketOptions.SO_LINGER, 0); // a reset: nothing more is spent on it
                    count("tcp", "rate_limited");
                }
            }
        }
    }

    private void count(String proto, String outcome) {
        counts.computeIfAbsent(proto + "\u0000" + outcome, k -> new java.util.concurrent.atomic.AtomicLong()).incrementAndGet();
    }

    /** The responder's self-metrics for the exporter's {@code /metrics}: {@code sonde_responder_requests_total{proto,outcome}} and {@code sonde_responder_ports}. */
    @Override
    public List<MetricFamilySamples> collect() {
        CounterMetricFamily requests = new CounterMetricFamily("sonde_responder_requests_total",
                "What the responder was sent: udp echoed, tcp accepted, rate_limited (over max_per_s or max_per_source_per_s),"
                        + " not_probe (a datagram not of the udp kind), loop (from a responder port)",
                List.of("proto", "outcome"));
        new java.util.TreeMap<>(counts).forEach((k, v) -> {
            String[] p = k.split("\u0000");
            requests.addMetric(List.of(p[0], p[1]), v.get());
        });
        return List.of(requests, new GaugeMetricFamily("sonde_responder_ports", "Ports the responder listens on now", listening));
    }
}
