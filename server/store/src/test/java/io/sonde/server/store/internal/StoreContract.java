package io.sonde.server.store.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;

import com.google.gson.JsonObject;

import io.sonde.server.spi.AgentRecord;
import io.sonde.server.spi.Definition;
import io.sonde.server.spi.Page;
import io.sonde.server.spi.ResultQuery;
import io.sonde.server.spi.SeriesQuery;
import io.sonde.server.spi.SeriesStep;
import io.sonde.server.spi.StoreException;
import io.sonde.server.spi.StoredResult;
import io.sonde.wire.WireResult;

/**
 * The store's contract: every store (embedded H2, PostgreSQL) runs these tests unchanged, each
 * test on a database of its own. A subclass says how to open the store and reach its database.
 */
public abstract class StoreContract {

    static final Instant T0 = Instant.parse("2026-12-01T00:00:00Z");
    JdbcStore store;

    /** @return the store on this test's database, opened again on the same data at each call */
    protected abstract JdbcStore open() throws Exception;

    /** Runs one statement on this test's database directly, the store closed. */
    protected abstract void sql(String statement) throws Exception;

    @Before
    public void enrollAnAgent() throws Exception {
        store = open();
        store.createEnrollmentToken(hash(1), List.of("eu"), T0.plusSeconds(3600), false, true, T0);
        store.enroll(hash(1), "a1", List.of("edge"), "0.1.0", hash(100), T0);
    }

