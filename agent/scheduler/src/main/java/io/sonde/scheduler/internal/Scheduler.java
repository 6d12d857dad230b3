package io.sonde.scheduler.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.sonde.api.ProbeResult;
import io.sonde.api.Prober;
import io.sonde.agent.spi.ResultSink;
import io.sonde.api.Target;
import io.sonde.agent.spi.TargetListener;

/**
 * Runs every target on its interval with the {@link Prober} of its kind and hands each result to
 * every {@link ResultSink}. Knows nothing of protocols.
 */
@Component(service = TargetListener.class)
public final class Scheduler implements TargetListener {

    private static final Logger LOG = LoggerFactory.getLogger(Scheduler.class);

    final ScheduledThreadPoolExecutor timer;
    final SchedulerReport report;
    private final Map<String, ProbeJob> jobs = new HashMap<>(); // guarded by itself
    private final Map<String, List<ProberSlot>> probers = new ConcurrentHashMap<>();
    private final Map<ResultSink, SinkWorker> sinks = new ConcurrentHashMap<>();
    /** Results produced; beside each sink's accepted count it shows what a sink never saw (absent, or its queue full). */
    private final java.util.concurrent.atomic.LongAdder results = new java.util.concurrent.atomic.LongAdder();
    /** Probes started and not finished, for the timeout sweep. */
    final java.util.Set<ProbeJob.Probe> inFlight = ConcurrentHashMap.newKeySet();
    /** How often the scheduler looks for probes past their timeout that no prober ended. */
    static final long SWEEP_MS = 50;
    private final Thread watchdog;
    private static final long WATCHDOG_PERIOD_MS = 500;
    private static final int MAX_TIMER_THREADS = 4;

    /**
     * The framework property naming the sinks (their {@code sink.name}) the first probes wait for:
     * the agent's {@code bin/sonde} names the exporter, so that a target on the agent's own metrics
     * port is not probed before that port listens, and no first result misses a sink that is on its
     * way. At most {@link #AWAIT_SINKS_MS} after the scheduler starts, probing starts whatever came.
     */
    static final String AWAIT_SINKS = "sonde.scheduler.await_sinks";
    static final long AWAIT_SINKS_MS = 10_000;
    /** The sinks still awaited; empty once probing may start. Guarded by {@link #jobs}. */
    private final java.util.Set<String> awaited = new java.util.HashSet<>();
    /** The sinks the first probes waited for, for the log. */
    private String awaitedAtStart = "";
    /** Jobs made while sinks were awaited, started when they are there. Guarded by {@link #jobs}. */
    private final List<ProbeJob> held = new ArrayList<>();
    /** The configured sinks ({@link #AWAIT_SINKS}): while one is away (its component restarting), its results wait for it. */
    private final java.util.Set<String> configured = ConcurrentHashMap.newKeySet();
    /** Results for configured sinks that are away, by sink name, oldest first. */
    private final Map<String, SinkHold> holds = new ConcurrentHashMap<>();
    /** Delivery reads; a sink coming or going writes, so a result reaches either the sink or its hold, once. */
    private final java.util.concurrent.locks.ReentrantReadWriteLock sinkLock = new java.util.concurrent.locks.ReentrantReadWriteLock();
    /**
     * A sink's service property: {@code true} for a sink that exists because it is configured, whose
     * going away is its configuration changing (the uplink): its results wait for it as for the
     * sinks of {@link #AWAIT_SINKS}, also when it was configured after the start.
     */
    static final String SINK_HOLD = "sink.hold";
    /** How long results wait for a configured sink that went away; then they are dropped and counted. */
    static final long HOLD_MS = 60_000;

    @Activate
    public Scheduler(BundleContext context, @Reference SchedulerReport report) {
        this(report);
        awaitSinks(context.getProperty(AWAIT_SINKS));
        report.attach(this);
    }

    /** Names the configured sinks (comma-separated {@code sink.name}s): the first probes wait for them, and their results wait while they restart. */
    void awaitSinks(String await) {
        if (await != null && !await.isBlank()) {
            synchronized (jobs) {
                for (String name : await.split(",")) {
                    if (!name.isBlank()) {
                        awaited.add(name.strip());
                        configured.add(name.strip());
                    }
                }
                awaitedAtStart = String.join(", ", new java.util.TreeSet<>(awaited));
                for (ResultSink sink : sinks.keySet()) {
                    awaited.remove(sinkNames.get(sink));
                }
            }
            if (!awaited.isEmpty()) {
                timer.schedule(() -> openGate("not all came within " + AWAIT_SINKS_MS + " ms"), AWAIT_SINKS_MS, TimeUnit.MILLISECONDS);
            }
        }
    }

