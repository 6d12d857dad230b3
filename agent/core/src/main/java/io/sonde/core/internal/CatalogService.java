package io.sonde.core.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.ManagedServiceFactory;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.sonde.agent.spi.AgentIdentity;
import io.sonde.agent.spi.ConfigSource;
import io.sonde.api.Prober;
import io.sonde.api.Target;
import io.sonde.agent.spi.TargetFactory;
import io.sonde.agent.spi.TargetListener;
import io.sonde.api.TargetSchema;

// Over 500 lines: the one place where the targets of four sources (configurations, programs' TargetSources, targets_file, the server's document) meet, on one thread; parsing (TargetConfig, TargetsFile), checking (TargetValidator, Catalog), targets on request (OnRequestTargets) the governor (ResourceGovernor, ResourceWatch) and the file's log level (FileLogLevel) are apart.
/**
 * Collects the targets: factory configurations of {@code io.sonde.target}, the programs'
 * {@link io.sonde.agent.spi.TargetSource}s, the agent's {@code targets_file} and the server's
 * document; validates them and tells every {@link TargetListener} the valid set.
 * Configuration errors are logged once each, counted, and never stop the agent.
 */
@Component(configurationPid = AgentConfig.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL, service = {})
@Designate(ocd = AgentConfig.class)
// registered by hand (it changes with the configuration), announced for the resolver
@org.osgi.annotation.bundle.Capability(namespace = "osgi.service",
        attribute = "objectClass:List<String>=\"io.sonde.agent.spi.AgentIdentity\"", uses = AgentIdentity.class)
public final class CatalogService {

    private static final Logger LOG = LoggerFactory.getLogger(CatalogService.class);
    /** How often the targets file is looked at, unless CONFIG_POLL_INTERVAL_SECONDS (the Latency Probe's) says. */
    private static final long FILE_POLL_MS = 1000;
    /** The Latency Probe's environment: its targets file, when {@code targets_file} names none, and how often to read it. */
    static final String TARGET_CONFIG_ENV = "TARGET_CONFIG";
    static final String POLL_ENV = "CONFIG_POLL_INTERVAL_SECONDS";
    private static final long PUBLISH_DELAY_MS = 20;
    /** Names looked up at once: a list of slow names waits here, never on the core thread. */
    private static final int LOOKUP_THREADS = 4;

    private final ScheduledExecutorService executor;
    private final Catalog catalog = new Catalog();
    private final CoreReport report;
    private final Set<TargetListener> listeners = new CopyOnWriteArraySet<>();
    /** Every prober service, by kind (core thread only). */
    private final Map<String, List<ProberService>> probers = new HashMap<>();
    /** The prober serving each kind: the highest ranked of its kind. Read from any thread. */
    private volatile Map<String, ProberKind> kinds = Map.of();
    private final ThreadPoolExecutor lookups;
    private final HostNames hostNames;
    private final AtomicBoolean recomputeQueued = new AtomicBoolean();
    private final ServiceRegistration<ManagedServiceFactory> factoryRegistration;
    private final ServiceRegistration<TargetFactory> factoryService;

    private List<Target> published;
    /** The targets as configured, before the governor stretches any. */
    private List<Target> configured = List.of();
    /** The ceilings on the agent's CPU and memory, and the sampling that enforces them (core thread). */
    private final ResourceWatch resources;
    private ScheduledFuture<?> pendingPublish;
    private Path targetsFile;
    private TargetsFile.Memo targetsMemo = new TargetsFile.Memo();
    private Object targetsFileStamp;
    private ScheduledFuture<?> fileWatch;
    private final BundleContext context;
    private AgentIdentity identity;
    private ServiceRegistration<AgentIdentity> identityRegistration;

