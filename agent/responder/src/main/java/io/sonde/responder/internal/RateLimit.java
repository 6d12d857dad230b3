package io.sonde.responder.internal;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Token buckets: one for all sources, one per source address (the most recent {@link #SOURCES}
 * of them; an address that falls out starts again full). A bucket holds a second's worth and
 * fills at its rate. Not thread-safe: the responder's one thread owns it.
 */
final class RateLimit {

    /** Source addresses remembered at most: a flood of forged sources cannot grow this. */
    static final int SOURCES = 4096;

    private final double perSecond;
    private final double perSourcePerSecond;
    private final LongSupplier nanos;
    private final Bucket all;
    private final Map<InetAddress, Bucket> bySource = new LinkedHashMap<>(64, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<InetAddress, Bucket> eldest) {
            return size() > SOURCES;
        }
    };

    private static final class Bucket {
        double tokens;
        long at;

        Bucket(double tokens, long at) {
            this.tokens = tokens;
            this.at = at;
        }

        boolean take(double rate, long now) {
            tokens = Math.min(Math.max(1, rate), tokens + (now - at) / 1e9 * rate);
            at = now;
            if (tokens >= 1) {
                tokens -= 1;
                return true;
            }
            return false;
        }
    }

    RateLimit(int perSecond, int perSourcePerSecond, LongSupplier nanos) {
        this.perSecond = Math.max(1, perSecond);
        this.perSourcePerSecond = Math.max(1, perSourcePerSecond);
        this.nanos = nanos;
        this.all = new Bucket(this.perSecond, nanos.getAsLong());
    }

    /** @return whether one more answer to {@code source} is within both limits now (and counts it) */
    boolean allow(InetAddress source) {
        long now = nanos.getAsLong();
        Bucket own = bySource.computeIfAbsent(source, s -> new Bucket(perSourcePerSecond, now));
        if (!own.take(perSourcePerSecond, now)) {
            return false;
        }
        if (!all.take(perSecond, now)) {
            own.tokens += 1; // not answered: the source's token is not spent
            return false;
        }
        return true;
    }
}
