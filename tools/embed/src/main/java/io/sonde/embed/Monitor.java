package io.sonde.embed;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.framework.launch.Framework;
import org.osgi.util.tracker.ServiceTracker;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;

import io.sonde.api.ProbeResult;
import io.sonde.agent.spi.ResultSink;
import io.sonde.api.Target;
import io.sonde.agent.spi.TargetFactory;
import io.sonde.agent.spi.TargetListener;
import io.sonde.agent.spi.TargetSource;

// Over 500 lines: the embedding library's whole public face in one class, as its users read it; mostly Javadoc.
/**
 * Sonde's probes inside any Java program: targets in (the keys of the agent's files), results out,
 * probed by the agent's own core, scheduler and plugins. Nothing of the agent's network face comes
 * along: no /metrics port, no uplink, no updater.
 *
 * <pre>{@code
 * try (Monitor monitor = Monitor.start(Path.of("/opt/sonde"))) {
 *     monitor.subscribe(r -> System.out.println(r.target().name() + " " + r.responseTime()));
 *     monitor.add(Map.of("name", "web", "kind", "tcp", "host", "127.0.0.1", "port", 80, "interval_ms", 1000));
 *     Thread.sleep(10_000);
 * }
 * }</pre>
 *
 * <p>Underneath runs an OSGi framework with the distribution's bundles; the caller needs the
 * {@code io.sonde.api} and {@code io.sonde.agent.spi} jars on its class path (its result types and
 * the sink it registers are the caller's own classes) and
 * sees nothing else of it. Thread-safe; listeners are called on the scheduler's sink thread, in
 * the order each target's results completed.
 */
public final class Monitor implements AutoCloseable {

    /** How long {@link #add} and {@link #remove} wait for the change to be in force. */
    static final Duration APPLY_WAIT = Duration.ofSeconds(15);
    /** How long {@link #start} waits for the core and the plugins. */
    static final Duration START_WAIT = Duration.ofSeconds(30);
    /**
     * The agent's platform bundles a monitor leaves out: its network face, SIGHUP's etc/ re-read, and the probe contract
     * and agent SPI it shares from the class path.
     */
    static final Set<String> LEFT_OUT = Set.of("io.sonde.api", "io.sonde.agent.spi", "io.sonde.exporter", "io.sonde.uplink", "io.sonde.updater",
            "io.sonde.responder", "io.sonde.reload");
    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    private final Framework framework;
    private final Path work;
    private final boolean ownWork;
    private final ServiceTracker<TargetFactory, TargetFactory> factory;
    private final List<ServiceRegistration<?>> registrations = new ArrayList<>();
    private final List<Consumer<? super ProbeResult>> listeners = new CopyOnWriteArrayList<>();
    private final Map<String, ProbeResult> latest = new ConcurrentHashMap<>();
    /** The names of the targets added and not removed: results of others are not handed on. */
    private final Set<String> added = ConcurrentHashMap.newKeySet();
    private final Set<Object> failedListeners = ConcurrentHashMap.newKeySet();
    /** The targets added, in order, as their settings. */
    private final Map<String, Map<String, Object>> targets = new LinkedHashMap<>();
    /** The targets in force now, by name (from the core). */
    private volatile Map<String, Target> inForce = Map.of();

    private Monitor(Framework framework, Path work, boolean ownWork) {
        this.framework = framework;
        this.work = work;
        this.ownWork = ownWork;
        BundleContext context = framework.getBundleContext();
        factory = new ServiceTracker<>(context, TargetFactory.class, null);
        factory.open();
        registrations.add(context.registerService(ResultSink.class, new ResultSink() {
            @Override
            public void accept(ProbeResult result) {
                if (!added.contains(result.target().name())) {
                    return; // removed while it was probed
                }
                latest.put(result.target().name(), result);
                for (Consumer<? super ProbeResult> l : listeners) {
                    try {
                        l.accept(result);
                    } catch (RuntimeException e) {
                        if (failedListeners.add(l)) { // once per listener: it may fail for every result
                            java.util.logging.Logger.getLogger(Monitor.class.getName()).log(java.util.logging.Level.WARNING,
                                    "A result listener failed (said once per listener)", e);
                        }
                    }
                }
            }

            @Override
            public void targetRemoved(Target target) {
                latest.remove(target.name());
            }
        }, null));
        registrations.add(context.registerService(TargetListener.class, (TargetListener) this::targetsChanged, null));
        source = context.registerService(TargetSource.class, () -> {
            synchronized (targets) {
                return List.copyOf(targets.values());
            }
        }, sourceProperties(0));
        registrations.add(source);
    }

    /** The targets added, handed to the core: it reads them again each time the generation changes. */
    private final ServiceRegistration<TargetSource> source;
    private long generation;

