package io.sonde.server.core.internal;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Who may try a password now. Every attempt is counted before the password is checked, in one
 * step with the check of the limit, so parallel attempts cannot slip past it; a success forgets the
 * failures. Counted per source address and user name (someone elsewhere cannot lock a user out) and
 * per source (one address cannot try many names); each lockout of a key lasts twice the one before,
 * up to {@link #MAX_LOCK_MS}. The map is bounded: the least recently used entries go first.
 */
final class LoginThrottle {

    static final int MAX_FAILURES = 5;
    static final int MAX_SOURCE_FAILURES = 20;
    static final long WINDOW_MS = 60_000;
    static final long MAX_LOCK_MS = 15 * 60_000;
    static final int MAX_ENTRIES = 10_000;

    private static final class Entry {
        int failures;
        long windowStart;
        int lockouts;
        long lockedUntil;
    }

    private final int maxEntries;
    private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>(64, 0.75f, true);

    LoginThrottle() {
        this(MAX_ENTRIES);
    }

    LoginThrottle(int maxEntries) {
        this.maxEntries = maxEntries;
    }

    /**
     * Counts an attempt for this source and name, unless one of them is locked.
     *
     * @return 0 if the attempt may check its password; else the milliseconds until it may try again
     */
    synchronized long attempt(String source, String name, long now) {
        String pair = source + "\u0000" + name;
        String all = source + "\u0000*";
        long wait = Math.max(lockedFor(pair, now), lockedFor(all, now));
        if (wait > 0) {
            return wait;
        }
        count(pair, MAX_FAILURES, now);
        count(all, MAX_SOURCE_FAILURES, now);
        return 0;
    }

    /** The attempt's password was right: its failures are forgotten (the source's count too). */
    synchronized void succeeded(String source, String name) {
        Entry e = entries.remove(source + "\u0000" + name);
        Entry all = entries.get(source + "\u0000*");
        if (all != null && e != null) {
            all.failures = Math.max(0, all.failures - 1); // the attempt counted was not a failure
        }
    }

    /** @return how many keys are kept */
    synchronized int size() {
        return entries.size();
    }

    private long lockedFor(String key, long now) {
        Entry e = entries.get(key);
        return e == null || e.lockedUntil <= now ? 0 : e.lockedUntil - now;
    }

    private void count(String key, int limit, long now) {
        Entry e = entries.get(key);
        if (e == null) {
            if (entries.size() >= maxEntries) {
                evict(now);
            }
            e = new Entry();
            e.windowStart = now;
            entries.put(key, e);
        }
        if (now - e.windowStart >= WINDOW_MS && e.lockedUntil <= now) {
            e.failures = 0;
            e.windowStart = now;
        }
        e.failures++;
        if (e.failures >= limit) {
            e.lockouts = Math.min(e.lockouts + 1, 20);
            e.lockedUntil = now + Math.min(MAX_LOCK_MS, WINDOW_MS << (e.lockouts - 1));
            e.failures = 0;
            e.windowStart = e.lockedUntil;
        }
    }

    /** Makes room: entries whose lock and window are over go first, else the least recently used. */
    private void evict(long now) {
        for (Iterator<Map.Entry<String, Entry>> it = entries.entrySet().iterator(); it.hasNext();) {
            Entry e = it.next().getValue();
            if (e.lockedUntil <= now && now - e.windowStart >= WINDOW_MS && e.lockouts == 0) {
                it.remove();
            }
        }
        Iterator<String> it = entries.keySet().iterator();
        while (entries.size() >= maxEntries && it.hasNext()) {
            it.next();
            it.remove();
        }
    }
}
