package io.sonde.core.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The agent's own use, from the kernel: CPU time of the process ({@code /proc/self/stat}, user and
 * system) over wall time since the last sample, as a percentage of one core, and its resident set
 * ({@code /proc/self/statm}). Linux counts both in its own units: clock ticks of 1/100 s and pages of
 * 4 KiB on every architecture Sonde runs on.
 */
final class ResourceUsage {

    private static final long TICKS_PER_SECOND = 100;
    private static final long PAGE_BYTES = 4096;

    private long lastTicks = -1;
    private long lastNanos;

    /** @return the use since the last call, or {@code null} on the first (or if /proc cannot be read) */
    ResourceGovernor.Usage sample() {
        try {
            long ticks = cpuTicks(Files.readAllLines(Path.of("/proc/self/stat")).get(0));
            long resident = Long.parseLong(Files.readAllLines(Path.of("/proc/self/statm")).get(0).split(" ")[1]) * PAGE_BYTES;
            long now = System.nanoTime();
            ResourceGovernor.Usage u = null;
            if (lastTicks >= 0 && now > lastNanos) {
                double cpuSeconds = (ticks - lastTicks) / (double) TICKS_PER_SECOND;
                u = new ResourceGovernor.Usage(100 * cpuSeconds / ((now - lastNanos) / 1e9), resident);
            }
            lastTicks = ticks;
            lastNanos = now;
            return u;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** utime + stime, fields 14 and 15, counted after the command name (which may hold spaces) ends. */
    static long cpuTicks(String stat) {
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }
}
