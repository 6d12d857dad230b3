package io.sonde.server.spi;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.sonde.api.ResultSchema;

/**
 * Which value of each kind's results holds the requests sent and the replies received, by the
 * roles the agents announce for it ({@link ResultSchema.Role#SENT}, {@link ResultSchema.Role#RECEIVED}):
 * the store keeps them per result as the packet counts that loss is computed from, for any kind,
 * without knowing one. Read from the announcements again when this instance hears one or meets a
 * kind it has no word on (at most every {@link #REREAD_MS}, so that several instances over one
 * database learn of each other's announcements).
 *
 * @since 1.11 (the store's own before)
 */
public final class KindRoles {

    /** The names of a kind's sent and received values, null where it has none. */
    public record Counts(String sent, String received) {
        /**
         * For a kind nobody announced yet (its first results may come before the status that
         * announces it): values named {@code sent} and {@code received}, where a result has them.
         */
        public static final Counts UNANNOUNCED = new Counts("sent", "received");

        /** @return the requests sent of this result's details, within 0..65535; -1 when the kind or the result has none */
        public int sent(com.google.gson.JsonObject details) {
            return count(details, sent);
        }

        /** @return the replies received of this result's details, within 0..65535; -1 when the kind or the result has none */
        public int received(com.google.gson.JsonObject details) {
            return count(details, received);
        }

        private static int count(com.google.gson.JsonObject details, String key) {
            com.google.gson.JsonElement v = details == null || key == null ? null : details.get(key);
            if (v != null && v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber()) {
                return Math.max(0, Math.min(0xFFFF, v.getAsInt()));
            }
            return -1;
        }
    }

    public static final long REREAD_MS = 10_000;

    /** Where the announcements are read from. */
    public interface Source {
        Map<String, String> announcedKinds() throws StoreException;
    }

    private final Source source;
    private volatile Map<String, Counts> byKind = Map.of();
    private final Map<String, Long> unknownSince = new ConcurrentHashMap<>();
    private volatile long readAt = Long.MIN_VALUE / 2;

    /** @param source where the announcements are read from (the store's {@link Store#announcedKinds()}) */
    public KindRoles(Source source) {
        this.source = source;
    }

    /** @return the names of the kind's counts; {@link Counts#UNANNOUNCED} for a kind nobody announced */
    public Counts of(String kind) {
        Counts c = byKind.get(kind);
        if (c != null) {
            return c;
        }
        long now = System.currentTimeMillis();
        if (now - readAt >= REREAD_MS) {
            reread(now);
            c = byKind.get(kind);
        }
        return c == null ? Counts.UNANNOUNCED : c;
    }

    /** An agent announced its kinds: read them all again at the next look. */
    public void changed() {
        readAt = Long.MIN_VALUE / 2;
    }

    private synchronized void reread(long now) {
        if (now - readAt < REREAD_MS) {
            return;
        }
        readAt = now;
        try {
            Map<String, Counts> next = new java.util.HashMap<>();
            AnnouncedKinds.results(source.announcedKinds().values()).forEach((kind, schema) -> next.put(kind,
                    new Counts(AnnouncedKinds.valueWith(schema, ResultSchema.Role.SENT),
                            AnnouncedKinds.valueWith(schema, ResultSchema.Role.RECEIVED))));
            byKind = Map.copyOf(next);
        } catch (StoreException e) {
            // the database is away: the results of this batch fail anyway; read again at the next look
            readAt = now - REREAD_MS;
        }
    }
}
