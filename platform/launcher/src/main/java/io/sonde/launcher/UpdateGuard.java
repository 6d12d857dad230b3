package io.sonde.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Properties;
import java.util.logging.Logger;

/**
 * The last word on an update of a platform bundle (one in {@code system/}), kept by the launcher
 * because the launcher is the one part never updated while it runs. The updater writes
 * {@code data/updates/guard.properties} before it puts a new jar in place; from then on, until the
 * updater finds the new version healthy and deletes the file, the launcher puts the previous jar
 * back by itself when
 * <ul>
 * <li>the updater asks for it ({@code rollback} set: the launcher restarts the framework),</li>
 * <li>the deadline passes while the agent runs (the updater itself may be what broke), or</li>
 * <li>the agent has started {@value #MAX_STARTS} times on the new version without it being found healthy.</li>
 * </ul>
 * A jar that must not be swapped while it runs (the sockets bundle) is only staged by the updater
 * ({@code staged}); the launcher puts it in place at the next start, before the framework reads
 * {@code system/}, and it is guarded from then on like the others. What the launcher rolled back it
 * writes to {@code data/updates/rolled-back.properties}, for the updater to report.
 *
 * <p>Keys: {@code bundle}, {@code version}, {@code file} (the jar in system/), {@code previous}
 * (the copy of the jar it replaced), {@code staged} (a jar waiting for the next start),
 * {@code window_ms} (how long a start has to be found healthy), {@code deadline} (epoch ms),
 * {@code starts}, {@code rollback} (the updater's reason).
 */
final class UpdateGuard {

    private static final Logger LOG = Logger.getLogger("io.sonde.launcher");
    static final String GUARD = "guard.properties";
    static final String ROLLED_BACK = "rolled-back.properties";
    /** Starts on a guarded version, without it found healthy, after which the launcher rolls it back. */
    static final int MAX_STARTS = 3;

    private final Path dir;

    UpdateGuard(Path home) {
        this.dir = home.resolve("data").resolve("updates");
    }

    Path guardFile() {
        return dir.resolve(GUARD);
    }

    /** {@link #beforeStart(long, boolean)} at the start of the process. */
    void beforeStart(long now) {
        beforeStart(now, true);
    }

    /**
     * Before the framework reads {@code system/}: puts the previous jar back when the guarded version
     * had its chances or a rollback is asked for, or, at the start of the process only, a staged jar in place.
     *
     * @param processStart whether the process starts (else the framework restarts in it): a staged
     *                     jar waits for a new process
     */
    void beforeStart(long now, boolean processStart) {
        Properties g = read(guardFile());
        if (g == null) {
            return;
        }
        String what = g.getProperty("bundle", "?") + " " + g.getProperty("version", "?");
        try {
            Path file = Path.of(g.getProperty("file"));
            Path previous = Path.of(g.getProperty("previous"));
            String staged = g.getProperty("staged");
            long window = Long.parseLong(g.getProperty("window_ms", "120000"));
            if (g.getProperty("rollback") != null) {
                rollBack(g, file, previous, g.getProperty("rollback"));
                return;
            }
            if (staged != null && !processStart) {
                return;
            }
            if (staged != null) {
                Path jar = Path.of(staged);
                if (!Files.isRegularFile(jar)) {
                    LOG.warning("The staged update of " + what + " is gone (" + jar + "); nothing is changed");
                    Files.deleteIfExists(guardFile());
                    return;
                }
                if (!Files.isRegularFile(previous)) {
                    copy(file, previous);
                }
                copy(jar, file);
                Files.deleteIfExists(jar);
                g.remove("staged");
                g.setProperty("starts", "1");
                g.setProperty("deadline", Long.toString(now + window));
                write(g);
                LOG.info("Applied the staged update of " + what + " (" + file + "); it is watched for " + window / 1000 + " s");
                return;
            }
            int starts = Integer.parseInt(g.getProperty("starts", "0")) + 1;
            if (starts > MAX_STARTS) {
                rollBack(g, file, previous, "not found healthy in " + MAX_STARTS + " starts of the agent");
                return;
            }
            g.setProperty("starts", Integer.toString(starts));
            g.setProperty("deadline", Long.toString(now + window)); // each start is watched afresh
            write(g);
        } catch (IOException | RuntimeException e) {
            LOG.severe("The update guard " + guardFile() + " for " + what + " cannot be acted on: " + e + "; it is set aside");
            setAside();
        }
    }

    /** @return whether the running agent must restart because the guarded version's time is up or a rollback is asked for */
    boolean due(long now) {
        Properties g = read(guardFile());
        if (g == null || g.getProperty("staged") != null) {
            return false;
        }
        if (g.getProperty("rollback") != null) {
            return true;
        }
        try {
            long deadline = Long.parseLong(g.getProperty("deadline", "0"));
            if (deadline > 0 && now > deadline) {
                g.setProperty("rollback", "not found healthy by its deadline (the updater did not answer for it)");
                write(g);
                return true;
            }
        } catch (IOException | NumberFormatException e) {
            LOG.warning("The update guard " + guardFile() + " is unreadable: " + e);
        }
        return false;
    }

    private void rollBack(Properties g, Path file, Path previous, String why) throws IOException {
        String what = g.getProperty("bundle", "?") + " " + g.getProperty("version", "?");
        if (Files.isRegularFile(previous)) {
            copy(previous, file);
            boolean boot = file.getParent() != null && file.getParent().getFileName().toString().equals("boot");
            LOG.warning("Rolled back " + what + " to the jar it replaced (" + file + "): " + why
                    + (boot ? "; this process keeps the classes it loaded, the jar takes effect at the next start" : ""));
        } else {
            LOG.severe("Cannot roll back " + what + ": the previous jar " + previous + " is missing; " + file + " stays");
        }
        String staged = g.getProperty("staged");
        if (staged != null) {
            Files.deleteIfExists(Path.of(staged));
        }
        Properties out = new Properties();
        out.setProperty("bundle", g.getProperty("bundle", ""));
        out.setProperty("version", g.getProperty("version", ""));
        out.setProperty("reason", why);
        store(out, dir.resolve(ROLLED_BACK));
        Files.deleteIfExists(guardFile());
    }

    private void setAside() {
        try {
            Files.move(guardFile(), dir.resolve(GUARD + ".unreadable"), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            LOG.severe("Cannot set aside " + guardFile() + ": " + e);
        }
    }

    private void write(Properties g) throws IOException {
        store(g, guardFile());
    }

    /** @return the file's properties, or null when there is no such file */
    static Properties read(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            p.load(in);
            return p;
        } catch (IOException | IllegalArgumentException e) {
            LOG.warning("Unreadable " + file + ": " + e);
            return null;
        }
    }

    /** Writes {@code p} beside {@code file}, synced, then renames it over: a reader sees the old file or the new, whole. */
    static void store(Properties p, Path file) throws IOException {
        io.sonde.base.AtomicFiles.write(file, out -> p.store(out, "Sonde update guard"), null);
    }

    /** Copies {@code from} over {@code to} in one step: written beside it, synced, renamed over it. */
    static void copy(Path from, Path to) throws IOException {
        io.sonde.base.AtomicFiles.copy(from, to);
    }
}
