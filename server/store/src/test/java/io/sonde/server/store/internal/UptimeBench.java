package io.sonde.server.store.internal;

import static org.junit.Assert.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import org.junit.Test;

import io.sonde.server.spi.Uptime;
import io.sonde.wire.WireResult;

/**
 * What uptime costs at 10,000 targets (issue 28), on the embedded H2 store and on PostgreSQL:
 * <ol>
 * <li>the uptime job counting an hour: 10 agents × 1,000 targets, a result a minute for two hours
 * through the real ingest, rolled up, then the two hours counted;</li>
 * <li>a month's report: 30 days of 10,000 targets' rows (each with one agent's) and an outage a
 * day each, read summed per target and agent, and the outages.</li>
 * </ol>
 * Not part of the suite (its name does not end in Test):
 * {@code mvn -pl server/store test -Dtest=UptimeBench -Dsurefire.failIfNoSpecifiedTests=false}
 * ({@code -Duptime.bench.stores=h2} for H2 alone). It prints FIGURE lines; docs/performance.md has them.
 */
public class UptimeBench {

    static final int AGENTS = 10;
    static final int TARGETS_PER_AGENT = 1000;
    static final int DAYS = 30;
    static final Instant T0 = Instant.parse("2026-11-01T00:00:00Z");

    @Test
    public void countingAnHourAndReadingAMonth() throws Exception {
        for (String kind : System.getProperty("uptime.bench.stores", "h2,postgres").split(",")) {
            if (kind.equals("h2")) {
                Path dir = Files.createTempDirectory("uptime-bench");
                JdbcStore store = H2Dialect.open(dir, 4);
                try {
                    measure("h2", store, () -> DriverManager.getConnection(H2Dialect.url(dir), "sonde", ""));
                } finally {
                    store.close();
                }
            } else {
                try (PostgresCluster cluster = PostgresCluster.start()) {
                    PostgresStoreTest.cluster = cluster;
                    String url = cluster.newDatabase();
                    JdbcStore store = PostgresStoreTest.open(url, 8, 30_000);
                    try {
                        javax.sql.DataSource ds = cluster.dataSource(url);
                        measure("postgres", store, ds::getConnection);
                    } finally {
                        store.close();
                    }
                }
            }
        }
    }

    private interface Connect {
        Connection get() throws Exception;
    }

