package io.sonde.server.store.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.Test;

/** When the recent results kept in memory answer a window, and when they leave it to the database. */
public class RecentWindowTest {

    static final long NOW = 1_800_000_000_000L;

    static Dialect.ResultRow row(int series, long startedMs, boolean ok) {
        return new Dialect.ResultRow(series, series, startedMs, JdbcStore.Row.outcome(1500, ok ? 0 : 1, 0), null, null, null);
    }

    @Test
    public void itAnswersOnlyWindowsAfterWhatWasStoredBeforeAndWithinWhatItKeeps() {
        RecentWindow w = new RecentWindow();
        w.add(List.of(row(1, NOW - 5000, true)), NOW);
        assertNull("the newest start stored before is not known yet", w.window((NOW - 10_000) * 1000, NOW * 1000, NOW));
        w.exactAfter(NOW - 20_000);
        assertNull("a window starting at the newest start stored before", w.window((NOW - 20_000) * 1000, NOW * 1000, NOW));
        assertNull("past what it keeps", w.window((NOW - RecentWindow.KEEP_MS - 1) * 1000, NOW * 1000, NOW));
        Map<Integer, Summary> m = w.window((NOW - 19_999) * 1000, NOW * 1000, NOW);
        assertEquals(1, m.size());
        assertEquals(1, m.get(1).step(0).count());
    }

    @Test
    public void lateResultsAreNotKeptAndOldOnesGo() {
        RecentWindow w = new RecentWindow();
        w.exactAfter(NOW - 200_000);
        w.add(List.of(row(1, NOW - RecentWindow.KEEP_MS - 1, true), row(1, NOW - 1000, false), row(2, NOW - 2000, true)), NOW);
        assertEquals("the one older than what is kept is not", 2, w.kept());
        long later = NOW + 10_000;
        Map<Integer, Summary> m = w.window((later - 60_000) * 1000, later * 1000, later);
        assertEquals(1, m.get(1).step(0).failures());
        // three minutes on, both are gone, and the memory they took with them
        long much = NOW + RecentWindow.KEEP_MS + 5000;
        assertEquals(Map.of(), w.window((much - 60_000) * 1000, much * 1000, much));
        assertEquals(0, w.kept());
    }

    @Test
    public void beyondItsBoundItStopsKeepingAndTheDatabaseAnswers() {
        RecentWindow w = new RecentWindow(100);
        w.exactAfter(NOW - 60_000);
        List<Dialect.ResultRow> rows = new ArrayList<>();
        for (int i = 0; i < 101; i++) {
            rows.add(row(i % 7, NOW - 1000 - i, true));
        }
        w.add(rows.subList(0, 50), NOW);
        assertTrue(w.answers(NOW - 30_000, NOW));
        w.add(rows.subList(50, 101), NOW);
        assertTrue(w.stopped());
        assertEquals(0, w.kept());
        assertFalse(w.answers(NOW - 30_000, NOW));
        w.exactAfter(NOW - 60_000); // told again: it stays stopped
        assertNull(w.window((NOW - 30_000) * 1000, NOW * 1000, NOW));
        w.add(rows, NOW);
        assertEquals(0, w.kept());
    }
}
