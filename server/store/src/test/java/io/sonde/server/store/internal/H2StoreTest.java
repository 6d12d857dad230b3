package io.sonde.server.store.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.After;
import org.junit.Test;

import io.sonde.wire.WireResult;

/** The store contract on the embedded H2 store, in a directory of its own per test. */
public class H2StoreTest extends StoreContract {

    private Path dir;

    @Override
    protected JdbcStore open() throws Exception {
        if (dir == null) {
            dir = Files.createTempDirectory("h2store");
        }
        return H2Dialect.open(dir, 4);
    }

    @Override
    protected void sql(String statement) throws Exception {
        try (Connection c = DriverManager.getConnection(H2Dialect.url(dir), "sonde", "");
                Statement s = c.createStatement()) {
            s.execute(statement);
            s.execute("SHUTDOWN");
        }
    }

    /**
     * The windows the health list, the alert rules and the mesh matrix ask every few seconds come
     * from the results kept in memory as they are committed — and say exactly what the database
     * says: new results only (a batch sent again counts once), the packet counts, failures, the
     * percentiles, a target prefix. A window reaching back before the keeping began, or past what
     * is kept, is read from the database.
     */
    @Test
    public void aRecentWindowFromMemorySaysExactlyWhatTheDatabaseSays() throws Exception {
        Instant now = Instant.now();
        store.ingest("a1", "e1", List.of(result(1, "t0", now.minusSeconds(20), 0.010, true)));
        assertEquals("the first window: from the database", 1, store.window(now.minusSeconds(60), now.plusSeconds(1)).size());
        assertEquals(0, store.recentWindows()[0]);
        for (int i = 0; i < 300 && !store.recentReady(); i++) {
            Thread.sleep(100);
        }
        assertTrue("the newest start stored before the keeping began is read", store.recentReady());

        // after the keeping began: successes, failures, packet counts, two agents, a mesh target, a batch sent twice, a late result
        store.createEnrollmentToken(hash(7), List.of(), now.plusSeconds(3600), false, true, now);
        store.enroll(hash(7), "a2", List.of(), "v", hash(107), now);
        List<WireResult> batch = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            batch.add(result(10 + i, "t" + (i % 3), now.minusSeconds(15).plusMillis(300L * i), 0.001 * (1 + i % 7), i % 5 != 0));
        }
        assertEquals(40, store.ingest("a1", "e1", batch));
        assertEquals("sent again: nothing new", 0, store.ingest("a1", "e1", batch));
        List<WireResult> mesh = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            mesh.add(result(1 + i, "mesh/m/icmp/a1", now.minusSeconds(12).plusMillis(500L * i), 0.0005 * (1 + i), i != 3));
        }
        mesh.add(result(11, "t0", now.minusSeconds(600), 0.050, true)); // a spool sent late: ten minutes old
        assertEquals(11, store.ingest("a2", "e2", mesh));
        assertTrue("kept: " + store.recentWindows()[1], store.recentWindows()[1] >= 50);

        long afterStart = micros(now.minusSeconds(20)) + 1000;
        long end = micros(Instant.now()) + 1_000_000;
        Map<String, long[]> windows = Map.of("all since the keeping began", new long[] {afterStart, end},
                "the last 13 s", new long[] {micros(now.minusSeconds(13)), end},
                "a second in the middle", new long[] {micros(now.minusSeconds(10)), micros(now.minusSeconds(9))});
        for (Map.Entry<String, long[]> w : windows.entrySet()) {
            for (String prefix : java.util.Arrays.asList(null, "mesh/m/icmp/", "t")) {
                long kept = store.recentWindows()[0];
                List<io.sonde.server.spi.SeriesWindow> memory = store.window(prefix, instant(w.getValue()[0]), instant(w.getValue()[1]));
                assertEquals(w.getKey() + ", " + prefix + ": from memory", kept + 1, store.recentWindows()[0]);
                assertEquals(w.getKey() + ", " + prefix, store.windowFromDatabase(prefix, w.getValue()[0], w.getValue()[1]), memory);
            }
        }
        List<io.sonde.server.spi.SeriesWindow> all = store.window(instant(afterStart), instant(end));
        assertEquals("t0, t1, t2 of a1 and a2's mesh target: " + all, 4, all.size());
        long a1t0 = all.stream().filter(x -> x.agentId().equals("a1") && x.target().equals("t0")).findFirst().orElseThrow().count();
        assertEquals("a1's t0 in the batch, once", 14, a1t0);
        io.sonde.server.spi.SeriesWindow m = all.stream().filter(x -> x.target().startsWith("mesh/")).findFirst().orElseThrow();
        assertEquals(10, m.count());
        assertEquals(1, m.failures());

        // reaching back before the keeping began, and to the late result: from the database, which has it
        long kept = store.recentWindows()[0];
        List<io.sonde.server.spi.SeriesWindow> ten = store.window(now.minusSeconds(700), Instant.now().plusSeconds(1));
        assertEquals("from the database", kept, store.recentWindows()[0]);
        assertEquals(2, ten.stream().filter(x -> x.target().equals("t0")).count()); // a1's and a2's
    }

    private static long micros(Instant t) {
        return t.getEpochSecond() * 1_000_000 + t.getNano() / 1000;
    }

    private static Instant instant(long us) {
        return Instant.EPOCH.plus(us, java.time.temporal.ChronoUnit.MICROS);
    }

    /** h2_compress: LZF pages of up to 64 KB, or plain pages of 16 KB; a store written one way reads the other. */
    @Test
    public void pagesAreCompressedUnlessConfiguredOtherwiseAndAStoreReadsEitherWay() throws Exception {
        store.ingest("a1", "e1", java.util.List.of(result(1, "t", T0, 0.001, true)));
        org.h2.jdbcx.JdbcDataSource same = new org.h2.jdbcx.JdbcDataSource(); // the store's own database, in this JVM
        same.setURL(H2Dialect.url(dir) + ";DB_CLOSE_ON_EXIT=FALSE");
        same.setUser("sonde");
        same.setPassword("");
        org.junit.Assert.assertEquals(65_536, H2Housekeeping.mvStore(same).getFileStore().getMaxPageSize());
        store.close();
        store = H2Dialect.open(dir, 2, false);
        org.junit.Assert.assertEquals(H2Dialect.PLAIN_PAGE_BYTES, H2Housekeeping.mvStore(same).getFileStore().getMaxPageSize());
        store.ingest("a1", "e1", java.util.List.of(result(2, "t", T0.plusSeconds(1), 0.002, true)));
        org.junit.Assert.assertEquals(2, store.results(new io.sonde.server.spi.ResultQuery("a1", "t", T0, T0.plusSeconds(60), 10, null))
                .items().size());
        org.junit.Assert.assertTrue("absent: compressed", StoreService.compress(null));
        org.junit.Assert.assertFalse(StoreService.compress(" False "));
        org.junit.Assert.assertTrue(StoreService.compress("true"));
        org.junit.Assert.assertTrue("not a boolean: said, and compressed", StoreService.compress("no"));
        store.close();
        store = open();
        org.junit.Assert.assertEquals(2, store.results(new io.sonde.server.spi.ResultQuery("a1", "t", T0, T0.plusSeconds(60), 10, null))
                .items().size());
    }

    /** Each connection keeps the statements of an agent's exchanges parsed: H2's own 8 made it parse most of them anew. */
    @Test
    public void theDatabaseKeepsEnoughStatementsParsed() throws Exception {
        org.h2.jdbcx.JdbcDataSource same = new org.h2.jdbcx.JdbcDataSource(); // the store's own database, in this JVM
        same.setURL(H2Dialect.url(dir) + ";DB_CLOSE_ON_EXIT=FALSE");
        same.setUser("sonde");
        same.setPassword("");
        try (Connection c = same.getConnection(); Statement s = c.createStatement();
                java.sql.ResultSet rs = s.executeQuery("SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS"
                        + " WHERE SETTING_NAME = 'QUERY_CACHE_SIZE'")) {
            org.junit.Assert.assertTrue("the setting is listed", rs.next());
            org.junit.Assert.assertEquals(String.valueOf(H2Dialect.QUERY_CACHE_SIZE), rs.getString(1));
        }
    }

    @After
    public void removeTheDirectory() throws Exception {
        closeTheStore();
        store = null;
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