    private static java.util.Hashtable<String, Object> sourceProperties(long generation) {
        java.util.Hashtable<String, Object> p = new java.util.Hashtable<>();
        p.put(TargetSource.NAME, "monitor");
        p.put(TargetSource.GENERATION, generation);
        return p;
    }

    /**
     * Starts a monitor with the bundles and plugins of an agent distribution, its own state in a
     * temporary directory that {@link #close} deletes.
     *
     * @param distribution the agent's directory: its {@code system/} and {@code plugins/} are used
     */
    public static Monitor start(Path distribution) throws IOException {
        Path work = Files.createTempDirectory("sonde-monitor-");
        try {
            return start(distribution, work, true);
        } catch (IOException | RuntimeException e) {
            delete(work);
            throw e;
        }
    }

    /** As {@link #start(Path)}, its state (the framework's cache and configuration) under {@code work}, which is kept. */
    public static Monitor start(Path distribution, Path work) throws IOException {
        return start(distribution, work, false);
    }

    private static Monitor start(Path distribution, Path work, boolean ownWork) throws IOException {
        Path dist = distribution.toAbsolutePath().normalize();
        Path system = dist.resolve("system");
        if (!Files.isDirectory(system)) {
            throw new IOException(dist + " is no Sonde agent distribution: it has no system/ directory");
        }
        Path etc = work.resolve("etc");
        Files.createDirectories(etc);
        Files.createDirectories(work.resolve("data"));
        Path plugins = dist.resolve("plugins");
        Files.writeString(etc.resolve("org.apache.felix.fileinstall-plugins.cfg"),
                "felix.fileinstall.dir = " + plugins.toString().replace("\\", "\\\\") + "\n"
                        + "felix.fileinstall.filter = .*\\\\.jar\nfelix.fileinstall.poll = 1000\n"
                        + "felix.fileinstall.noInitialDelay = true\nfelix.fileinstall.bundles.new.start = true\n"
                        + "felix.fileinstall.log.default = jul\n");
        Files.writeString(etc.resolve("io.sonde.agent.cfg"), "agent_id = embedded\n");
        Framework framework;
        try {
            framework = io.sonde.launcher.Main.launch(work, system, name -> name != null && !LEFT_OUT.contains(name),
                    Map.of(org.osgi.framework.Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA,
                            io.sonde.launcher.Main.SYSTEM_PACKAGES + ",io.sonde.api;version=" + exportedVersion(io.sonde.api.Prober.class)
                                    + ",io.sonde.agent.spi;version=" + exportedVersion(ResultSink.class),
                            "sonde.home", work.toString()));
        } catch (Exception e) {
            throw new IOException("Cannot start the probes' framework from " + dist + ": " + e.getMessage(), e);
        }
        Monitor monitor = new Monitor(framework, work, ownWork);
        try {
            if (monitor.factory.waitForService(START_WAIT.toMillis()) == null) {
                throw new IOException("The agent's core did not start within " + START_WAIT.toSeconds() + " s from " + system);
            }
            monitor.awaitPlugins(plugins);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            monitor.close();
            throw new IOException("Interrupted while starting", e);
        } catch (IOException | RuntimeException e) {
            monitor.close();
            throw e;
        }
        return monitor;
    }

    /**
     * Waits until FileInstall has started the plugins and their probers are registered: the bundles
     * from {@code plugins/} and the prober services stay the same for a while, there are as many
     * of those bundles as jars there, and each started one with components has registered a service
     * (SCR activates them on its own thread, later under load); or the bundles stopped changing for
     * {@value #PLUGINS_QUIET_MS} ms more: a jar that is no bundle never comes, an unsatisfied component
     * never registers. At most {@link #START_WAIT}.
     */
    private void awaitPlugins(Path plugins) throws InterruptedException, IOException {
        long jars;
        try (var s = Files.list(plugins)) {
            jars = s.filter(p -> p.getFileName().toString().endsWith(".jar")).count();
        } catch (java.nio.file.NoSuchFileException e) {
            return;
        }
        String prefix = plugins.toUri().toString();
        long deadline = System.nanoTime() + START_WAIT.toNanos();
        String last = null;
        long since = System.nanoTime();
        while (System.nanoTime() < deadline) {
            StringBuilder state = new StringBuilder();
            int fromPlugins = 0;
            int pending = 0; // started, with components, none of which has registered its service yet (SCR is busy)
            for (org.osgi.framework.Bundle b : framework.getBundleContext().getBundles()) {
                if (b.getLocation().startsWith(prefix) || b.getLocation().contains(plugins.toString())) {
                    fromPlugins++;
                    state.append(b.getBundleId()).append(':').append(b.getState()).append(',');
                    if (b.getState() == org.osgi.framework.Bundle.ACTIVE && b.getHeaders().get("Service-Component") != null
                            && b.getRegisteredServices() == null) {
                        pending++;
                    }
                }
            }
            state.append(kinds());
            long now = System.nanoTime();
            if (!state.toString().equals(last)) {
                last = state.toString();
                since = now;
            } else if (now - since > (fromPlugins >= jars && pending == 0 ? SETTLED_MS : PLUGINS_QUIET_MS) * 1_000_000L) {
                for (String kind : kinds()) { // the core takes each prober on its own thread: wait until it has
                    while (!coreKnows(kind) && System.nanoTime() < deadline) {
                        Thread.sleep(10);
                    }
                }
                return;
            }
            Thread.sleep(25);
        }
    }

