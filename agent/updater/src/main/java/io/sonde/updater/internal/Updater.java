package io.sonde.updater.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Version;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import io.sonde.api.ProbeResult;
import io.sonde.agent.spi.RemoteConfig;
import io.sonde.agent.spi.ResultSink;
import io.sonde.agent.spi.ServerFiles;
import io.sonde.wire.ReleaseManifest;
import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;
import io.sonde.updater.internal.BundleFiles.Place;

// Over 500 lines: one install's life (choose, download, verify, replace, watch, roll back) over one persisted State; where bundles live is BundleFiles'.
/**
 * Installs the bundle versions the server's rollouts name: downloaded through the uplink (resumed
 * when cut), the manifest verified against the key pinned in this agent's own configuration and the
 * jar against the manifest, then put in place at once:
 * <ul>
 * <li>a plugin: its jar in {@code plugins/} replaced in one step (FileInstall updates the bundle);</li>
 * <li>a platform bundle in {@code system/} (core, scheduler, exporter, uplink, this updater...): its
 * jar replaced, the bundle updated and refreshed, under the launcher's guard
 * ({@code data/updates/guard.properties}), which puts the previous jar back by itself if this
 * updater does not find the new version healthy in time;</li>
 * <li>the sockets bundle and the framework ({@code system/boot/}), never swapped while they run:
 * staged for the launcher to put in place at the next start, and guarded from then on.</li>
 * </ul>
 * For {@code health_watch_s} after, the new version must start, its components be satisfied, the
 * kinds that were succeeding go on succeeding and the uplink go on delivering; otherwise the
 * previous version goes back by itself and that version is never tried again here. Its state is kept
 * in {@code data/state/updater.json}, so a kill at any step ends in the old version or in the new
 * one under watch. One install at a time, on one thread. Immediate: it goes on (and watches an
 * update of the scheduler) whether or not a scheduler hands it results now.
 */
@Component(configurationPid = UpdaterConfig.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL,
        service = {ResultSink.class, io.sonde.agent.spi.StatusReport.class},
        property = {"sink.name=updater", io.sonde.agent.spi.StatusReport.SECTION + "=updater"}, immediate = true)
@Designate(ocd = UpdaterConfig.class)
public final class Updater implements ResultSink, io.sonde.agent.spi.StatusReport {

    private static final Logger LOG = LoggerFactory.getLogger(Updater.class);
    static final String STATE_FILE = "updater.json";
    static final long CHECK_MS = 30_000;
    /** How long before an install a kind's last success counts as "it was working". */
    static final long WORKING_MS = 120_000;
    /** The launcher's guard of a platform update, and its report of what it rolled back (see the launcher's UpdateGuard). */
    static final String GUARD_FILE = "guard.properties";
    static final String ROLLED_BACK_FILE = "rolled-back.properties";

    /**
     * What the updater keeps across restarts: versions that failed here, the update under watch or
     * staged, and per bundle the jar its last healthy update replaced (what a rolled-back rollout
     * goes back to).
     */
    static final class State {
        Map<String, String> failed = new TreeMap<>();
        Watch watch;
        Watch staged;
        Map<String, Kept> kept = new TreeMap<>();
    }

    /** A bundle's previous version, kept. */
    record Kept(String version, String jar) {
    }

    /**
     * An installed version under its health watch (or staged for the next start).
     *
     * @param file       the bundle's jar
     * @param previous   the copy of the jar it replaced
     * @param from       the version it replaced
     * @param kinds      the kinds that succeeded before and must succeed again
     * @param delivering whether the uplink delivered before, and so must again
     * @param back       an operator's rollback to the kept version, not an update
     */
    record Watch(String symbolicName, String version, String rollout, Place place, String file, String previous, String from,
            List<String> kinds, boolean delivering, boolean back) {
    }

