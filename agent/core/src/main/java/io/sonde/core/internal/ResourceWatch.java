package io.sonde.core.internal;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's ceilings on its own CPU and memory ({@code max_cpu_percent}, {@code max_memory_mb}):
 * while one is set, the agent's use is sampled every few seconds, said in the log when it crosses a
 * ceiling, counted in the core's report, and the {@link ResourceGovernor} stretches the dearest
 * targets' intervals (the core publishes them again). Used on the core's thread only.
 */
final class ResourceWatch {

    private static final Logger LOG = LoggerFactory.getLogger(CatalogService.class); // the core's log, as before
    private static final long SAMPLE_MS = 5000;

    private final ResourceGovernor governor = new ResourceGovernor();
    private final ScheduledExecutorService executor;
    private final Consumer<Runnable> submit;
    private final CoreReport report;
    private final Runnable republish;
    private ResourceUsage usage;
    private ScheduledFuture<?> resourceSampler;

    /**
     * @param executor  where the sampling is timed
     * @param submit    runs a task on the core's thread
     * @param republish publishes the targets again with the intervals the governor gives them now
     */
    ResourceWatch(ScheduledExecutorService executor, Consumer<Runnable> submit, CoreReport report, Runnable republish) {
        this.executor = executor;
        this.submit = submit;
        this.report = report;
        this.republish = republish;
    }

    /** @return the governor, which stretches the targets' intervals */
    ResourceGovernor governor() {
        return governor;
    }

    /** Applies the ceilings; samples the agent's use every few seconds while there is one. */
    void ceilings(ResourceGovernor.Ceilings c) {
        governor.ceilings(c);
        if (c.any() && resourceSampler == null) {
            usage = new ResourceUsage();
            resourceSampler = executor.scheduleWithFixedDelay(() -> submit.accept(this::sample), SAMPLE_MS, SAMPLE_MS,
                    TimeUnit.MILLISECONDS);
        } else if (!c.any() && resourceSampler != null) {
            resourceSampler.cancel(false);
            resourceSampler = null;
            report.resources(false, false, 0);
            republish.run();
        }
    }

    private void sample() {
        ResourceGovernor.Usage u = usage.sample();
        if (u == null) {
            return;
        }
        boolean cpuBefore = governor.cpuOver();
        boolean memBefore = governor.memoryOver();
        ResourceGovernor.Change c = governor.sample(u);
        ResourceGovernor.Ceilings limits = governor.ceilings();
        if (c.cpuOver() != cpuBefore) {
            if (c.cpuOver()) {
                LOG.warn("The agent uses {}% of a core, over max_cpu_percent = {}: stretching target intervals, dearest first",
                        String.format(java.util.Locale.ROOT, "%.1f", u.cpuPercent()), limits.cpuPercent());
            } else {
                LOG.info("The agent's CPU use is back under max_cpu_percent = {} ({}% of a core)", limits.cpuPercent(),
                        String.format(java.util.Locale.ROOT, "%.1f", u.cpuPercent()));
            }
        }
        if (c.memoryOver() != memBefore) {
            if (c.memoryOver()) {
                LOG.warn("The agent's resident memory is {} MiB, over max_memory_mb = {}: stretching target intervals, dearest first",
                        u.residentBytes() >> 20, limits.memoryMb());
            } else {
                LOG.info("The agent's resident memory is back under max_memory_mb = {} ({} MiB)", limits.memoryMb(),
                        u.residentBytes() >> 20);
            }
        }
        report.resources(c.cpuOver(), c.memoryOver(), governor.level());
        if (c.levelChanged()) {
            LOG.debug("Shed level {} of {}", governor.level(), ResourceGovernor.MAX_LEVEL);
            republish.run();
        }
    }
}
