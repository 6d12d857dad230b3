package io.sonde.server.store.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import java.util.ArrayList;
import java.util.List;

import io.sonde.server.spi.SeriesQuery;
import io.sonde.server.spi.SeriesStep;
import io.sonde.server.spi.StoreException;
import io.sonde.wire.WireResult;
import java.time.Duration;
import java.time.Instant;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;


/** The store contract on PostgreSQL: a real cluster for the class, a database of its own per test. */
public class PostgresStoreTest extends StoreContract {

    static PostgresCluster cluster;
    private String url;

    @BeforeClass
    public static void startCluster() throws Exception {
        cluster = PostgresCluster.start();
    }

    @AfterClass
    public static void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Override
    protected JdbcStore open() throws Exception {
        if (url == null) {
            url = cluster.newDatabase();
        }
        return open(url);
    }

    /** Opens the store as the service does, on a pool of its own. */
    static JdbcStore open(String url) {
        return open(url, 6, 3000);
    }

    /** Opens the store on a pool of {@code size} connections that waits {@code timeoutMs} for one. */
    static JdbcStore open(String url, int size, long timeoutMs) {
        HikariConfig hc = new HikariConfig();
        hc.setDataSource(cluster.dataSource(url));
        hc.setMaximumPoolSize(size);
        hc.setConnectionTimeout(timeoutMs);
        hc.setInitializationFailTimeout(-1);
        HikariDataSource pool = new HikariDataSource(hc);
        return new JdbcStore(pool, new PostgresDialect(url), pool::close, hc.getConnectionTimeout());
    }

    @Override
    protected void sql(String statement) throws Exception {
        cluster.sql(url, statement);
    }

    /**
     * Two servers that count the same hours at once (a leader that lost the lead while another
     * took it) count each hour once: the one that moves the progress second undoes its sums.
     */
    @Test
    public void twoServersCountingUptimeAtOnceCountEachHourOnce() throws Exception {
        List<WireResult> batch = new ArrayList<>();
        for (int m = 0; m < 600; m++) { // ten hours, a result a minute, down in minutes 30-39 of each hour
            batch.add(result(m + 1, "web", T0.plusSeconds(60L * m + 5), 0.001, m % 60 < 30 || m % 60 >= 40));
        }
        store.ingest("a1", "e1", batch);
        Instant later = T0.plus(java.time.Duration.ofDays(10));
        store.rollUp(1000, T0.minus(java.time.Duration.ofDays(30)), later);
        try (JdbcStore other = open(url)) {
            java.util.concurrent.ExecutorService two = java.util.concurrent.Executors.newFixedThreadPool(2);
            List<java.util.concurrent.Future<Integer>> runs = new ArrayList<>();
            for (JdbcStore s : List.of(store, other)) {
                runs.add(two.submit(() -> {
                    int n = 0;
                    for (int i = 0; i < 50 && n < 11; i++) {
                        try {
                            n += s.countUptime(1, later);
                        } catch (io.sonde.server.spi.StoreException e) {
                            // the other inserted the same row first: this hour is the other's
                        }
                    }
                    return n;
                }));
            }
            int counted = 0;
            for (java.util.concurrent.Future<Integer> f : runs) {
                counted += f.get(120, java.util.concurrent.TimeUnit.SECONDS);
            }
            two.shutdown();
            assertTrue("the hours were counted: " + counted, counted >= 11);
        }
        io.sonde.server.spi.Uptime u = store.uptime(T0, T0.plus(java.time.Duration.ofDays(1)), "web", false).stream()
                .filter(x -> x.agentId() == null).findFirst().orElseThrow();
        assertEquals("ten hours of ten minutes down, once", 100, u.downMinutes());
        assertEquals(500 + 2, u.upMinutes());
        assertEquals(58, u.unknownMinutes());
    }

    @Test
    public void oneServerOfADatabaseLeadsAndAnotherTakesOverWhenItGoes() throws Exception {
        JdbcStore other = open(url);
        try {
            other.migrate();
            org.junit.Assert.assertTrue(store.lead());
            org.junit.Assert.assertTrue("keeps it", store.lead());
            org.junit.Assert.assertFalse(other.lead());
            store.close(); // as a server that stops or dies: its session ends
            store = null;
            org.junit.Assert.assertTrue(other.lead());
        } finally {
            other.close();
        }
    }