    private final BundleContext context;
    /** The framework's, taken at the start: this bundle's context is gone once the updater updates itself. */
    private final org.osgi.framework.wiring.FrameworkWiring wiring;
    private final UpdaterConfig config;
    private final PublicKey pinned;
    private final Path home;
    private final BundleFiles installed;
    private final Path stateFile;
    private final Path work;
    private final Path guardFile;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(io.sonde.base.DaemonThreads.named("sonde-updater"));
    private final Map<String, AtomicLong> lastSuccess = new ConcurrentHashMap<>();
    private volatile RemoteConfig remote;
    private volatile ServerFiles files;
    private volatile ServiceComponentRuntime scr;
    // the thread's
    private State state = new State();
    private final Map<String, RemoteConfig.BundleUpdate> reports = new LinkedHashMap<>();
    private long watchStarted;
    private long activeSince;
    private boolean watchReported;
    /** A rollback handed to the launcher: the framework restarts. */
    private boolean handedOver;
    /** The watch's checks, once a second while there is a watch; none otherwise. */
    private java.util.concurrent.ScheduledFuture<?> ticks;

    @Activate
    public Updater(BundleContext context, UpdaterConfig config) {
        this.context = context;
        this.config = config;
        this.wiring = context.getBundle(0).adapt(org.osgi.framework.wiring.FrameworkWiring.class);
        this.home = io.sonde.base.Home.of(context::getProperty);
        this.installed = new BundleFiles(context, home);
        this.stateFile = home.resolve("data/state").resolve(STATE_FILE);
        this.work = home.resolve("data/updates");
        this.guardFile = work.resolve(GUARD_FILE);
        PublicKey key = null;
        if (!config.public__key().isBlank()) {
            try {
                key = ReleaseManifest.publicKey(config.public__key());
            } catch (IllegalArgumentException e) {
                LOG.error("Configuration error: etc/{}.cfg: key 'public_key': {}; nothing is installed", UpdaterConfig.PID, e.getMessage());
            }
        }
        this.pinned = key;
        thread.execute(this::start);
        thread.scheduleWithFixedDelay(this::check, CHECK_MS, CHECK_MS, TimeUnit.MILLISECONDS);
    }

    @Deactivate
    void deactivate() {
        thread.shutdownNow();
    }

    /** The pinned key, the update under watch or staged, failed versions and the last reports, for GET /status. */
    @Override
    public Map<String, Object> status() {
        java.util.concurrent.Future<Map<String, Object>> answer;
        try {
            answer = thread.submit(() -> {
                Map<String, Object> s = new LinkedHashMap<>();
                s.put("public_key_pinned", pinned != null);
                s.put("watching", watch(state.watch));
                s.put("staged", watch(state.staged));
                s.put("failed_versions", new TreeMap<>(state.failed));
                List<Object> out = new java.util.ArrayList<>();
                for (RemoteConfig.BundleUpdate u : reports.values()) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("bundle", u.symbolicName());
                    m.put("version", u.version());
                    m.put("rollout", u.rollout());
                    m.put("state", u.state());
                    m.put("reason", u.reason());
                    out.add(m);
                }
                s.put("reports", out);
                return s;
            });
            return answer.get(2, TimeUnit.SECONDS);
        } catch (java.util.concurrent.RejectedExecutionException | java.util.concurrent.ExecutionException
                | java.util.concurrent.TimeoutException e) {
            return Map.of("error", "the updater did not answer within 2 s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Map.of("error", "interrupted");
        }
    }

