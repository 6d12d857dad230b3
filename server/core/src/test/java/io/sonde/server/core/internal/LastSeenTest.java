package io.sonde.server.core.internal;

import static org.junit.Assert.assertEquals;

import java.lang.reflect.Proxy;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.Test;

import io.sonde.server.spi.Store;
import io.sonde.server.spi.StoreException;

/**
 * The last-seen times of batches, written together. The store here takes only {@code heard} (what
 * the real stores do with it is the store contract's, on H2 and PostgreSQL).
 */
public class LastSeenTest {

    private final List<Map<String, Store.Heard>> writes = new ArrayList<>();
    private final AtomicBoolean down = new AtomicBoolean();

    private final Store store = (Store) Proxy.newProxyInstance(Store.class.getClassLoader(), new Class<?>[] {Store.class},
            (proxy, method, args) -> {
                if (!method.getName().equals("heard")) {
                    throw new UnsupportedOperationException(method.getName());
                }
                if (down.get()) {
                    throw new StoreException(StoreException.Kind.UNAVAILABLE, "the database is down", null);
                }
                @SuppressWarnings("unchecked")
                Map<String, Store.Heard> m = (Map<String, Store.Heard>) args[0];
                writes.add(Map.copyOf(m));
                return null;
            });

    @Test
    public void theNewestTimeOfEachAgentIsWrittenOnceForManyBatches() {
        try (LastSeen seen = new LastSeen(store, 3_600_000)) { // a period of 5 s: the test writes by itself
            seen.heard("a", 1000);
            seen.heard("a", 3000);
            seen.heard("a", 2000); // a batch answered late does not move the time back
            seen.heard("b", 1500);
            assertEquals(2, seen.waiting());
            assertEquals(2, seen.write());
            assertEquals(List.of(Map.of("a", at(3000), "b", at(1500))), writes);
            assertEquals("nothing heard since: nothing written", 0, seen.write());
            assertEquals(1, writes.size());
        }
    }

    @Test
    public void whatTheStoreRefusesIsWrittenByTheNextWriteAndWhatIsLeftWhenTheServerStops() {
        LastSeen seen = new LastSeen(store, 3_600_000);
        seen.heard("a", 1000);
        down.set(true);
        assertEquals(0, seen.write());
        assertEquals("kept", 1, seen.waiting());
        seen.heard("a", 4000);
        seen.heard("c", 500);
        down.set(false);
        assertEquals(2, seen.write());
        assertEquals(Map.of("a", at(4000), "c", at(500)), writes.get(0));
        seen.heard("c", 9000);
        seen.close();
        assertEquals(Map.of("c", at(9000)), writes.get(1));
    }

    @Test
    public void thePeriodIsAFifthOfTheOfflineTimeWithinBounds() {
        assertEquals(5000, LastSeen.period(60_000));
        assertEquals(1000, LastSeen.period(5_000));
        assertEquals(200, LastSeen.period(100));
        assertEquals(5000, LastSeen.period(3_600_000));
    }

    @Test
    public void theWriterWritesByItselfWithinItsPeriod() throws Exception {
        try (LastSeen seen = new LastSeen(store, 1000)) { // a period of 200 ms
            seen.heard("a", 7000);
            for (int i = 0; i < 500 && seen.waiting() > 0; i++) { // 5 s at most: the event, not a time, is awaited
                Thread.sleep(10);
            }
            assertEquals(0, seen.waiting());
        }
        assertEquals(List.of(Map.of("a", at(7000))), writes.subList(0, 1));
    }

    private static Store.Heard at(long ms) {
        return new Store.Heard(Instant.ofEpochMilli(ms), -1);
    }

    @Test
    public void aStatusSpoolCountGoesWithItsTimeAndOutlivesANewerBatch() {
        try (LastSeen seen = new LastSeen(store, 3_600_000)) {
            seen.heard("a", 1000, 40); // a status: 40 results wait
            seen.heard("a", 2000); // a batch after it says nothing of the spool: the status's count stays
            seen.heard("b", 5000, 3);
            seen.heard("b", 4000, 90); // an older status answered late: neither its time nor its count
            seen.heard("c", 1000, 7);
            seen.heard("c", 1500, 0); // the newer status's count, though it is 0
            assertEquals(3, seen.write());
            assertEquals(Map.of("a", new Store.Heard(Instant.ofEpochMilli(2000), 40), "b", new Store.Heard(Instant.ofEpochMilli(5000), 3),
                    "c", new Store.Heard(Instant.ofEpochMilli(1500), 0)), writes.get(0));
        }
    }
}
