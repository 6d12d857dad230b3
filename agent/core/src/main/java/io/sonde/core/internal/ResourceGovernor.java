package io.sonde.core.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

import io.sonde.api.Target;

/**
 * Keeps the agent under its ceilings ({@code max_cpu_percent}, {@code max_memory_mb}) by shedding
 * load in a fixed order rather than falling behind on every target: each sample over a ceiling
 * raises the shed level by one, each sample under {@value #LOW_WATER_PERCENT} % of every ceiling
 * lowers it by one. At level {@code n} the targets, in {@link #order}, are stretched an eighth at
 * a time: the first eighth's intervals double, then the second's, ...; after all of them, the
 * first eighth's double again, up to {@value #MAX_LEVEL} levels ({@code x16}). Timeouts stay as
 * they are. Not thread-safe: the core's thread owns it.
 */
final class ResourceGovernor {

    /** Levels: 8 per doubling of every interval, four doublings at most. */
    static final int MAX_LEVEL = 32;
    /** Back under this share of a ceiling, the shed level comes down. */
    static final int LOW_WATER_PERCENT = 80;
    private static final long MAX_INTERVAL_MS = Duration.ofDays(1).toMillis();

    /**
     * The order targets are stretched in: the dearest probes first, by what each kind's plugin says
     * one costs ({@link io.sonde.api.Prober#PROBE_COST}: a traceroute is dozens of packets, an HTTP
     * probe a TLS handshake, a TCP connect one round trip; a kind that does not say is taken as
     * dear), and within a kind the most frequent first.
     */
    static Comparator<Target> order(ToIntFunction<String> costOfKind) {
        return Comparator.comparingInt((Target t) -> -costOfKind.applyAsInt(t.kind()))
                .thenComparing(Target::interval)
                .thenComparing(Target::name);
    }

    /** One sample of the agent's own use. */
    record Usage(double cpuPercent, long residentBytes) {
    }

    /** The ceilings; 0 for none. */
    record Ceilings(double cpuPercent, long memoryMb) {
        boolean any() {
            return cpuPercent > 0 || memoryMb > 0;
        }
    }

    /** What changed with a sample, for the caller to log and publish. */
    record Change(boolean cpuOver, boolean memoryOver, boolean levelChanged) {
    }

    private Ceilings ceilings = new Ceilings(0, 0);
    private int level;
    private boolean cpuOver;
    private boolean memoryOver;

    void ceilings(Ceilings c) {
        ceilings = c;
        if (!c.any()) {
            level = 0;
            cpuOver = false;
            memoryOver = false;
        }
    }

    Ceilings ceilings() {
        return ceilings;
    }

    int level() {
        return level;
    }

    boolean cpuOver() {
        return cpuOver;
    }

    boolean memoryOver() {
        return memoryOver;
    }

    /** Takes one sample; the level moves by one at most. */
    Change sample(Usage u) {
        if (!ceilings.any()) {
            return new Change(false, false, false);
        }
        long memoryLimit = ceilings.memoryMb() * 1024 * 1024;
        boolean cpu = ceilings.cpuPercent() > 0 && u.cpuPercent() > ceilings.cpuPercent();
        boolean mem = memoryLimit > 0 && u.residentBytes() > memoryLimit;
        boolean low = (ceilings.cpuPercent() <= 0 || u.cpuPercent() < ceilings.cpuPercent() * LOW_WATER_PERCENT / 100)
                && (memoryLimit <= 0 || u.residentBytes() < memoryLimit / 100 * LOW_WATER_PERCENT);
        int before = level;
        if ((cpu || mem) && level < MAX_LEVEL) {
            level++;
        } else if (low && level > 0) {
            level--;
        }
        cpuOver = cpu;
        memoryOver = mem;
        return new Change(cpu, mem, level != before);
    }

    /**
     * @param costOfKind what one probe of a kind costs ({@link ProberKind#cost()})
     * @return {@code targets} with the intervals the shed level gives; the same list at level 0
     */
    List<Target> apply(List<Target> targets, ToIntFunction<String> costOfKind) {
        if (level == 0 || targets.isEmpty()) {
            return targets;
        }
        List<Target> ordered = new ArrayList<>(targets);
        ordered.sort(order(costOfKind));
        Map<Target, Integer> position = new java.util.IdentityHashMap<>();
        for (int i = 0; i < ordered.size(); i++) {
            position.put(ordered.get(i), i);
        }
        int rounds = level / 8;
        int eighths = level % 8;
        long partial = (long) ordered.size() * eighths / 8;
        List<Target> out = new ArrayList<>(targets.size());
        for (Target t : targets) {
            int doublings = rounds + (position.get(t) < partial ? 1 : 0);
            out.add(doublings == 0 ? t : stretched(t, doublings));
        }
        return out;
    }

    private static Target stretched(Target t, int doublings) {
        long ms = Math.min(MAX_INTERVAL_MS, t.interval().toMillis() << doublings);
        return new Target(t.name(), t.kind(), t.host(), t.port(), Duration.ofMillis(ms), t.timeout(), t.tags(), t.options(),
                t.source());
    }
}
