package io.sonde.server.store.h2.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;

import com.google.gson.JsonObject;

import io.sonde.server.spi.AgentRecord;
import io.sonde.server.spi.Page;
import io.sonde.server.spi.ResultQuery;
import io.sonde.server.spi.SeriesQuery;
import io.sonde.server.spi.SeriesStep;
import io.sonde.server.spi.StoreException;
import io.sonde.server.spi.StoredResult;
import io.sonde.wire.WireResult;

public class H2StoreTest {

    private static final Instant T0 = Instant.parse("2026-12-01T00:00:00Z");
    private Path dir;
    private H2Store store;

    @Before
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("h2store");
        store = H2Store.open(dir, 4);
        store.createEnrollmentToken(hash(1), List.of("eu"), T0.plusSeconds(3600), false, T0);
        store.enroll(hash(1), "a1", List.of("edge"), "0.1.0", hash(100), T0);
    }

    @After
    public void tearDown() throws Exception {
        store.close();
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    static byte[] hash(int n) {
        byte[] b = new byte[32];
        Arrays.fill(b, (byte) n);
        return b;
    }

    static WireResult result(long seq, String target, Instant at, double rt, boolean ok) {
        JsonObject d = new JsonObject();
        d.addProperty("sent", 4);
        d.addProperty("received", ok ? 4 : 3);
        return new WireResult(seq, target, "icmp", at, ok, ok ? null : "timeout", ok ? null : "lost", rt, d);
    }

    @Test
    public void enrollmentRules() throws Exception {
        AgentRecord a = store.agentByCredential(hash(100)).orElseThrow();
        assertEquals(List.of("edge", "eu"), a.tags());
        store.createEnrollmentToken(hash(2), List.of(), T0.plusSeconds(10), true, T0);
        store.enroll(hash(2), "a2", List.of(), "v", hash(101), T0);
        refused(() -> store.enroll(hash(2), "a3", List.of(), "v", hash(102), T0), "was for one use");
        store.createEnrollmentToken(hash(3), List.of(), T0.plusSeconds(10), false, T0);
        refused(() -> store.enroll(hash(3), "a3", List.of(), "v", hash(103), T0.plusSeconds(10)), "expired");
        refused(() -> store.enroll(hash(9), "a3", List.of(), "v", hash(104), T0), "not known");
        assertTrue(store.revokeAgent("a1", T0));
        refused(() -> store.enroll(hash(1), "a1", List.of(), "v", hash(105), T0), "was revoked");
        assertTrue(store.agentByCredential(hash(100)).orElseThrow().revokedAt() != null);
    }

    interface Call {
        void run() throws Exception;
    }

    static void refused(Call call, String text) throws Exception {
        try {
            call.run();
            fail("accepted");
        } catch (StoreException e) {
            assertEquals(StoreException.Kind.REFUSED, e.kind());
            assertTrue(e.getMessage(), e.getMessage().contains(text));
        }
    }

    @Test
    public void aBatchSentTwiceIsStoredOnce() throws Exception {
        List<WireResult> batch = new ArrayList<>();
        for (int i = 1; i <= 100; i++) {
            batch.add(result(i, "t", T0.plusSeconds(i), 0.001 * i, i % 10 != 0));
        }
        assertEquals(100, store.ingest("a1", "e1", batch));
        assertEquals(0, store.ingest("a1", "e1", batch));
        assertEquals(50, store.ingest("a1", "e1", List.of(batch.get(3), result(101, "t", T0, 0.1, true))) + 49);
        assertEquals("another epoch is another identity", 100, store.ingest("a1", "e2", batch));
        assertEquals(201, store.resultCount());
    }

    @Test
    public void resultsArePagedInTimeOrderWithTheirIdentity() throws Exception {
        List<WireResult> batch = new ArrayList<>();
        for (int i = 1; i <= 25; i++) {
            batch.add(result(i, i % 2 == 0 ? "even" : "odd", T0.plusMillis(1500L * i), 0.002, i != 5));
        }
        store.ingest("a1", "e1", batch);
        List<StoredResult> all = new ArrayList<>();
        String after = null;
        int pages = 0;
        do {
            Page<StoredResult> p = store.results(new ResultQuery("a1", null, T0, T0.plusSeconds(3600), 10, after));
            all.addAll(p.items());
            after = p.next();
            pages++;
        } while (after != null);
        assertEquals(3, pages);
        assertEquals(25, all.size());
        for (int i = 0; i < 25; i++) {
            StoredResult r = all.get(i);
            assertEquals(i + 1, r.result().seq());
            assertEquals("a1", r.agentId());
            assertEquals("e1", r.epoch());
            assertEquals(T0.plusMillis(1500L * (i + 1)), r.result().startedAt());
        }
        StoredResult fifth = all.get(4);
        assertEquals("timeout", fifth.result().failureReason());
        assertEquals("lost", fifth.result().error());
        assertEquals(3, fifth.details().get("received").getAsInt());
        assertEquals(12, store.results(new ResultQuery("a1", "even", T0, T0.plusSeconds(3600), 100, null)).items().size());
        assertEquals(0, store.results(new ResultQuery("nobody", null, T0, T0.plusSeconds(3600), 100, null)).items().size());
        refused(() -> store.results(new ResultQuery("a1", null, T0, T0.plusSeconds(1), 10, "junk")), "not a cursor");
    }

    @Test
    public void microsecondsAreKeptAndRangesAreExactWithinAMillisecond() throws Exception {
        store.ingest("a1", "e1", List.of(result(1, "t", T0.plusNanos(100_000), 0.001, true),
                result(2, "t", T0.plusNanos(900_000), 3599.999999, false), result(3, "t", T0.plusNanos(1_000_000), 0.000001, true)));
        List<StoredResult> r = store.results(new ResultQuery("a1", "t", T0.plusNanos(500_000), T0.plusNanos(1_000_000), 10, null)).items();
        assertEquals(1, r.size());
        assertEquals(T0.plusNanos(900_000), r.get(0).result().startedAt());
        assertEquals(3599.999999, r.get(0).result().responseTimeSeconds(), 1e-9);
        assertEquals("timeout", r.get(0).result().failureReason());
        Page<StoredResult> first = store.results(new ResultQuery("a1", "t", T0, T0.plusSeconds(1), 1, null));
        assertEquals(1, first.items().get(0).result().seq());
        Page<StoredResult> second = store.results(new ResultQuery("a1", "t", T0, T0.plusSeconds(1), 2, first.next()));
        assertEquals(2, second.items().size());
        assertEquals(null, second.next());
        assertEquals(2, store.series(new SeriesQuery("a1", "t", T0, T0.plusNanos(1_000_000), Duration.ofSeconds(10))).get(0).count());
    }

    @Test
    public void seriesStepsHaveExactPercentilesAndLoss() throws Exception {
        Random random = new Random(7);
        List<WireResult> batch = new ArrayList<>();
        List<List<Double>> perStep = new ArrayList<>();
        for (int s = 0; s < 3; s++) {
            perStep.add(new ArrayList<>());
        }
        for (int i = 1; i <= 3000; i++) {
            Instant at = T0.plusMillis(i * 59L); // 3 one-minute steps
            double rt = Math.round(random.nextDouble() * 100_000) / 1e6;
            boolean ok = i % 50 != 0;
            batch.add(result(i, "t", at, rt, ok));
            if (ok) {
                perStep.get((int) (i * 59L / 60_000)).add(rt);
            }
        }
        store.ingest("a1", "e1", batch);
        List<SeriesStep> steps = store.series(new SeriesQuery("a1", "t", T0, T0.plusSeconds(180), Duration.ofMinutes(1)));
        assertEquals(3, steps.size());
        for (int s = 0; s < 3; s++) {
            List<Double> rts = perStep.get(s);
            rts.sort(null);
            SeriesStep step = steps.get(s);
            assertEquals(T0.plusSeconds(60L * s), step.start());
            assertEquals(rts.get(0), step.min(), 1e-9);
            assertEquals(rts.get(rts.size() - 1), step.max(), 1e-9);
            assertEquals(rts.get((int) Math.ceil(0.5 * rts.size()) - 1), step.p50(), 1e-9);
            assertEquals(rts.get((int) Math.ceil(0.99 * rts.size()) - 1), step.p99(), 1e-9);
            assertEquals(step.count() - step.failures(), rts.size());
            // each failed probe lost one of its 4 packets
            assertEquals((double) step.failures() / (4 * step.count()), step.loss(), 1e-9);
        }
        SeriesStep empty = store.series(new SeriesQuery("a1", "t", T0, T0.plusSeconds(1), Duration.ofSeconds(10))).get(0);
        assertEquals(16, empty.count());
        assertTrue(store.series(new SeriesQuery("a1", "none", T0, T0.plusSeconds(1), Duration.ofSeconds(10))).isEmpty());
    }

    @Test
    public void reopensWithWhatWasStoredAndRefusesANewerSchema() throws Exception {
        store.ingest("a1", "e1", List.of(result(1, "t", T0, 0.001, true)));
        store.close();
        store = H2Store.open(dir, 2);
        assertEquals(1, store.resultCount());
        assertEquals(0, store.ingest("a1", "e1", List.of(result(1, "t", T0, 0.001, true))));
        store.close();
        try (var c = java.sql.DriverManager.getConnection("jdbc:h2:file:" + dir.resolve("sonde").toAbsolutePath(), "sonde", "");
                var s = c.createStatement()) {
            s.execute("INSERT INTO schema_version VALUES (99)");
            s.execute("SHUTDOWN");
        }
        try {
            H2Store.open(dir, 2);
            fail("opened a newer schema");
        } catch (java.sql.SQLException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("schema version 99, newer than this server knows"));
        }
        store = H2Store.open(dir.resolve("fresh"), 2); // for tearDown
    }
}
