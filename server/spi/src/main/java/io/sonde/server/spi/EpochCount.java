package io.sonde.server.spi;

/**
 * What the server stored of one spool epoch of an agent, by sequence number: an agent numbers its
 * results 1, 2, 3, … within an epoch and never uses a number twice, so every number missing
 * between the lowest and the highest stored is a result the server never got.
 *
 * @param epoch    the spool's epoch
 * @param firstSeq the lowest sequence number counted (1 for an epoch the server met at version 8 or
 *                 later; for an older epoch, the first one stored since), or null when none yet
 * @param maxSeq   the highest stored, 0 for none
 * @param stored   how many distinct sequence numbers were stored
 * @since 1.6
 */
public record EpochCount(String epoch, Long firstSeq, long maxSeq, long stored) {

    /** @return the sequence numbers missing between the first and the highest stored: results lost */
    public long gaps() {
        if (firstSeq == null || maxSeq < firstSeq) {
            return 0;
        }
        return Math.max(0, maxSeq - firstSeq + 1 - stored);
    }
}