    private static void measure(String name, JdbcStore store, Connect connect) throws Exception {
        store.createEnrollmentToken(StoreContract.hash(1), List.of(), T0.plus(Duration.ofDays(400)), false, true, T0);
        for (int a = 0; a < AGENTS; a++) {
            store.enroll(StoreContract.hash(1), "agent-" + a, List.of(), "v", StoreContract.hash(100 + a), T0);
        }
        // 1. two hours of a result a minute from each of 10,000 series, through the ingest
        long t = System.nanoTime();
        for (int a = 0; a < AGENTS; a++) {
            List<WireResult> batch = new ArrayList<>();
            long seq = 0;
            for (int target = 0; target < TARGETS_PER_AGENT; target++) {
                for (int m = 0; m < 120; m++) {
                    boolean down = target % 10 == 0 && m >= 30 && m < 40;
                    batch.add(StoreContract.result(++seq, "t-" + a + "-" + target, T0.plusSeconds(60L * m + 7), 0.002, !down));
                    if (batch.size() == 2000) {
                        store.ingest("agent-" + a, "e1", batch);
                        batch.clear();
                    }
                }
            }
            store.ingest("agent-" + a, "e1", batch);
        }
        System.out.printf(Locale.ROOT, "FIGURE %s ingest of 1,200,000 results: %.1f s%n", name, (System.nanoTime() - t) / 1e9);
        t = System.nanoTime();
        Instant later = T0.plus(Duration.ofDays(DAYS + 2));
        int hours = store.rollUp(100_000, T0.minus(Duration.ofDays(1)), later);
        System.out.printf(Locale.ROOT, "FIGURE %s rollup of %d series-hours: %.1f s%n", name, hours, (System.nanoTime() - t) / 1e9);
        long[] counts = new long[3];
        for (int h = 0; h < 3; h++) {
            t = System.nanoTime();
            assertEquals(1, store.countUptime(1, later));
            counts[h] = (System.nanoTime() - t) / 1_000_000;
        }
        System.out.printf(Locale.ROOT, "FIGURE %s uptime job, one hour of 10,000 series (each hour's and the next's look-back): %s ms%n",
                name, Arrays.toString(counts));
        Uptime one = store.uptime(T0, T0.plus(Duration.ofDays(1)), "t-0-0", false).get(0);
        assertEquals("t-0-0 down ten minutes", 10, one.downMinutes());

        // 2. a month of 10,000 targets' days, one agent's row each, and an outage a day each
        t = System.nanoTime();
        Instant monthStart = T0.plus(Duration.ofDays(1));
        try (Connection c = connect.get()) {
            c.setAutoCommit(false);
            try (PreparedStatement days = c.prepareStatement("INSERT INTO uptime_day (day_ms, target, agent_id, up_min, degraded_min, down_min,"
                    + " unknown_min) VALUES (?, ?, ?, ?, ?, ?, ?)");
                    PreparedStatement outages = c.prepareStatement("INSERT INTO outage (target, start_ms, end_ms) VALUES (?, ?, ?)")) {
                for (int d = 0; d < DAYS; d++) {
                    long day = monthStart.plus(Duration.ofDays(d)).toEpochMilli();
                    for (int a = 0; a < AGENTS; a++) {
                        for (int target = 0; target < TARGETS_PER_AGENT; target++) {
                            String name2 = "t-" + a + "-" + target;
                            for (String agent : new String[] {"", "agent-" + a}) {
                                days.setLong(1, day);
                                days.setString(2, name2);
                                days.setString(3, agent);
                                days.setInt(4, 1430);
                                days.setInt(5, 0);
                                days.setInt(6, 10);
                                days.setInt(7, 0);
                                days.addBatch();
                            }
                            outages.setString(1, name2);
                            outages.setLong(2, day + 3_600_000L * (target % 20));
                            outages.setLong(3, day + 3_600_000L * (target % 20) + 600_000L);
                            outages.addBatch();
                        }
                        days.executeBatch();
                        outages.executeBatch();
                    }
                    c.commit();
                }
            }
            if (name.equals("postgres")) {
                try (java.sql.Statement s = c.createStatement()) {
                    s.execute("ANALYZE uptime_day");
                    s.execute("ANALYZE outage");
                }
                c.commit();
            }
        }
        System.out.printf(Locale.ROOT, "FIGURE %s seeded 600,000 day rows and 300,000 outages: %.1f s%n", name, (System.nanoTime() - t) / 1e9);
        Instant monthEnd = monthStart.plus(Duration.ofDays(DAYS));
        long[] reads = new long[5];
        long[] outageReads = new long[5];
        for (int i = 0; i < 5; i++) {
            t = System.nanoTime();
            List<Uptime> rows = store.uptime(monthStart, monthEnd, null, false);
            reads[i] = (System.nanoTime() - t) / 1_000_000;
            assertEquals(2 * AGENTS * TARGETS_PER_AGENT, rows.size());
            assertEquals(DAYS * 10L, rows.get(0).downMinutes());
            t = System.nanoTime();
            assertEquals(AGENTS * TARGETS_PER_AGENT * DAYS, store.outages(monthStart, monthEnd, null).size());
            outageReads[i] = (System.nanoTime() - t) / 1_000_000;
        }
        System.out.printf(Locale.ROOT, "FIGURE %s a month over 10,000 targets, summed per target and agent: %s ms; its 300,000 outages: %s ms%n",
                name, Arrays.toString(reads), Arrays.toString(outageReads));
        long[] one90 = new long[5];
        for (int i = 0; i < 5; i++) {
            t = System.nanoTime();
            store.uptime(monthEnd.minus(Duration.ofDays(90)), monthEnd, "t-3-333", true);
            store.outages(monthEnd.minus(Duration.ofDays(90)), monthEnd, "t-3-333");
            one90[i] = (System.nanoTime() - t) / 1_000_000;
        }
        System.out.printf(Locale.ROOT, "FIGURE %s one target's 90 days and outages: %s ms%n", name, Arrays.toString(one90));
    }
}
