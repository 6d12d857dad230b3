package io.sonde.updater.internal;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
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
import io.sonde.api.Prober;
import io.sonde.api.RemoteConfig;
import io.sonde.api.ResultSink;
import io.sonde.api.ServerFiles;
import io.sonde.wire.ReleaseManifest;
import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

/**
 * Installs the plugin versions the server's rollouts name: downloaded through the uplink
 * (resumed when cut), the manifest verified against the key pinned in this agent's own
 * configuration and the jar against the manifest, then put in place of the plugin's jar in
 * {@code plugins/} at once (FileInstall updates the bundle). For {@code health_watch_s} after, the
 * new version must start, its components be satisfied and the kinds it probes go on succeeding
 * where they did before; otherwise the previous jar goes back by itself and that version is never
 * tried again here. Its state is kept in {@code data/state/updater.json}, so a kill mid-watch
 * resumes the watch at the next start. One update at a time, on one thread.
 */
@Component(configurationPid = UpdaterConfig.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL, service = ResultSink.class,
        property = "sink.name=updater")
@Designate(ocd = UpdaterConfig.class)
public final class Updater implements ResultSink {

    private static final Logger LOG = LoggerFactory.getLogger(Updater.class);
    static final String STATE_FILE = "updater.json";
    static final long CHECK_MS = 30_000;
    /** How long before an install a kind's last success counts as "it was working". */
    static final long WORKING_MS = 120_000;

    /** What the updater keeps across restarts: versions that failed here, and the update under watch. */
    static final class State {
        Map<String, String> failed = new TreeMap<>();
        Watch watch;
    }

    /** An installed version under its health watch. */
    record Watch(String symbolicName, String version, String rollout, String plugin, String previous, List<String> kinds) {
    }