    /** Each scheduled target's state (active or backoff) and consecutive failures, for GET /status. */
    Map<String, Object> status() {
        List<ProbeJob> all;
        synchronized (jobs) {
            all = new ArrayList<>(jobs.values());
        }
        Map<String, Object> targets = new java.util.TreeMap<>();
        for (ProbeJob job : all) {
            targets.put(job.target.name(), job.status());
        }
        return Map.of("targets", targets, "probes_in_flight", inFlight.size());
    }

    /** A scheduler outside OSGi, for tests, with a report of its own. */
    Scheduler() {
        this(new SchedulerReport());
        report.attach(this);
    }

    private Scheduler(SchedulerReport report) {
        this.report = report;
        AtomicInteger n = new AtomicInteger();
        timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "sonde-scheduler-" + n.incrementAndGet());
            t.setDaemon(true);
            t.setPriority(Thread.MAX_PRIORITY);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true);
        timer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        timer.scheduleWithFixedDelay(this::sweep, SWEEP_MS, SWEEP_MS, TimeUnit.MILLISECONDS);
        watchdog = io.sonde.base.DaemonThreads.of("sonde-scheduler-watchdog", this::watch);
        watchdog.start();
    }

    /**
     * Ends probes that ran past their timeout (plus a grace for the prober to report it itself).
     * One pass over the probes in flight every {@link #SWEEP_MS} costs less than a timer task a probe.
     */
    private void sweep() {
        long now = System.nanoTime();
        for (ProbeJob.Probe p : inFlight) {
            p.overdue(now);
        }
    }

    /**
     * Probers that declare themselves async are called on the scheduler's thread. One that blocks
     * there for good would stop every target: every half second this looks for such a call, moves
     * the prober to calls on its own threads, and gives the scheduler a fresh thread to go on with.
     */
    private void watch() {
        while (!timer.isShutdown()) {
            try {
                Thread.sleep(WATCHDOG_PERIOD_MS);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (List<ProberSlot> list : probers.values()) {
                for (ProberSlot slot : list) {
                    if (slot.stuck(now) && timer.getCorePoolSize() < MAX_TIMER_THREADS) {
                        timer.setCorePoolSize(timer.getCorePoolSize() + 1);
                        LOG.warn("The {} prober has held a scheduler thread for over {} s; scheduling goes on in a new thread",
                                slot.kind, TimeUnit.NANOSECONDS.toSeconds(ProberSlot.STUCK_CALL_NANOS));
                    }
                }
            }
        }
    }

    @Deactivate
    void deactivate() {
        stopping = true;
        report.detach(this);
        List<ProbeJob> all;
        synchronized (jobs) {
            all = new ArrayList<>(jobs.values());
            jobs.clear();
        }
        all.forEach(ProbeJob::cancel);
        timer.shutdownNow();
        watchdog.interrupt();
        probers.values().forEach(list -> list.forEach(ProberSlot::close));
        stopping = true;
        sinks.values().forEach(SinkWorker::stop);
        try {
            timer.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void targetsChanged(Collection<Target> targets) {
        List<ProbeJob> stopped = new ArrayList<>();
        List<Target> removedFromSinks = new ArrayList<>();
        List<Target> fresh = new ArrayList<>();
        synchronized (jobs) {
            Map<String, Target> wanted = new HashMap<>();
            targets.forEach(t -> wanted.put(t.name(), t));
            for (var it = jobs.entrySet().iterator(); it.hasNext();) {
                var e = it.next();
                Target now = wanted.get(e.getKey());
                Target was = e.getValue().target;
                if (now == null || !now.equals(was)) {
                    stopped.add(e.getValue());
                    it.remove();
                    if (now == null || !now.kind().equals(was.kind())) {
                        removedFromSinks.add(was); // its series go: the name, or the kind label, is gone
                    }
                }
            }
            for (Target t : targets) {
                if (!jobs.containsKey(t.name())) {
                    fresh.add(t);
                }
            }
            long now = System.nanoTime();
            for (int i = 0; i < fresh.size(); i++) {
                Target t = fresh.get(i);
                ProbeJob job = new ProbeJob(this, t,
                        Plan.align(now + Plan.firstDelay(i, fresh.size(), t.interval().toNanos())));
                jobs.put(t.name(), job);
            }
        }
        stopped.forEach(ProbeJob::cancel);
        sinkLock.readLock().lock();
        try {
            for (Target t : removedFromSinks) {
                sinks.values().forEach(w -> w.removed(t));
                holds.values().forEach(h -> h.removed(t));
            }
        } finally {
            sinkLock.readLock().unlock();
        }
        synchronized (jobs) {
            for (Target t : fresh) {
                ProbeJob job = jobs.get(t.name());
                if (job != null && job.target == t) {
                    if (awaited.isEmpty()) {
                        job.start();
                    } else {
                        held.add(job);
                    }
                }
            }
        }
        if (!stopped.isEmpty() || !fresh.isEmpty()) {
            LOG.info("Targets changed: {} in force, {} started, {} stopped", targets.size(), fresh.size(), stopped.size());
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addProber(Prober prober, Map<String, Object> properties) {
        Object type = properties.get(Prober.PROBE_TYPE);
        if (type == null) {
            return; // the core reports probers without a type
        }
        String kind = String.valueOf(type);
        Object ranking = properties.get(Constants.SERVICE_RANKING);
        ProberSlot slot = new ProberSlot(prober, kind, ranking instanceof Integer r ? r : 0,
                (Long) properties.get(Constants.SERVICE_ID),
                Boolean.TRUE.equals(properties.get(Prober.PROBE_ASYNC))
                        || "true".equals(String.valueOf(properties.get(Prober.PROBE_ASYNC))));
        probers.compute(kind, (k, list) -> {
            List<ProberSlot> next = list == null ? new ArrayList<>() : new ArrayList<>(list);
            next.add(slot);
            next.sort((a, b) -> a.outranks(b) ? -1 : b.outranks(a) ? 1 : 0);
            return List.copyOf(next);
        });
        LOG.info("Prober for kind '{}' available (service {}, component {})", kind,
                properties.get(Constants.SERVICE_ID), properties.get("component.name"));
        kickStarved(kind);
    }

    /** Targets of {@code kind} that were waiting for a prober start now, spread over their interval. */
    private void kickStarved(String kind) {
        synchronized (jobs) {
            List<ProbeJob> waiting = new ArrayList<>();
            for (ProbeJob job : jobs.values()) {
                if (job.target.kind().equals(kind)) {
                    waiting.add(job);
                }
            }
            long now = System.nanoTime();
            for (int i = 0; i < waiting.size(); i++) {
                ProbeJob job = waiting.get(i);
                job.kick(Plan.align(now + Plan.firstDelay(i, waiting.size(), job.target.interval().toNanos())));
            }
        }
    }

    void removeProber(Prober prober, Map<String, Object> properties) {
        Object type = properties.get(Prober.PROBE_TYPE);
        if (type == null) {
            return;
        }
        String kind = String.valueOf(type);
        List<ProberSlot> removed = new ArrayList<>();
        probers.computeIfPresent(kind, (k, list) -> {
            List<ProberSlot> next = new ArrayList<>();
            for (ProberSlot s : list) {
                (s.prober == prober ? removed : next).add(s);
            }
            return next.isEmpty() ? null : List.copyOf(next);
        });
        removed.forEach(ProberSlot::close);
        LOG.info("Prober for kind '{}' gone (service {}){}", kind, properties.get(Constants.SERVICE_ID),
                probers.containsKey(kind) ? "; another takes over" : "");
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addSink(ResultSink sink, Map<String, Object> properties) {
        Object name = properties.getOrDefault(Constants.SERVICE_PID, properties.get("component.name"));
        String label = name != null ? String.valueOf(name) : sink.getClass().getName();
        Object sinkName = properties.get("sink.name");
        SinkWorker worker = new SinkWorker(sink, label, SinkWorker.QUEUE_CAPACITY);
        sinkLock.writeLock().lock();
        try {
            SinkHold hold = sinkName == null ? null : holds.remove(String.valueOf(sinkName));
            if (hold != null) {
                worker.carry(hold.delivered());
                int n = hold.handTo(worker);
                LOG.info("Result sink {} is back: the {} results held for it while it was away follow{}", sinkName, n,
                        hold.dropped() > 0 ? " (" + hold.dropped() + " older ones were dropped)" : "");
            }
            sinks.put(sink, worker);
        } finally {
            sinkLock.writeLock().unlock();
        }
        if (sinkName != null) {
            String n = String.valueOf(sinkName);
            sinkNames.put(sink, n);
            if (Boolean.parseBoolean(String.valueOf(properties.get(SINK_HOLD)))) {
                configured.add(n); // configured after the start (its file came later): its restarts are held all the same
            }
            boolean awaitedOne;
            synchronized (jobs) {
                awaitedOne = awaited.contains(n);
            }
            if (awaitedOne) {
                java.util.concurrent.CompletionStage<Void> ready;
                try {
                    ready = sink.ready();
                } catch (RuntimeException e) {
                    ready = java.util.concurrent.CompletableFuture.completedFuture(null);
                }
                ready.whenComplete((v, e) -> {
                    boolean open;
                    synchronized (jobs) {
                        open = awaited.remove(n) && awaited.isEmpty();
                    }
                    if (open) {
                        openGate("once its sinks were ready: " + awaitedAtStart);
                    }
                });
            }
        }
    }

    /** The sinks' names ({@code sink.name}), for the start's wait. */
    private final Map<ResultSink, String> sinkNames = new ConcurrentHashMap<>();

    /** Starts the jobs held for the awaited sinks, spread over their intervals as at any start. */
    private void openGate(String why) {
        List<ProbeJob> start;
        synchronized (jobs) {
            if (!awaited.isEmpty()) {
                LOG.warn("Probing starts without the sinks {}: {}", awaited, why);
            }
            awaited.clear();
            start = new ArrayList<>(held);
            held.clear();
            long now = System.nanoTime();
            for (int i = 0; i < start.size(); i++) {
                ProbeJob job = start.get(i);
                if (jobs.get(job.target.name()) == job) {
                    job.startAt(Plan.align(now + Plan.firstDelay(i, start.size(), job.target.interval().toNanos())));
                }
            }
        }
        if (!start.isEmpty()) {
            LOG.info("Probing starts: {} targets ({})", start.size(), why);
        }
    }

    void removeSink(ResultSink sink) {
        String name = sinkNames.remove(sink);
        SinkWorker w;
        sinkLock.writeLock().lock();
        try {
            w = sinks.remove(sink);
            if (w != null && name != null && configured.contains(name) && !stopping) {
                // a configured sink restarting (its configuration changed): what it had not taken, and what comes, waits for it
                SinkHold hold = holds.computeIfAbsent(name, n -> new SinkHold(n, SinkWorker.QUEUE_CAPACITY, System.nanoTime()));
                hold.addAll(w.stopAndDrain());
                hold.delivered(w.delivered());
                LOG.info("Result sink {} went away: its results wait for it up to {} s", name, HOLD_MS / 1000);
                return;
            }
        } finally {
            sinkLock.writeLock().unlock();
        }
        if (w != null) {
            w.stop();
        }
    }

    /** @return the results dropped from holds of sinks that did not come back in time, by sink name */
    Map<String, Long> holdDrops() {
        return Map.copyOf(holdDrops);
    }

    private final Map<String, Long> holdDrops = new ConcurrentHashMap<>();
    private volatile boolean stopping;

    ProberSlot proberFor(String kind) {
        List<ProberSlot> list = probers.get(kind);
        return list == null ? null : list.get(0);
    }

    void deliver(ProbeResult made, io.sonde.agent.spi.NextProbe next) {
        results.increment();
        ProbeResult result = SharedResult.of(made); // its values made once, whichever sinks read them
        sinkLock.readLock().lock();
        try {
            for (SinkWorker w : sinks.values()) {
                w.offer(result, next);
            }
            if (!holds.isEmpty()) {
                hold(result, next);
            }
        } finally {
            sinkLock.readLock().unlock();
        }
    }

    private void hold(ProbeResult result, io.sonde.agent.spi.NextProbe next) {
        long now = System.nanoTime();
        for (SinkHold h : holds.values()) {
            if (now - h.since() > TimeUnit.MILLISECONDS.toNanos(HOLD_MS)) {
                if (holds.remove(h.name(), h)) {
                    long lost = h.size() + h.dropped();
                    holdDrops.merge(h.name(), lost, Long::sum);
                    LOG.warn("Result sink {} did not come back within {} s: the {} results held for it are dropped", h.name(),
                            HOLD_MS / 1000, lost);
                }
                continue;
            }
            h.add(result, next);
        }
    }

    /** What the scheduler holds now; targets without a prober are the core's to count (no_prober). */
    SchedulerReport.State state() {
        int active = 0;
        int backoff = 0;
        int noProber = 0;
        synchronized (jobs) {
            for (ProbeJob job : jobs.values()) {
                if (!probers.containsKey(job.target.kind())) {
                    noProber++;
                } else if (job.backingOff()) {
                    backoff++;
                } else {
                    active++;
                }
            }
        }
        return new SchedulerReport.State(active, backoff, noProber, List.copyOf(sinks.values()), results.sum(), holdDrops());
    }
}
