package io.sonde.server.store.internal;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

import org.HdrHistogram.Histogram;
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
    private final boolean packed;
    private Histogram sketch; // made on the first success
    /** The response times themselves, for an exact summary (a window of raw results): no sketch then. */
    private long[] values;
    private int n;
    private boolean sorted;

    /** A summary whose sketch is packed: its memory follows the values it holds (many of them at once). */
    Summary() {
        this(true);
    }

    /**
     * @param packed a packed sketch (small, slower to merge into), or a plain one (26 KB, fast): for
     *               the one summary a query merges many stored ones into
     */
    Summary(boolean packed) {
        this.packed = packed;
    }

    /**
     * @return a summary of a few raw results that keeps their response times and reads exact
     *         percentiles (nearest rank): recording into a sketch costs more than the handful of
     *         values of one series in a window, and cannot be stored or merged
     */
    static Summary exact() {
        Summary s = new Summary(false);
        s.values = new long[8];
        return s;
    }

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
        if (values != null) {
            if (n == values.length) {
                values = java.util.Arrays.copyOf(values, n * 2);
            }
            values[n++] = v;
            sorted = false;
            return;
        }
        histogram().recordValue(v);
    }

    /** Adds another summary's results. */
    void merge(Summary other) {
        if (values != null || other.values != null) {
            throw new IllegalStateException("an exact summary is neither merged nor merged into");
        }
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

    private Histogram histogram() {
        if (sketch == null) {
            sketch = packed ? new PackedHistogram(1, HIGHEST_US, DIGITS) : new Histogram(1, HIGHEST_US, DIGITS);
        }
        return sketch;
    }

    /** @return the sketch as stored (HdrHistogram's own encoding, zero runs packed), or null without a success */
    byte[] sketchBytes() {
        if (values != null) {
            throw new IllegalStateException("an exact summary has no sketch to store");
        }
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

    /** @return a summary read back from its stored columns, its sketch plain (to be merged and dropped) */
    static Summary of(long count, long failures, Long sent, Long received, Long minUs, Long maxUs, byte[] sketch) {
        Summary s = new Summary(false);
        s.count = count;
        s.failures = failures;
        if (sent != null) {
            s.packets = true;
            s.sent = sent;
            s.received = received == null ? 0 : received;
        }
        if (sketch != null) {
            try {
                s.sketch = Histogram.decodeFromByteBuffer(ByteBuffer.wrap(sketch), HIGHEST_US);
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
        double loss = loss(packets, sent, received, failures, count);
        Instant start = Instant.EPOCH.plus(startUs, ChronoUnit.MICROS);
        if (sketch == null && n == 0) {
            return new SeriesStep(start, count, failures, loss, null, null, null, null, null);
        }
        return new SeriesStep(start, count, failures, loss, minUs / 1e6, maxUs / 1e6, quantile(50), quantile(90), quantile(99));
    }

    /** The one rule of loss: lost packets over sent ones where the kind sends packets (ping), else failures over probes. */
    static double loss(boolean packets, long sent, long received, long failures, long count) {
        return packets && sent > 0 ? (double) (sent - received) / sent : count == 0 ? 0 : (double) failures / count;
    }

    /** A percentile of the sketch, inside the exact min and max. */
    private double quantile(double percentile) {
        long v;
        if (values != null) {
            if (!sorted) {
                java.util.Arrays.sort(values, 0, n);
                sorted = true;
            }
            v = values[(int) Math.max(0, Math.min(n - 1, Math.ceil(percentile / 100 * n) - 1))]; // nearest rank, as the sketch reads
        } else {
            v = sketch.getValueAtPercentile(percentile);
        }
        return Math.max(minUs, Math.min(maxUs, v)) / 1e6;
    }
}