    private final BundleContext context;
    private final UpdaterConfig config;
    private final PublicKey pinned;
    private final Path home;
    private final Path stateFile;
    private final Path work;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sonde-updater");
        t.setDaemon(true);
        return t;
    });
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

    @Activate
    public Updater(BundleContext context, UpdaterConfig config) {
        this.context = context;
        this.config = config;
        this.home = Path.of(Objects.requireNonNullElse(context.getProperty("sonde.home"), ".")).toAbsolutePath();
        this.stateFile = home.resolve("data/state").resolve(STATE_FILE);
        this.work = home.resolve("data/updates");
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
        thread.scheduleWithFixedDelay(this::tick, 1, 1, TimeUnit.SECONDS);
    }

    @Deactivate
    void deactivate() {
        thread.shutdownNow();
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

    /** Reads the kept state; an update that was under watch when the agent stopped is watched again, or undone. */
    private void start() {
        try {
            if (Files.exists(stateFile)) {
                State s = WireCodec.gson().fromJson(Files.readString(stateFile), State.class);
                if (s != null) {
                    state = s;
                    if (state.failed == null) {
                        state.failed = new TreeMap<>();
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("The updater's state {} is unreadable ({}); starting without it", stateFile, e.toString());
        }
        Watch w = state.watch;
        if (w != null) {
            LOG.info("The update of {} to {} was under its health watch when the agent stopped: watching it again", w.symbolicName(),
                    w.version());
            watchStarted = System.currentTimeMillis();
            activeSince = 0;
            report(w.symbolicName(), w.version(), w.rollout(), "watching", null);
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
        if (!"active".equals(text(entry, "state")) || name.isEmpty() || version.isEmpty()) {
            return false;
        }
        String key = name + "@" + version;
        Bundle b = find(name);
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
        if (b.getVersion().equals(desired)) {
            if (reports.get(name) == null || !"healthy".equals(reports.get(name).state())) {
                report(name, version, rollout, "healthy", null);
            }
            return false;
        }
        if (state.failed.containsKey(key)) {
            report(name, version, rollout, "failed", state.failed.get(key) + " (not tried again; a newer version will be)");
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
        Path plugin = pluginFile(b);
        if (plugin == null) {
            report(name, version, rollout, "failed", "a platform bundle (" + b.getLocation() + "): this agent updates plugins in plugins/ only");
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
        return install(b, plugin, jar, name, version, rollout);
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

    private boolean install(Bundle b, Path plugin, Path jar, String name, String version, String rollout) {
        try {
            Path previous = work.resolve("previous").resolve(plugin.getFileName());
            Files.createDirectories(previous.getParent());
            Files.copy(plugin, previous, StandardCopyOption.REPLACE_EXISTING);
            List<String> kinds = new ArrayList<>();
            long now = System.currentTimeMillis();
            for (String kind : kinds(b)) {
                AtomicLong last = lastSuccess.get(kind);
                if (last != null && now - last.get() < WORKING_MS) {
                    kinds.add(kind); // it worked before: it must work after
                }
            }
            state.watch = new Watch(name, version, rollout, plugin.toString(), previous.toString(), kinds);
            save();
            report(name, version, rollout, "installing", null);
            replace(jar, plugin);
            Files.deleteIfExists(jar);
            watchStarted = System.currentTimeMillis();
            activeSince = 0;
            watchReported = false;
            LOG.info("Installed {} {} in place of {} ({}); watching it for {} s{}", name, version, b.getVersion(), plugin,
                    config.health__watch__s(), kinds.isEmpty() ? "" : ": " + kinds + " must go on succeeding");
            return true;
        } catch (IOException ex) {
            state.watch = null;
            save();
            report(name, version, rollout, "failed", "could not be put in place: " + ex);
            return false;
        }
    }

    /** Puts {@code from} at {@code to} in one step: written beside it, then renamed over it. */
    private static void replace(Path from, Path to) throws IOException {
        Path tmp = to.resolveSibling("." + to.getFileName() + ".update");
        Files.copy(from, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Watches the installed version: started, components satisfied, its kinds succeeding; healthy after the watch. */
    private void tick() {
        Watch w = state.watch;
        if (w == null) {
            return;
        }
        try {
            long now = System.currentTimeMillis();
            Bundle b = find(w.symbolicName());
            boolean started = b != null && b.getVersion().equals(Version.parseVersion(w.version())) && b.getState() == Bundle.ACTIVE;
            if (!started) {
                if (now - watchStarted > config.start__timeout__s() * 1000L) {
                    rollBack(w, "did not start within " + config.start__timeout__s() + " s: " + (b == null ? "no such bundle"
                            : "version " + b.getVersion() + " in state " + stateName(b.getState())));
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
            state.watch = null;
            save();
            deleteQuietly(Path.of(w.previous()));
            report(w.symbolicName(), w.version(), w.rollout(), "healthy", null);
            LOG.info("{} {} is healthy after its {} s watch", w.symbolicName(), w.version(), config.health__watch__s());
        } catch (RuntimeException e) {
            LOG.warn("Updater watch: {}", e.toString());
        }
    }

    private void rollBack(Watch w, String why) {
        String key = w.symbolicName() + "@" + w.version();
        try {
            replace(Path.of(w.previous()), Path.of(w.plugin()));
            LOG.warn("{} {} is rolled back: {}", w.symbolicName(), w.version(), why);
        } catch (IOException e) {
            LOG.error("{} {} failed ({}) and could not be rolled back: {}", w.symbolicName(), w.version(), why, e.toString());
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
            Files.createDirectories(stateFile.getParent());
            Path tmp = stateFile.resolveSibling(STATE_FILE + ".tmp");
            Files.write(tmp, WireCodec.json(state));
            try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.move(tmp, stateFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            LOG.error("Cannot keep the updater's state in {}: {}", stateFile, e.toString());
        }
    }

    private Bundle find(String symbolicName) {
        for (Bundle b : context.getBundles()) {
            if (symbolicName.equals(b.getSymbolicName())) {
                return b;
            }
        }
        return null;
    }

    /** @return the bundle's jar when it is a plugin (installed from plugins/), else null */
    private Path pluginFile(Bundle b) {
        try {
            Path p = Path.of(new URI(b.getLocation()));
            return p.getParent() != null && p.getParent().equals(home.resolve("plugins")) && Files.isRegularFile(p) ? p : null;
        } catch (java.net.URISyntaxException | IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
            return null;
        }
    }

    /** @return the kinds the bundle's probers serve */
    private static Set<String> kinds(Bundle b) {
        Set<String> out = new TreeSet<>();
        ServiceReference<?>[] refs = b.getRegisteredServices();
        if (refs != null) {
            for (ServiceReference<?> r : refs) {
                Object type = r.getProperty(Prober.PROBE_TYPE);
                if (type != null) {
                    out.add(String.valueOf(type));
                }
            }
        }
        return out;
    }

    private static String stateName(int state) {
        return switch (state) {
            case Bundle.INSTALLED -> "INSTALLED (not resolved)";
            case Bundle.RESOLVED -> "RESOLVED (not started)";
            case Bundle.STARTING -> "STARTING";
            case Bundle.STOPPING -> "STOPPING";
            case Bundle.ACTIVE -> "ACTIVE";
            default -> String.valueOf(state);
        };
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