    @Activate
    public CatalogService(BundleContext context, AgentConfig config, Map<String, Object> properties,
            @Reference CoreReport report) {
        this.context = context;
        this.report = report;
        executor = Executors.newSingleThreadScheduledExecutor(io.sonde.base.DaemonThreads.named("sonde-core"));
        resources = new ResourceWatch(executor, this::submit, report, this::publishApplied);
        lookups = new ThreadPoolExecutor(LOOKUP_THREADS, LOOKUP_THREADS, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), io.sonde.base.DaemonThreads.numbered("sonde-core-lookup"));
        lookups.allowCoreThreadTimeOut(true);
        hostNames = new HostNames(InetAddress::getAllByName, System::currentTimeMillis, lookups, this::recomputeSoon);
        submit(() -> applyAgentConfig(config, properties));
        // answers expire: names are asked again, and a name that did not resolve may exist now
        executor.scheduleWithFixedDelay(this::recomputeSoon, HostNames.FAILURE_MS, HostNames.FAILURE_MS, TimeUnit.MILLISECONDS);

        Dictionary<String, Object> factoryProps = new Hashtable<>();
        factoryProps.put(Constants.SERVICE_PID, TargetConfig.FACTORY_PID);
        factoryRegistration = context.registerService(ManagedServiceFactory.class, new TargetConfigurations(), factoryProps);
        factoryService = context.registerService(TargetFactory.class, new OnRequestTargets(kindLookup, hostNames), null);
        Dictionary<String, Object> reloadProps = new Hashtable<>();
        reloadProps.put("sonde.reload", "targets file"); // the launcher runs it on SIGHUP
        reloadRegistration = context.registerService(Runnable.class, () -> submit(() -> {
            targetsFileStamp = null;
            checkTargetsFile();
        }), reloadProps);
        report.attach(this);
    }

    /** The configuration in force, for GET /status: asked of the core thread, which owns it. */
    Map<String, Object> status() {
        CompletableFuture<Map<String, Object>> answer = new CompletableFuture<>();
        submit(() -> {
            Map<String, Object> s = new java.util.LinkedHashMap<>();
            AgentIdentity id = identity;
            s.put("agent_id", id == null ? null : id.agentId());
            s.put("tags", id == null ? List.of() : id.tags());
            s.put("etc_targets", catalog.hasConfigurations());
            s.put("targets_file", targetsFile == null ? null : targetsFile.toString());
            s.put("program_sources", catalog.programEntries().size());
            Map<String, Object> doc = null;
            if (remoteDocument != null) {
                doc = new java.util.LinkedHashMap<>();
                doc.put("version", remoteDocument.version());
                doc.put("origin", String.valueOf(remoteDocument.origin()));
            }
            s.put("server_document", doc);
            s.put("config_errors_total", report.configErrors());
            List<Map<String, Object>> targets = new ArrayList<>();
            for (Target t : published == null ? List.<Target>of() : published) {
                Map<String, Object> m = new java.util.LinkedHashMap<>();
                m.put("name", t.name());
                m.put("kind", t.kind());
                m.put("host", t.host());
                m.put("port", t.port());
                m.put("interval_ms", t.interval().toMillis());
                m.put("source", t.source());
                targets.add(m);
            }
            s.put("targets", targets);
            s.put("entries_invalid", report.invalidEntries());
            s.put("entries_no_prober", report.noProberEntries());
            s.put("entries_resolving", report.resolvingEntries());
            answer.complete(s);
        });
        try {
            return answer.get(2, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
            return Map.of("error", "the core did not answer within 2 s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Map.of("error", "interrupted");
        }
    }

    private final ServiceRegistration<Runnable> reloadRegistration;

    @Modified
    void modified(AgentConfig config, Map<String, Object> properties) {
        submit(() -> applyAgentConfig(config, properties));
    }

    @Deactivate
    void deactivate() {
        synchronized (this) {
            if (identityRegistration != null) {
                identityRegistration.unregister();
                identityRegistration = null;
            }
            identity = null;
        }
        factoryRegistration.unregister();
        reloadRegistration.unregister();
        report.detach(this);
        factoryService.unregister();
        executor.shutdownNow();
        lookups.shutdownNow();
        try {
            executor.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The server's document in force, and what was last reported of it (core thread). */
    private io.sonde.agent.spi.RemoteConfig remote;
    private io.sonde.agent.spi.RemoteConfig.Document remoteDocument;
    private TargetsFile.Memo remoteMemo = new TargetsFile.Memo();
    private String reportedVersion;
    private List<io.sonde.agent.spi.RemoteConfig.Rejected> reportedRejected;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = org.osgi.service.component.annotations.ReferencePolicyOption.GREEDY)
    void setRemoteConfig(io.sonde.agent.spi.RemoteConfig config) {
        submit(() -> applyRemote(config));
    }

    void updatedRemoteConfig(io.sonde.agent.spi.RemoteConfig config) {
        submit(() -> applyRemote(config));
    }

    void unsetRemoteConfig(io.sonde.agent.spi.RemoteConfig config) {
        submit(() -> {
            if (remote == config) {
                remote = null;
                remoteDocument = null;
                remoteMemo = new TargetsFile.Memo();
                reportedVersion = null;
                catalog.clearServer();
                LOG.info("The server's configuration document is no longer in force (the uplink stopped); its targets are removed");
                recompute();
            }
        });
    }

    /** Takes the server's document in force now: its targets replace the previous document's. */
    private void applyRemote(io.sonde.agent.spi.RemoteConfig config) {
        io.sonde.agent.spi.RemoteConfig.Document doc = config.document();
        if (doc == null || (config == remote && doc.equals(remoteDocument))) {
            return;
        }
        boolean sameText = remoteDocument != null && config == remote && remoteDocument.json().equals(doc.json());
        remote = config;
        remoteDocument = doc;
        if (sameText) {
            recompute(); // the origin changed (the server confirmed the kept copy): the metric says so
            return;
        }
        long start = System.nanoTime();
        try {
            TargetsFile parsed = TargetsFile.of(doc.json(), "server document " + doc.version(), remoteMemo);
            catalog.setServer("server document", parsed); // not its version: a target that did not change stays equal
            int checked = recompute();
            LOG.info("Applied the server's configuration document {} ({}): {} target entries in {} ms ({} checked again)",
                    doc.version(), doc.origin(), parsed.entries().size(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start), checked);
        } catch (TargetsFile.Unusable e) {
            report.configError();
            LOG.warn("Configuration error: {}; the previous server document stays in force", e.problem().message());
            config.applied(reportedVersion, List.of(new io.sonde.agent.spi.RemoteConfig.Rejected("targets", e.problem().message())));
        }
    }

    /** The programs' sources of targets, by their service id, with the generation last read (core thread). */
    private final Map<Long, Object> programGenerations = new HashMap<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addTargetSource(io.sonde.agent.spi.TargetSource source, Map<String, Object> properties) {
        submit(() -> applyProgram(source, properties));
    }

    void updatedTargetSource(io.sonde.agent.spi.TargetSource source, Map<String, Object> properties) {
        submit(() -> applyProgram(source, properties));
    }

    void removeTargetSource(io.sonde.agent.spi.TargetSource source, Map<String, Object> properties) {
        submit(() -> {
            Long id = (Long) properties.get(Constants.SERVICE_ID);
            if (programGenerations.remove(id) != null) {
                catalog.removeProgram(String.valueOf(id));
                LOG.info("{} is gone: its targets are removed", programName(properties));
                recompute();
            }
        });
    }

    /** Reads a program's targets when it is new or says (by its generation) that they changed. */
    private void applyProgram(io.sonde.agent.spi.TargetSource source, Map<String, Object> properties) {
        Long id = (Long) properties.get(Constants.SERVICE_ID);
        Object generation = properties.getOrDefault(io.sonde.agent.spi.TargetSource.GENERATION, "");
        if (programGenerations.containsKey(id) && programGenerations.get(id).equals(generation)) {
            return;
        }
        String name = programName(properties);
        List<Map<String, ?>> targets;
        try {
            // a copy that keeps nulls: a null entry is that entry refused by the catalog's rule, not the whole hand-over
            targets = java.util.Collections.unmodifiableList(new ArrayList<>(source.targets()));
        } catch (RuntimeException e) { // a program's fault: its previous targets stay
            report.configError();
            LOG.warn("Configuration error: {} failed to hand over its targets ({}); its previous ones stay in force", name, e.toString());
            return;
        }
        programGenerations.put(id, generation);
        catalog.setProgram(String.valueOf(id), name, targets);
        int checked = recompute();
        LOG.debug("Took {} target entries from {} ({} checked again)", targets.size(), name, checked);
    }

    private static String programName(Map<String, Object> properties) {
        Object name = properties.get(io.sonde.agent.spi.TargetSource.NAME);
        return name == null ? "target source " + properties.get(Constants.SERVICE_ID) : String.valueOf(name);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addListener(TargetListener listener) {
        listeners.add(listener);
        submit(() -> {
            if (published != null && listeners.contains(listener)) {
                notify(listener, published);
            }
        });
    }

    void removeListener(TargetListener listener) {
        listeners.remove(listener);
    }

    /** One registered prober. */
    private record ProberService(ServiceReference<Prober> ref, Prober prober) {
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addProber(Prober prober, ServiceReference<Prober> ref) {
        Object type = ref.getProperty(Prober.PROBE_TYPE);
        if (type == null) {
            LOG.warn("Prober service {} from bundle {} has no '{}' property and is ignored",
                    ref.getProperty(Constants.SERVICE_ID), ref.getBundle().getSymbolicName(), Prober.PROBE_TYPE);
            return;
        }
        String kind = String.valueOf(type);
        submit(() -> {
            probers.computeIfAbsent(kind, k -> new ArrayList<>()).add(new ProberService(ref, prober));
            kindChanged(kind);
        });
    }

    void removeProber(Prober prober, ServiceReference<Prober> ref) {
        Object type = ref.getProperty(Prober.PROBE_TYPE);
        if (type == null) {
            return;
        }
        String kind = String.valueOf(type);
        submit(() -> {
            List<ProberService> list = probers.get(kind);
            if (list != null && list.removeIf(p -> p.ref().equals(ref)) && list.isEmpty()) {
                probers.remove(kind);
            }
            kindChanged(kind);
        });
    }

    /** The prober of {@code kind} may have changed: the highest ranked serves it, and its targets are checked anew. */
    private void kindChanged(String kind) {
        List<ProberService> list = probers.get(kind);
        ProberService top = list == null || list.isEmpty() ? null
                : list.stream().max((a, b) -> a.ref().compareTo(b.ref())).orElseThrow();
        ProberKind before = kinds.get(kind);
        long topId = top == null ? -1 : (Long) top.ref().getProperty(Constants.SERVICE_ID);
        if ((before == null ? -1 : before.serviceId()) == topId) {
            return;
        }
        Map<String, ProberKind> next = new HashMap<>(kinds);
        if (top == null) {
            next.remove(kind);
            LOG.info("No prober of kind {} is left; its targets wait as no_prober", kind);
        } else {
            String bundle = top.ref().getBundle() == null ? "?" : top.ref().getBundle().getSymbolicName();
            TargetSchema schema;
            try {
                schema = top.prober().schema();
            } catch (RuntimeException | LinkageError e) {
                LOG.warn("The {} prober of {} failed to declare its keys; its targets' own keys are not checked", kind, bundle, e);
                schema = null;
            }
            if (schema == null) {
                LOG.warn("The {} prober of {} declares no keys (built for io.sonde.api before 1.3): its targets' own keys"
                        + " are passed on unchecked", kind, bundle);
            }
            next.put(kind, new ProberKind(top.prober(), schema, topId, bundle, ProberKind.cost(top.ref().getProperty(Prober.PROBE_COST))));
            if (before != null) {
                LOG.info("Kind {} is now served by {} (service {}); its targets are checked again", kind, bundle, topId);
            }
        }
        kinds = Map.copyOf(next);
        recompute();
    }

    /** The probers now, for the validator. */
    private final ProberKind.Lookup kindLookup = kind -> kinds.get(kind);

    /** Runs {@code task} on the core thread; a failure is logged, never lost in a future. */
    private void submit(Runnable task) {
        try {
            executor.execute(() -> {
                try {
                    task.run();
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    if (!executor.isShutdown()) {
                        LOG.error("Applying a configuration change failed", e);
                    } // else deactivating while the change ran (a short-lived framework: sonde-cli validate): it no longer matters
                } catch (RuntimeException | LinkageError e) {
                    LOG.error("Applying a configuration change failed", e);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // deactivating: the change no longer matters
        }
    }

    // --- on the core thread ---

    private void applyAgentConfig(AgentConfig config, Map<String, Object> properties) {
        String source = ConfigSource.of(properties, "configuration " + AgentConfig.PID);
        java.util.function.Consumer<String> problem = p -> {
            report.configError();
            LOG.warn("Configuration error: {}", p);
        };
        TargetValidator.Defaults now = catalog.agentDefaults(); // a value that is no number keeps the one in force
        Map<String, String> backoff = new HashMap<>();
        backoff.put("backoff", config.backoff());
        backoff.put("backoff_after", String.valueOf(ConfigSource.typed(config::backoff__after, "backoff_after",
                Long.parseLong(io.sonde.agent.spi.Backoff.AFTER.defaultValue()), source, problem)));
        backoff.put("backoff_max_ms", String.valueOf(ConfigSource.typed(config::backoff__max__ms, "backoff_max_ms",
                Long.parseLong(io.sonde.agent.spi.Backoff.MAX_MS.defaultValue()), source, problem)));
        catalog.setAgentDefaults(
                ConfigSource.typed(config::probe__interval__ms, "probe_interval_ms", now.interval().toMillis(), source, problem),
                ConfigSource.typed(config::default__timeout__ms, "default_timeout_ms", now.timeout().toMillis(), source, problem),
                backoff, source);
        String agentId = config.agent__id().strip().isEmpty() ? hostName() : config.agent__id().strip();
        List<String> tags = List.copyOf(TargetValidator.tags(config.tags()));
        report.agent(agentId, String.join(",", tags));
        publishIdentity(new AgentIdentity(agentId, tags));
        resources.ceilings(new ResourceGovernor.Ceilings(
                Math.max(0, ConfigSource.typed(config::max__cpu__percent, "max_cpu_percent", 0.0, source, problem)),
                Math.max(0, ConfigSource.typed(config::max__memory__mb, "max_memory_mb", 0L, source, problem))));
        String file = config.targets__file().strip();
        if (file.isEmpty() && System.getenv(TARGET_CONFIG_ENV) != null) {
            file = System.getenv(TARGET_CONFIG_ENV).strip();
        }
        Path path = null;
        if (!file.isEmpty()) {
            path = Path.of(file);
            if (!path.isAbsolute()) {
                path = io.sonde.base.Home.ofProcess().resolve(path);
            }
            path = path.normalize();
        }
        if (!Objects.equals(path, targetsFile)) {
            targetsFile = path;
            targetsMemo = new TargetsFile.Memo();
            targetsFileStamp = null;
            if (fileWatch != null) {
                fileWatch.cancel(false);
                fileWatch = null;
            }
            if (path == null) {
                catalog.clearFile();
            } else {
                long poll = pollMs(problem);
                fileWatch = executor.scheduleWithFixedDelay(() -> submit(this::checkTargetsFile), poll, poll,
                        TimeUnit.MILLISECONDS);
                checkTargetsFile();
                return; // checkTargetsFile recomputed
            }
        }
        recompute();
    }

    /** The targets file's watch period: {@value #POLL_ENV} seconds (1 to 3600) when set, else a second. */
    private static long pollMs(java.util.function.Consumer<String> problem) {
        String v = System.getenv(POLL_ENV);
        if (v == null || v.isBlank()) {
            return FILE_POLL_MS;
        }
        try {
            long s = Long.parseLong(v.strip());
            if (s >= 1 && s <= 3600) {
                return s * 1000;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        problem.accept("environment variable " + POLL_ENV + ": '" + v + "' is not a number of seconds from 1 to 3600;"
                + " the targets file is looked at every second");
        return FILE_POLL_MS;
    }

    /** The targets file's log_level, applied to Sonde's loggers (core thread). */
    private final FileLogLevel fileLogLevel = new FileLogLevel();

    /** Reloads the targets file when its size, time or identity changed. */
    private void checkTargetsFile() {
        Path path = targetsFile;
        if (path == null) {
            return;
        }
        Object stamp;
        try {
            BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
            stamp = List.of(a.size(), a.lastModifiedTime(), String.valueOf(a.fileKey()));
        } catch (java.nio.file.NoSuchFileException e) {
            stamp = "missing";
        } catch (IOException e) {
            stamp = "unreadable: " + e; // not absent: read it, and the reading says why it cannot be used
        }
        if (stamp.equals(targetsFileStamp)) {
            return;
        }
        targetsFileStamp = stamp;
        long start = System.nanoTime();
        int entries = -1;
        try {
            TargetsFile parsed = TargetsFile.read(path, targetsMemo);
            catalog.setFile(path.toString(), parsed);
            entries = parsed.entries().size();
            if (!fileLogLevel.apply(path, parsed.logLevel())) {
                report.configError();
            }
        } catch (TargetsFile.Unusable e) {
            catalog.fileUnusable(e.problem());
        }
        long read = System.nanoTime();
        int checked = recompute();
        long took = System.nanoTime() - start;
        report.recomputed(took); // the whole change: reading, parsing, checking and publishing
        if (entries >= 0) {
            LOG.info("Read {} target entries from {} and applied them in {} ms ({} checked again, {} ms of it reading)",
                    entries, path, TimeUnit.NANOSECONDS.toMillis(took), checked, TimeUnit.NANOSECONDS.toMillis(read - start));
        }
    }

    /** @return the kinds installed now, in name order, for messages */
    private String installedKinds() {
        java.util.List<String> names = new java.util.ArrayList<>();
        kinds.forEach((k, v) -> {
            if (v != null) {
                names.add(k);
            }
        });
        java.util.Collections.sort(names);
        return names.isEmpty() ? "none" : String.join(", ", names);
    }

    /** Recomputes soon on the core thread, once for a burst of requests (answers of many look-ups). */
    private void recomputeSoon() {
        if (recomputeQueued.compareAndSet(false, true)) {
            try {
                executor.schedule(() -> submit(() -> {
                    recomputeQueued.set(false);
                    recompute();
                }), PUBLISH_DELAY_MS, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                recomputeQueued.set(false); // deactivating
            }
        }
    }

    /** @return how many entries were checked again */
    private int recompute() {
        long start = System.nanoTime();
        Catalog.Result result = catalog.recompute(kindLookup, hostNames::check);
        long took = System.nanoTime() - start;
        report.entries(result.invalidEntries(), result.noProber(), result.resolving());
        report.recomputed(took);
        if (result.checked() > 0) {
            LOG.debug("Checked {} changed target entries in {} us", result.checked(), took / 1000);
        }
        int shown = 0;
        for (String problem : result.newProblems()) {
            report.configError();
            if (shown++ < 100) {
                LOG.warn("Configuration error: {}", problem);
            }
        }
        if (shown > 100) {
            LOG.warn("... and {} more configuration errors in this change", shown - 100);
        }
        int heldShown = 0;
        for (Catalog.Held h : result.newlyHeld()) {
            if (heldShown++ < 100) {
                LOG.warn("{}: target '{}' waits: no installed plugin provides kind '{}' (installed: {}); it is probed once one does",
                        h.source(), h.name(), h.kind(), installedKinds());
            }
        }
        if (heldShown > 100) {
            LOG.warn("... and {} more targets wait for a plugin of their kind", heldShown - 100);
        }
        configured = result.targets();
        report.sources(catalog.hasConfigurations(), targetsFile != null, remoteDocument == null ? null : remoteDocument.origin(),
                result.serverRejected().size());
        if (remote != null && remoteDocument != null && (!remoteDocument.version().equals(reportedVersion)
                || !result.serverRejected().equals(reportedRejected))) {
            reportedVersion = remoteDocument.version();
            reportedRejected = result.serverRejected();
            try {
                remote.applied(reportedVersion, reportedRejected);
            } catch (RuntimeException e) {
                LOG.warn("Reporting the applied configuration document to the uplink failed", e);
            }
        }
        publishApplied();
        return result.checked();
    }

    /** Publishes the configured targets with the intervals the resource governor gives them now. */
    private void publishApplied() {
        Map<String, ProberKind> known = kinds;
        List<Target> next = resources.governor().apply(configured, kind -> {
            ProberKind k = known.get(kind);
            return k == null ? ProberKind.UNKNOWN_COST : k.cost();
        });
        if (!next.equals(published)) {
            published = next;
            schedulePublish();
        }
    }

    /** Coalesces bursts of changes (many files at start) into one notification. */
    private void schedulePublish() {
        if (pendingPublish == null || pendingPublish.isDone()) {
            pendingPublish = executor.schedule(() -> submit(() -> listeners.forEach(l -> notify(l, published))),
                    PUBLISH_DELAY_MS, TimeUnit.MILLISECONDS);
        }
    }

    private static void notify(TargetListener listener, List<Target> targets) {
        try {
            listener.targetsChanged(targets);
        } catch (RuntimeException e) {
            LOG.error("Target listener {} failed", listener.getClass().getName(), e);
        }
    }

    /** (Re-)registers the agent's identity when it changed. */
    private synchronized void publishIdentity(AgentIdentity next) {
        if (next.equals(identity) || executor.isShutdown()) {
            return;
        }
        identity = next;
        if (identityRegistration != null) {
            identityRegistration.unregister();
        }
        identityRegistration = context.registerService(AgentIdentity.class, next, null);
    }

    /** This host's name, from the kernel: no name service is asked. */
    static String hostName() {
        try {
            return Files.readAllLines(Path.of("/proc/sys/kernel/hostname")).get(0).strip(); // readString stops short on procfs
        } catch (IOException | RuntimeException e) {
            LOG.warn("Cannot read this host's name from /proc/sys/kernel/hostname ({}); set agent_id in etc/{}.cfg", e,
                    AgentConfig.PID);
            String env = System.getenv("HOSTNAME");
            return env == null ? "unknown" : env;
        }
    }

    /** Receives the factory configurations of {@code io.sonde.target}. */
    private final class TargetConfigurations implements ManagedServiceFactory {

        @Override
        public String getName() {
            return "Sonde targets";
        }

        @Override
        public void updated(String pid, Dictionary<String, ?> properties) {
            Map<String, Object> raw = new HashMap<>();
            for (Enumeration<String> keys = properties.keys(); keys.hasMoreElements();) {
                String key = keys.nextElement();
                raw.put(key, properties.get(key));
            }
            String source = ConfigSource.of(raw, "configuration " + pid);
            String fallbackName = raw.containsKey(ConfigSource.FILE_KEY)
                    ? ConfigSource.nameFromFile(source, TargetConfig.FACTORY_PID) : null;
            submit(() -> {
                catalog.putConfiguration(pid, raw, source, fallbackName);
                recompute();
            });
        }

        @Override
        public void deleted(String pid) {
            submit(() -> {
                catalog.removeConfiguration(pid);
                recompute();
            });
        }
    }
}
