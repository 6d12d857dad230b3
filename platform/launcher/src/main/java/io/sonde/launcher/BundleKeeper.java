package io.sonde.launcher;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleException;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.startlevel.BundleStartLevel;
import org.osgi.framework.startlevel.FrameworkStartLevel;
import org.osgi.framework.wiring.BundleRevision;

/**
 * Starts again every bundle that is meant to run but does not: persistently started, at or below
 * the framework's start level, and still only installed or resolved. A start can fail for a moment
 * and nobody tries again: Felix breaks a lock cycle by interrupting the thread that waits for its
 * global resolve lock, so when FileInstall starts a plugin while another thread resolves, the
 * plugin's start fails with "Unable to acquire global lock for resolve", and FileInstall retries a
 * failed start only when a file in its folder changes. A probe kind would then stay missing until
 * the agent restarts.
 *
 * <p>A bundle is tried once it has been seen not running in two checks in a row (so that a bundle
 * in the middle of someone's refresh is left alone), then again after 2, 4, 8 … at most 64 s while
 * it keeps failing. A failure is logged when its reason is new; a start after failures is logged
 * with the failure it ended. A bundle someone stopped is not persistently started and is left
 * stopped.
 */
final class BundleKeeper {

    private static final Logger LOG = Logger.getLogger("io.sonde.launcher");

    /** How often the bundles are looked at. */
    static final long CHECK_MS = 2000;
    /** The longest wait between two starts of a bundle that keeps failing. */
    static final long MAX_BACKOFF_MS = 64_000;

    /** A bundle seen not running. */
    private static final class Down {
        long nextTryMs;
        int attempts;
        String reason;
    }

    private final Framework framework;
    private final Map<Long, Down> down = new HashMap<>();

    BundleKeeper(Framework framework) {
        this.framework = framework;
    }

    /** Checks every {@link #CHECK_MS} ms on a daemon thread until the framework stops. */
    static void watch(Framework framework) {
        BundleKeeper keeper = new BundleKeeper(framework);
        Thread t = io.sonde.base.DaemonThreads.of("sonde-bundle-keeper", () -> {
            while (framework.getState() == Bundle.STARTING || framework.getState() == Bundle.ACTIVE) {
                try {
                    Thread.sleep(CHECK_MS);
                    keeper.check(System.currentTimeMillis());
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) { // a bundle uninstalled under our feet, a framework stopping
                    LOG.log(Level.FINE, "Bundle keeper: " + e, e);
                }
            }
        });
        t.start();
    }

    /**
     * Looks at every bundle once and starts those whose time has come.
     *
     * @return how many bundles were started by this check
     */
    int check(long now) {
        if (framework.getState() != Bundle.ACTIVE) {
            return 0;
        }
        int level = framework.adapt(FrameworkStartLevel.class).getStartLevel();
        Set<Long> seen = new HashSet<>();
        int started = 0;
        for (Bundle b : framework.getBundleContext().getBundles()) {
            if (b.getBundleId() == 0 || !meantToRun(b, level)) {
                continue;
            }
            seen.add(b.getBundleId());
            Down d = down.get(b.getBundleId());
            if (d == null) { // first seen down: try at the next check if it still is
                d = new Down();
                d.nextTryMs = now + CHECK_MS;
                down.put(b.getBundleId(), d);
                continue;
            }
            if (now < d.nextTryMs) {
                continue;
            }
            d.attempts++;
            try {
                boolean lazy = b.adapt(BundleStartLevel.class).isActivationPolicyUsed();
                b.start(lazy ? Bundle.START_ACTIVATION_POLICY : 0);
                started++;
                seen.remove(b.getBundleId());
                LOG.info(String.format("Started %s %s (%s): it is meant to run and was not running%s", b.getSymbolicName(), b.getVersion(),
                        b.getLocation(), d.reason == null ? "" : "; it had failed to start: " + d.reason));
            } catch (BundleException | IllegalStateException e) {
                String reason = String.valueOf(e.getMessage());
                long wait = Math.min(MAX_BACKOFF_MS, CHECK_MS << Math.min(d.attempts - 1, 10));
                d.nextTryMs = now + wait;
                if (!reason.equals(d.reason)) {
                    LOG.warning(String.format("%s %s (%s) is meant to run but does not start: %s; trying again in %d s and then less often",
                            b.getSymbolicName(), b.getVersion(), b.getLocation(), reason, wait / 1000));
                }
                d.reason = reason;
            }
        }
        down.keySet().retainAll(seen);
        return started;
    }

    /** Whether {@code b} should run and does not: persistently started, within the start level, installed or resolved, no fragment. */
    static boolean meantToRun(Bundle b, int frameworkLevel) {
        if ((b.getState() & (Bundle.INSTALLED | Bundle.RESOLVED)) == 0) {
            return false;
        }
        BundleStartLevel sl = b.adapt(BundleStartLevel.class);
        BundleRevision rev = b.adapt(BundleRevision.class);
        return sl != null && rev != null && (rev.getTypes() & BundleRevision.TYPE_FRAGMENT) == 0
                && sl.isPersistentlyStarted() && sl.getStartLevel() <= frameworkLevel;
    }

    /** The bundles being watched after a failed or missed start, for tests: id → attempts so far. */
    Map<Long, Integer> attempts() {
        Map<Long, Integer> m = new HashMap<>();
        down.forEach((id, d) -> m.put(id, d.attempts));
        return m;
    }
}