    @After
    public void closeTheStore() {
        if (store != null) {
            store.close();
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

    /** @return the credentials' epoch once the store can tell it (a shared database's listener is up) */
    static long awaitEpoch(JdbcStore s) throws InterruptedException {
        for (int i = 0; i < 600; i++) { // 30 s
            long e = s.credentialsEpoch();
            if (e >= 0) {
                return e;
            }
            Thread.sleep(50);
        }
        fail("the store never told its credentials' epoch");
        return -1;
    }

    /**
     * The servers keep an agent's credential check while the store's credentials' epoch stays: it
     * moves with every revocation, reset and new credential of an agent — not with a new agent, nor
     * a revocation of nobody.
     */
    @Test
    public void theCredentialsEpochMovesWhenACredentialStopsWorking() throws Exception {
        long e0 = awaitEpoch(store);
        store.enroll(hash(1), "a2", List.of(), "v", hash(101), T0);
        assertFalse(store.revokeAgent("nobody", T0));
        assertFalse(store.resetAgentCredential("nobody"));
        assertEquals("a new agent, and changes to no agent, end no credential", e0, store.credentialsEpoch());

        assertTrue(store.revokeAgent("a2", T0));
        long e1 = store.credentialsEpoch();
        assertTrue("revoked: " + e0 + " then " + e1, e1 > e0);
        assertTrue(store.resetAgentCredential("a1"));
        long e2 = store.credentialsEpoch();
        assertTrue("reset: " + e1 + " then " + e2, e2 > e1);
        store.enroll(hash(1), "a1", List.of(), "v", hash(102), T0); // enrolled again after the reset
        long e3 = store.credentialsEpoch();
        assertTrue("a new credential for an agent: " + e2 + " then " + e3, e3 > e2);
        store.enroll(hash(1), "a1", List.of(), "v", hash(103), true, T0); // renewed with its credential: the old one ends
        long e4 = store.credentialsEpoch();
        assertTrue("renewed: " + e3 + " then " + e4, e4 > e3);
        assertTrue(store.agentByCredential(hash(102)).isEmpty());
        assertEquals("a1", store.agentByCredential(hash(103)).orElseThrow().agentId());
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

    @Test
    public void enrollmentNeverTakesOverAnIdentityNorGivesTagsTheTokenDoesNot() throws Exception {
        store.createEnrollmentToken(hash(4), List.of("edge"), T0.plusSeconds(60), false, T0); // agents get its tags only
        // a token holder claims the enrolled agent a1: refused, and a1 keeps its credential and tags
        StoreException e = refusedAs(() -> store.enroll(hash(4), "a1", List.of(), "evil", hash(110), T0), StoreException.Kind.CONFLICT);
        assertTrue(e.getMessage(), e.getMessage().contains("agent 'a1' is enrolled already") && e.getMessage().contains("/reset"));
        assertEquals("a1", store.agentByCredential(hash(100)).orElseThrow().agentId());
        assertTrue(store.agentByCredential(hash(110)).isEmpty());
        assertEquals(List.of("edge", "eu"), store.agentByCredential(hash(100)).orElseThrow().tags());
        // tags beyond the token's: refused, and the token's use is not spent
        e = refusedAs(() -> store.enroll(hash(4), "b1", List.of("edge", "admin"), "v", hash(111), T0), StoreException.Kind.FORBIDDEN);
        assertTrue(e.getMessage(), e.getMessage().contains("[admin]") && e.getMessage().contains("agent_tags"));
        assertEquals(List.of("edge"), store.enroll(hash(4), "b1", List.of("edge"), "v", hash(111), T0).tags());
        // the agent itself, proving its credential, enrolls again: a new credential, its tags kept
        AgentRecord again = store.enroll(hash(4), "a1", List.of(), "v2", hash(112), true, T0.plusSeconds(1));
        assertEquals(List.of("edge", "eu"), again.tags());
        assertTrue(store.agentByCredential(hash(100)).isEmpty());
        assertEquals("a1", store.agentByCredential(hash(112)).orElseThrow().agentId());
        // an admin's reset: the credential dies at once, and the next enrollment under the id takes it
        assertTrue(store.resetAgentCredential("a1"));
        assertFalse(store.resetAgentCredential("nobody"));
        assertTrue(store.agentByCredential(hash(112)).isEmpty());
        assertEquals(List.of("edge", "eu"), store.enroll(hash(4), "a1", List.of(), "v3", hash(113), T0.plusSeconds(2)).tags());
        assertEquals("a1", store.agentByCredential(hash(113)).orElseThrow().agentId());
        assertEquals(true, store.enrollmentTokens(T0).stream().filter(t -> t.id() > 0).anyMatch(io.sonde.server.spi.EnrollmentToken::agentTags));
    }

    static StoreException refusedAs(Call call, StoreException.Kind kind) throws Exception {
        try {
            call.run();
            fail("accepted");
            return null;
        } catch (StoreException e) {
            assertEquals(e.getMessage(), kind, e.kind());
            return e;
        }
    }

    @Test
    public void everySequenceNumberMissingIsCountedAsAGapPerEpoch() throws Exception {
        Instant at = T0.plusSeconds(5);
        assertEquals(2, store.ingest("a1", "e1", List.of(result(1, "t", at, 0.01, true), result(2, "t", at.plusSeconds(1), 0.01, true))));
        assertEquals(2, store.ingest("a1", "e1", List.of(result(5, "t", at.plusSeconds(4), 0.01, true), result(6, "t", at.plusSeconds(5), 0.01, true))));
        List<io.sonde.server.spi.EpochCount> counts = store.epochCounts("a1");
        assertEquals(1, counts.size());
        assertEquals(new io.sonde.server.spi.EpochCount("e1", 1L, 6, 4), counts.get(0));
        assertEquals("3 and 4 never came", 2, counts.get(0).gaps());
        assertEquals(java.util.Map.of("a1", 2L), store.resultGaps());
        // a copy sent again changes nothing; a late one fills its gap
        assertEquals(0, store.ingest("a1", "e1", List.of(result(2, "t", at.plusSeconds(1), 0.01, true))));
        assertEquals(1, store.ingest("a1", "e1", List.of(result(3, "t", at.plusSeconds(2), 0.01, true), result(3, "t", at.plusSeconds(2), 0.01, true))));
        assertEquals(1, store.epochCounts("a1").get(0).gaps());
        // a new epoch counts from 1: its first results lost are a gap too
        assertEquals(1, store.ingest("a1", "e2", List.of(result(4, "t", at.plusSeconds(9), 0.01, true))));
        assertEquals(List.of("e2", "e1"), store.epochCounts("a1").stream().map(io.sonde.server.spi.EpochCount::epoch).toList());
        assertEquals("4 in e1, 1 to 3 in e2", 4L, (long) store.resultGaps().get("a1"));
        store.close();
        store = open();
        assertEquals("kept across a restart", 4L, (long) store.resultGaps().get("a1"));
        assertEquals(List.of(), store.epochCounts("nobody"));
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

    private io.sonde.server.spi.TargetState state(String target) throws Exception {
        for (io.sonde.server.spi.TargetState s : store.targetStates()) {
            if (s.target().equals(target)) {
                return s;
            }
        }
        return null;
    }

    @Test
    public void ingestKeepsEachTargetsLatestWordWithSinceWhenAndItsNextProbe() throws Exception {
        WireResult ok1 = result(1, "t", T0, 0.001, true);
        WireResult ok2 = result(2, "t", T0.plusSeconds(5), 0.001, true);
        WireResult down1 = new WireResult(3, "t", "icmp", T0.plusSeconds(10), false, "timeout", "no reply", 1, new JsonObject(),
                T0.plusSeconds(15), false);
        WireResult down2 = new WireResult(4, "t", "icmp", T0.plusSeconds(15), false, "refused", "port closed", 1, new JsonObject(),
                T0.plusSeconds(55), true);
        store.ingest("a1", "e1", List.of(ok1, ok2));
        io.sonde.server.spi.TargetState s = state("t");
        assertTrue(s.success());
        assertEquals(T0, s.since());
        assertEquals(T0.plusSeconds(5), s.lastAt());
        assertEquals(null, s.nextProbe());
        assertEquals(null, s.failureAt());
        // a run of failures across two batches: since is the first of them
        store.ingest("a1", "e1", List.of(down1));
        store.ingest("a1", "e1", List.of(down2));
        s = state("t");
        assertEquals("a1", s.agentId());
        assertEquals("icmp", s.kind());
        assertEquals(false, s.success());
        assertEquals(T0.plusSeconds(10), s.since());
        assertEquals("refused", s.reason());
        assertEquals("port closed", s.error());
        assertEquals(T0.plusSeconds(55), s.nextProbe());
        assertTrue(s.backoff());
        assertEquals(T0.plusSeconds(15), s.failureAt());
        // a batch sent again, and an older result arriving late, move nothing
        store.ingest("a1", "e1", List.of(down1));
        store.ingest("a1", "e2", List.of(result(1, "t", T0.plusSeconds(12), 0.001, true)));
        assertEquals(s, state("t"));
        // up again: since moves to the first success; the last failure is kept
        store.ingest("a1", "e1", List.of(result(5, "t", T0.plusSeconds(60), 0.001, true), result(6, "t", T0.plusSeconds(65), 0.001, true)));
        s = state("t");
        assertTrue(s.success());
        assertEquals(T0.plusSeconds(60), s.since());
        assertEquals(T0.plusSeconds(15), s.failureAt());
        assertEquals("port closed", s.failureError());
        assertEquals(1, store.targetStates().size());
    }

    @Test
    public void announcedKindsAreKeptPerAgent() throws Exception {
        assertEquals(Map.of(), store.announcedKinds());
        store.reportKinds("a1", "{\"tcp\":{}}");
        store.reportKinds("a1", "{\"tcp\":{}}");
        assertEquals(Map.of("a1", "{\"tcp\":{}}"), store.announcedKinds());
        store.revokeAgent("a1", T0);
        assertEquals("a revoked agent announces nothing", Map.of(), store.announcedKinds());
    }

    @Test
    public void announcedKindsAreKeptOncePerDistinctAnnouncementAndMigratedFromTheAgentsRow() throws Exception {
        store.createEnrollmentToken(hash(6), List.of(), T0.plusSeconds(3600), true, true, T0);
        store.enroll(hash(6), "a2", List.of(), "v", hash(121), T0);
        String same = "{\"tcp\":{\"options\":[]}}";
        store.reportKinds("a1", same);
        store.reportKinds("a2", same);
        assertEquals(Map.of("a1", same, "a2", same), store.announcedKinds());
        store.reportKinds("a2", "{\"icmp\":{}}");
        assertEquals(Map.of("a1", same, "a2", "{\"icmp\":{}}"), store.announcedKinds());

        // a store of version 8 kept them in the agent's row: version 9 moves them, hashed as the server hashes them
        String old = "{\"udp\":{\"é\":1}}";
        store.close();
        sql("DELETE FROM schema_version WHERE version >= 9"); // and the versions after it, run again
        sql("ALTER TABLE agent ADD COLUMN kinds VARCHAR(100000)");
        sql("UPDATE agent SET kinds = '" + old + "', kinds_hash = NULL");
        sql("DELETE FROM announcement");
        store = open();
        assertEquals(Map.of("a1", old, "a2", old), store.announcedKinds());
        try {
            sql("INSERT INTO announcement (hash, kinds) VALUES ('" + JdbcStore.sha256Hex(old) + "', 'a twin')");
            fail("the migration's hash is not the one the server makes");
        } catch (java.sql.SQLException e) {
            assertEquals("23505", e.getSQLState());
        }
    }

    @Test
    public void aStatusKeepsWhatChangedInOneWriteAndTwinAnnouncementsAtOnceAreKeptOnce() throws Exception {
        AgentRecord.ConfigReport report = new AgentRecord.ConfigReport("v9", "server", List.of(), T0.plusSeconds(7), List.of());
        store.status("a1", new io.sonde.server.spi.Store.Touch(T0.plusSeconds(8), "1.2.3", 17, "198.18.0.9", AgentRecord.ADVERTISED),
                report, "{\"tcp\":{}}");
        AgentRecord a1 = store.agents().stream().filter(a -> a.agentId().equals("a1")).findFirst().orElseThrow();
        assertEquals(T0.plusSeconds(8), a1.lastSeen());
        assertEquals("1.2.3", a1.version());
        assertEquals(17, a1.spoolRecords());
        assertEquals("198.18.0.9", a1.address());
        assertEquals(AgentRecord.ADVERTISED, a1.addressSource());
        assertEquals(report, a1.config());
        assertEquals(Map.of("a1", "{\"tcp\":{}}"), store.announcedKinds());
        // the report alone: the time and the kinds stay
        AgentRecord.ConfigReport next = new AgentRecord.ConfigReport("v10", "server", List.of(), T0.plusSeconds(9), List.of());
        store.status("a1", null, next, null);
        a1 = store.agents().stream().filter(a -> a.agentId().equals("a1")).findFirst().orElseThrow();
        assertEquals(next, a1.config());
        assertEquals(T0.plusSeconds(8), a1.lastSeen());
        assertEquals(Map.of("a1", "{\"tcp\":{}}"), store.announcedKinds());

        // eight agents starting together, each announcing the same new kinds with its time and report at the same moment:
        // each agent's kinds kept, the announcement once (a twin write passed over, its status written all the same)
        store.createEnrollmentToken(hash(7), List.of(), T0.plusSeconds(3600), false, true, T0);
        for (int i = 2; i <= 9; i++) {
            store.enroll(hash(7), "a" + i, List.of(), "v", hash(130 + i), T0);
        }
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        try {
            for (int round = 0; round < 10; round++) {
                String kinds = "{\"k" + round + "\":{}}";
                java.util.concurrent.CyclicBarrier together = new java.util.concurrent.CyclicBarrier(8);
                List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
                for (int i = 2; i <= 9; i++) {
                    String id = "a" + i;
                    int r = round;
                    done.add(pool.submit(() -> {
                        together.await(10, java.util.concurrent.TimeUnit.SECONDS);
                        store.status(id, new io.sonde.server.spi.Store.Touch(T0.plusSeconds(100 + r), "2.0." + r, r, null, null),
                                new AgentRecord.ConfigReport("c" + r, "server", List.of(), T0.plusSeconds(100 + r), List.of()), kinds);
                        return null;
                    }));
                }
                for (java.util.concurrent.Future<?> f : done) {
                    f.get(60, java.util.concurrent.TimeUnit.SECONDS);
                }
                Map<String, String> announced = store.announcedKinds();
                for (int i = 2; i <= 9; i++) {
                    assertEquals("round " + round + ", a" + i, kinds, announced.get("a" + i));
                }
                for (AgentRecord a : store.agents()) {
                    if (!a.agentId().equals("a1")) {
                        assertEquals(a.agentId(), "2.0." + round, a.version());
                        assertEquals(a.agentId(), T0.plusSeconds(100 + round), a.lastSeen());
                        assertEquals(a.agentId(), "c" + round, a.config().version());
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    public void lossOfAnyKindComesFromTheValuesItsAgentsAnnounceAsSentAndReceived() throws Exception {
        io.sonde.api.ResultSchema schema = new io.sonde.api.ResultSchema("1", List.of(
                io.sonde.api.ResultSchema.Value.of("queries_out", io.sonde.api.ResultSchema.Type.NUMBER, "", io.sonde.api.ResultSchema.Role.SENT, "q"),
                io.sonde.api.ResultSchema.Value.of("answers_in", io.sonde.api.ResultSchema.Type.NUMBER, "", io.sonde.api.ResultSchema.Role.RECEIVED, "a")),
                List.of(), List.of());
        com.google.gson.JsonObject kind = new com.google.gson.JsonObject();
        kind.add("results", io.sonde.wire.WireCodec.gson().toJsonTree(schema));
        com.google.gson.JsonObject kinds = new com.google.gson.JsonObject();
        kinds.add("ntpx", kind);
        store.reportKinds("a1", kinds.toString());
        List<WireResult> batch = new ArrayList<>();
        for (int i = 1; i <= 10; i++) {
            JsonObject d = new JsonObject();
            d.addProperty("queries_out", 5);
            d.addProperty("answers_in", i <= 2 ? 0 : 5); // two rounds lost everything: 10 of 50
            d.addProperty("sent", 1); // a value of the kind's own that happens to be named so: not its count
            batch.add(new WireResult(i, "clock", "ntpx", T0.plusSeconds(i), i > 2, i > 2 ? null : "timeout", null, 0.01, d));
        }
        assertEquals(10, store.ingest("a1", "e1", batch));
        SeriesStep step = store.series(new SeriesQuery("a1", "clock", T0, T0.plusSeconds(60), Duration.ofSeconds(60))).get(0);
        assertEquals(10, step.count());
        assertEquals(10.0 / 50, step.loss(), 1e-9);
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
        assertTrue("an estimate, never below zero", store.resultCountEstimate() >= 0);
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
    public void stepsUnderAMinuteHaveExactPercentilesAndLoss() throws Exception {
        List<List<Double>> perStep = threeMinutes(30_000);
        List<SeriesStep> steps = store.series(new SeriesQuery("a1", "t", T0, T0.plusSeconds(180), Duration.ofSeconds(30)));
        assertEquals(6, steps.size());
        for (int s = 0; s < 6; s++) {
            List<Double> rts = perStep.get(s);
            SeriesStep step = steps.get(s);
            assertEquals(T0.plusSeconds(30L * s), step.start());
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

    /** 3,000 results over three minutes, one in 50 failed; @return the successful response times per step, sorted */
    private List<List<Double>> threeMinutes(long stepMs) throws Exception {
        Random random = new Random(7);
        List<WireResult> batch = new ArrayList<>();
        List<List<Double>> perStep = new ArrayList<>();
        for (int s = 0; s < 180_000 / stepMs; s++) {
            perStep.add(new ArrayList<>());
        }
        for (int i = 1; i <= 3000; i++) {
            Instant at = T0.plusMillis(i * 59L);
            double rt = Math.round(random.nextDouble() * 100_000) / 1e6;
            boolean ok = i % 50 != 0;
            batch.add(result(i, "t", at, rt, ok));
            if (ok) {
                perStep.get((int) (i * 59L / stepMs)).add(rt);
            }
        }
        store.ingest("a1", "e1", batch);
        perStep.forEach(l -> l.sort(null));
        return perStep;
    }

    /** A percentile from a sketch: within 1 % of a response time at the exact rank or next to it. */
    static void assertNear(String what, List<Double> sorted, double q, double value) {
        int rank = (int) Math.ceil(q * sorted.size()) - 1;
        for (int r = Math.max(0, rank - 1); r <= Math.min(sorted.size() - 1, rank + 1); r++) {
            if (Math.abs(value - sorted.get(r)) <= 0.01 * sorted.get(r) + 1e-6) {
                return;
            }
        }
        fail(what + ": " + value + " is not within 1 % of the response times about rank " + (rank + 1) + " ("
                + sorted.subList(Math.max(0, rank - 1), Math.min(sorted.size(), rank + 2)) + ")");
    }

    @Test
    public void minuteStepsComeFromSketchesWithinOnePercentBeforeAndAfterTheRollup() throws Exception {
        List<List<Double>> perStep = threeMinutes(60_000);
        SeriesQuery q = new SeriesQuery("a1", "t", T0, T0.plusSeconds(180), Duration.ofMinutes(1));
        List<SeriesStep> fresh = store.series(q); // the hour is dirty: summed up from the raw results
        assertEquals(1, store.rollUp(100, T0.minus(Duration.ofDays(30)), T0.plus(Duration.ofDays(10))));
        assertEquals(0, store.rollUp(100, T0.minus(Duration.ofDays(30)), T0.plus(Duration.ofDays(10))));
        List<SeriesStep> rolled = store.series(q); // from the stored rollups
        assertEquals("the same from the raw results and from the rollups", fresh, rolled);
        assertEquals(3, rolled.size());
        for (int s = 0; s < 3; s++) {
            List<Double> rts = perStep.get(s);
            SeriesStep step = rolled.get(s);
            assertEquals(T0.plusSeconds(60L * s), step.start());
            assertEquals("min is exact", rts.get(0), step.min(), 1e-9);
            assertEquals("max is exact", rts.get(rts.size() - 1), step.max(), 1e-9);
            assertNear("p50", rts, 0.5, step.p50());
            assertNear("p90", rts, 0.9, step.p90());
            assertNear("p99", rts, 0.99, step.p99());
            assertEquals(step.count() - step.failures(), rts.size());
            assertEquals((double) step.failures() / (4 * step.count()), step.loss(), 1e-9);
        }
        // a late result into the rolled-up hour: seen at once, and the same once rolled up again
        store.ingest("a1", "e2", List.of(result(1, "t", T0.plusSeconds(61), 5.0, true)));
        List<SeriesStep> late = store.series(q);
        assertEquals(rolled.get(1).count() + 1, late.get(1).count());
        assertEquals(5.0, late.get(1).max(), 1e-9);
        assertEquals(1, store.rollUp(100, T0.minus(Duration.ofDays(30)), T0.plus(Duration.ofDays(10))));
        assertEquals(late, store.series(q));
        // five minutes a step: the minutes merged
        SeriesStep five = store.series(new SeriesQuery("a1", "t", T0, T0.plusSeconds(300), Duration.ofMinutes(5))).get(0);
        assertEquals(3001, five.count());
        List<Double> all = new ArrayList<>();
        perStep.forEach(all::addAll);
        all.add(5.0);
        all.sort(null);
        assertNear("p90 of five minutes", all, 0.9, five.p90());
    }

    @Test
    public void aTargetSeenFromSeveralAgentsIsOneSeriesOfAllOfThem() throws Exception {
        store.enroll(hash(1), "a2", List.of(), "v", hash(101), T0);
        store.enroll(hash(1), "a3", List.of(), "v", hash(102), T0);
        List<Double> all = new ArrayList<>();
        for (int a = 1; a <= 3; a++) {
            List<WireResult> batch = new ArrayList<>();
            for (int i = 1; i <= 120; i++) { // two minutes, an agent's results a second apart, the agents' interleaved
                double rt = 0.001 * a + 0.00001 * i;
                batch.add(result(i, "t", T0.plusMillis(1000L * (i - 1) + 300L * a), rt, true));
                all.add(rt);
            }
            store.ingest("a" + a, "e1", batch);
        }
        store.ingest("a1", "e1", List.of(result(121, "other", T0.plusSeconds(5), 9.0, true)));
        all.sort(null);
        List<SeriesStep> raw = store.series(new SeriesQuery(null, "t", T0, T0.plusSeconds(120), Duration.ofSeconds(30)));
        assertEquals(4, raw.size());
        raw.forEach(s -> assertEquals(90, s.count()));
        SeriesQuery minutes = new SeriesQuery(null, "t", T0, T0.plusSeconds(120), Duration.ofMinutes(1));
        List<SeriesStep> fresh = store.series(minutes);
        assertEquals(2, fresh.size());
        assertEquals(180, fresh.get(0).count());
        assertEquals(all.get(0), fresh.get(0).min(), 1e-9);
        assertEquals(all.get(all.size() - 1), fresh.get(1).max(), 1e-9);
        assertEquals("a (series, hour) pair each", 4, store.rollUp(100, T0.minus(Duration.ofDays(30)), T0.plus(Duration.ofDays(10))));
        assertEquals("the same from the rollups of the three", fresh, store.series(minutes));
        assertEquals(1, store.series(new SeriesQuery("a2", "t", T0, T0.plusSeconds(120), Duration.ofMinutes(2))).size());
        assertEquals(120, store.series(new SeriesQuery("a2", "t", T0, T0.plusSeconds(120), Duration.ofMinutes(2))).get(0).count());
        // paged across the three in time order, each result once
        List<StoredResult> paged = new ArrayList<>();
        String after = null;
        for (int pages = 0; pages < 100; pages++) {
            Page<StoredResult> p = store.results(new ResultQuery(null, "t", T0, T0.plusSeconds(120), 7, after));
            paged.addAll(p.items());
            after = p.next();
            if (after == null) {
                break;
            }
        }
        assertEquals(360, paged.size());
        for (int i = 1; i < paged.size(); i++) {
            assertTrue("in time order at " + i, !paged.get(i).result().startedAt().isBefore(paged.get(i - 1).result().startedAt()));
        }
        assertEquals(360, paged.stream().map(r -> r.agentId() + "/" + r.result().seq()).distinct().count());
    }

    /** A mesh's target seen from more agents than one union takes ({@link JdbcStore#UNION_MAX}): read in parts, merged in time order. */
    @Test
    public void aTargetSeenFromHundredsOfAgentsIsOneSeriesOfAllOfThem() throws Exception {
        int agents = 2 * JdbcStore.UNION_MAX + 22;
        store.createEnrollmentToken(hash(6), List.of(), T0.plusSeconds(3600), false, true, T0);
        List<Double> all = new ArrayList<>();
        for (int a = 1; a <= agents; a++) {
            if (a > 1) {
                store.enroll(hash(6), "a" + a, List.of(), "v", hash(100 + a), T0); // 102 .. 250, each its own
            }
        }
        for (int a = 1; a <= agents; a++) {
            List<WireResult> batch = new ArrayList<>();
            for (int i = 1; i <= 120; i++) { // two minutes, a result every second from each agent, the agents' interleaved
                double rt = 0.0001 * a + 0.000001 * i;
                batch.add(result(i, "mesh", T0.plusMillis(1000L * (i - 1) + 3L * a), rt, i % 10 != 0));
                if (i % 10 != 0) {
                    all.add(rt);
                }
            }
            store.ingest("a" + a, "e1", batch);
        }
        // an older result far outside the range: each part reads its series' range by the index, and only the range
        store.ingest("a1", "e1", List.of(result(500, "mesh", T0.minus(Duration.ofDays(2)), 9.0, true)));
        all.sort(null);
        List<SeriesStep> raw = store.series(new SeriesQuery(null, "mesh", T0, T0.plusSeconds(120), Duration.ofSeconds(30)));
        assertEquals(4, raw.size());
        raw.forEach(st -> assertEquals(agents * 30L, st.count()));
        raw.forEach(st -> assertEquals(agents * 3L, st.failures()));
        SeriesQuery minutes = new SeriesQuery(null, "mesh", T0, T0.plusSeconds(120), Duration.ofMinutes(1));
        List<SeriesStep> fresh = store.series(minutes);
        assertEquals(2, fresh.size());
        assertEquals(agents * 60L, fresh.get(0).count());
        assertEquals(all.get(0), fresh.get(0).min(), 1e-9);
        assertEquals(all.get(all.size() - 1), fresh.get(1).max(), 1e-9);
        store.rollUp(10_000, T0.minus(Duration.ofDays(30)), T0.plus(Duration.ofDays(10)));
        assertEquals("the same from the rollups of every part", fresh, store.series(minutes));
        List<SeriesStep> day = store.series(new SeriesQuery(null, "mesh", T0.minus(Duration.ofDays(3)), T0.plusSeconds(120),
                Duration.ofHours(1)));
        assertEquals("the old result's hour and the two minutes' hour", 2, day.size());
        assertEquals(1, day.get(0).count());
        assertEquals(agents * 120L, day.get(1).count());
    }

    /**
     * Threads interrupted while they write (Jetty interrupts its threads as it stops, an executor shut down interrupts its
     * jobs) must cost at most their own batches, never one acknowledged: on a plain FileChannel an interrupt closes H2's
     * file under every thread at work on it (a commit then fails with "Reading from file ... failed at ... (length -1)").
     * Four senders send their batches again until each is acknowledged, as agents do, while their threads are interrupted
     * at random; every result acknowledged is stored once, before and after a reopen, and the store takes batches after.
     */
    @Test
    public void interruptedWritersLoseNothingAcknowledgedAndLeaveTheStoreWorking() throws Exception {
        int senders = 4;
        int batches = 40;
        for (int a = 2; a <= senders; a++) {
            store.enroll(hash(1), "a" + a, List.of(), "v", hash(100 + a), T0);
        }
        java.util.concurrent.atomic.AtomicInteger failures = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger interrupts = new java.util.concurrent.atomic.AtomicInteger();
        int[] acknowledged = new int[senders + 1];
        List<Thread> threads = new ArrayList<>();
        for (int a = 1; a <= senders; a++) {
            int agent = a;
            threads.add(new Thread(() -> {
                for (int b = 0; b < batches; b++) {
                    List<WireResult> batch = new ArrayList<>();
                    for (int i = 1; i <= 5; i++) {
                        int seq = b * 5 + i;
                        batch.add(result(seq, "t" + i, T0.plusSeconds(seq), 0.001 * agent, true));
                    }
                    for (int attempt = 0; attempt < 50; attempt++) { // until acknowledged, as an agent's spool does
                        try {
                            store.ingest("a" + agent, "e1", batch);
                            acknowledged[agent] += 5;
                            break;
                        } catch (StoreException | RuntimeException e) {
                            failures.incrementAndGet();
                        }
                        Thread.interrupted(); // an agent's next attempt is a new request
                    }
                }
            }, "sender-" + a));
        }
        threads.forEach(Thread::start);
        java.util.Random random = new java.util.Random(7);
        long end = System.nanoTime() + 60_000_000_000L;
        while (threads.stream().anyMatch(Thread::isAlive) && System.nanoTime() < end) {
            Thread t = threads.get(random.nextInt(senders));
            if (t.isAlive()) {
                t.interrupt();
                interrupts.incrementAndGet();
            }
            Thread.sleep(1 + random.nextInt(4));
        }
        for (Thread t : threads) {
            t.join(60_000);
            assertFalse(t.getName(), t.isAlive());
        }
        assertTrue("interrupted " + interrupts, interrupts.get() > 10);
        for (int pass = 0; pass < 2; pass++) {
            for (int a = 1; a <= senders; a++) {
                List<StoredResult> stored = store.results(new ResultQuery("a" + a, null, T0, T0.plusSeconds(3600), 10_000, null)).items();
                assertEquals("a" + a + " after " + failures + " failed attempts, reopened " + pass, batches * 5, acknowledged[a]);
                assertEquals("a" + a + ", each result once", batches * 5L,
                        stored.stream().map(r -> r.result().seq()).distinct().count());
                assertEquals(batches * 5, stored.size());
            }
            store.close();
            store = open();
        }
        assertEquals(1, store.ingest("a1", "e1", List.of(result(batches * 5 + 1, "t1", T0, 0.001, true))));
    }

    /**
     * A target seen from several agents has rollups across them: its closed hours are read from those, the hours whose
     * series changed since from the series (their rollups, or their raw results where those changed).
     */
    @Test
    public void aTargetsClosedHoursComeFromItsRollupsAcrossItsAgentsAndItsChangedHoursFromItsSeries() throws Exception {
        store.enroll(hash(1), "a2", List.of(), "v", hash(101), T0);
        store.enroll(hash(1), "a3", List.of(), "v", hash(102), T0);
        for (int a = 1; a <= 3; a++) {
            List<WireResult> batch = new ArrayList<>();
            for (int i = 0; i < 540; i++) { // three hours, a result every 20 s from each agent
                batch.add(result(i + 1, "x", T0.plusMillis(20_000L * i + 100L * a), 0.001 * a + 0.000001 * i, i % 7 != 0));
            }
            store.ingest("a" + a, "e1", batch);
        }
        store.ingest("a1", "e1", List.of(result(600, "alone", T0.plusSeconds(30), 0.002, true)));
        Instant end = T0.plus(Duration.ofHours(3));
        Instant later = T0.plus(Duration.ofDays(10));
        SeriesQuery minutes = new SeriesQuery(null, "x", T0, end, Duration.ofMinutes(1));
        SeriesQuery hours = new SeriesQuery(null, "x", T0, end, Duration.ofHours(1));
        List<SeriesStep> fresh = store.series(minutes);
        List<SeriesStep> freshHours = store.series(hours);
        assertEquals(180, fresh.size());
        assertEquals(3, freshHours.size());
        freshHours.forEach(h -> assertEquals(3 * 180L, h.count()));
        assertEquals("three series' hours and the lone target's", 10, store.rollUp(100, T0.minus(Duration.ofDays(30)), later));
        assertEquals("listed for the targets, not yet made: from the series' rollups", fresh, store.series(minutes));
        assertEquals("x's three hours: the lone target has none", 3, store.rollUpTargets(100, later));
        assertEquals(0, store.rollUpTargets(100, later));
        assertEquals("from the target's rollups", fresh, store.series(minutes));
        assertEquals(freshHours, store.series(hours));

        // a late result in the middle hour: that hour from the series until the target's is made again
        Instant late = T0.plus(Duration.ofMinutes(90)).plusSeconds(5);
        store.ingest("a2", "e1", List.of(result(1000, "x", late, 0.5, true)));
        List<SeriesStep> withLate = store.series(minutes);
        assertEquals(180, withLate.size());
        for (int m = 0; m < 180; m++) {
            if (m == 90) {
                assertEquals(fresh.get(m).count() + 1, withLate.get(m).count());
                assertEquals(0.5, withLate.get(m).max(), 1e-9);
            } else {
                assertEquals("minute " + m, fresh.get(m), withLate.get(m));
            }
        }
        assertEquals(freshHours.get(1).count() + 1, store.series(hours).get(1).count());
        assertEquals(1, store.rollUp(100, T0.minus(Duration.ofDays(30)), later));
        assertEquals("the series' rollups made again, the target's not yet", withLate, store.series(minutes));
        assertEquals(1, store.rollUpTargets(100, later));
        assertEquals(withLate, store.series(minutes));

        // the series' rollups of the middle hour gone behind the store's back: the target's answer alone
        long h1 = T0.plus(Duration.ofHours(1)).toEpochMilli();
        store.close();
        sql("DELETE FROM rollup WHERE start_ms >= " + h1 + " AND start_ms < " + (h1 + 3_600_000L));
        store = open();
        assertEquals("read from the target's rollups", withLate, store.series(minutes));
        assertEquals("one agent's are its series'", 120, store.series(new SeriesQuery("a1", "x", T0, end, Duration.ofMinutes(1))).size());

        // and the retention drops the target's with the series'
        assertTrue(store.dropRollupsOlderThan(60, Duration.ofDays(1), T0.plus(Duration.ofDays(2))) >= 2 * 180 + 120);
        assertEquals(List.of(), store.series(minutes));
        assertEquals(3, store.series(hours).size());
    }

    @Test
    public void aRangeAskedAsOneStepIsOneStepWhereverTheEpochsMultiplesFall() throws Exception {
        // a range of 16 minutes from a minute that is 10 minutes past a multiple of 16 minutes since the epoch: counted from
        // the epoch, its steps would split it at minute 6 (the mesh matrix read only the first of them)
        long sixteen = Duration.ofMinutes(16).toMillis();
        Instant from = Instant.ofEpochMilli(Math.floorDiv(T0.toEpochMilli(), sixteen) * sixteen + Duration.ofMinutes(10).toMillis());
        Instant to = from.plus(Duration.ofMinutes(16));
        List<WireResult> batch = new ArrayList<>();
        for (int i = 1; i <= 12; i++) { // one a minute, across the epoch's multiple at minute 6
            batch.add(result(i, "w", from.plusSeconds(60L * i - 30), 0.001 * i, i % 4 != 0));
        }
        store.ingest("a1", "e1", batch);
        assertEquals("counted from the epoch: two steps", 2,
                store.series(new SeriesQuery(null, "w", from, to, Duration.ofMinutes(16))).size());
        for (SeriesQuery q : List.of(SeriesQuery.whole(null, "w", from, to), SeriesQuery.whole(null, "w", from, to.minusMillis(1)))) {
            List<SeriesStep> whole = store.series(q); // whole minutes from the rollups' path, and a raw, exact one
            assertEquals(q.toString(), 1, whole.size());
            assertEquals(from, whole.get(0).start());
            assertEquals(12, whole.get(0).count());
            assertEquals(3, whole.get(0).failures());
            assertEquals(0.001, whole.get(0).min(), 1e-9);
        }
        store.rollUp(100, T0.minus(Duration.ofDays(30)), T0.plus(Duration.ofDays(10)));
        assertEquals("from the rollups too", 12, store.series(SeriesQuery.whole(null, "w", from, to)).get(0).count());
    }

    @Test
    public void aListingOfMoreSeriesThanOneQueryUnitesIsWholeAndInOrder() throws Exception {
        int targets = JdbcStore.UNION_MAX + 6;
        List<WireResult> batch = new ArrayList<>();
        for (int i = 1; i <= targets * 3; i++) {
            batch.add(result(i, "t" + (i % targets), T0.plusMillis(10L * i), 0.001, true));
        }
        store.ingest("a1", "e1", batch);
        List<StoredResult> paged = new ArrayList<>();
        String after = null;
        for (int pages = 0; pages < 100; pages++) {
            Page<StoredResult> p = store.results(new ResultQuery("a1", null, T0, T0.plusSeconds(60), 50, after));
            paged.addAll(p.items());
            after = p.next();
            if (after == null) {
                break;
            }
        }
        assertEquals(targets * 3, paged.size());
        for (int i = 0; i < paged.size(); i++) {
            assertEquals(i + 1, paged.get(i).result().seq());
        }
    }

    @Test
    public void anAgentKeepsTheLastAddressItCameFrom() throws Exception {
        assertEquals(null, store.agents().get(0).address());
        store.touch("a1", T0.plusSeconds(1), null, 0, "127.0.0.7");
        assertEquals("127.0.0.7", store.agents().get(0).address());
        store.touch("a1", T0.plusSeconds(2), "0.2.0", 5, null);
        AgentRecord a = store.agents().get(0);
        assertEquals("kept where none is given", "127.0.0.7", a.address());
        assertEquals("0.2.0", a.version());
        assertEquals(5, a.spoolRecords());
        assertEquals(T0.plusSeconds(2), a.lastSeen());
        store.touch("a1", T0.plusSeconds(3), "0.2.0", 0, "::1");
        assertEquals("::1", store.agentByCredential(hash(100)).orElseThrow().address());
    }

    @Test
    public void lastSeenTimesAreWrittenTogetherAndNeverGoBack() throws Exception {
        store.createEnrollmentToken(hash(5), List.of(), T0.plusSeconds(3600), true, true, T0);
        store.enroll(hash(5), "a2", List.of(), "v", hash(120), T0);
        store.touch("a1", T0.plusSeconds(10), "0.2.0", 5, "127.0.0.7");
        Map<String, Instant> heard = new java.util.LinkedHashMap<>();
        heard.put("a1", T0.plusSeconds(4)); // older than what a status wrote: kept as it is
        heard.put("a2", T0.plusSeconds(7));
        heard.put("nobody", T0.plusSeconds(8)); // not known: skipped
        store.seen(heard);
        Map<String, AgentRecord> byId = new java.util.HashMap<>();
        for (AgentRecord a : store.agents()) {
            byId.put(a.agentId(), a);
        }
        assertEquals(Set.of("a1", "a2"), byId.keySet());
        assertEquals(T0.plusSeconds(10), byId.get("a1").lastSeen());
        assertEquals("the rest of what a status said stays", "127.0.0.7", byId.get("a1").address());
        assertEquals(5, byId.get("a1").spoolRecords());
        assertEquals(T0.plusSeconds(7), byId.get("a2").lastSeen());
        store.seen(Map.of("a1", T0.plusSeconds(12), "a2", T0.plusSeconds(6)));
        for (AgentRecord a : store.agents()) {
            assertEquals(a.agentId(), a.agentId().equals("a1") ? T0.plusSeconds(12) : T0.plusSeconds(7), a.lastSeen());
        }
        store.seen(Map.of()); // nothing to write: no statement
    }

    @Test
    public void aStatusSpoolCountIsWrittenWithItsTimeAndNeverOverANewerWord() throws Exception {
        store.createEnrollmentToken(hash(5), List.of(), T0.plusSeconds(3600), true, true, T0);
        store.enroll(hash(5), "a2", List.of(), "v", hash(120), T0);
        store.touch("a1", T0.plusSeconds(10), "1.0", 5, "127.0.0.7");
        store.heard(Map.of("a1", new io.sonde.server.spi.Store.Heard(T0.plusSeconds(20), 40), // a newer status: time and count
                "a2", new io.sonde.server.spi.Store.Heard(T0.plusSeconds(3), -1), // a batch: the time only
                "nobody", new io.sonde.server.spi.Store.Heard(T0.plusSeconds(3), 2)));
        Map<String, AgentRecord> byId = new java.util.HashMap<>();
        for (AgentRecord a : store.agents()) {
            byId.put(a.agentId(), a);
        }
        assertEquals(T0.plusSeconds(20), byId.get("a1").lastSeen());
        assertEquals(40, byId.get("a1").spoolRecords());
        assertEquals("1.0", byId.get("a1").version());
        assertEquals("127.0.0.7", byId.get("a1").address());
        assertEquals(T0.plusSeconds(3), byId.get("a2").lastSeen());
        assertEquals(0, byId.get("a2").spoolRecords());
        // another instance's older word: neither its time nor its count
        store.heard(Map.of("a1", new io.sonde.server.spi.Store.Heard(T0.plusSeconds(15), 99)));
        AgentRecord a1 = store.agents().stream().filter(a -> a.agentId().equals("a1")).findFirst().orElseThrow();
        assertEquals(T0.plusSeconds(20), a1.lastSeen());
        assertEquals(40, a1.spoolRecords());
        store.heard(Map.of("a1", new io.sonde.server.spi.Store.Heard(T0.plusSeconds(20), 0))); // told at the same time: taken
        assertEquals(0, store.agents().stream().filter(a -> a.agentId().equals("a1")).findFirst().orElseThrow().spoolRecords());
    }

    @Test
    public void anAgentsConfigurationReportReplacesTheLastOne() throws Exception {
        assertEquals("nothing said yet", null, store.agents().get(0).config());
        String awkward = "o'clock \"quoted\" \u00e9t\u00e9 \ud83d\udce1 %_\n";
        store.reportConfig("a1", new AgentRecord.ConfigReport("v1", "server-cache",
                List.of(new io.sonde.wire.AgentStatus.Rejected("web", awkward), new io.sonde.wire.AgentStatus.Rejected("targets[3]", "x")),
                T0.plusSeconds(5)));
        AgentRecord.ConfigReport r = store.agents().get(0).config();
        assertEquals("v1", r.version());
        assertEquals("server-cache", r.source());
        assertEquals(T0.plusSeconds(5), r.reportedAt());
        assertEquals(List.of(new io.sonde.wire.AgentStatus.Rejected("web", awkward), new io.sonde.wire.AgentStatus.Rejected("targets[3]", "x")),
                r.rejected());
        assertEquals(List.of(), r.updates());
        List<io.sonde.wire.AgentStatus.Update> updates = List.of(new io.sonde.wire.AgentStatus.Update("io.sonde.plugin.tcp", "0.2.0",
                "canary", "failed", awkward));
        store.reportConfig("a1", new AgentRecord.ConfigReport("v2", "server", List.of(), T0.plusSeconds(6), updates));
        r = store.agentByCredential(hash(100)).orElseThrow().config();
        assertEquals("v2", r.version());
        assertEquals(List.of(), r.rejected());
        assertEquals(updates, r.updates());
    }

    @Test
    public void aReleaseIsStoredOnceAndItsJarComesBackByteForByte() throws Exception {
        byte[] jar = new byte[2_000_000];
        new java.util.Random(1).nextBytes(jar);
        io.sonde.server.spi.Release r = new io.sonde.server.spi.Release("io.sonde.plugin.tcp", "0.2.0", "0f".repeat(32), jar.length,
                "{\"symbolic_name\":\"io.sonde.plugin.tcp\"}", T0);
        assertTrue(store.putRelease(r, new java.io.ByteArrayInputStream(jar)));
        assertEquals("the same again changes nothing", false, store.putRelease(r, new java.io.ByteArrayInputStream(jar)));
        refused(() -> store.putRelease(new io.sonde.server.spi.Release(r.symbolicName(), r.version(), "1f".repeat(32), 3, "{}", T0),
                new java.io.ByteArrayInputStream(new byte[3])), "is in the repository with other bytes");
        io.sonde.server.spi.Release newer = new io.sonde.server.spi.Release(r.symbolicName(), "0.10.0", "2f".repeat(32), 1, "{}", T0);
        assertTrue(store.putRelease(newer, new java.io.ByteArrayInputStream(new byte[] {42})));
        assertEquals(List.of(newer, r), store.releases()); // by name and version as text
        assertEquals(r, store.release("io.sonde.plugin.tcp", "0.2.0").orElseThrow());
        assertTrue(store.release("io.sonde.plugin.tcp", "0.3.0").isEmpty());
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        assertTrue(store.copyReleaseJar("io.sonde.plugin.tcp", "0.2.0", out));
        assertTrue(java.util.Arrays.equals(jar, out.toByteArray()));
        assertEquals(false, store.copyReleaseJar("io.sonde.plugin.tcp", "0.3.0", new java.io.ByteArrayOutputStream()));
    }

    @Test
    public void definitionsAreKeptByTypeAndNameAndReplacedWhole() throws Exception {
        String awkward = "o'clock; DROP TABLE definition; -- \u00e9t\u00e9 \ud83d\udce1 %_";
        assertEquals(false, store.putDefinition(new Definition("target", "web", "{\"host\":\"a\"}", T0)));
        assertEquals(false, store.putDefinition(new Definition("target", awkward, "{\"note\":\"" + awkward + "\"}", T0)));
        assertEquals(false, store.putDefinition(new Definition("mesh", "web", "{\"members\":\"*\"}", T0)));
        assertEquals(true, store.putDefinition(new Definition("target", "web", "{\"host\":\"b\"}", T0.plusSeconds(5))));
        String big = "{\"x\":\"" + "y".repeat(200_000) + "\"}";
        store.putDefinition(new Definition("target", "z".repeat(200), big, T0));
        List<Definition> targets = store.definitions("target");
        assertEquals(List.of(awkward, "web", "z".repeat(200)), targets.stream().map(Definition::name).toList());
        assertEquals(new Definition("target", "web", "{\"host\":\"b\"}", T0.plusSeconds(5)), targets.get(1));
        assertEquals("{\"note\":\"" + awkward + "\"}", targets.get(0).body());
        assertEquals(big, targets.get(2).body());
        assertEquals("a type of its own", 1, store.definitions("mesh").size());
        assertEquals(3, store.definitionCount("target"));
        assertEquals(1, store.definitionCount("mesh"));
        assertEquals(0, store.definitionCount("rollout"));
        assertEquals(java.util.Optional.of(targets.get(1)), store.definition("target", "web"));
        assertEquals(java.util.Optional.empty(), store.definition("mesh", awkward));
        assertEquals(awkward, store.definition("target", awkward).orElseThrow().name());
        assertTrue(store.deleteDefinition("target", awkward));
        assertEquals(false, store.deleteDefinition("target", awkward));
        assertEquals(2, store.definitions("target").size());
        store.close();
        store = open();
        assertEquals("kept across a restart", 2, store.definitions("target").size());
    }

    @Test
    public void aWindowOfTheTargetsOfOnePrefixHoldsThemAloneWhateverTheirNamesHold() throws Exception {
        // a mesh's targets; LIKE's own characters in a name are letters like the others
        store.enroll(hash(1), "a2", List.of(), "v", hash(101), T0);
        store.ingest("a1", "e1", List.of(new WireResult(1, "mesh/m_1/icmp/a%b", "icmp", T0.plusSeconds(1), true, null, null, 0.002, null),
                new WireResult(2, "mesh/m_1/icmp/c", "icmp", T0.plusSeconds(2), false, "timeout", null, 0, null),
                new WireResult(3, "mesh/mx1/icmp/c", "icmp", T0.plusSeconds(3), true, null, null, 0.003, null),
                new WireResult(4, "mesh/m_1/icmp/c", "icmp", T0.plusSeconds(30), true, null, null, 0.004, null)));
        store.ingest("a2", "e1", List.of(new WireResult(1, "mesh/m_1/icmp/a%b", "icmp", T0.plusSeconds(4), true, null, null, 0.005, null),
                new WireResult(2, "mesh/m\\1/icmp/d", "icmp", T0.plusSeconds(4), true, null, null, 0.005, null)));
        List<io.sonde.server.spi.SeriesWindow> w = new ArrayList<>(store.window("mesh/m_1/", T0, T0.plusSeconds(10)));
        w.sort(java.util.Comparator.comparing(io.sonde.server.spi.SeriesWindow::agentId).thenComparing(io.sonde.server.spi.SeriesWindow::target));
        assertEquals(w.toString(), 3, w.size());
        assertEquals("a1 mesh/m_1/icmp/a%b 1 0", line(w.get(0)));
        assertEquals("a1 mesh/m_1/icmp/c 1 1", line(w.get(1)));
        assertEquals("a2 mesh/m_1/icmp/a%b 1 0", line(w.get(2)));
        assertEquals(0.002, w.get(0).p50(), 1e-9);
        assertEquals("a percent sign is no wildcard", List.of(), store.window("mesh/m%", T0, T0.plusSeconds(10)));
        assertEquals("a backslash is itself", "a2 mesh/m\\1/icmp/d 1 0", line(store.window("mesh/m\\", T0, T0.plusSeconds(10)).get(0)));
        assertEquals(List.of(), store.window("mesh/m_1/", T0.plusSeconds(40), T0.plusSeconds(50)));
    }

    private static String line(io.sonde.server.spi.SeriesWindow w) {
        return w.agentId() + " " + w.target() + " " + w.count() + " " + w.failures();
    }

    @Test
    public void aWindowSumsUpEachAgentsResultsPerTargetAndTheLatestIsAtHand() throws Exception {
        List<WireResult> rs = new ArrayList<>();
        for (int i = 0; i < 10; i++) { // gw: one a second, every third failed (3 of 4 packets back)
            rs.add(result(i + 1, "gw", T0.plusSeconds(i), 0.010 + i * 0.001, i % 3 != 0));
        }
        rs.add(new WireResult(11, "web", "tcp", T0.plusSeconds(3), true, null, null, 0.002, null));
        rs.add(new WireResult(12, "web", "tcp", T0.plusSeconds(30), false, "refused", "refused", 0, null));
        store.ingest("a1", "e1", rs);
        List<io.sonde.server.spi.SeriesWindow> w = store.window(T0.plusSeconds(2), T0.plusSeconds(10));
        assertEquals(2, w.size());
        io.sonde.server.spi.SeriesWindow gw = w.stream().filter(x -> x.target().equals("gw")).findFirst().orElseThrow();
        assertEquals("a1", gw.agentId());
        assertEquals("icmp", gw.kind());
        assertEquals("seconds 2 to 9", 8, gw.count());
        assertEquals("3, 6, 9", 3, gw.failures());
        assertEquals(3.0 / 32, gw.loss(), 1e-9);
        assertEquals(0.015, gw.p50(), 0.0005);
        io.sonde.server.spi.SeriesWindow web = w.stream().filter(x -> x.target().equals("web")).findFirst().orElseThrow();
        assertEquals(1, web.count());
        assertEquals(0, web.failures());
        assertEquals(List.of(), store.window(T0.plusSeconds(40), T0.plusSeconds(50)));
        StoredResult latest = store.latest("a1", "web").orElseThrow();
        assertEquals(12, latest.result().seq());
        assertEquals("refused", latest.result().failureReason());
        assertEquals(java.util.Optional.empty(), store.latest("a1", "nothing"));
    }

    @Test
    public void alertStatesAreKeptPerRuleAndSubject() throws Exception {
        io.sonde.server.spi.AlertState a = new io.sonde.server.spi.AlertState("web-down", "web", "firing", T0, 2,
                T0.plusSeconds(30), T0.plusSeconds(31), null, "down from a1, a2");
        store.putAlertState(a);
        store.putAlertState(new io.sonde.server.spi.AlertState("web-down", "api", "pending", T0, Double.NaN, null, null, null, null));
        store.putAlertState(new io.sonde.server.spi.AlertState("web-down", "web", "ok", T0.plusSeconds(60), 0, null, T0.plusSeconds(31),
                T0.plusSeconds(60), ""));
        List<io.sonde.server.spi.AlertState> all = store.alertStates();
        assertEquals(2, all.size());
        assertEquals("api", all.get(0).subject());
        assertTrue(Double.isNaN(all.get(0).value()));
        assertEquals(null, all.get(0).firedAt());
        assertEquals("ok", all.get(1).state());
        assertEquals(T0.plusSeconds(60), all.get(1).resolvedAt());
        store.deleteAlertState("web-down", "api");
        store.close();
        store = open();
        assertEquals("kept across a restart", List.of("web"), store.alertStates().stream().map(io.sonde.server.spi.AlertState::subject).toList());
    }

    @Test
    public void theOutboxKeepsMessagesInOrderUntilSentOrGivenUp() throws Exception {
        long first = store.enqueue("{\"webhook\":\"http://127.0.0.1:1/\"}", "{\"n\":1}", T0);
        long second = store.enqueue("{\"webhook\":\"http://127.0.0.1:1/\"}", "{\"n\":2}", T0);
        long third = store.enqueue("{\"alertmanager\":\"http://127.0.0.1:2/\"}", "[]", T0.plusSeconds(5));
        assertTrue(first < second && second < third);
        assertEquals(List.of(first, second, third), store.undeliveredNotifications(10).stream().map(io.sonde.server.spi.Notification::id).toList());
        assertEquals(List.of(first), store.undeliveredNotifications(1).stream().map(io.sonde.server.spi.Notification::id).toList());
        store.notificationFailed(first, 1, T0.plusSeconds(7), "connection refused");
        assertEquals(T0.plusSeconds(7), store.undeliveredNotifications(10).get(0).nextAt());
        store.notificationSent(second, T0.plusSeconds(5));
        store.notificationFailed(third, 9, Instant.MAX, "gave up");
        List<io.sonde.server.spi.Notification> due = store.undeliveredNotifications(10);
        assertEquals(1, due.size());
        assertEquals(first, due.get(0).id());
        assertEquals(1, due.get(0).attempts());
        assertEquals("connection refused", due.get(0).lastError());
        assertEquals(1, store.pendingNotifications());
        List<io.sonde.server.spi.Notification> recent = store.notifications(10);
        assertEquals(List.of(third, second, first), recent.stream().map(io.sonde.server.spi.Notification::id).toList());
        assertTrue(recent.get(0).abandoned());
        assertEquals(T0.plusSeconds(5), recent.get(1).sentAt());
    }

    @Test
    public void usersAndTheirSessionsAndTokens() throws Exception {
        store.putUser(new io.sonde.server.spi.User("ana", "viewer", "h1", T0));
        store.putUser(new io.sonde.server.spi.User("bo", "admin", "h2", T0));
        store.putUser(new io.sonde.server.spi.User("ana", "admin", "h3", T0.plusSeconds(1)));
        assertEquals(List.of("ana", "bo"), store.users().stream().map(io.sonde.server.spi.User::name).toList());
        assertEquals("admin", store.user("ana").orElseThrow().role());
        assertEquals("h3", store.user("ana").orElseThrow().passwordHash());
        io.sonde.server.spi.UserCredential session = new io.sonde.server.spi.UserCredential(io.sonde.server.spi.UserCredential.idOf(hash(7)), "ana",
                "session", null, "csrf-1", T0, T0.plusSeconds(3600));
        store.putUserCredential(hash(7), session);
        store.putUserCredential(hash(8), new io.sonde.server.spi.UserCredential(io.sonde.server.spi.UserCredential.idOf(hash(8)), "ana", "token",
                "ci", null, T0, T0.plusSeconds(10)));
        assertEquals(session, store.userCredential(hash(7)).orElseThrow());
        assertEquals(2, store.userCredentials("ana").size());
        assertEquals(1, store.dropExpiredUserCredentials(T0.plusSeconds(60)));
        assertEquals(java.util.Optional.empty(), store.userCredential(hash(8)));
        assertTrue(store.deleteUserCredential(session.id()));
        store.putUserCredential(hash(9), new io.sonde.server.spi.UserCredential(io.sonde.server.spi.UserCredential.idOf(hash(9)), "bo", "session",
                null, "c", T0, T0.plusSeconds(3600)));
        assertTrue(store.deleteUser("bo"));
        assertEquals("a user's sessions go with them", java.util.Optional.empty(), store.userCredential(hash(9)));
        assertEquals(false, store.deleteUser("bo"));
        store.ingest("a1", "e1", List.of(result(1, "gw", T0, 0.01, true)));
        assertEquals(List.of(new io.sonde.server.spi.SeriesName("a1", "gw", "icmp")), store.seriesNames());
        io.sonde.server.spi.EnrollmentToken once = store.createEnrollmentToken(hash(20), List.of("x"), T0.plusSeconds(60), true, T0);
        io.sonde.server.spi.EnrollmentToken gone = store.createEnrollmentToken(hash(21), List.of(), T0.plusSeconds(60), false, T0);
        assertEquals("the one of @Before, and the new ones", 3, store.enrollmentTokens(T0).size());
        store.enroll(hash(20), "a9", List.of(), "v", hash(120), T0);
        assertTrue(store.deleteEnrollmentToken(gone.id()));
        assertEquals("used up and deleted ones are not listed", 1, store.enrollmentTokens(T0).size());
        assertEquals(false, store.deleteEnrollmentToken(gone.id()));
        assertTrue(store.setAgentTags("a1", List.of("core", "fra1")));
        assertEquals(List.of("core", "fra1"), store.agentByCredential(hash(100)).orElseThrow().tags());
        assertEquals(false, store.setAgentTags("nobody", List.of()));
        assertEquals(once.id() - 1, store.enrollmentTokens(T0).get(0).id());
        try {
            store.enroll(hash(21), "a10", List.of(), "v", hash(121), T0);
            fail("a deleted token enrolled");
        } catch (StoreException e) {
            assertEquals(StoreException.Kind.REFUSED, e.kind());
        }
    }

    @Test
    public void definitionsStoredAtOnceFromManyCallersEndAsOne() throws Exception {
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Future<Boolean>> calls = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                int n = i;
                calls.add(pool.submit(() -> store.putDefinition(new Definition("target", "same", "{\"n\":" + n + "}", T0))));
            }
            int created = 0;
            for (java.util.concurrent.Future<Boolean> f : calls) {
                created += f.get() ? 0 : 1;
            }
            assertEquals("made once, replaced by the others", 1, created);
            assertEquals(1, store.definitions("target").size());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    public void hourAndDayStepsMergeHourRollupsOverDays() throws Exception {
        Random random = new Random(11);
        List<WireResult> batch = new ArrayList<>();
        List<Double> day1 = new ArrayList<>();
        for (int i = 1; i <= 4320; i++) { // three days, one a minute, log-normal response times
            Instant at = T0.plus(Duration.ofMinutes(i - 1));
            double rt = Math.round(Math.exp(random.nextGaussian() * 0.8 - 6) * 1e6) / 1e6;
            batch.add(result(i, "t", at, rt, true));
            if (i > 1440 && i <= 2880) {
                day1.add(rt);
            }
        }
        store.ingest("a1", "e1", batch);
        assertEquals(72, store.rollUp(1000, T0.minus(Duration.ofDays(30)), T0.plus(Duration.ofDays(10))));
        List<SeriesStep> hours = store.series(new SeriesQuery("a1", "t", T0, T0.plus(Duration.ofDays(3)), Duration.ofHours(1)));
        assertEquals(72, hours.size());
        hours.forEach(h -> assertEquals(60, h.count()));
        List<SeriesStep> days = store.series(new SeriesQuery("a1", "t", T0, T0.plus(Duration.ofDays(3)), Duration.ofDays(1)));
        assertEquals(3, days.size());
        day1.sort(null);
        SeriesStep d = days.get(1);
        assertEquals(T0.plus(Duration.ofDays(1)), d.start());
        assertEquals(1440, d.count());
        assertEquals(day1.get(0), d.min(), 1e-9);
        assertEquals(day1.get(1439), d.max(), 1e-9);
        assertNear("p50 of a day of 24 merged hours", day1, 0.5, d.p50());
        assertNear("p99 of a day of 24 merged hours", day1, 0.99, d.p99());
    }

    @Test
    public void rollupsAreKeptAsLongAsTheirResolutionSays() throws Exception {
        List<WireResult> batch = new ArrayList<>();
        for (int i = 1; i <= 48; i++) {
            batch.add(result(i, "t", T0.plus(Duration.ofHours(i - 1)), 0.001, true));
        }
        store.ingest("a1", "e1", batch);
        store.rollUp(100, T0.minus(Duration.ofDays(30)), T0.plus(Duration.ofDays(10)));
        assertEquals("a minute each hour", 24, store.dropRollupsOlderThan(60, Duration.ofDays(1), T0.plus(Duration.ofDays(2))));
        assertEquals(0, store.dropRollupsOlderThan(3600, Duration.ofDays(3), T0.plus(Duration.ofDays(2))));
        assertEquals("the first day's minutes are gone", 0, store.series(new SeriesQuery("a1", "t", T0, T0.plus(Duration.ofDays(1)),
                Duration.ofMinutes(1))).size());
        assertEquals("its hours stay", 24, store.series(new SeriesQuery("a1", "t", T0, T0.plus(Duration.ofDays(1)),
                Duration.ofHours(1))).size());
    }

    @Test
    public void reopensWithWhatWasStoredAndRefusesANewerSchema() throws Exception {
        store.ingest("a1", "e1", List.of(result(1, "t", T0, 0.001, true)));
        store.close();
        store = open();
        assertEquals(1, store.resultCount());
        assertEquals(0, store.ingest("a1", "e1", List.of(result(1, "t", T0, 0.001, true))));
        store.close();
        store = null;
        sql("INSERT INTO schema_version VALUES (99)");
        JdbcStore newer = null;
        try {
            newer = open();
            newer.migrate();
            fail("opened a newer schema");
        } catch (java.sql.SQLException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("schema version 99, newer than this server knows"));
        } finally {
            if (newer != null) {
                try {
                    newer.check();
                    fail("a refused schema answered");
                } catch (StoreException e) {
                    assertEquals(StoreException.Kind.UNAVAILABLE, e.kind());
                    assertTrue(e.getMessage(), e.getMessage().contains("never migrated down"));
                }
                newer.close();
            }
        }
    }

    @Test
    public void awkwardNamesAndTextsAreStoredAndFoundAsTheyAre() throws Exception {
        String quote = "x'; DROP TABLE result; --";
        String wide = "名前 ünï 🚀 \\ \t";
        String longest = "n".repeat(255) + "é";
        String wildcard = "%";
        List<String> names = List.of(quote, wide, longest, wildcard, "_");
        List<WireResult> batch = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            batch.add(new WireResult(i + 1, names.get(i), "tcp", T0.plusSeconds(i), false, "refused",
                    "tab\tnewline\nback\\slash quote' nul\0 end " + names.get(i), 0.5, null));
        }
        assertEquals(names.size(), store.ingest("a1", "e1", batch));
        for (int i = 0; i < names.size(); i++) {
            List<StoredResult> found = store.results(new ResultQuery("a1", names.get(i), T0, T0.plusSeconds(60), 10, null)).items();
            assertEquals(names.get(i), 1, found.size());
            assertEquals(names.get(i), found.get(0).result().target());
            assertEquals("tab\tnewline\nback\\slash quote' nul\uFFFD end " + names.get(i), found.get(0).result().error());
            assertEquals(1, store.series(new SeriesQuery("a1", names.get(i), T0, T0.plusSeconds(60), Duration.ofMinutes(1)))
                    .get(0).count());
        }
        assertEquals("a name with wildcards is a name, not a pattern", 1,
                store.results(new ResultQuery(null, "%", T0, T0.plusSeconds(60), 10, null)).items().size());
        assertEquals(names.size(), store.resultCount());
    }

    @Test
    public void copiesOfABatchSentAtOnceAreStoredOnce() throws Exception {
        List<WireResult> batch = new ArrayList<>();
        for (int i = 1; i <= 2000; i++) {
            batch.add(result(i, "t" + (i % 7), T0.plusMillis(40L * i), 0.001, true));
        }
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            List<java.util.concurrent.Future<Integer>> stored = new ArrayList<>();
            for (int copy = 0; copy < 4; copy++) {
                stored.add(pool.submit(() -> store.ingest("a1", "e1", batch)));
            }
            int sum = 0;
            for (java.util.concurrent.Future<Integer> f : stored) {
                sum += f.get(60, java.util.concurrent.TimeUnit.SECONDS);
            }
            assertEquals("each result counted new once over all copies", 2000, sum);
        } finally {
            pool.shutdownNow();
        }
        assertEquals(2000, store.resultCount());
    }

    @Test
    public void concurrentBatchesShareCommitsAndEachCallerHearsOfItsOwn() throws Exception {
        int agents = 8;
        int batches = 40;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(agents);
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        store.createEnrollmentToken(hash(5), List.of(), T0.plusSeconds(3600), false, true, T0);
        for (int a = 0; a < agents; a++) {
            if (a != 1) { // a1 is enrolled already
                store.enroll(hash(5), "a" + a, List.of(), "v", hash(200 + a), T0);
            }
        }
        long[] before = store.commits();
        try {
            List<java.util.concurrent.Future<List<Integer>>> calls = new ArrayList<>();
            for (int a = 0; a < agents; a++) {
                String agent = "a" + a;
                calls.add(pool.submit(() -> {
                    go.await();
                    List<Integer> counts = new ArrayList<>();
                    for (int b = 0; b < batches; b++) {
                        List<WireResult> batch = new ArrayList<>();
                        for (int i = 1; i <= 5; i++) {
                            int seq = b * 5 + i;
                            batch.add(result(seq, "t" + (i % 3), T0.plusSeconds(seq), 0.001 * i, i % 4 != 0));
                        }
                        if (b % 10 == 9) {
                            batch.add(batch.get(0)); // a result sent twice in a batch is stored once
                        }
                        counts.add(store.ingest(agent, "e1", batch));
                        if (b % 10 == 9) {
                            counts.add(store.ingest(agent, "e1", batch.subList(0, 3))); // a batch sent again: nothing new
                        }
                    }
                    return counts;
                }));
            }
            go.countDown();
            for (java.util.concurrent.Future<List<Integer>> f : calls) {
                List<Integer> counts = f.get(120, java.util.concurrent.TimeUnit.SECONDS);
                assertEquals(batches + batches / 10, counts.size());
                for (int i = 0; i < counts.size(); i++) {
                    boolean again = (i + 1) % 11 == 0;
                    assertEquals("call " + i + ": what this caller's batch added, not another's", again ? 0 : 5, (int) counts.get(i));
                }
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(agents * batches * 5L, store.resultCount());
        for (int a = 0; a < agents; a++) {
            int back = 0;
            for (String t : List.of("t0", "t1", "t2")) {
                back += store.results(new ResultQuery("a" + a, t, T0, T0.plusSeconds(batches * 5 + 1), 1000, null)).items().size();
            }
            assertEquals("a" + a + "'s results, each once", batches * 5, back);
        }
        long[] after = store.commits();
        long written = after[1] - before[1];
        long commits = after[0] - before[0];
        assertEquals("every batch that stored something is in a commit", agents * (batches + batches / 10), written);
        assertTrue("concurrent batches shared commits: " + commits + " commits for " + written + " batches", commits < written);
    }

    @Test
    public void batchesArrivingOftenButApartWaitForEachOtherAndShareCommits() throws Exception {
        int agents = 3;
        int batches = 300;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(agents);
        store.createEnrollmentToken(hash(6), List.of(), T0.plusSeconds(3600), false, true, T0);
        for (int a = 0; a < agents; a++) {
            store.enroll(hash(6), "paced" + a, List.of(), "v", hash(220 + a), T0);
        }
        // as agents send: small batches, each sender one at a time and a few ms apart, so that without
        // waiting each would find nobody writing and commit alone
        long[] before = store.commits();
        try {
            List<java.util.concurrent.Future<Integer>> calls = new ArrayList<>();
            for (int a = 0; a < agents; a++) {
                String agent = "paced" + a;
                calls.add(pool.submit(() -> {
                    int stored = 0;
                    for (int b = 0; b < batches; b++) {
                        List<WireResult> batch = new ArrayList<>();
                        for (int i = 1; i <= 3; i++) {
                            int seq = b * 3 + i;
                            batch.add(result(seq, "t" + i, T0.plusSeconds(seq), 0.001 * i, true));
                        }
                        stored += store.ingest(agent, "e1", batch);
                        Thread.sleep(3);
                    }
                    return stored;
                }));
            }
            for (java.util.concurrent.Future<Integer> f : calls) {
                assertEquals("each result stored once", batches * 3, (int) f.get(120, java.util.concurrent.TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
        long[] after = store.commits();
        long written = after[1] - before[1];
        long commits = after[0] - before[0];
        assertEquals(agents * batches, written);
        assertTrue(commits + " commits for " + written + " batches", written >= 2 * commits);
    }

    @Test
    public void aBatchThatCannotBeStoredFailsAloneAmongConcurrentOnes() throws Exception {
        int agents = 6;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(agents);
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        String tooLong = "x".repeat(300); // the series' target column holds 256
        store.createEnrollmentToken(hash(5), List.of(), T0.plusSeconds(3600), false, true, T0);
        for (int a = 0; a < agents; a++) {
            if (a != 1) { // a1 is enrolled already
                store.enroll(hash(5), "a" + a, List.of(), "v", hash(200 + a), T0);
            }
        }
        try {
            List<java.util.concurrent.Future<String>> calls = new ArrayList<>();
            for (int a = 0; a < agents; a++) {
                String agent = "a" + a;
                boolean bad = a == 2;
                calls.add(pool.submit(() -> {
                    go.await();
                    StringBuilder said = new StringBuilder();
                    for (int b = 0; b < 20; b++) {
                        List<WireResult> batch = List.of(result(2 * b + 1, "t", T0.plusSeconds(b), 0.001, true),
                                result(2 * b + 2, bad && b % 5 == 4 ? tooLong : "u", T0.plusSeconds(b), 0.002, true));
                        try {
                            said.append(store.ingest(agent, "e1", batch));
                        } catch (StoreException e) {
                            said.append('!');
                        }
                    }
                    return said.toString();
                }));
            }
            go.countDown();
            for (int a = 0; a < agents; a++) {
                String said = calls.get(a).get(120, java.util.concurrent.TimeUnit.SECONDS);
                assertEquals("a" + a, a == 2 ? "2222!2222!2222!2222!" : "2".repeat(20), said);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals("the faulty batches stored nothing, every other one everything", (agents - 1) * 40 + 16 * 2, store.resultCount());
    }

    @Test
    public void theTimeZoneOfTheServerChangesNothing() throws Exception {
        java.util.TimeZone before = java.util.TimeZone.getDefault();
        try {
            java.util.TimeZone.setDefault(java.util.TimeZone.getTimeZone("Pacific/Chatham")); // +13:45 in December
            store.close();
            store = open();
            store.ingest("a1", "e1", List.of(result(1, "t", T0.minusMillis(1), 0.001, true), result(2, "t", T0, 0.002, true)));
            java.util.TimeZone.setDefault(java.util.TimeZone.getTimeZone("America/St_Johns")); // -03:30
            store.close();
            store = open();
            List<SeriesStep> days = store.series(new SeriesQuery("a1", "t", T0.minusSeconds(86_400), T0.plusSeconds(86_400),
                    Duration.ofDays(1)));
            assertEquals("steps of a day start at midnight UTC", List.of(T0.minusSeconds(86_400), T0),
                    days.stream().map(SeriesStep::start).toList());
            assertEquals(T0.minusMillis(1), store.results(new ResultQuery("a1", "t", T0.minusSeconds(1), T0, 10, null))
                    .items().get(0).result().startedAt());
        } finally {
            java.util.TimeZone.setDefault(before);
        }
    }

    @Test
    public void retentionDropsWholeDaysOlderThanItKeeps() throws Exception {
        List<WireResult> batch = new ArrayList<>();
        for (int i = 1; i <= 120; i++) { // one result an hour for five days: T0 - 120 h to T0 - 1 h
            batch.add(result(i, "t", T0.minus(Duration.ofHours(121 - i)), 0.001, true));
        }
        assertEquals(120, store.ingest("a1", "e1", batch));
        // keep 2 days at T0 + 6 h: T0 - 42 h is in the day that starts at T0 - 48 h, which stays; the three before go
        long dropped = store.dropOlderThan(Duration.ofDays(2), T0.plus(Duration.ofHours(6)));
        assertEquals("the results of the three days before T0 - 48 h", 72, dropped);
        List<StoredResult> left = store.results(new ResultQuery("a1", "t", T0.minus(Duration.ofDays(10)), T0.plusSeconds(1), 1000, null))
                .items();
        assertEquals(48, left.size());
        assertEquals(T0.minus(Duration.ofDays(2)), left.get(0).result().startedAt());
        assertEquals(0, store.dropOlderThan(Duration.ofDays(2), T0.plus(Duration.ofHours(6))));
        assertEquals("a dropped day takes new results again (a late agent)", 1,
                store.ingest("a1", "e1", List.of(result(121, "t", T0.minus(Duration.ofDays(4)), 0.001, true))));
        assertEquals(49, store.resultCount());
    }

    @Test
    public void anOpenHourIsLeftToTheRawResultsUntilItIsClosed() throws Exception {
        Instant now = T0.plus(Duration.ofMinutes(30));
        store.ingest("a1", "e1", List.of(result(1, "t", T0.plusSeconds(60), 0.002, true), result(2, "t", T0.plusSeconds(120), 0.004, true)));
        assertEquals("the hour is open", 0, store.rollUp(100, T0.minus(Duration.ofDays(30)), now));
        assertEquals(2, store.series(new SeriesQuery("a1", "t", T0, T0.plusSeconds(3600), Duration.ofHours(1))).get(0).count());
        assertEquals("5 minutes after its end it is closed", 1,
                store.rollUp(100, T0.minus(Duration.ofDays(30)), T0.plus(Duration.ofMinutes(65))));
        assertEquals(2, store.series(new SeriesQuery("a1", "t", T0, T0.plusSeconds(3600), Duration.ofHours(1))).get(0).count());
    }

    /** Results of an agent for a target, one at each of the given minutes (seconds 10 into it), failed where {@code down} says. */
    private void minutes(String agent, String target, Instant hour, int[] minutes, java.util.function.IntPredicate down, double rt,
            long firstSeq) throws Exception {
        List<WireResult> batch = new ArrayList<>();
        for (int i = 0; i < minutes.length; i++) {
            int m = minutes[i];
            batch.add(result(firstSeq + i, target, hour.plusSeconds(60L * m + 10), rt, !down.test(m)));
        }
        store.ingest(agent, "e1", batch);
    }

    private static int[] range(int from, int to) {
        return java.util.stream.IntStream.range(from, to).toArray();
    }

    /** @return the range's row of a target (agent null: its own) */
    private io.sonde.server.spi.Uptime uptimeOf(String target, String agent, Instant from, Instant to) throws Exception {
        for (io.sonde.server.spi.Uptime u : store.uptime(from, to, null, false)) {
            if (u.target().equals(target) && java.util.Objects.equals(u.agentId(), agent)) {
                return u;
            }
        }
        fail("no uptime row for " + target + " / " + agent + " in " + store.uptime(from, to, null, false));
        return null;
    }

    private static void assertMinutes(String what, long up, long degraded, long down, long unknown, io.sonde.server.spi.Uptime u) {
        assertEquals(what, List.of(up, degraded, down, unknown),
                List.of(u.upMinutes(), u.degradedMinutes(), u.downMinutes(), u.unknownMinutes()));
    }

    /**
     * The uptime job counts each minute by the health model: a target is down in a minute when any
     * of its agents is down in it, and an agent's minute takes its last result's state while that
     * stands (a backed-off target's sparse failures keep it down; an agent gone silent is unknown).
     */
    @Test
    public void uptimeCountsEachMinuteByTheHealthModelOverTheAgents() throws Exception {
        store.enroll(hash(1), "a2", List.of(), "v", hash(101), T0);
        store.enroll(hash(1), "a3", List.of(), "v", hash(102), T0);
        Instant later = T0.plus(Duration.ofDays(10));
        // x: a1 every minute of two hours, down in minutes 30-44; a2 every minute, down in 40-49
        minutes("a1", "x", T0, range(0, 120), m -> m >= 30 && m < 45, 0.01, 1);
        minutes("a2", "x", T0, range(0, 120), m -> m >= 40 && m < 50, 0.01, 1);
        // y: down from minute 0, backing off (failures at 0, 2, 6, 14), up again from 30 every minute
        int[] backoff = java.util.stream.IntStream.concat(java.util.stream.IntStream.of(0, 2, 6, 14),
                java.util.stream.IntStream.range(30, 120)).toArray();
        minutes("a3", "y", T0, backoff, m -> m < 30, 0.01, 1);
        // z: a3 every minute of the first ten, then silent
        minutes("a3", "z", T0, range(0, 10), m -> false, 0.01, 1000);
        store.rollUp(1000, T0.minus(Duration.ofDays(30)), later);
        assertNull("nothing counted yet", store.uptimeThrough());
        assertEquals(2, store.countUptime(2, later));
        assertEquals(T0.plus(Duration.ofHours(2)), store.uptimeThrough());
        Instant day = T0.plus(Duration.ofDays(1));

        assertMinutes("x: down while either agent is", 100, 0, 20, 0, uptimeOf("x", null, T0, day));
        assertMinutes("x from a1", 105, 0, 15, 0, uptimeOf("x", "a1", T0, day));
        assertMinutes("x from a2", 110, 0, 10, 0, uptimeOf("x", "a2", T0, day));
        assertEquals(0.8333, uptimeOf("x", null, T0, day).availability(), 1e-4);
        assertMinutes("y: down through its backoff's gaps", 90, 0, 30, 0, uptimeOf("y", null, T0, day));
        // z: its last result (minute 9) stands 3 minutes; unknown after, for the hour its look-back still sees it
        assertMinutes("z: unknown once its agent is silent", 12, 0, 0, 108, uptimeOf("z", null, T0, day));
        assertEquals("two outages, one a target", List.of(
                new io.sonde.server.spi.Uptime.Outage("x", T0.plus(Duration.ofMinutes(30)), T0.plus(Duration.ofMinutes(50))),
                new io.sonde.server.spi.Uptime.Outage("y", T0, T0.plus(Duration.ofMinutes(30)))), store.outages(T0, day, null));
        assertEquals("x's rows of the day: its own and its two agents'", java.util.Arrays.asList(null, "a1", "a2"),
                store.uptime(T0, day, "x", true).stream().filter(u -> u.day().equals(T0)).map(u -> u.agentId()).toList());
        assertEquals("y's outage alone", List.of(new io.sonde.server.spi.Uptime.Outage("y", T0, T0.plus(Duration.ofMinutes(30)))),
                store.outages(T0, day, "y"));

        // results uploaded late (a spool after an outage) for the first hour: the day is counted again, and the outage with them
        minutes("a2", "x", T0, range(20, 30), m -> true, 0.01, 500);
        store.rollUp(1000, T0.minus(Duration.ofDays(30)), later);
        assertEquals("the day counted again: its two hours", 2, store.countUptime(2, later));
        assertEquals("the hours after wait for the next turn", T0.plus(Duration.ofHours(2)), store.uptimeThrough());
        assertMinutes("x with a2's late failures", 90, 0, 30, 0, uptimeOf("x", null, T0, day));
        assertEquals(new io.sonde.server.spi.Uptime.Outage("x", T0.plus(Duration.ofMinutes(20)), T0.plus(Duration.ofMinutes(50))),
                store.outages(T0, day, null).get(0));
    }

    /** A target's degraded thresholds count its slow minutes apart; an outage across midnight is one outage, whichever day is read. */
    @Test
    public void uptimeCountsSlowMinutesDegradedAndJoinsAnOutageAcrossMidnight() throws Exception {
        store.putDefinition(new Definition("target", "slow", "{\"kind\":\"icmp\",\"host\":\"h\",\"degraded_latency_ms\":100}", T0));
        Instant later = T0.plus(Duration.ofDays(10));
        minutes("a1", "slow", T0, range(0, 60), m -> false, 0.2, 1);
        minutes("a1", "slow", T0.plus(Duration.ofHours(1)), range(0, 60), m -> false, 0.05, 100);
        Instant eve = T0.plus(Duration.ofHours(23));
        minutes("a1", "night", eve, range(0, 120), m -> m >= 50 && m < 75, 0.01, 1000);
        store.rollUp(1000, T0.minus(Duration.ofDays(30)), later);
        assertEquals(25, store.countUptime(25, later));
        Instant day = T0.plus(Duration.ofDays(1));
        // and its last result stands two minutes into the third hour, unknown after
        assertMinutes("slow: degraded while its median passes 100 ms", 62, 60, 0, 58, uptimeOf("slow", null, T0, day));
        io.sonde.server.spi.Uptime.Outage night = new io.sonde.server.spi.Uptime.Outage("night", eve.plus(Duration.ofMinutes(50)),
                eve.plus(Duration.ofMinutes(75)));
        assertEquals("read from the first day", List.of(night), store.outages(T0, day, null));
        assertEquals("read from the second day", List.of(night), store.outages(day, day.plus(Duration.ofDays(1)), "night"));
        assertMinutes("the first day", 50, 0, 10, 0, uptimeOf("night", null, T0, day));
        assertMinutes("the second day", 45, 0, 15, 0, uptimeOf("night", null, day, day.plus(Duration.ofDays(1))));
        assertMinutes("both days", 95, 0, 25, 0, uptimeOf("night", null, T0, day.plus(Duration.ofDays(1))));

        // late failures at 23:58 and 23:59 from a second agent: the last hour of the first day is counted again, and the first
        // of the next, whose first minutes they stand into
        store.enroll(hash(1), "a2", List.of(), "v", hash(101), T0);
        minutes("a2", "night", eve, new int[] {58, 59}, m -> true, 0.01, 1);
        store.rollUp(1000, T0.minus(Duration.ofDays(30)), later);
        Instant through = store.uptimeThrough();
        assertEquals("both days counted again: the first's 24 hours and the second's one", 25, store.countUptime(25, later));
        assertEquals("and no hour after them yet", through, store.uptimeThrough());
        assertMinutes("the first day unchanged: a2's failures fall in the outage", 50, 0, 10, 0, uptimeOf("night", null, T0, day));
        // a2's last failure (minute 59, the first after 58) stands 3 minutes: 00:00 and 00:01 of the second day, inside the outage too
        assertMinutes("the second day", 45, 0, 15, 0, uptimeOf("night", null, day, day.plus(Duration.ofDays(1))));
        assertEquals("a2 is a vantage of both days now", 2, store.uptime(T0, day.plus(Duration.ofDays(1)), "night", false).stream()
                .filter(u -> "a2".equals(u.agentId()) || u.agentId() == null).count());
    }


    /** The uptime job's days and outages are kept as long as the hour rollups: those past it are dropped, the others kept. */
    @Test
    public void uptimeIsKeptAsLongAsTheHourRollups() throws Exception {
        minutes("a1", "old", T0, range(0, 60), m -> m >= 10 && m < 20, 0.01, 1);
        minutes("a1", "new", T0.plus(Duration.ofDays(2)), range(0, 60), m -> m >= 10 && m < 20, 0.01, 100);
        Instant later = T0.plus(Duration.ofDays(10));
        store.rollUp(1000, T0.minus(Duration.ofDays(30)), later);
        store.countUptime(60, later);
        Instant week = T0.plus(Duration.ofDays(7));
        assertEquals(2, store.outages(T0, week, null).size());
        // kept 6 days at T0 + 8 days: the first day (and its outage) is past, the third is not
        assertEquals("the first day's two rows and its outage", 3, store.dropUptimeOlderThan(Duration.ofDays(6), T0.plus(Duration.ofDays(8))));
        assertEquals(List.of("new"), store.uptime(T0, week, null, false).stream().map(u -> u.target()).distinct().toList());
        assertEquals(List.of("new"), store.outages(T0, week, null).stream().map(o -> o.target()).toList());
    }

    /** An outage of three days is one outage whichever of its days is read: its pieces are followed back and on across midnights. */
    @Test
    public void anOutageOfDaysIsOneOutageReadFromAnyOfItsDays() throws Exception {
        int[] every10 = java.util.stream.IntStream.range(0, 432).map(i -> i * 10).toArray(); // three days, a result every 10 minutes
        minutes("a1", "long", T0, every10, m -> true, 0.01, 1);
        Instant later = T0.plus(Duration.ofDays(10));
        store.rollUp(1000, T0.minus(Duration.ofDays(30)), later);
        assertEquals(73, store.countUptime(73, later));
        // each result stands 21 minutes: the last (minute 4,310) to minute 4,330 included
        io.sonde.server.spi.Uptime.Outage whole = new io.sonde.server.spi.Uptime.Outage("long", T0, T0.plus(Duration.ofMinutes(4331)));
        for (int d = 0; d < 4; d++) {
            Instant from = T0.plus(Duration.ofDays(d));
            assertEquals("read from day " + d, List.of(whole), store.outages(from, from.plus(Duration.ofDays(1)), "long"));
        }
        assertMinutes("the middle day", 0, 0, 1440, 0, uptimeOf("long", null, T0.plus(Duration.ofDays(1)), T0.plus(Duration.ofDays(2))));
    }

    static WireResult labelled(long seq, String target, Instant at, Map<String, String> labels) {
        return new WireResult(seq, target, "tcp", at, true, null, null, 0.001, null, null, false, labels);
    }

    @Test
    public void aSeriesKeepsTheLabelsOfItsLatestResultAndResultsAreReadWithThem() throws Exception {
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        store.enroll(hash(1), "a2", List.of(), "0.1.0", hash(101), T0);
        assertEquals(3, store.ingest("a1", "e1", List.of(labelled(1, "web", now.minusSeconds(30), Map.of("site", "fra", "team", "db")),
                labelled(2, "web", now.minusSeconds(20), Map.of("site", "fra", "team", "db")), labelled(3, "plain", now.minusSeconds(20), null))));
        assertEquals(Map.of("web", Map.of("site", "fra", "team", "db")), store.targetLabels());
        List<StoredResult> read = store.results(new ResultQuery("a1", "web", now.minusSeconds(60), now, 10, null)).items();
        assertEquals(2, read.size());
        assertEquals(Map.of("site", "fra", "team", "db"), read.get(0).result().labels());
        assertEquals(Map.of(), store.results(new ResultQuery("a1", "plain", now.minusSeconds(60), now, 10, null)).items().get(0).result()
                .labelsOrEmpty());
        // the labels change on the agent: the series takes the newest, within one batch too
        assertEquals(2, store.ingest("a1", "e1", List.of(labelled(4, "web", now.minusSeconds(10), Map.of("site", "ams")),
                labelled(5, "web", now.minusSeconds(5), Map.of("site", "ams", "env", "prod")))));
        assertEquals(Map.of("site", "ams", "env", "prod"), store.latest("a1", "web").orElseThrow().result().labels());
        // a second agent's series of the same target: the target has the labels of both
        assertEquals(1, store.ingest("a2", "e1", List.of(labelled(1, "web", now.minusSeconds(5), Map.of("vantage", "edge")))));
        assertEquals(Map.of("web", Map.of("site", "ams", "env", "prod", "vantage", "edge")), store.targetLabels());
        // a store opened again (another server of the database) reads what was stored
        store.close();
        store = open();
        assertEquals(Map.of("site", "ams", "env", "prod"), store.latest("a1", "web").orElseThrow().result().labels());
        // as many and as long as an agent may send: 16 names of 64 characters, values of 200
        Map<String, String> most = new java.util.TreeMap<>();
        for (int i = 0; i < WireResult.MAX_LABELS; i++) {
            most.put(("l" + (char) ('a' + i)).repeat(32), ("v" + i + "é").repeat(200).substring(0, WireResult.MAX_LABEL_VALUE));
        }
        assertEquals(1, store.ingest("a1", "e1", List.of(labelled(7, "long", now.minusSeconds(2), most))));
        assertEquals(most, store.latest("a1", "long").orElseThrow().result().labels());
        // the labels are removed on the agent: the series has none
        assertEquals(1, store.ingest("a1", "e1", List.of(labelled(8, "web", now.minusSeconds(1), null))));
        assertEquals(Map.of("vantage", "edge"), store.targetLabels().get("web"));
    }
}
