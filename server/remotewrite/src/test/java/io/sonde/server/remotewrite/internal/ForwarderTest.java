package io.sonde.server.remotewrite.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;

import com.google.gson.JsonObject;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import com.sun.net.httpserver.HttpServer;

import io.airlift.compress.snappy.SnappyDecompressor;
import io.prometheus.client.Collector;
import io.sonde.server.spi.KindRoles;
import io.sonde.spool.Spool;
import io.sonde.wire.WireResult;

/**
 * The forwarder against a real HTTP receiver that decodes what it gets as Prometheus does (snappy,
 * then the WriteRequest protobuf): what it takes, in order, when it is away and comes back, what
 * it refuses one result at a time, the bound of the queue, and a restart with results waiting.
 */
public class ForwarderTest {

    /** A sample as the receiver decoded it. */
    record Sample(Map<String, String> labels, double value, long ts) {
        String name() {
            return labels.get("__name__");
        }
    }

    private Path dir;
    private HttpServer receiver;
    private int port;
    private final List<Sample> received = new CopyOnWriteArrayList<>();
    private final List<String> headers = new CopyOnWriteArrayList<>();
    private volatile Predicate<List<Sample>> refuse = s -> false;
    private final List<Forwarder> open = new ArrayList<>();

    @Before
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("remote-write-test");
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
    }

    @After
    public void tearDown() throws Exception {
        for (Forwarder f : open) {
            f.close();
        }
        if (receiver != null) {
            receiver.stop(0);
        }
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private void startReceiver() throws IOException {
        receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 10);
        receiver.createContext("/api/v1/write", x -> {
            byte[] compressed = x.getRequestBody().readAllBytes();
            headers.add(x.getRequestHeaders().getFirst("Content-Encoding") + " " + x.getRequestHeaders().getFirst("Content-Type") + " "
                    + x.getRequestHeaders().getFirst("X-Prometheus-Remote-Write-Version") + " " + x.getRequestHeaders().getFirst("Authorization"));
            List<Sample> samples = decode(compressed);
            int code = refuse.test(samples) ? 400 : 204;
            if (code == 204) {
                received.addAll(samples);
            }
            byte[] said = code == 400 ? "out of order sample".getBytes() : new byte[0];
            x.sendResponseHeaders(code, said.length == 0 ? -1 : said.length);
            x.getResponseBody().write(said);
            x.close();
        });
        receiver.start();
    }

    private void stopReceiver() {
        receiver.stop(0);
        receiver = null;
    }

    /** Snappy, then WriteRequest { repeated TimeSeries timeseries = 1 } as Prometheus reads it. */
    static List<Sample> decode(byte[] compressed) throws IOException {
        SnappyDecompressor snappy = new SnappyDecompressor();
        byte[] raw = new byte[SnappyDecompressor.getUncompressedLength(compressed, 0)];
        snappy.decompress(compressed, 0, compressed.length, raw, 0, raw.length);
        List<Sample> out = new ArrayList<>();
        CodedInputStream req = CodedInputStream.newInstance(raw);
        for (int tag = req.readTag(); tag != 0; tag = req.readTag()) {
            assertEquals(1, WireFormat.getTagFieldNumber(tag));
            CodedInputStream ts = CodedInputStream.newInstance(req.readByteArray());
            Map<String, String> labels = new TreeMap<>();
            List<String> order = new ArrayList<>();
            List<double[]> values = new ArrayList<>();
            for (int t = ts.readTag(); t != 0; t = ts.readTag()) {
                CodedInputStream m = CodedInputStream.newInstance(ts.readByteArray());
                if (WireFormat.getTagFieldNumber(t) == 1) {
                    String name = null;
                    String value = null;
                    for (int lt = m.readTag(); lt != 0; lt = m.readTag()) {
                        if (WireFormat.getTagFieldNumber(lt) == 1) {
                            name = m.readString();
                        } else {
                            value = m.readString();
                        }
                    }
                    labels.put(name, value);
                    order.add(name);
                } else {
                    double v = 0;
                    long when = 0;
                    for (int st = m.readTag(); st != 0; st = m.readTag()) {
                        if (WireFormat.getTagFieldNumber(st) == 1) {
                            v = m.readDouble();
                        } else {
                            when = m.readInt64();
                        }
                    }
                    values.add(new double[] {v, when});
                }
            }
            assertEquals("labels sorted by name, as the protocol requires", new ArrayList<>(labels.keySet()), order);
            for (double[] v : values) {
                out.add(new Sample(labels, v[0], (long) v[1]));
            }
        }
        return out;
    }

    private Forwarder forwarder(long maxBytes, int perSend) throws IOException {
        Spool spool = Spool.open(dir.resolve("queue"), maxBytes, 3_600_000, System::currentTimeMillis);
        Forwarder f = new Forwarder(URI.create("http://127.0.0.1:" + port + "/api/v1/write"), "Bearer s3cret",
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build(), spool, new Samples(Map.of("region", "lab")),
                new KindRoles(Map::of), Duration.ofSeconds(5), perSend);
        open.add(f);
        return f.start();
    }

    /** The results are of now: the queue drops what is older than its age bound (an hour here). */
    private static final Instant T0 = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);

    static WireResult result(String target, int i, boolean success) {
        return new WireResult(i + 1, target, "tcp", T0.plusMillis(100L * i), success, success ? null : "refused", null, 0.001 * (i + 1),
                new JsonObject());
    }

    static List<WireResult> results(String target, int from, int to) {
        List<WireResult> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            out.add(result(target, i, i % 5 != 4));
        }
        return out;
    }

    private void await(String what, java.util.function.BooleanSupplier done) throws InterruptedException {
        for (int i = 0; i < 600 && !done.getAsBoolean(); i++) {
            Thread.sleep(50);
        }
        assertTrue(what, done.getAsBoolean());
    }

    static double metric(Forwarder f, String name, String label) {
        for (Collector.MetricFamilySamples mfs : f.collect()) {
            for (Collector.MetricFamilySamples.Sample s : mfs.samples) {
                if (s.name.equals(name) && (label == null || s.labelValues.contains(label))) {
                    return s.value;
                }
            }
        }
        throw new AssertionError(name + " " + label + " not collected");
    }

    @Test
    public void eachResultIsItsSeriesWithLabelsValuesAndTimeInOrder() throws Exception {
        startReceiver();
        Forwarder f = forwarder(1 << 20, 1000);
        List<WireResult> batch = new ArrayList<>(results("web", 0, 10));
        JsonObject ping = new JsonObject();
        ping.addProperty("sent", 4);
        ping.addProperty("received", 3);
        batch.add(new WireResult(11, "gw", "icmp", T0, true, null, null, 0.0042, ping));
        f.stored("agent-1", batch);
        await("23 samples: " + received, () -> received.size() == 23);
        Sample first = received.get(0);
        assertEquals(Map.of("__name__", "sonde_probe_success", "agent", "agent-1", "target", "web", "kind", "tcp", "region", "lab"),
                first.labels());
        assertEquals(1.0, first.value(), 0);
        assertEquals(T0.toEpochMilli(), first.ts());
        assertEquals("sonde_probe_duration_seconds", received.get(1).name());
        assertEquals(0.001, received.get(1).value(), 1e-12);
        // the fifth result failed
        assertEquals(0.0, received.get(8).value(), 0);
        assertEquals(T0.toEpochMilli() + 400, received.get(8).ts());
        Sample loss = received.get(22);
        assertEquals("sonde_probe_packet_loss_ratio", loss.name());
        assertEquals("gw", loss.labels().get("target"));
        assertEquals(0.25, loss.value(), 1e-12);
        assertEquals("snappy application/x-protobuf 0.1.0 Bearer s3cret", headers.get(0));
        await("the receiver's answer counted", () -> metric(f, "sonde_server_remote_write_sent_results_total", null) == 11);
        assertEquals(0, metric(f, "sonde_server_remote_write_backlog_results", null), 0);
    }

    @Test
    public void aReceiverAwayGetsTheBacklogWhenBackInOrderAndABatchSentAgainIsNotQueuedTwice() throws Exception {
        Forwarder f = forwarder(1 << 20, 7);
        f.stored("a", results("web", 0, 30));
        await("requests fail while the receiver is away", () -> metric(f, "sonde_server_remote_write_requests_total", "error") >= 1);
        assertEquals(30, metric(f, "sonde_server_remote_write_backlog_results", null), 0);
        f.stored("a", results("web", 20, 40)); // ten of them a second time
        assertEquals(10, metric(f, "sonde_server_remote_write_skipped_results_total", null), 0);
        startReceiver();
        await("all 40 delivered", () -> received.size() == 80 && metric(f, "sonde_server_remote_write_sent_results_total", null) == 40);
        List<Long> times = new ArrayList<>();
        for (Sample s : received) {
            if (s.name().equals("sonde_probe_success")) {
                times.add(s.ts());
            }
        }
        for (int i = 0; i < 40; i++) {
            assertEquals("in the order stored", T0.toEpochMilli() + 100L * i, (long) times.get(i));
        }
        assertEquals(40, metric(f, "sonde_server_remote_write_sent_results_total", null), 0);
    }

    @Test
    public void whatTheReceiverRefusesIsFoundByHalvesAndOnlyThatIsDropped() throws Exception {
        startReceiver();
        refuse = samples -> samples.stream().anyMatch(s -> s.labels().get("target").equals("bad"));
        Forwarder f = forwarder(1 << 20, 1000);
        List<WireResult> batch = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            batch.add(result(i == 9 || i == 40 || i == 41 ? "bad" : "t" + i, i, true));
        }
        f.stored("a", batch);
        await("61 results taken", () -> metric(f, "sonde_server_remote_write_sent_results_total", null) == 61
                && metric(f, "sonde_server_remote_write_dropped_results_total", "rejected") == 3);
        assertEquals(3, metric(f, "sonde_server_remote_write_dropped_results_total", "rejected"), 0);
        assertEquals(122, received.size());
        assertTrue(received.stream().noneMatch(s -> s.labels().get("target").equals("bad")));
        assertEquals(0, metric(f, "sonde_server_remote_write_backlog_results", null), 0);
    }

    @Test
    public void theBacklogIsBoundedAndWhatItDropsIsCounted() throws Exception {
        Forwarder f = forwarder(64 * 1024, 1000);
        for (int b = 0; b < 40; b++) {
            f.stored("a", results("web", b * 50, b * 50 + 50));
        }
        double dropped = metric(f, "sonde_server_remote_write_dropped_results_total", "full");
        double waiting = metric(f, "sonde_server_remote_write_backlog_results", null);
        assertTrue("dropped " + dropped, dropped > 0);
        assertTrue("bytes " + metric(f, "sonde_server_remote_write_backlog_bytes", null),
                metric(f, "sonde_server_remote_write_backlog_bytes", null) <= 64 * 1024);
        assertEquals("every result is waiting or counted dropped", 2000, dropped + waiting, 0);
        startReceiver();
        await("what waited is taken", () -> received.size() == 2 * waiting);
        // the newest stayed, the oldest went
        assertEquals(T0.toEpochMilli() + 100L * 1999, received.get(received.size() - 1).ts());
    }

    @Test
    public void resultsWaitingAtAStopAreSentAfterTheNextStart() throws Exception {
        Forwarder f = forwarder(1 << 20, 1000);
        f.stored("a", results("web", 0, 25));
        f.close();
        open.remove(f);
        startReceiver();
        Forwarder again = forwarder(1 << 20, 1000);
        await("the 25 results of before", () -> received.size() == 50
                && metric(again, "sonde_server_remote_write_sent_results_total", null) == 25);
        assertEquals(25, metric(again, "sonde_server_remote_write_sent_results_total", null), 0);
    }

    @Test
    public void labelsAreCheckedAndNamedWhenWrong() {
        assertEquals(Map.of("env", "prod", "region", "eu"), Samples.parseLabels(" region=eu, env = prod ,"));
        for (String[] c : new String[][] {{"region", "'region' is not name=value"}, {"agent=x", "'agent' is set by Sonde"},
                {"1x=y", "'1x=y' is not name=value"}, {"__name__=x", "'__name__=x' is not name=value"},
                {"a=1,a=2", "'a' is given twice"}}) {
            try {
                Samples.parseLabels(c[0]);
                throw new AssertionError(c[0] + " accepted");
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage(), e.getMessage().contains(c[1]));
            }
        }
    }
}
