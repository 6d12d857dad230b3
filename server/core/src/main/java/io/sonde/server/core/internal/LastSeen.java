package io.sonde.server.core.internal;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import io.sonde.server.spi.AgentStore;
import io.sonde.server.spi.Store;
import io.sonde.server.spi.StoreException;

/**
 * When each agent was last heard from (a result batch, a status) and the spool count its last
 * status told, kept in memory and written to the store every {@code period} in one statement for
 * all of them, instead of one write per request (9 % of a loaded server's CPU went to those). The period is at most a fifth of the server's "offline
 * after" time, so an agent that sends is never shown offline for it; what is not written yet is
 * written when the server stops, and kept for the next write when the store fails.
 */
final class LastSeen implements AutoCloseable {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(LastSeen.class);

    /** The longest time between two writes. */
    static final long MAX_PERIOD_MS = 5000;

    private final AgentStore store;
    /** By agent: {when, spool records told then or -1}. */
    private final Map<String, long[]> heard = new ConcurrentHashMap<>();
    private final ScheduledExecutorService writer;
    private volatile String lastProblem;

    /** @param offlineAfterMs the server's "offline after" time, a fifth of which bounds the period */
    LastSeen(AgentStore store, long offlineAfterMs) {
        this.store = store;
        long period = period(offlineAfterMs);
        this.writer = Executors.newSingleThreadScheduledExecutor(io.sonde.base.DaemonThreads.named("sonde-last-seen"));
        writer.scheduleWithFixedDelay(this::write, period, period, TimeUnit.MILLISECONDS);
    }

    static long period(long offlineAfterMs) {
        return Math.max(200, Math.min(MAX_PERIOD_MS, offlineAfterMs / 5));
    }

    /** The agent was heard from at {@code ms}. */
    void heard(String agentId, long ms) {
        heard(agentId, ms, -1);
    }

    /** The agent's status at {@code ms} said {@code spoolRecords} results wait in its spool (-1: it did not say). */
    void heard(String agentId, long ms, long spoolRecords) {
        heard.merge(agentId, new long[] {ms, spoolRecords}, LastSeen::newer);
    }

    /** The newest time of two, with the spool count told last. */
    static long[] newer(long[] a, long[] b) {
        long at = Math.max(a[0], b[0]);
        long spool = a[1] < 0 ? b[1] : b[1] < 0 ? a[1] : a[0] > b[0] ? a[1] : b[1];
        return new long[] {at, spool};
    }

    /** @return how many agents are waiting to be written */
    int waiting() {
        return heard.size();
    }

    /** Writes what was heard since the last write; what the store refuses waits for the next. @return agents written */
    int write() {
        if (heard.isEmpty()) {
            return 0;
        }
        Map<String, long[]> taken = new HashMap<>();
        for (String id : heard.keySet()) {
            long[] h = heard.remove(id);
            if (h != null) {
                taken.put(id, h);
            }
        }
        Map<String, Store.Heard> times = new HashMap<>(taken.size() * 2);
        taken.forEach((id, h) -> times.put(id, new Store.Heard(Instant.ofEpochMilli(h[0]), h[1])));
        try {
            store.heard(times);
            if (lastProblem != null) {
                LOG.info("Agents' last-seen times are written again ({} agents)", times.size());
                lastProblem = null;
            }
            return times.size();
        } catch (StoreException | RuntimeException e) {
            taken.forEach((id, h) -> heard(id, h[0], h[1])); // the next write takes them, with anything newer
            String problem = e.getMessage();
            if (!String.valueOf(problem).equals(lastProblem)) {
                LOG.warn("The agents' last-seen times ({} agents) cannot be written now; kept for the next write: {}", taken.size(),
                        problem);
            }
            lastProblem = String.valueOf(problem);
            return 0;
        }
    }

    /** Writes what is left and stops. */
    @Override
    public void close() {
        writer.shutdown();
        try {
            writer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        write();
    }
}
