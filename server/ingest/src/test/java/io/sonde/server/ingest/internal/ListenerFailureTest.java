package io.sonde.server.ingest.internal;

import static org.junit.Assert.assertEquals;

import java.io.ByteArrayInputStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.Test;

import io.prometheus.client.Collector;
import io.sonde.server.spi.ResultListener;
import io.sonde.server.spi.Store;
import io.sonde.wire.BatchAck;
import io.sonde.wire.WireResult;

/**
 * A result listener (remote write) that throws does not cost the agent its acknowledgement, nor
 * the listeners after it their results: the batch is stored and answered, and the failure counted.
 */
public class ListenerFailureTest {

    /** What the store was given, batch by batch: the store itself is another bundle's. */
    private final List<List<WireResult>> stored = new CopyOnWriteArrayList<>();
    private final List<Collector> registered = new CopyOnWriteArrayList<>();

    private Store store() {
        return (Store) Proxy.newProxyInstance(Store.class.getClassLoader(), new Class<?>[] {Store.class}, (proxy, m, args) -> {
            if (m.getName().equals("ingest") && args.length == 3) {
                @SuppressWarnings("unchecked")
                List<WireResult> rs = (List<WireResult>) args[2];
                stored.add(rs);
                return rs.size();
            }
            throw new UnsupportedOperationException(m.getName() + " is not the ingest's to call");
        });
    }

    private static IngestConfig defaults() {
        return (IngestConfig) Proxy.newProxyInstance(IngestConfig.class.getClassLoader(), new Class<?>[] {IngestConfig.class},
                (proxy, m, args) -> m.getDefaultValue());
    }

    private double failures() {
        for (Collector c : registered) {
            for (Collector.MetricFamilySamples f : c.collect()) {
                for (Collector.MetricFamilySamples.Sample s : f.samples) {
                    if (s.name.equals("sonde_server_result_listener_failures_total")) {
                        return s.value;
                    }
                }
            }
        }
        throw new AssertionError("no sonde_server_result_listener_failures_total registered");
    }

    private static byte[] batch(String epoch, int first, int n) {
        Instant at = Instant.now().truncatedTo(ChronoUnit.SECONDS).minusSeconds(30);
        List<String> rs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            rs.add("{\"seq\":" + (first + i) + ",\"target\":\"web\",\"kind\":\"tcp\",\"started_at\":\"" + at.plusSeconds(i)
                    + "\",\"success\":true,\"response_time_seconds\":0.002}");
        }
        return ("{\"schema\":1,\"agent_id\":\"a1\",\"epoch\":\"" + epoch + "\",\"results\":[" + String.join(",", rs) + "]}")
                .getBytes(StandardCharsets.UTF_8);
    }

    @Test
    public void aListenerThatThrowsIsCountedAndTheBatchIsStoredAnsweredAndGivenToTheOthers() throws Exception {
        Ingest ingest = new Ingest(defaults(), store());
        registered.add(ingest); // DS registers it as a Collector
        List<String> failing = new ArrayList<>();
        List<WireResult> taken = new CopyOnWriteArrayList<>();
        ingest.addListener((agentId, results) -> {
            failing.add(agentId);
            throw new IllegalStateException("the remote-write queue's disk is full");
        });
        ResultListener after = (agentId, results) -> taken.addAll(results);
        ingest.addListener(after);
        assertEquals(0, failures(), 0);

        BatchAck ack = ingest.ingest("a1", new ByteArrayInputStream(batch("e1", 1, 3)), false);
        assertEquals("acknowledged whole", 3, ack.accepted());
        assertEquals(0, ack.duplicates());
        assertEquals(1, stored.size());
        assertEquals(List.of(1L, 2L, 3L), stored.get(0).stream().map(WireResult::seq).toList());
        assertEquals("the listener after the failing one has them", List.of(1L, 2L, 3L), taken.stream().map(WireResult::seq).toList());
        assertEquals(List.of("a1"), failing);
        assertEquals(1, failures(), 0);

        assertEquals(2, ingest.ingest("a1", new ByteArrayInputStream(batch("e1", 4, 2)), false).accepted());
        assertEquals(2, failures(), 0);
        assertEquals(5, taken.size());
        // taken away, it is asked no more
        ingest.removeListener(after);
        assertEquals(1, ingest.ingest("a1", new ByteArrayInputStream(batch("e1", 6, 1)), false).accepted());
        assertEquals(5, taken.size());
        assertEquals(3, failures(), 0);
        assertEquals(3, stored.size());
    }
}
