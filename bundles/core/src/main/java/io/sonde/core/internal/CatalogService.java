package io.sonde.core.internal;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Dictionary;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

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

import io.prometheus.client.Collector;
import io.sonde.api.AgentIdentity;
import io.sonde.api.Prober;
import io.sonde.api.Target;
import io.sonde.api.TargetFactory;
import io.sonde.api.TargetListener;

/**
 * Collects the targets: factory configurations of {@code io.sonde.target} and the agent's
 * {@code targets_file}; validates them and tells every {@link TargetListener} the valid set.
 * Configuration errors are logged once each, counted, and never stop the agent.
 */
@Component(configurationPid = AgentConfig.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL, service = {})
@Designate(ocd = AgentConfig.class)
// registered by hand (it changes with the configuration), announced for the resolver
@org.osgi.annotation.bundle.Capability(namespace = "osgi.service",
        attribute = "objectClass:List<String>=\"io.sonde.api.AgentIdentity\"", uses = AgentIdentity.class)
public final class CatalogService {

    private static final Logger LOG = LoggerFactory.getLogger(CatalogService.class);
    private static final long FILE_POLL_MS = 1000;
    private static final long PUBLISH_DELAY_MS = 20;
    private static final TargetValidator.Defaults ON_REQUEST_DEFAULTS =
            new TargetValidator.Defaults(java.time.Duration.ofMillis(10_000), java.time.Duration.ofMillis(5_000));

    private final ScheduledExecutorService executor;
    private final Catalog catalog = new Catalog();
    private final CoreMetrics metrics = new CoreMetrics();
    private final HostNames hostNames = HostNames.system();
    private final Set<TargetListener> listeners = new CopyOnWriteArraySet<>();
    /** Probe types registered since start: a kind once seen stays valid, its targets then wait as no_prober. */
    private final Set<String> kindsSeen = ConcurrentHashMap.newKeySet();
    private final ServiceRegistration<ManagedServiceFactory> factoryRegistration;
    private final ServiceRegistration<Collector> metricsRegistration;
    private final ServiceRegistration<TargetFactory> factoryService;

    private List<Target> published;
    private ScheduledFuture<?> pendingPublish;
    private Path targetsFile;
    private Object targetsFileStamp;
    private ScheduledFuture<?> fileWatch;
    private final BundleContext context;
    private AgentIdentity identity;
    private ServiceRegistration<AgentIdentity> identityRegistration;

