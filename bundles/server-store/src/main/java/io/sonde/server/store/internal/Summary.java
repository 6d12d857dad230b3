package io.sonde.server.store.internal;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

import org.HdrHistogram.PackedHistogram;

import io.sonde.server.spi.SeriesStep;

/**
 * What a rollup keeps of a (series, interval): counts of probes, failures, packets sent and
 * received, the exact shortest and longest response times, and a mergeable sketch of all
 * successful response times. The sketch is an HdrHistogram of microseconds with two significant
 * digits: any percentile read from it, however many sketches were merged, is within 1 % of a
 * response time of the data at that rank (see docs/performance.md).
 */
final class Summary {

    /** Response times are kept from 1 µs to an hour (the wire's bound). */
    static final long HIGHEST_US = 3_600_000_000L;
    static final int DIGITS = 2;

    long count;
    long failures;
    long sent;
    long received;
    boolean packets;
    long minUs = Long.MAX_VALUE;
    long maxUs = Long.MIN_VALUE;
    private PackedHistogram sketch; // made on the first success

    /** Adds one result. */
    void add(long rtUs, boolean success, int sentPackets, int receivedPackets) {
        count++;
        if (sentPackets >= 0) {
            packets = true;
            sent += sentPackets;
            received += receivedPackets;
        }
        if (!success) {
            failures++;
            return;
        }
        long v = Math.max(1, Math.min(HIGHEST_US, rtUs));
        minUs = Math.min(minUs, rtUs);
        maxUs = Math.max(maxUs, rtUs);
        histogram().recordValue(v);
    }

    /** Adds another summary's results. */
    void merge(Summary other) {
        count += other.count;
        failures += other.failures;
        if (other.packets) {
            packets = true;
            sent += other.sent;
            received += other.received;
        }
        if (other.sketch != null) {
            minUs = Math.min(minUs, other.minUs);
            maxUs = Math.max(maxUs, other.maxUs);
            histogram().add(other.sketch);
        }
    }

    /** Packed: its memory follows the values it holds (a minute of one target: a few hundred bytes), not the range. */
    private PackedHistogram histogram() {
        if (sketch == null) {
            sketch = new PackedHistogram(1, HIGHEST_US, DIGITS);
        }
        return sketch;
    }

    /** @return the sketch as stored (HdrHistogram's own encoding, zero runs packed), or null without a success */
    byte[] sketchBytes() {
        if (sketch == null) {
            return null;
        }
        ByteBuffer b = ByteBuffer.allocate(sketch.getNeededByteBufferCapacity());
        int n = sketch.encodeIntoByteBuffer(b);
        byte[] out = new byte[n];
        b.flip();
        b.get(out);
        return out;
    }

    /** @return a summary read back from its stored columns */
    static Summary of(long count, long failures, Long sent, Long received, Long minUs, Long maxUs, byte[] sketch) {
        Summary s = new Summary();
        s.count = count;
        s.failures = failures;
        if (sent != null) {
            s.packets = true;
            s.sent = sent;
            s.received = received == null ? 0 : received;
        }
        if (sketch != null) {
            try {
                s.sketch = PackedHistogram.decodeFromByteBuffer(ByteBuffer.wrap(sketch), HIGHEST_US);
            } catch (RuntimeException e) {
                throw new IllegalStateException("a stored sketch does not decode: " + e.getMessage(), e);
            }
            s.minUs = minUs;
            s.maxUs = maxUs;
        }
        return s;
    }

    /** @return the step as the API gives it, percentiles from the sketch */
    SeriesStep step(long startUs) {
        double loss = packets && sent > 0 ? (double) (sent - received) / sent : count == 0 ? 0 : (double) failures / count;
        Instant start = Instant.EPOCH.plus(startUs, ChronoUnit.MICROS);
        if (sketch == null) {
            return new SeriesStep(start, count, failures, loss, null, null, null, null, null);
        }
        return new SeriesStep(start, count, failures, loss, minUs / 1e6, maxUs / 1e6, quantile(50), quantile(90), quantile(99));
    }

    /** A percentile of the sketch, inside the exact min and max. */
    private double quantile(double percentile) {
        long v = sketch.getValueAtPercentile(percentile);
        return Math.max(minUs, Math.min(maxUs, v)) / 1e6;
    }
}