    /**
     * Callers while the database is slow: the batches behind the one being written (group commit
     * takes them together once it ends) are told it is unavailable (503) after as long as a caller
     * waits for a pooled connection; none hangs, it recovers.
     */
    /**
     * A credential ended through another server of the database moves this server's credentials'
     * epoch as soon as that commits (NOTIFY); while this server's listening connection is gone the
     * epoch is not told (-1: every check asks the store), and it comes back moved, since what changed
     * meanwhile is not known.
     */
    @Test
    public void aCredentialEndedThroughAnotherServerMovesTheEpochAndAListenerLostSaysSo() throws Exception {
        JdbcStore other = open(url);
        try {
            long e0 = awaitEpoch(store);
            assertTrue(other.revokeAgent("a1", T0));
            long e1 = e0;
            for (int i = 0; i < 600 && e1 == e0; i++) { // 30 s
                Thread.sleep(50);
                e1 = store.credentialsEpoch();
            }
            assertTrue("told of the other server's revocation: " + e0 + " then " + e1, e1 > e0);
            assertTrue(store.agentByCredential(hash(100)).orElseThrow().revokedAt() != null);

            cluster.sql(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '"
                    + PostgresDialect.LISTENER_NAME + "'");
            boolean untold = false;
            for (int i = 0; i < 600 && !untold; i++) {
                untold = store.credentialsEpoch() == -1;
                Thread.sleep(20);
            }
            assertTrue("while the listener is gone the epoch is not told", untold);
            long e2 = awaitEpoch(store);
            assertTrue("back, and moved: " + e1 + " then " + e2, e2 > e1);
        } finally {
            other.close();
        }
    }

    /**
     * Another instance writes the same new announcement while a status's one transaction inserts it: PostgreSQL lets
     * that transaction go no further after the unique violation, so it is rolled back and its parts written one by one.
     */
    @Test
    public void aStatusWhoseAnnouncementAnotherInstanceWroteMeanwhileIsWrittenAllTheSame() throws Exception {
        String kinds = "{\"twin\":{}}";
        java.util.concurrent.ExecutorService caller = java.util.concurrent.Executors.newSingleThreadExecutor();
        try (java.sql.Connection other = java.sql.DriverManager.getConnection(url, PostgresCluster.USER, PostgresCluster.PASSWORD);
                java.sql.PreparedStatement insert = other.prepareStatement("INSERT INTO announcement (hash, kinds) VALUES (?, ?)");
                java.sql.Statement waiting = other.createStatement()) {
            other.setAutoCommit(false);
            insert.setString(1, JdbcStore.sha256Hex(kinds));
            insert.setString(2, kinds);
            insert.executeUpdate(); // not committed: the status's insert waits for it
            java.util.concurrent.Future<?> status = caller.submit(() -> {
                store.status("a1", new io.sonde.server.spi.Store.Touch(T0.plusSeconds(30), "3.0", 5, null, null),
                        new io.sonde.server.spi.AgentRecord.ConfigReport("v3", "server", List.of(), T0.plusSeconds(30), List.of()), kinds);
                return null;
            });
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
            boolean blocked = false;
            while (!blocked && System.nanoTime() < deadline) {
                try (java.sql.ResultSet rs = waiting.executeQuery("SELECT COUNT(*) FROM pg_locks WHERE NOT granted")) {
                    rs.next();
                    blocked = rs.getLong(1) > 0;
                }
                Thread.sleep(50);
            }
            org.junit.Assert.assertTrue("the status's insert waits for the other instance's", blocked);
            org.junit.Assert.assertEquals(false, status.isDone());
            other.commit();
            status.get(30, java.util.concurrent.TimeUnit.SECONDS); // no failure
        } finally {
            caller.shutdownNow();
        }
        org.junit.Assert.assertEquals(kinds, store.announcedKinds().get("a1"));
        io.sonde.server.spi.AgentRecord a1 = store.agents().stream().filter(a -> a.agentId().equals("a1")).findFirst().orElseThrow();
        org.junit.Assert.assertEquals(T0.plusSeconds(30), a1.lastSeen());
        org.junit.Assert.assertEquals("3.0", a1.version());
        org.junit.Assert.assertEquals("v3", a1.config().version());
    }

