package io.sonde.launcher;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;

/**
 * Starts the Sonde agent: an OSGi framework with every bundle in {@code system/}, FileInstall
 * watching {@code etc/} (configuration) and {@code plugins/} (probe bundles). Stops cleanly on
 * SIGTERM or Ctrl-C.
 *
 * <p>Framework properties can be overridden with {@code -Dkey=value}.
 */
public final class Main {

    private static final Logger LOG = Logger.getLogger("io.sonde.launcher");

    /**
     * Configuration machinery that should start with the extenders: FileInstall reads etc/ and
     * plugins/ in its own threads, beside the start of the rest.
     */
    private static final java.util.Set<String> START_EARLY =
            java.util.Set.of("org.apache.felix.configadmin", "org.apache.felix.fileinstall");

    /**
     * Packages the framework exports from the class path: SLF4J, whose java.util.logging binding
     * sits beside it in system/boot/; org.slf4j also as 1.7.36, because its 2.0 API is the 1.7 one
     * for callers and bundles such as HikariCP import {@code [1.6,2)}. Keep in step with
     * -runsystempackages in dist/bndrun/agent.bndrun and dist/bndrun/server.bndrun.
     */
    public static final String SYSTEM_PACKAGES = "org.slf4j;version=2.0.17,org.slf4j;version=1.7.36,org.slf4j.event;version=2.0.17,"
            + "org.slf4j.helpers;version=2.0.17,org.slf4j.spi;version=2.0.17";

    /** How long a stop may take before the JVM exits anyway. */
    static final long STOP_TIMEOUT_MS = 4000;

    private Main() {
    }

    public static void main(String[] args) throws Exception {
        run(args, false);
    }