    @Activate
    public CatalogService(BundleContext context, AgentConfig config, Map<String, Object> properties) {
        this.context = context;
        executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sonde-core");
            t.setDaemon(true);
            return t;
        });
        submit(() -> applyAgentConfig(config, properties));
        // names that did not resolve are asked again: a target waits as invalid until its name exists
        executor.scheduleWithFixedDelay(() -> submit(() -> {
            if (hostNames.forgetFailures()) {
                recompute();
            }
        }), HostNames.FAILURE_MS, HostNames.FAILURE_MS, TimeUnit.MILLISECONDS);

        Dictionary<String, Object> factoryProps = new Hashtable<>();
        factoryProps.put(Constants.SERVICE_PID, TargetConfig.FACTORY_PID);
        factoryRegistration = context.registerService(ManagedServiceFactory.class, new TargetConfigurations(), factoryProps);
        factoryService = context.registerService(TargetFactory.class, this::create, null);
        metricsRegistration = context.registerService(Collector.class, metrics, null);
    }

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
        factoryService.unregister();
        metricsRegistration.unregister();
        executor.shutdownNow();
        try {
            executor.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC, service = Prober.class)
    void addProber(ServiceReference<Prober> ref) {
        Object type = ref.getProperty(Prober.PROBE_TYPE);
        if (type == null) {
            LOG.warn("Prober service {} from bundle {} has no '{}' property and is ignored",
                    ref.getProperty(Constants.SERVICE_ID), ref.getBundle().getSymbolicName(), Prober.PROBE_TYPE);
            return;
        }
        if (kindsSeen.add(String.valueOf(type)) && !TargetValidator.BUILT_IN_KINDS.contains(String.valueOf(type))) {
            submit(this::recompute); // targets of this kind may now be valid
        }
    }

    void removeProber(ServiceReference<Prober> ref) {
        // nothing to forget: the kind stays known, and its targets wait as no_prober
    }

    /** {@link TargetFactory}: the rules of configuration files, without asking the name service. */
    private Target create(Map<String, ?> settings, String source) {
        TargetValidator.Outcome outcome = TargetValidator.validate(settings, null, ON_REQUEST_DEFAULTS, source, source,
                kindsSeen::contains, HostNames.Check.NONE);
        if (!outcome.problems().isEmpty()) {
            StringBuilder message = new StringBuilder();
            for (ConfigProblem p : outcome.problems()) {
                message.append(message.length() == 0 ? "" : "; ").append(p.message());
            }
            throw new IllegalArgumentException(message.toString());
        }
        return outcome.target();
    }

    /** Runs {@code task} on the core thread; a failure is logged, never lost in a future. */
    private void submit(Runnable task) {
        try {
            executor.execute(() -> {
                try {
                    task.run();
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
        String source = sourceOf(properties, "configuration " + AgentConfig.PID);
        catalog.setAgentDefaults(config.probe__interval__ms(), config.default__timeout__ms(), source);
        String agentId = config.agent__id().strip().isEmpty() ? hostName() : config.agent__id().strip();
        List<String> tags = List.copyOf(TargetValidator.tags(config.tags()));
        metrics.agent(agentId, String.join(",", tags));
        publishIdentity(new AgentIdentity(agentId, tags));
        String file = config.targets__file().strip();
        Path path = null;
        if (!file.isEmpty()) {
            path = Path.of(file);
            if (!path.isAbsolute()) {
                path = Path.of(System.getProperty("sonde.home", ".")).resolve(path);
            }
            path = path.normalize();
        }
        if (!Objects.equals(path, targetsFile)) {
            targetsFile = path;
            targetsFileStamp = null;
            if (fileWatch != null) {
                fileWatch.cancel(false);
                fileWatch = null;
            }
            if (path == null) {
                catalog.clearFile();
            } else {
                fileWatch = executor.scheduleWithFixedDelay(() -> submit(this::checkTargetsFile), FILE_POLL_MS,
                        FILE_POLL_MS, TimeUnit.MILLISECONDS);
                checkTargetsFile();
                return; // checkTargetsFile recomputed
            }
        }
        recompute();
    }

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
        } catch (IOException e) {
            stamp = "missing";
        }
        if (stamp.equals(targetsFileStamp)) {
            return;
        }
        targetsFileStamp = stamp;
        try {
            long start = System.nanoTime();
            TargetsFile parsed = TargetsFile.read(path);
            catalog.setFile(path.toString(), parsed);
            LOG.info("Read {} target entries from {} in {} ms", parsed.entries().size(), path,
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        } catch (TargetsFile.Unusable e) {
            catalog.fileUnusable(e.problem());
        }
        recompute();
    }

    private void recompute() {
        Catalog.Result result = catalog.recompute(kindsSeen::contains, hostNames::problem);
        metrics.invalid(result.invalidEntries());
        int shown = 0;
        for (String problem : result.newProblems()) {
            metrics.configError();
            if (shown++ < 100) {
                LOG.warn("Configuration error: {}", problem);
            }
        }
        if (shown > 100) {
            LOG.warn("... and {} more configuration errors in this change", shown - 100);
        }
        if (!result.targets().equals(published)) {
            published = result.targets();
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
            String env = System.getenv("HOSTNAME");
            return env == null ? "unknown" : env;
        }
    }

    /** The file a configuration came from, as FileInstall records it, else {@code fallback}. */
    static String sourceOf(Map<String, ?> properties, String fallback) {
        Object file = properties.get("felix.fileinstall.filename");
        if (file == null) {
            return fallback;
        }
        try {
            return Path.of(new URI(file.toString())).toString();
        } catch (URISyntaxException | IllegalArgumentException e) {
            return file.toString();
        }
    }

    /** The NAME of {@code io.sonde.target-NAME.cfg}, used when a target file sets no name. */
    static String nameFromFile(String source) {
        String fileName = Path.of(source).getFileName().toString();
        String prefix = TargetConfig.FACTORY_PID + "-";
        if (fileName.startsWith(prefix) && fileName.endsWith(".cfg")) {
            return fileName.substring(prefix.length(), fileName.length() - ".cfg".length());
        }
        return null;
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
            String source = sourceOf(raw, "configuration " + pid);
            String fallbackName = raw.containsKey("felix.fileinstall.filename") ? nameFromFile(source) : null;
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
