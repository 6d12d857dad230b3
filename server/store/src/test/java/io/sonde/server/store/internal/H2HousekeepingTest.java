package io.sonde.server.store.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

import org.h2.jdbcx.JdbcDataSource;
import org.h2.mvstore.MVStore;
import org.junit.After;
import org.junit.Test;

import io.sonde.wire.WireResult;

/**
 * Agents' small batches, each its own commit, leave H2's chunks mostly dead: the housekeeping
 * rewrites them so that live pages fill the chunks again (without it the fill rate of this load
 * stays under a fifth and the file grows by kilobytes per result).
 */
public class H2HousekeepingTest {

    private Path dir;
    private JdbcStore store;

    @After
    public void clean() throws Exception {
        if (store != null) {
            store.close();
        }
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    public void smallCommitsLeaveTheChunksFilledOnceTheHousekeepingRan() throws Exception {
        dir = Files.createTempDirectory("h2housekeeping");
        store = H2Dialect.open(dir, 4);
        JdbcDataSource same = new JdbcDataSource(); // the same database, in this JVM: its one file store
        same.setURL(H2Dialect.url(dir) + ";DB_CLOSE_ON_EXIT=FALSE");
        same.setUser("sonde");
        same.setPassword("");
        MVStore mv = H2Housekeeping.mvStore(same);
        assertTrue("H2 gives its file store", mv != null);
        mv.getFileStore().setRetentionTime(1000); // chunks are freed and rewritten only past it: 45 s unless told
        Instant t0 = Instant.now().truncatedTo(ChronoUnit.SECONDS).minusSeconds(3600);
        int agents = 40;
        long[] seq = new long[agents];
        store.createEnrollmentToken(StoreContract.hash(1), List.of("fleet"), t0.plusSeconds(7200), false, true, t0);
        for (int a = 0; a < agents; a++) {
            store.enroll(StoreContract.hash(1), "agent-" + a, List.of(), "v", StoreContract.hash(10 + a), t0);
        }
        int batches = 4000;
        for (int b = 0; b < batches; b++) { // as a fleet sends: each agent's few latest results, one commit each
            int a = b % agents;
            List<WireResult> rs = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                seq[a]++;
                rs.add(new WireResult(seq[a], "target-" + (seq[a] % 10), "tcp", t0.plusMillis(b * 100L + i), seq[a] % 17 != 0,
                        seq[a] % 17 == 0 ? "refused" : null, null, 0.001 + (seq[a] % 50) / 10_000.0, null));
            }
            assertEquals(5, store.ingest("agent-" + a, "e1", rs));
        }
        int filled = -1;
        for (int i = 0; i < 120; i++) { // a round a second, a bounded amount each
            filled = mv.getFileStore().getChunksFillRate();
            if (filled >= H2Housekeeping.FILL_RATE - 10) {
                break;
            }
            Thread.sleep(500);
            List<WireResult> trickle = new ArrayList<>(); // the fleet goes on: commits as before
            seq[0]++;
            trickle.add(new WireResult(seq[0], "target-0", "tcp", t0.plusSeconds(1000 + i), true, null, null, 0.001, null));
            store.ingest("agent-0", "e1", trickle);
        }
        assertTrue("the chunks' fill rate is " + filled + " %", filled >= H2Housekeeping.FILL_RATE - 10);
        assertEquals("nothing lost on the way", seq[0], store.epochCounts("agent-0").get(0).stored());
        assertEquals(seq[1], store.epochCounts("agent-1").get(0).stored());
    }

    @Test
    public void aDatabaseThatIsNotH2sGivesNoFileStoreAndNoFailure() throws Exception {
        dir = Files.createTempDirectory("h2housekeeping");
        java.sql.Connection other = (java.sql.Connection) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {java.sql.Connection.class}, (proxy, m, args) -> {
                    if (m.getName().equals("unwrap")) {
                        throw new java.sql.SQLException("not a wrapper for " + args[0]);
                    }
                    return null; // close
                });
        javax.sql.DataSource pool = (javax.sql.DataSource) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {javax.sql.DataSource.class}, (proxy, m, args) -> m.getName().equals("getConnection") ? other : null);
        assertEquals(null, H2Housekeeping.mvStore(pool));
        assertEquals("no housekeeping, and the store opens all the same", null, H2Housekeeping.start(pool));
    }
}