    /**
     * Runs the framework until it stops for good.
     *
     * @param guarded whether {@link Boot} already acted on the update guard for this process
     */
    static void run(String[] args, boolean guarded) throws Exception {
        String name = System.getProperty("sonde.name", "agent");
        Path home = io.sonde.base.Home.ofProcess();
        System.setProperty("sonde.home", home.toString());
        long t0 = System.nanoTime();

        UpdateGuard guard = new UpdateGuard(home);
        java.util.concurrent.atomic.AtomicReference<Framework> running = new java.util.concurrent.atomic.AtomicReference<>();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            Framework f = running.get();
            if (f != null) {
                stop(f, name);
            }
        }, "sonde-shutdown"));
        java.util.concurrent.atomic.AtomicBoolean restart = new java.util.concurrent.atomic.AtomicBoolean();
        watchGuard(guard, running, restart);
        String logging = System.getProperty("java.util.logging.config.file");
        new Reload(logging == null ? home.resolve("etc").resolve("logging.properties") : Path.of(logging)).start(() -> {
            Framework f = running.get();
            return f == null ? null : f.getBundleContext();
        });
        // a restart for the guard starts a fresh framework from system/, as a new process would
        for (int restarts = 0;; restarts++) {
            if (restarts > 0 || !guarded) {
                guard.beforeStart(System.currentTimeMillis(), restarts == 0);
            }
            Framework framework = launch(home, name, t0);
            running.set(framework);
            FrameworkEvent event = framework.waitForStop(0);
            if (!restart.getAndSet(false) || restarts >= MAX_RESTARTS) {
                System.exit(event.getType() == FrameworkEvent.ERROR ? 1 : 0);
            }
            LOG.info("Restarting the Sonde " + name + "'s framework");
            t0 = System.nanoTime();
        }
    }

    /** Restarts of the framework in one process, after which one more ends the process instead. */
    static final int MAX_RESTARTS = 100;

    /** Creates the framework, installs and starts every bundle in system/. */
    private static Framework launch(Path home, String name, long t0) throws Exception {
        Framework framework = launch(home, home.resolve("system"), symbolicName -> true, Map.of());
        if (Boolean.getBoolean("sonde.shell") && Files.isDirectory(home.resolve("system").resolve("shell"))) { // the operator's Gogo shell on this console: SONDE_SHELL=true
            List<Bundle> shell = new ArrayList<>();
            for (Path jar : bundles(home.resolve("system").resolve("shell"))) {
                try {
                    shell.add(framework.getBundleContext().installBundle("reference:" + jar.toUri()));
                } catch (BundleException e) {
                    LOG.log(Level.SEVERE, "Cannot install the shell's bundle " + jar + ": " + e.getMessage(), e);
                }
            }
            for (Bundle b : shell) {
                try {
                    b.start();
                } catch (BundleException e) {
                    LOG.log(Level.SEVERE, "Cannot start the shell's bundle " + b.getSymbolicName() + ": " + e.getMessage(), e);
                }
            }
            LOG.info("The Gogo shell is on this console: sonde:status, sonde:targets, help");
        }
        LOG.info(String.format("Sonde %s started in %d ms, %d ms after the JVM (home %s)", name,
                (System.nanoTime() - t0) / 1_000_000,
                System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime(), home));
        return framework;
    }

    /**
     * What SIGHUP does to the framework's services: runs each reload service (a {@link Runnable} with the property
     * {@code sonde.reload}, e.g. the core re-reading its targets file) now; a failing one goes to {@code failed} with what it
     * re-reads, and the rest run still.
     */
    public static void reload(BundleContext context, java.util.function.BiConsumer<String, RuntimeException> failed) {
        Reload.reloads(context, failed);
    }

    /**
     * Creates and starts a framework on {@code home} (its cache under data/, FileInstall on its etc/)
     * with the bundles of {@code system} whose symbolic name {@code install} accepts; for programs
     * that embed Sonde's probes (they leave out the exporter and the uplink, and share io.sonde.api
     * from their class path through {@code properties}).
     *
     * @param properties framework properties over the defaults
     */
    public static Framework launch(Path home, Path system, java.util.function.Predicate<String> install,
            Map<String, String> properties) throws Exception {
        Map<String, String> p = frameworkProperties(home);
        p.putAll(properties);
        Framework framework = ServiceLoader.load(FrameworkFactory.class, Main.class.getClassLoader()).findFirst()
                .orElseThrow(() -> new IllegalStateException("no OSGi framework on the class path"))
                .newFramework(p);
        framework.init();

        BundleContext context = framework.getBundleContext();
        List<Bundle> toStart = new ArrayList<>();
        for (Path jar : bundles(system)) {
            try {
                if (!install.test(symbolicName(jar))) {
                    continue;
                }
                // reference: the framework reads the jar where it is instead of copying it to data/
                Bundle b = context.installBundle("reference:" + jar.toUri());
                if (b.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                    toStart.add(b);
                }
            } catch (BundleException e) {
                LOG.log(Level.SEVERE, "Cannot install system bundle " + jar + ": " + e.getMessage(), e);
            }
        }
        framework.start();
        toStart.sort(Comparator.comparingInt(Main::startRank));
        for (Bundle b : toStart) {
            try {
                long s0 = System.nanoTime();
                b.start();
                if (Boolean.getBoolean("sonde.launcher.timing")) {
                    LOG.info(String.format("started %s in %d ms", b.getSymbolicName(), (System.nanoTime() - s0) / 1_000_000));
                }
            } catch (BundleException e) {
                LOG.log(Level.SEVERE, "Cannot start system bundle " + b.getSymbolicName() + ": " + e.getMessage(), e);
            }
        }
        BundleKeeper.watch(framework); // what fails to start for a moment (FileInstall's plugins too) is started again
        return framework;
    }

    /** The bundle symbolic name of a jar, without its attributes; {@code null} when it has none. */
    static String symbolicName(Path jar) {
        try (JarFile f = new JarFile(jar.toFile())) {
            Manifest m = f.getManifest();
            String bsn = m == null ? null : m.getMainAttributes().getValue(Constants.BUNDLE_SYMBOLICNAME);
            return bsn == null ? null : bsn.split(";", 2)[0].strip();
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Every {@value #GUARD_CHECK_MS} ms: when a guarded update's time is up, or the updater asks for
     * its rollback, the framework restarts and the guard puts the previous jar back first.
     */
    private static void watchGuard(UpdateGuard guard, java.util.concurrent.atomic.AtomicReference<Framework> running,
            java.util.concurrent.atomic.AtomicBoolean restart) {
        Thread t = io.sonde.base.DaemonThreads.of("sonde-update-guard", () -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(GUARD_CHECK_MS);
                    Framework f = running.get();
                    if (f != null && f.getState() == Bundle.ACTIVE && guard.due(System.currentTimeMillis())) {
                        LOG.warning("A guarded update is to be rolled back: restarting the framework");
                        restart.set(true);
                        f.stop();
                    }
                } catch (InterruptedException e) {
                    return;
                } catch (BundleException | RuntimeException e) {
                    LOG.log(Level.WARNING, "Update guard: " + e, e);
                }
            }
        });
        t.start();
    }

    static final long GUARD_CHECK_MS = 2000;

    /**
     * Extenders (SCR) and the configuration machinery start first, then bundles that register
     * ServiceLoader providers, then the rest.
     */
    static int startRank(Bundle bundle) {
        if (START_EARLY.contains(bundle.getSymbolicName())) {
            return 0;
        }
        String provided = bundle.getHeaders().get(Constants.PROVIDE_CAPABILITY);
        if (provided == null) {
            return 2;
        }
        if (provided.contains("osgi.extender")) {
            return 0;
        }
        return provided.contains("osgi.serviceloader") ? 1 : 2;
    }

    /** The framework's properties: storage under data/, FileInstall on etc/ and plugins/. */
    static Map<String, String> frameworkProperties(Path home) {
        Map<String, String> p = new HashMap<>();
        p.put(Constants.FRAMEWORK_STORAGE, home.resolve("data").resolve("cache").toString());
        // etc/ and plugins/ are the truth: start from them every time
        p.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        p.put("felix.fileinstall.dir", home.resolve("etc").toString());
        p.put("felix.fileinstall.filter", ".*\\.cfg");
        p.put("felix.fileinstall.poll", "1000");
        p.put("felix.fileinstall.noInitialDelay", "true");
        p.put("felix.fileinstall.log.default", "jul");
        p.put("felix.fileinstall.log.level", "3");
        p.put("felix.fileinstall.enableConfigSave", "false");
        p.put("ds.loglevel", "warn");
        p.put("felix.log.level", "2");
        p.put("sonde.home", home.toString());
        p.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, SYSTEM_PACKAGES);
        for (String key : System.getProperties().stringPropertyNames()) {
            if (key.startsWith("felix.") || key.startsWith("org.osgi.") || key.startsWith("ds.")
                    || key.startsWith("sonde.") || key.startsWith("org.apache.felix.")) {
                p.put(key, System.getProperty(key));
            }
        }
        return p;
    }

    /** The OSGi bundles in {@code dir}, by name; jars without a symbolic name are skipped. */
    static List<Path> bundles(Path dir) throws IOException {
        List<Path> jars = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*.jar")) {
            for (Path jar : s) {
                if (isBundle(jar)) {
                    jars.add(jar);
                }
            }
        }
        jars.sort(null);
        return jars;
    }

    private static boolean isBundle(Path jar) {
        try (JarFile f = new JarFile(jar.toFile())) {
            Manifest m = f.getManifest();
            return m != null && m.getMainAttributes().getValue(Constants.BUNDLE_SYMBOLICNAME) != null;
        } catch (IOException e) {
            LOG.warning("Not a readable jar, skipped: " + jar + ": " + e.getMessage());
            return false;
        }
    }

    private static void stop(Framework framework, String name) {
        try {
            if ((framework.getState() & (Bundle.STARTING | Bundle.ACTIVE)) != 0) {
                LOG.info("Stopping the Sonde " + name);
                framework.stop();
                FrameworkEvent e = framework.waitForStop(STOP_TIMEOUT_MS);
                if (e.getType() == FrameworkEvent.WAIT_TIMEDOUT) {
                    LOG.warning("The " + name + " did not stop within " + STOP_TIMEOUT_MS + " ms; exiting anyway");
                }
            }
            LOG.info("Sonde " + name + " stopped");
        } catch (BundleException | InterruptedException e) {
            LOG.log(Level.WARNING, "Stopping the " + name + " failed", e);
        } finally {
            AgentLogManager.release();
        }
    }

}
