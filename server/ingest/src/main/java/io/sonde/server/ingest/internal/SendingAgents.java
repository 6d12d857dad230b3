package io.sonde.server.ingest.internal;

import java.util.Iterator;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import io.sonde.wire.BatchAck;

/**
 * The agents that sent batches lately: those whose last batch came within {@link #SENDING_MS},
 * counted every {@link #COUNT_EVERY_MS} by the caller that finds the count due (one pass over the
 * agents heard; those quiet for twice as long are dropped then, so the map holds the fleet of the
 * last two minutes).
 */
final class SendingAgents {

    /** Agents count as sending for this long after their last batch: the longest pace an agent takes. */
    static final long SENDING_MS = BatchAck.MAX_BATCH_INTERVAL_MS;
    /** How often the agents sending are counted again. */
    static final long COUNT_EVERY_MS = 5_000;

    private final ConcurrentHashMap<String, Long> lastBatch = new ConcurrentHashMap<>();
    private final AtomicLong countedAt = new AtomicLong(Long.MIN_VALUE / 2);
    private volatile int count;

    /**
     * Notes an agent's batch.
     *
     * @return the agents sending, as last counted
     */
    int heard(String agentId, long now) {
        lastBatch.put(agentId, now);
        long at = countedAt.get();
        if ((now - at >= COUNT_EVERY_MS || now < at) && countedAt.compareAndSet(at, now)) {
            int n = 0;
            for (Iterator<Long> i = lastBatch.values().iterator(); i.hasNext();) {
                long age = now - i.next();
                if (age <= SENDING_MS) {
                    n++;
                } else if (age > 2 * SENDING_MS) {
                    i.remove();
                }
            }
            count = n;
        }
        return count;
    }

    /** @return the agents sending, as last counted */
    int count() {
        return count;
    }

    /** @return the agents held: heard within twice {@link #SENDING_MS} as of the last count, and since */
    int tracked() {
        return lastBatch.size();
    }
}