    @Test
    public void anExhaustedPoolAnswersUnavailableAndRecovers() throws Exception {
        store.ingest("a1", "e1", List.of(result(1, "t", T0, 0.001, true)));
        JdbcStore small = open(url, 2, 500);
        java.util.concurrent.ExecutorService callers = java.util.concurrent.Executors.newFixedThreadPool(8);
        try (java.sql.Connection blocker = java.sql.DriverManager.getConnection(url, PostgresCluster.USER, PostgresCluster.PASSWORD);
                java.sql.Statement s = blocker.createStatement()) {
            small.migrate();
            blocker.setAutoCommit(false);
            s.execute("LOCK TABLE epoch IN ACCESS EXCLUSIVE MODE"); // every ingest waits for it
            List<java.util.concurrent.Future<Integer>> calls = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                long seq = 10 + i;
                calls.add(callers.submit(() -> small.ingest("a1", "e" + seq, List.of(result(seq, "t", T0, 0.001, true)))));
            }
            int unavailable = 0;
            for (int i = 0; i < 8; i++) { // one writes and waits for the lock; the others, waiting behind it, are told in 0.5 s
                try {
                    calls.get(i).get(3, java.util.concurrent.TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    org.junit.Assert.assertTrue(e.getCause() instanceof StoreException);
                    org.junit.Assert.assertEquals(StoreException.Kind.UNAVAILABLE, ((StoreException) e.getCause()).kind());
                    org.junit.Assert.assertTrue(e.getCause().getMessage(), e.getCause().getMessage().contains("the batch waited 500 ms for the"
                            + " write before it to end (the database is slow or locked)"));
                    unavailable++;
                } catch (java.util.concurrent.TimeoutException e) {
                    // one of the two holding a connection
                }
            }
            org.junit.Assert.assertEquals("all but the one writing", 7, unavailable);
            blocker.rollback();
            int stored = 0;
            for (java.util.concurrent.Future<Integer> f : calls) {
                try {
                    stored += f.get(30, java.util.concurrent.TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    // told unavailable: an agent sends it again
                }
            }
            org.junit.Assert.assertEquals("the one that waited for the lock", 1, stored);
            org.junit.Assert.assertEquals("it works again", 1, small.ingest("a1", "e99", List.of(result(99, "t", T0, 0.001, true))));
            org.junit.Assert.assertEquals(1 + stored + 1, store.resultCount());
        } finally {
            callers.shutdownNow();
            small.close();
        }
    }

    @Test
    public void theCountForMetricsIsThePlannersEstimate() throws Exception {
        List<io.sonde.wire.WireResult> batch = new ArrayList<>();
        for (int i = 1; i <= 3000; i++) {
            batch.add(result(i, "t", T0.minus(java.time.Duration.ofMinutes(i)), 0.001, true)); // three days: three partitions
        }
        store.ingest("a1", "e1", batch);
        sql("ANALYZE result");
        long estimate = store.resultCountEstimate();
        org.junit.Assert.assertTrue("estimate " + estimate, estimate >= 2700 && estimate <= 3300);
        org.junit.Assert.assertEquals(3000, store.resultCount());
    }

    /**
     * read_jdbc_url: the API's read-only queries (results, series) are answered by a real streaming standby — shown by
     * pausing its replay: what the primary stored since is not in their answers until it resumes — and by the primary
     * when the standby is down, then by the standby again once it is back.
     */
    @Test
    public void theApisReadsGoToTheStandbyAndToThePrimaryWhileTheStandbyIsDown() throws Exception {
        List<WireResult> first = new ArrayList<>();
        for (int i = 1; i <= 60; i++) {
            first.add(result(i, "t", T0.plusSeconds(i), 0.002, true));
        }
        org.junit.Assert.assertEquals(60, store.ingest("a1", "e1", first));
        try (PostgresCluster standby = cluster.standby()) {
            String standbyUrl = standby.url(url.substring(url.lastIndexOf('/') + 1));
            HikariConfig hc = new HikariConfig();
            hc.setDataSource(cluster.dataSource(standbyUrl));
            hc.setMaximumPoolSize(2);
            hc.setConnectionTimeout(1000);
            hc.setInitializationFailTimeout(-1);
            hc.setReadOnly(true);
            HikariDataSource reads = new HikariDataSource(hc);
            HikariConfig pc = new HikariConfig();
            pc.setDataSource(cluster.dataSource(url));
            pc.setMaximumPoolSize(3);
            pc.setConnectionTimeout(3000);
            pc.setInitializationFailTimeout(-1);
            HikariDataSource primary = new HikariDataSource(pc);
            JdbcStore reader = new JdbcStore(primary, reads, new PostgresDialect(url), () -> {
                primary.close();
                reads.close();
            }, 3000);
            try {
                reader.standbyAwayNs = 1_000_000_000L;
                reader.check(); // migrated: reads may go to the standby
                org.junit.Assert.assertEquals(60, stored(reader));
                org.junit.Assert.assertEquals("answered by the standby", 0, reader.reads()[1]);
                org.junit.Assert.assertTrue(reader.reads()[0] >= 1);

                standby.pauseReplay(true);
                List<WireResult> second = new ArrayList<>();
                for (int i = 61; i <= 100; i++) {
                    second.add(result(i, "t", T0.plusSeconds(i), 0.004, i % 10 != 0));
                }
                org.junit.Assert.assertEquals(40, store.ingest("a1", "e1", second));
                org.junit.Assert.assertEquals("the primary has them", 100, store.resultCount());
                org.junit.Assert.assertEquals("the standby, paused, does not yet", 60, results(reader));
                org.junit.Assert.assertEquals(60, seriesCount(reader));
                org.junit.Assert.assertEquals(0, reader.reads()[1]);

                standby.pauseReplay(false);
                org.junit.Assert.assertEquals(100, stored(reader));
                org.junit.Assert.assertEquals(4, reader.series(new SeriesQuery("a1", "t", T0, T0.plusSeconds(120), Duration.ofSeconds(120)))
                        .get(0).failures());

                standby.stopServer("immediate");
                long byPrimary = reader.reads()[1];
                org.junit.Assert.assertEquals("the primary answers", 100, results(reader));
                org.junit.Assert.assertEquals(100, seriesCount(reader));
                org.junit.Assert.assertEquals(byPrimary + 2, reader.reads()[1]);

                standby.startServer();
                long byStandby = reader.reads()[0];
                for (int i = 0; i < 300 && reader.reads()[0] == byStandby; i++) { // once the away time passed: at most 30 s
                    org.junit.Assert.assertEquals(100, results(reader));
                    Thread.sleep(100);
                }
                org.junit.Assert.assertTrue("the standby answers again", reader.reads()[0] > byStandby);
            } finally {
                reader.close();
            }
        }
    }

    private static long results(JdbcStore s) throws StoreException {
        return s.results(new io.sonde.server.spi.ResultQuery("a1", "t", T0, T0.plusSeconds(3600), 1000, null)).items().size();
    }

    private static long seriesCount(JdbcStore s) throws StoreException {
        return s.series(new SeriesQuery("a1", "t", T0, T0.plusSeconds(120), Duration.ofSeconds(10))).stream()
                .mapToLong(SeriesStep::count).sum();
    }

    /** @return the results the store's reads answer, once they stand at what the primary holds (the standby caught up) */
    private long stored(JdbcStore s) throws Exception {
        long want = store.resultCount();
        long n = -1;
        for (int i = 0; i < 300 && n != want; i++) {
            n = results(s);
            if (n != want) {
                Thread.sleep(100);
            }
        }
        org.junit.Assert.assertEquals(want, seriesCount(s));
        return n;
    }
}