    private static Map<String, Object> watch(Watch w) {
        if (w == null) {
            return null;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("bundle", w.symbolicName());
        m.put("version", w.version());
        m.put("from", w.from());
        m.put("rollout", w.rollout());
        return m;
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void setRemoteConfig(RemoteConfig r) {
        remote = r;
        submit(this::check);
    }

    void updatedRemoteConfig(RemoteConfig r) {
        submit(this::check);
    }

    void unsetRemoteConfig(RemoteConfig r) {
        if (remote == r) {
            remote = null;
        }
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void setServerFiles(ServerFiles f) {
        files = f;
        submit(this::check);
    }

    void unsetServerFiles(ServerFiles f) {
        if (files == f) {
            files = null;
        }
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void setScr(ServiceComponentRuntime s) {
        scr = s;
    }

    void unsetScr(ServiceComponentRuntime s) {
        if (scr == s) {
            scr = null;
        }
    }

    /** Counts successes by kind: an update must not stop a kind that worked. */
    @Override
    public void accept(ProbeResult result) {
        if (result.isSuccessful()) {
            lastSuccess.computeIfAbsent(result.target().kind(), k -> new AtomicLong()).set(System.currentTimeMillis());
        }
    }

    private void submit(Runnable task) {
        try {
            thread.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // stopping
        }
    }

    // --- the updater's thread ---

    /**
     * Reads the kept state and settles what the last run left: a rollback the launcher made is
     * reported, a staged version that took effect at this start is watched, an update under watch is
     * watched again, or tried again when it never got in place.
     */
    private void start() {
        try {
            if (Files.exists(stateFile)) {
                State s = WireCodec.gson().fromJson(Files.readString(stateFile), State.class);
                if (s != null) {
                    state = s;
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("The updater's state {} is unreadable ({}); starting without it", stateFile, e.toString());
        }
        if (state.failed == null) {
            state.failed = new TreeMap<>();
        }
        if (state.kept == null) {
            state.kept = new TreeMap<>();
        }
        Properties rolledBack = properties(work.resolve(ROLLED_BACK_FILE));
        if (rolledBack != null) {
            String name = rolledBack.getProperty("bundle", "");
            String version = rolledBack.getProperty("version", "");
            String rollout = "";
            for (Watch w : new Watch[] {state.watch, state.staged}) {
                if (w != null && w.symbolicName().equals(name) && w.version().equals(version)) {
                    rollout = w.rollout();
                }
            }
            if (state.watch != null && state.watch.symbolicName().equals(name)) {
                state.watch = null;
            }
            if (state.staged != null && state.staged.symbolicName().equals(name)) {
                state.staged = null;
            }
            LOG.warn("{} {} was rolled back by the launcher: {}", name, version, rolledBack.getProperty("reason"));
            fail(name + "@" + version, name, version, rollout, "rolled back: " + rolledBack.getProperty("reason"));
            deleteQuietly(work.resolve(ROLLED_BACK_FILE));
        }
        Watch staged = state.staged;
        if (staged != null) {
            Bundle b = installed.find(staged.symbolicName());
            if (b != null && b.getVersion().equals(Version.parseVersion(staged.version()))) {
                LOG.info("The staged update of {} to {} took effect at this start: watching it for {} s", staged.symbolicName(),
                        staged.version(), config.health__watch__s());
                state.watch = staged;
                state.staged = null;
                save();
            } else if (!Files.exists(guardFile)) {
                LOG.warn("The staged update of {} to {} is gone: it is tried again", staged.symbolicName(), staged.version());
                state.staged = null;
                save();
            } else {
                report(staged.symbolicName(), staged.version(), staged.rollout(), "staged", "takes effect at the next start of the agent");
            }
        }
        Watch w = state.watch;
        if (w != null && (w.file() == null || w.place() == null || w.from() == null || w.kinds() == null)) {
            LOG.warn("The update of {} to {} under watch was kept by an older updater without what this one needs: it is not watched",
                    w.symbolicName(), w.version());
            state.watch = null;
            save();
            w = null;
        }
        if (w != null) {
            String onDisk = BundleFiles.jarVersion(Path.of(w.file()));
            if (w.from().equals(onDisk) && !w.version().equals(onDisk)) {
                LOG.info("The update of {} to {} was not in place when the agent stopped: it is tried again", w.symbolicName(), w.version());
                state.watch = null;
                if (w.place() == Place.PLATFORM) {
                    deleteQuietly(guardFile);
                }
                save();
            } else {
                LOG.info("The update of {} to {} is under its health watch: watching it from this start", w.symbolicName(), w.version());
                watchStarted = System.currentTimeMillis();
                activeSince = 0;
                ticking(true);
                report(w.symbolicName(), w.version(), w.rollout(), "watching", null);
            }
        }
    }

    /** Acts on the document's bundles: at most one install at a time. */
    private void check() {
        RemoteConfig r = remote;
        if (r == null || state.watch != null) {
            return;
        }
        RemoteConfig.Document doc = r.document();
        if (doc == null) {
            return;
        }
        JsonElement bundles;
        try {
            bundles = JsonParser.parseString(doc.json()).getAsJsonObject().get("bundles");
        } catch (RuntimeException e) {
            return; // the uplink checked it as JSON; nothing to do with what is not there
        }
        if (bundles == null || !bundles.isJsonArray()) {
            return;
        }
        for (JsonElement e : bundles.getAsJsonArray()) {
            if (!e.isJsonObject()) {
                continue;
            }
            try {
                if (consider(e.getAsJsonObject())) {
                    return; // one install at a time
                }
            } catch (RuntimeException ex) {
                LOG.warn("Updater: {}", ex.toString());
            }
        }
    }

    private static String text(JsonObject o, String key) {
        JsonElement v = o.get(key);
        return v == null || v.isJsonNull() ? "" : v.getAsString();
    }

    /** @return whether an install began */
    private boolean consider(JsonObject entry) {
        String name = text(entry, "symbolic_name");
        String version = text(entry, "version");
        String rollout = text(entry, "rollout");
        if (name.isEmpty() || version.isEmpty()) {
            return false;
        }
        if ("rolled_back".equals(text(entry, "state"))) {
            return goBack(name, version, rollout);
        }
        if (!"active".equals(text(entry, "state"))) {
            return false;
        }
        String key = name + "@" + version;
        Bundle b = installed.find(name);
        if (b == null) {
            report(name, version, rollout, "failed", "not installed on this agent (the updater replaces bundles, it does not add them)");
            return false;
        }
        Version desired;
        try {
            desired = Version.parseVersion(version);
        } catch (IllegalArgumentException ex) {
            report(name, version, rollout, "failed", "'" + version + "' is not a bundle version");
            return false;
        }
        if (state.failed.containsKey(key)) { // (the framework, rolled back, runs it until the next start)
            report(name, version, rollout, "failed", state.failed.get(key) + " (not tried again; a newer version will be)");
            return false;
        }
        if (b.getVersion().equals(desired)) {
            if (reports.get(name) == null || !"healthy".equals(reports.get(name).state())) {
                report(name, version, rollout, "healthy", null);
            }
            return false;
        }
        if (pinned == null) {
            report(name, version, rollout, "failed", "no public_key pinned in etc/" + UpdaterConfig.PID + ".cfg: nothing is installed");
            return false;
        }
        if (desired.compareTo(b.getVersion()) < 0) {
            report(name, version, rollout, "failed", "a downgrade not asked for: this agent runs " + b.getVersion());
            return false;
        }
        Place place = installed.place(b);
        if (place == null) {
            report(name, version, rollout, "failed", b.getBundleId() == 0
                    ? "the OSGi framework is not in " + installed.frameworkJar() + ": not the updater's to replace"
                    : "installed from " + b.getLocation() + ", neither plugins/ nor system/: not the updater's to replace");
            return false;
        }
        Watch staged = state.staged;
        if (staged != null && place != Place.PLUGIN) {
            if (staged.symbolicName().equals(name) && staged.version().equals(version)) {
                report(name, version, rollout, "staged", "takes effect at the next start of the agent");
            } else {
                report(name, version, rollout, "downloading", "waiting: " + staged.symbolicName() + " " + staged.version()
                        + " is staged for the next start of the agent");
            }
            return false;
        }
        long max = Math.max(1, config.max__bundle__mb()) * 1024L * 1024L;
        long size = entry.has("size") ? entry.get("size").getAsLong() : -1;
        if (size > max) {
            fail(key, name, version, rollout, size + " bytes, more than max_bundle_mb allows (" + max + ")");
            return false;
        }
        ServerFiles f = files;
        if (f == null) {
            report(name, version, rollout, "downloading", "waiting for the connection to the server");
            return false;
        }
        report(name, version, rollout, "downloading", null);
        String base = "/api/v1/bundles/" + enc(name) + "/" + enc(version);
        Path manifestFile = work.resolve(name + "-" + version + ".manifest.json");
        Path jar = work.resolve(name + "-" + version + ".jar");
        ReleaseManifest m;
        try {
            Files.createDirectories(work);
            Files.deleteIfExists(manifestFile);
            f.fetch(base, manifestFile, ReleaseManifest.MAX_BYTES);
            try (java.io.InputStream in = Files.newInputStream(manifestFile)) {
                m = WireCodec.read(in, false, ReleaseManifest.MAX_BYTES, ReleaseManifest.class);
            }
            m.verify(List.of(pinned));
            if (!m.symbolicName().equals(name) || !m.version().equals(version) || !m.sha256().equals(text(entry, "sha256"))
                    || m.size() != size) {
                throw new WireException(WireException.Problem.INVALID, "the manifest names " + m.symbolicName() + " " + m.version() + " ("
                        + m.sha256() + ", " + m.size() + " bytes), the rollout " + name + " " + version + " (" + text(entry, "sha256")
                        + ", " + size + " bytes)");
            }
        } catch (WireException ex) {
            fail(key, name, version, rollout, "the release manifest is refused: " + ex.getMessage());
            return false;
        } catch (IOException ex) {
            return downloadProblem(key, name, version, rollout, ex);
        }
        try {
            f.fetch(base + "/jar", jar, Math.min(max, m.size()));
            m.checkJar(jar);
        } catch (WireException ex) {
            deleteQuietly(jar);
            fail(key, name, version, rollout, "the downloaded jar is refused: " + ex.getMessage());
            return false;
        } catch (IOException ex) {
            return downloadProblem(key, name, version, rollout, ex);
        }
        return install(b, place, jar, name, version, rollout, false);
    }

    /**
     * A rollout rolled back: an agent that runs its version goes back to the version that update
     * replaced, kept here since; @return whether an install began
     */
    private boolean goBack(String name, String version, String rollout) {
        Bundle b = installed.find(name);
        if (b == null) {
            return false;
        }
        if (!b.getVersion().equals(Version.parseVersion(version))) {
            report(name, version, rollout, "rolled_back", "runs " + b.getVersion() + ", not " + version);
            return false;
        }
        Kept k = state.kept.get(name);
        Place place = installed.place(b);
        if (k == null || !Files.isRegularFile(Path.of(k.jar())) || place == null || place == Place.STAGED && state.staged != null) {
            report(name, version, rollout, "failed", "cannot roll back: the version before " + version + " is not kept on this agent");
            return false;
        }
        Path jar = work.resolve(name + "-" + k.version() + ".jar");
        try {
            Files.createDirectories(work);
            Files.copy(Path.of(k.jar()), jar, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            report(name, version, rollout, "failed", "cannot roll back: " + e);
            return false;
        }
        LOG.info("Rollout '{}' is rolled back: {} goes back from {} to {}", rollout, name, version, k.version());
        return install(b, place, jar, name, k.version(), rollout, true);
    }

    /** A 404 or a jar too long fails the version; anything else is tried again at the next check. */
    private boolean downloadProblem(String key, String name, String version, String rollout, IOException ex) {
        String why = String.valueOf(ex.getMessage());
        if (why.contains("(404)") || why.contains("more than")) {
            fail(key, name, version, rollout, "cannot be downloaded: " + why);
        } else {
            report(name, version, rollout, "downloading", why + " (tried again in " + CHECK_MS / 1000 + " s)");
        }
        return false;
    }

    /** @return whether an install began (false for one staged) */
    private boolean install(Bundle b, Place place, Path jar, String name, String version, String rollout, boolean back) {
        Path file = place == Place.PLUGIN ? installed.pluginFile(b) : installed.systemFile(b);
        try {
            Path previous = work.resolve("previous").resolve(file.getFileName());
            io.sonde.base.AtomicFiles.copy(file, previous); // what a rollback, the launcher's included, puts back
            long now = System.currentTimeMillis();
            List<String> kinds = new ArrayList<>();
            Set<String> own = place == Place.PLUGIN ? BundleFiles.kinds(b) : null;
            for (Map.Entry<String, AtomicLong> e : lastSuccess.entrySet()) {
                // a plugin answers for its own kinds, a platform bundle for every kind that worked
                if (now - e.getValue().get() < WORKING_MS && (own == null || own.contains(e.getKey()))) {
                    kinds.add(e.getKey());
                }
            }
            java.util.Collections.sort(kinds);
            RemoteConfig r = remote;
            boolean delivering = r != null && now - r.delivered() < WORKING_MS;
            Watch w = new Watch(name, version, rollout, place, file.toString(), previous.toString(), b.getVersion().toString(), kinds,
                    delivering, back);
            if (place == Place.STAGED) {
                Path staged = work.resolve("staged").resolve(file.getFileName());
                Files.createDirectories(staged.getParent());
                Files.copy(jar, staged, StandardCopyOption.REPLACE_EXISTING);
                Files.deleteIfExists(jar);
                guard(w, staged, null);
                state.staged = w;
                save();
                report(name, version, rollout, "staged", "takes effect at the next start of the agent");
                LOG.info("Staged {} {} in place of {}: it takes effect at the next start of the agent", name, version, b.getVersion());
                return false;
            }
            state.watch = w;
            save();
            if (place == Place.PLATFORM) {
                guard(w, null, null);
            }
            report(name, version, rollout, "installing", null);
            replace(jar, file);
            Files.deleteIfExists(jar);
            watchStarted = System.currentTimeMillis();
            activeSince = 0;
            watchReported = false;
            ticking(true);
            LOG.info("Installed {} {} in place of {} ({}); watching it for {} s{}{}", name, version, b.getVersion(), file,
                    config.health__watch__s(), kinds.isEmpty() ? "" : ": " + kinds + " must go on succeeding",
                    delivering ? (kinds.isEmpty() ? ": " : ", ") + "the uplink must go on delivering" : "");
            if (place == Place.PLATFORM) {
                refresh(b);
            }
            return true;
        } catch (IOException ex) {
            state.watch = null;
            save();
            deleteQuietly(guardFile);
            report(name, version, rollout, "failed", "could not be put in place: " + ex);
            return false;
        }
    }

    /**
     * Updates the bundle from its (replaced) jar and refreshes it and what is wired to it, on a
     * thread of its own: the bundle may be this updater, which stops on the way.
     */
    private void refresh(Bundle b) {
        Thread t = io.sonde.base.DaemonThreads.of("sonde-updater-refresh", () -> {
            try {
                b.update();
                wiring.refreshBundles(List.of(b));
            } catch (org.osgi.framework.BundleException | IllegalStateException e) {
                // the watch sees the bundle not active, and rolls it back
                LOG.warn("Updating {} from its new jar: {}", b.getSymbolicName(), e.toString());
            }
        });
        t.start();
    }

    /**
     * Writes the launcher's guard of a platform update: until it is deleted, the launcher puts the
     * previous jar back when the deadline passes, the agent starts too often on it, or a rollback is
     * asked for (see the launcher's UpdateGuard for the keys).
     */
    private void guard(Watch w, Path staged, String rollback) throws IOException {
        long window = (config.start__timeout__s() + config.health__watch__s() + 30L) * 1000L;
        Properties g = new Properties();
        g.setProperty("bundle", w.symbolicName());
        g.setProperty("version", w.version());
        g.setProperty("file", w.file());
        g.setProperty("previous", w.previous());
        g.setProperty("window_ms", Long.toString(window));
        g.setProperty("deadline", staged == null ? Long.toString(System.currentTimeMillis() + window) : "0");
        g.setProperty("starts", "0");
        if (staged != null) {
            g.setProperty("staged", staged.toString());
        }
        if (rollback != null) {
            g.setProperty("rollback", rollback);
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        g.store(out, "Sonde update guard, written by the updater");
        io.sonde.base.AtomicFiles.write(guardFile, out.toByteArray());
    }

    /** Starts or stops the watch's checks. */
    private void ticking(boolean on) {
        if (on && ticks == null) {
            ticks = thread.scheduleWithFixedDelay(this::tick, 1, 1, TimeUnit.SECONDS);
        } else if (!on && ticks != null) {
            ticks.cancel(false);
            ticks = null;
        }
    }

    /** Puts {@code from} at {@code to} in one step: written beside it, synced, then renamed over it. */
    private static void replace(Path from, Path to) throws IOException {
        io.sonde.base.AtomicFiles.copy(from, to);
    }

    /**
     * Watches the installed version: started, components satisfied, its kinds succeeding, the uplink
     * delivering; healthy after the watch.
     */
    private void tick() {
        Watch w = state.watch;
        if (w == null || handedOver) {
            ticking(false);
            return;
        }
        try {
            long now = System.currentTimeMillis();
            Bundle b = installed.find(w.symbolicName());
            boolean started = b != null && b.getVersion().equals(Version.parseVersion(w.version())) && b.getState() == Bundle.ACTIVE;
            if (!started) {
                if (now - watchStarted > config.start__timeout__s() * 1000L) {
                    rollBack(w, "did not start within " + config.start__timeout__s() + " s: " + (b == null ? "no such bundle"
                            : "version " + b.getVersion() + " in state " + BundleFiles.stateName(b.getState())));
                }
                return;
            }
            if (activeSince == 0) {
                activeSince = now;
            }
            if (!watchReported) {
                report(w.symbolicName(), w.version(), w.rollout(), "watching", null);
                watchReported = true;
            }
            String broken = components(b);
            if (broken != null && now - activeSince > 3000) { // a moment for its components to come up
                rollBack(w, broken);
                return;
            }
            if (now - watchStarted < config.health__watch__s() * 1000L) {
                return;
            }
            for (String kind : w.kinds()) {
                AtomicLong last = lastSuccess.get(kind);
                if (last == null || last.get() <= activeSince) {
                    rollBack(w, "no " + kind + " probe succeeded in the " + config.health__watch__s()
                            + " s after the install (they did before it)");
                    return;
                }
            }
            RemoteConfig r = remote;
            if (w.delivering() && (r == null || r.delivered() <= activeSince)) {
                // the uplink sends at the server's pace: its next batch may be that far off, and the one after it proves it
                long pace = r == null ? 0 : Math.max(0, r.batchIntervalMs());
                if (now - activeSince < config.health__watch__s() * 1000L + 2 * pace) {
                    return;
                }
                rollBack(w, "the uplink delivered no results in the " + (config.health__watch__s() * 1000L + 2 * pace) / 1000
                        + " s after the install (it did before it" + (pace > 0 ? "; the server's pace is a batch every " + pace / 1000.0
                                + " s" : "") + ")");
                return;
            }
            if (w.place() == Place.PLATFORM || w.place() == Place.STAGED) {
                Files.deleteIfExists(guardFile); // first: a guard left behind would roll a healthy version back
            }
            Path kept = work.resolve("kept").resolve(w.symbolicName() + ".jar");
            if (w.back()) {
                state.kept.remove(w.symbolicName());
                deleteQuietly(kept);
            } else {
                Files.createDirectories(kept.getParent());
                Files.move(Path.of(w.previous()), kept, StandardCopyOption.REPLACE_EXISTING);
                state.kept.put(w.symbolicName(), new Kept(w.from(), kept.toString()));
            }
            state.watch = null;
            save();
            deleteQuietly(Path.of(w.previous()));
            if (w.back()) {
                report(w.symbolicName(), w.version(), w.rollout(), "rolled_back", "back on " + w.version());
                LOG.info("{} is back on {}, as rollout '{}' asked", w.symbolicName(), w.version(), w.rollout());
            } else {
                report(w.symbolicName(), w.version(), w.rollout(), "healthy", null);
                LOG.info("{} {} is healthy after its {} s watch", w.symbolicName(), w.version(), config.health__watch__s());
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("Updater watch: {}", e.toString());
        }
    }

    /**
     * Puts the previous version back: a plugin's jar at once; a platform bundle through the
     * launcher, which puts its jar back while the framework restarts.
     */
    private void rollBack(Watch w, String why) {
        String key = w.symbolicName() + "@" + w.version();
        if (w.place() != Place.PLUGIN) {
            try {
                guard(w, null, why);
                LOG.warn("{} {} is rolled back: {}; the framework restarts on the previous version", w.symbolicName(), w.version(), why);
                handedOver = true; // the launcher restarts the framework; the next start reports the rollback
                return;
            } catch (IOException e) {
                LOG.error("{} {} failed ({}) and could not be handed to the launcher to roll back: {}", w.symbolicName(), w.version(), why,
                        e.toString());
            }
        } else {
            try {
                replace(Path.of(w.previous()), Path.of(w.file()));
                LOG.warn("{} {} is rolled back: {}", w.symbolicName(), w.version(), why);
            } catch (IOException e) {
                LOG.error("{} {} failed ({}) and could not be rolled back: {}", w.symbolicName(), w.version(), why, e.toString());
            }
        }
        state.watch = null;
        fail(key, w.symbolicName(), w.version(), w.rollout(), "rolled back: " + why);
        submit(this::check);
    }

    /** @return what is wrong with the bundle's components, or null when each is satisfied or active */
    private String components(Bundle b) {
        ServiceComponentRuntime s = scr;
        if (s == null) {
            return null;
        }
        for (ComponentDescriptionDTO d : s.getComponentDescriptionDTOs(b)) {
            for (ComponentConfigurationDTO c : s.getComponentConfigurationDTOs(d)) {
                if (c.state == ComponentConfigurationDTO.FAILED_ACTIVATION) {
                    return "component " + d.name + " failed to activate" + (c.failure == null ? "" : ": " + c.failure.lines().findFirst()
                            .orElse(""));
                }
                if (c.state == ComponentConfigurationDTO.UNSATISFIED_REFERENCE) {
                    return "component " + d.name + " has unsatisfied references";
                }
            }
        }
        return null;
    }

    private void fail(String key, String name, String version, String rollout, String why) {
        state.failed.put(key, why);
        save();
        report(name, version, rollout, "failed", why);
    }

    private void report(String name, String version, String rollout, String st, String reason) {
        RemoteConfig.BundleUpdate u = new RemoteConfig.BundleUpdate(name, version, rollout, st, reason);
        if (u.equals(reports.get(name))) {
            return;
        }
        reports.put(name, u);
        if ("failed".equals(st)) {
            LOG.warn("Update of {} to {} refused: {}", name, version, reason);
        } else {
            LOG.debug("Update of {} to {}: {}", name, version, st);
        }
        RemoteConfig r = remote;
        if (r != null) {
            r.updated(List.copyOf(reports.values()));
        }
    }

    private void save() {
        try {
            io.sonde.base.AtomicFiles.write(stateFile, WireCodec.json(state));
        } catch (IOException e) {
            LOG.error("Cannot keep the updater's state in {}: {}", stateFile, e.toString());
        }
    }

    /** @return the file's properties, or null when there is none or it cannot be read */
    private static Properties properties(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        Properties p = new Properties();
        try (java.io.InputStream in = Files.newInputStream(file)) {
            p.load(in);
            return p;
        } catch (IOException | IllegalArgumentException e) {
            LOG.warn("Unreadable {}: {}", file, e.toString());
            return null;
        }
    }

    private static String enc(String segment) {
        return java.net.URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // left for the next time
        }
    }
}