    /** Plugins unchanged this long, all there: settled. */
    static final long SETTLED_MS = 300;
    /** Plugins unchanged this long, some jars not bundles or some components not registered (unsatisfied): settled as they are. */
    static final long PLUGINS_QUIET_MS = 3000;

    /**
     * The version of a shared package on the caller's class path (its jar's export), which the bundles import:
     * io.sonde.api's for the plugins, io.sonde.agent.spi's for the core and scheduler.
     */
    static String exportedVersion(Class<?> of) throws IOException {
        String pkg = of.getPackageName();
        java.net.URL where = of.getProtectionDomain().getCodeSource().getLocation();
        Path jar;
        try {
            jar = Path.of(where.toURI());
        } catch (java.net.URISyntaxException | IllegalArgumentException e) {
            throw new IOException(pkg + " comes from " + where + ", not a jar or directory", e);
        }
        java.util.jar.Manifest manifest;
        if (Files.isDirectory(jar)) {
            try (var in = Files.newInputStream(jar.resolve("META-INF/MANIFEST.MF"))) {
                manifest = new java.util.jar.Manifest(in);
            }
        } else {
            try (java.util.jar.JarFile f = new java.util.jar.JarFile(jar.toFile())) {
                manifest = f.getManifest();
            }
        }
        String exports = manifest == null ? null : manifest.getMainAttributes().getValue("Export-Package");
        java.util.regex.Matcher m = exports == null ? null
                : java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(pkg) + ";[^,]*version=\"?([0-9.]+)").matcher(exports);
        if (m == null || !m.find()) {
            throw new IOException(jar + " does not export " + pkg + " with a version: not the Sonde bundle of that package");
        }
        return m.group(1);
    }

    /**
     * Adds a target, or replaces the one of the same name, and returns once it is probed.
     *
     * @param settings the keys of a target as in the agent's files: {@code name}, {@code kind},
     *                 {@code host}, {@code port}, {@code interval_ms}, {@code timeout_ms} and the
     *                 kind's own; values as strings, numbers or lists
     * @return the target as the agent's rules made it (defaults filled in)
     * @throws IllegalArgumentException naming the key and the reason, for settings the agent would refuse
     * @throws IllegalStateException    when the change is not in force within {@value #APPLY_WAIT_S} s
     */
    public Target add(Map<String, ?> settings) {
        Target target = factory().create(settings, "target " + settings.get("name"));
        Map<String, Object> entry = new LinkedHashMap<>(settings);
        Target before = inForce.get(target.name());
        boolean same;
        synchronized (targets) {
            same = entry.equals(targets.put(target.name(), entry));
            added.add(target.name());
            handOver();
        }
        // a replacement is in force when the core publishes a new target of the name (the same settings: at once)
        awaitInForce(() -> inForce.containsKey(target.name()) && (same || before == null || inForce.get(target.name()) != before),
                "target " + target.name() + (before == null ? " added" : " replaced"));
        return inForce.get(target.name());
    }

    static final long APPLY_WAIT_S = 15;

    /**
     * Removes a target; returns once it is no longer probed.
     *
     * @return whether there was one of that name
     */
    public boolean remove(String name) {
        synchronized (targets) {
            if (targets.remove(name) == null) {
                return false;
            }
            added.remove(name);
            latest.remove(name);
            handOver();
        }
        awaitInForce(() -> !inForce.containsKey(name), "target " + name + " removed");
        return true;
    }

    /** The targets probed now, by name. */
    public Map<String, Target> targets() {
        return inForce;
    }

    /**
     * Calls {@code listener} with every result from now on, until the returned handle is closed.
     */
    public AutoCloseable subscribe(Consumer<? super ProbeResult> listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    /** The last result of a target, if it was probed since it was added. */
    public Optional<ProbeResult> latest(String name) {
        return Optional.ofNullable(latest.get(name));
    }

    /**
     * Checks one target's settings by the agent's rules (as in an {@code io.sonde.target-*.cfg} file).
     *
     * @param source where the settings are from, for the messages
     * @return the problems, each naming the source, the key and the reason; empty when the agent takes them
     */
    public List<String> check(Map<String, ?> settings, String source) {
        try {
            factory().create(settings, source);
            return List.of();
        } catch (IllegalArgumentException e) {
            return List.of(e.getMessage().split("; (?=" + java.util.regex.Pattern.quote(source) + ")"));
        }
    }

    /**
     * Checks a targets file's text by the agent's rules, as the agent would on reading it.
     *
     * @return the problems, each naming {@code source}, the entry or key and the reason
     */
    public List<String> check(String json, String source) {
        return factory().check(json, source);
    }

    /** The probe kinds the installed plugins serve. */
    public Set<String> kinds() {
        Set<String> kinds = new java.util.TreeSet<>();
        try {
            Collection<ServiceReference<io.sonde.api.Prober>> refs = framework.getBundleContext()
                    .getServiceReferences(io.sonde.api.Prober.class, null);
            for (ServiceReference<io.sonde.api.Prober> r : refs) {
                Object kind = r.getProperty(io.sonde.api.Prober.PROBE_TYPE);
                if (kind != null) {
                    kinds.add(String.valueOf(kind));
                }
            }
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
        return kinds;
    }

    /**
     * What a probe kind declares of itself: the keys its targets take and what its results hold.
     *
     * @param name    the kind
     * @param options its target schema; null for a plugin that declares none
     * @param results its result schema
     */
    public record KindSchema(String name, io.sonde.api.TargetSchema options, io.sonde.api.ResultSchema results) {
    }

    /** @return each kind the installed plugins serve with its schemas, by name */
    public List<KindSchema> schemas() {
        java.util.Map<String, KindSchema> out = new java.util.TreeMap<>();
        org.osgi.framework.BundleContext context = framework.getBundleContext();
        try {
            for (ServiceReference<io.sonde.api.Prober> r : context.getServiceReferences(io.sonde.api.Prober.class, null)) {
                Object kind = r.getProperty(io.sonde.api.Prober.PROBE_TYPE);
                io.sonde.api.Prober p = kind == null ? null : context.getService(r);
                if (p != null) {
                    try {
                        out.putIfAbsent(String.valueOf(kind), new KindSchema(String.valueOf(kind), p.schema(), p.resultSchema()));
                    } finally {
                        context.ungetService(r);
                    }
                }
            }
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
        return List.copyOf(out.values());
    }

    /**
     * Waits up to {@code wait} until a plugin serves {@code kind} (plugins start after the core).
     *
     * @return whether one does
     */
    public boolean awaitKind(String kind, Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (!kinds().contains(kind) || !coreKnows(kind)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    /** Whether the core checks targets of {@code kind} with its prober yet (it learns of probers on its own thread). */
    private boolean coreKnows(String kind) {
        String probe = GSON.toJson(Map.of("targets", List.of(Map.of("name", "probe", "kind", kind))));
        return factory().check(probe, "probe").stream().noneMatch(p -> p.contains("no installed plugin registers probe.type="));
    }

    @Override
    public void close() {
        for (ServiceRegistration<?> r : registrations) {
            try {
                r.unregister();
            } catch (IllegalStateException e) {
                // already gone with the framework
            }
        }
        factory.close();
        try {
            framework.stop();
            framework.waitForStop(10_000);
        } catch (Exception e) {
            // stopping anyway
        }
        if (ownWork) {
            delete(work);
        }
    }

    private TargetFactory factory() {
        TargetFactory f = factory.getService();
        if (f == null) {
            throw new IllegalStateException("The monitor is closed");
        }
        return f;
    }

    private void targetsChanged(Collection<Target> targets) {
        Map<String, Target> next = new LinkedHashMap<>();
        for (Target t : targets) {
            next.put(t.name(), t);
        }
        inForce = Map.copyOf(next);
        synchronized (this) {
            notifyAll();
        }
    }

    /** Tells the core the targets changed: it reads them again on its thread (called holding {@code targets}). */
    private void handOver() {
        try {
            source.setProperties(sourceProperties(++generation));
        } catch (IllegalStateException e) {
            throw new IllegalStateException("The monitor is closed", e);
        }
    }

    private void awaitInForce(java.util.function.BooleanSupplier done, String what) {
        long deadline = System.nanoTime() + APPLY_WAIT.toNanos();
        synchronized (this) {
            while (!done.getAsBoolean()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException(what + ": not in force within " + APPLY_WAIT.toSeconds() + " s");
                }
                try {
                    wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(what + ": interrupted", e);
                }
            }
        }
    }

    private static void delete(Path dir) {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // a temporary directory: the system cleans it eventually
        }
    }
}
