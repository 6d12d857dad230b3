package io.sonde.launcher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;

import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;

/**
 * Re-reading configuration while the program runs. {@code etc/logging.properties} is watched
 * (levels per logger change live; handler settings take a restart) and re-read at once on SIGHUP;
 * SIGHUP also runs every service registered as {@link Runnable} with the property
 * {@value #RELOAD_PROPERTY} (the agent's core re-reads its targets file with one, and hands
 * {@code etc/*.cfg} to FileInstall's installer with another, besides FileInstall's own watch).
 */
final class Reload {

    /** Service property of a {@link Runnable} that SIGHUP runs; its value says what it re-reads. */
    static final String RELOAD_PROPERTY = "sonde.reload";
    static final long WATCH_MS = 2000;

    private static final Logger LOG = Logger.getLogger("io.sonde.launcher");

    private final Path loggingFile;
    private Object stamp;

    Reload(Path loggingFile) {
        this.loggingFile = loggingFile;
        stamp = stamp();
    }

    /** Watches the logging file in a daemon thread and handles SIGHUP (where the JVM lets it). */
    void start(java.util.function.Supplier<BundleContext> context) {
        Thread t = io.sonde.base.DaemonThreads.of("sonde-logging-watch", () -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(WATCH_MS);
                    loggingChanged(false);
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "Watching " + loggingFile + ": " + e, e);
                }
            }
        });
        t.start();
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), s -> hangUp(context.get()));
        } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
            LOG.warning("SIGHUP cannot be handled here (" + e + "); configuration files are still watched");
        }
    }

    /** SIGHUP: logging and every registered reload, now. */
    void hangUp(BundleContext context) {
        LOG.info("SIGHUP: re-reading the configuration");
        loggingChanged(true);
        if (context == null) {
            return;
        }
        try {
            reloads(context, (name, e) -> LOG.log(Level.WARNING, "Re-reading " + name + " failed: " + e, e));
        } catch (IllegalStateException e) {
            // the framework is stopping
        }
    }

    /**
     * Runs every service registered as {@link Runnable} with {@value #RELOAD_PROPERTY}, each once; a failing one is handed to
     * {@code failed} with the property's value (what it re-reads), and the rest run still.
     */
    static void reloads(BundleContext context, java.util.function.BiConsumer<String, RuntimeException> failed) {
        try {
            for (ServiceReference<Runnable> ref : context.getServiceReferences(Runnable.class, "(" + RELOAD_PROPERTY + "=*)")) {
                Runnable r = context.getService(ref);
                if (r == null) {
                    continue;
                }
                try {
                    r.run();
                } catch (RuntimeException e) {
                    failed.accept(String.valueOf(ref.getProperty(RELOAD_PROPERTY)), e);
                } finally {
                    context.ungetService(ref);
                }
            }
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Re-reads the logging configuration when its file changed (or always, with {@code force}). */
    synchronized void loggingChanged(boolean force) {
        Object now = stamp();
        if (!force && java.util.Objects.equals(now, stamp)) {
            return;
        }
        stamp = now;
        if (now == null) {
            return; // gone: what is in force stays
        }
        try {
            LogManager.getLogManager().updateConfiguration(null);
            LOG.info("Logging configuration re-read from " + loggingFile);
        } catch (java.io.IOException | RuntimeException e) {
            LOG.warning("Cannot re-read " + loggingFile + " (" + e + "); the logging in force stays");
        }
    }

    private Object stamp() {
        try {
            BasicFileAttributes a = Files.readAttributes(loggingFile, BasicFileAttributes.class);
            return java.util.List.of(a.lastModifiedTime(), a.size(), String.valueOf(a.fileKey()));
        } catch (java.io.IOException e) {
            return null;
        }
    }
}
