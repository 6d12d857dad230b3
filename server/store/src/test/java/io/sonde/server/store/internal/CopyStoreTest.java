package io.sonde.server.store.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;
import org.postgresql.ds.PGSimpleDataSource;

import io.sonde.server.spi.AgentRecord;
import io.sonde.server.spi.ResultQuery;
import io.sonde.server.spi.StoredResult;
import io.sonde.wire.WireResult;

/** An embedded store copied into PostgreSQL answers as it did, and its agents and tokens go on working. */
public class CopyStoreTest {

    @BeforeClass
    public static void startCluster() throws Exception {
        PostgresStoreTest.startCluster();
    }

    @AfterClass
    public static void stopCluster() throws Exception {
        PostgresStoreTest.stopCluster();
    }

    @Test
    public void everythingKeepsItsIdentity() throws Exception {
        Instant t0 = StoreContract.T0;
        Path dir = Files.createTempDirectory("h2copy");
        JdbcStore h2 = H2Dialect.open(dir, 2);
        h2.createEnrollmentToken(StoreContract.hash(1), List.of("eu"), t0.plusSeconds(3600), false, true, t0);
        h2.enroll(StoreContract.hash(1), "a1", List.of("edge"), "0.1.0", StoreContract.hash(100), t0);
        h2.enroll(StoreContract.hash(1), "a2", List.of(), "0.1.0", StoreContract.hash(101), t0);
        List<WireResult> batch = new ArrayList<>();
        for (int i = 1; i <= 120_000; i++) { // several days, several chunks of the copy
            batch.add(StoreContract.result(i, "t" + (i % 3), t0.minus(Duration.ofSeconds(4 * i)), 0.0001 * (i % 100), i % 11 != 0));
        }
        h2.ingest("a1", "e1", batch);
        h2.ingest("a2", "e9", batch.subList(0, 10));
        h2.rollUp(10_000, t0.minus(Duration.ofDays(60)), t0.plus(Duration.ofDays(10))); // the hours rolled up, then one waits again
        h2.rollUpTargets(10_000, t0.plus(Duration.ofDays(10))); // the targets both agents probe, across them
        h2.ingest("a1", "e2", List.of(StoreContract.result(1, "t1", t0.minus(Duration.ofHours(30)), 0.5, true)));
        List<StoredResult> before = h2.results(new ResultQuery(null, null, t0.minus(Duration.ofDays(30)), t0.plusSeconds(1), 200_000, null))
                .items();
        List<AgentRecord> agents = h2.agents();
        io.sonde.server.spi.SeriesQuery hourly = new io.sonde.server.spi.SeriesQuery("a1", null, t0.minus(Duration.ofDays(6)),
                t0, Duration.ofHours(1));
        List<io.sonde.server.spi.SeriesStep> hours = h2.series(hourly);
        io.sonde.server.spi.SeriesQuery across = new io.sonde.server.spi.SeriesQuery(null, "t1", t0.minus(Duration.ofDays(6)), t0,
                Duration.ofMinutes(10));
        List<io.sonde.server.spi.SeriesStep> acrossSteps = h2.series(across);
        io.sonde.server.spi.Definition mesh = new io.sonde.server.spi.Definition("mesh", "eu", "{\"members\":\"eu\"}", t0);
        h2.putDefinition(mesh);
        byte[] jar = new byte[300_000];
        new java.util.Random(7).nextBytes(jar);
        io.sonde.server.spi.Release release = new io.sonde.server.spi.Release("io.sonde.plugin.tcp", "0.2.0", "ab".repeat(32), jar.length,
                "{\"signed\":true}", t0);
        h2.putRelease(release, new java.io.ByteArrayInputStream(jar));
        List<io.sonde.server.spi.EpochCount> counts = h2.epochCounts("a1");
        assertEquals(List.of(new io.sonde.server.spi.EpochCount("e2", 1L, 1, 1), new io.sonde.server.spi.EpochCount("e1", 1L, 120_000, 120_000)),
                counts);
        h2.close();

        String url = PostgresStoreTest.cluster.newDatabase();
        PGSimpleDataSource ds = PostgresStoreTest.cluster.dataSource(url);
        String said = CopyStore.copy(dir, ds, url);
        assertTrue(said, said.contains("120011 results") && said.contains("2 agent rows")
                && said.matches(".* rollup rows, 1 rollup dirty rows, 3 rollup target rows, [1-9][0-9]* target rollup rows,"
                        + " 0 target rollup dirty rows, 1 definition rows, 1 release rows.*"));

        JdbcStore pg = PostgresStoreTest.open(url);
        try {
            assertEquals(agents, pg.agents());
            assertEquals("the sequence counts came along", counts, pg.epochCounts("a1"));
            assertEquals("the definitions came along", List.of(mesh), pg.definitions("mesh"));
            assertEquals("the releases came along", List.of(release), pg.releases());
            java.io.ByteArrayOutputStream copied = new java.io.ByteArrayOutputStream();
            assertTrue(pg.copyReleaseJar("io.sonde.plugin.tcp", "0.2.0", copied));
            assertTrue("and their jars, byte for byte", java.util.Arrays.equals(jar, copied.toByteArray()));
            assertEquals("the rollups came along, and the hour waiting for one", hours, pg.series(hourly));
            assertEquals("and the targets' across their agents", acrossSteps, pg.series(across));
            assertEquals(before, pg.results(new ResultQuery(null, null, t0.minus(Duration.ofDays(30)), t0.plusSeconds(1), 200_000, null))
                    .items());
            assertEquals("a1", pg.agentByCredential(StoreContract.hash(100)).orElseThrow().agentId());
            assertEquals("what was stored is known", 0, pg.ingest("a1", "e1", batch.subList(0, 1000)));
            assertEquals(1, pg.ingest("a1", "e1", List.of(StoreContract.result(120_001, "t0", t0, 0.001, true))));
            pg.enroll(StoreContract.hash(1), "a3", List.of(), "0.1.0", StoreContract.hash(102), t0); // the token and the sequences go on
            pg.createEnrollmentToken(StoreContract.hash(2), List.of(), t0.plusSeconds(60), true, t0);
        } finally {
            pg.close();
        }
        try {
            CopyStore.copy(dir, ds, url);
            fail("copied into a store that has data");
        } catch (IllegalStateException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("is not empty"));
        }
    }
}
