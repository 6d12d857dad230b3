package io.sonde.core.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

import io.sonde.api.Target;

/**
 * Every configured target entry, from ConfigAdmin and from the targets file, and the last good
 * {@link Target} of each. Not thread-safe: one thread owns it.
 *
 * <p>An entry whose current version is invalid keeps its last good target in force. A target name
 * belongs to the entry that holds it; another entry claiming it is refused. Each distinct problem
 * is reported once, when it first appears.
 */
final class Catalog {

    private static final String FILE_KEY = "targets_file";
    /** The key prefix of the server document's entries: they yield to local ones. */
    private static final String SERVER = "server:";
    private static final String AGENT_KEY = "agent";

    /**
     * One configuration entry as last received. {@code origin} is the configuration's file, or the
     * targets file for its entries, whose position {@code index} is then part of {@link #source()}.
     */
    private record Entry(String key, Map<String, ?> raw, String fallbackName, String origin, int index,
            String duplicateOf) {

        boolean fromFile() {
            return index >= 0 && !fromServer();
        }

        boolean fromServer() {
            return key.startsWith(SERVER);
        }

        /** The entry's name as written, or its place in its document when it has none. */
        String nameOrPlace() {
            String name = raw == null ? null : TargetValidator.text(raw.get("name"));
            return name == null || name.isBlank() ? "targets[" + index + "]" : name.strip();
        }

        /** Where the entry is, for messages: built when asked, a file may hold 10,000 entries. */
        String source() {
            if (index < 0) {
                return origin;
            }
            String name = raw == null ? null : TargetValidator.text(raw.get("name"));
            return name == null ? origin + " targets[" + index + "]" : origin + " targets[" + index + "] \"" + name + "\"";
        }
    }

    /**
     * What a {@link #recompute} produced.
     *
     * @param targets        the targets in force
     * @param newProblems    problems not reported before
     * @param invalidEntries entries whose current version is rejected
     * @param noProber       entries whose kind has no prober now
     * @param resolving      entries waiting for their host's address
     * @param checked        entries checked again in this recompute (the others had not changed)
     */
    record Result(List<Target> targets, List<String> newProblems, int invalidEntries, int noProber, int resolving,
            int checked, List<io.sonde.agent.spi.RemoteConfig.Rejected> serverRejected, List<Held> newlyHeld) {
    }

    /** An entry that began to wait for a plugin of its kind: where it is, its name, the kind. */
    record Held(String source, String name, String kind) {
    }

    /** An entry as last checked, with what it was checked against: reused while none of it changed. */
    private record Checked(Map<String, ?> raw, String kind, TargetValidator.Defaults defaults, String source, long prober,
            TargetValidator.Checked result) {
    }

    private final Map<String, Entry> configurations = new TreeMap<>();
    private List<Entry> fileEntries = List.of();
    private List<Entry> serverEntries = List.of();
    /** The entries of each program's {@link io.sonde.agent.spi.TargetSource}, by its key. */
    private final Map<String, List<Entry>> programs = new TreeMap<>();
    private TargetValidator.Defaults fileDefaults;
    private TargetValidator.Defaults agentDefaults =
            new TargetValidator.Defaults(Duration.ofMillis(5000), Duration.ofMillis(3000));

    private final Map<String, ConfigProblem> globalProblems = new HashMap<>();
    private Map<String, Target> good = new HashMap<>();
    /** The prober that checked each good target: a target checked by one prober does not outlive it by another. */
    private Map<String, Long> goodProber = new HashMap<>();
    private Map<String, Checked> checked = new HashMap<>();
    /** The entries that waited for a plugin at the last recompute, by key: each is said once as it begins to wait. */
    private java.util.Set<String> held = java.util.Set.of();
    private final Map<String, String> reported = new HashMap<>();

    /** Adds or replaces the target configuration {@code pid}. */
    void putConfiguration(String pid, Map<String, ?> raw, String source, String fallbackName) {
        configurations.put("cfg:" + pid, new Entry("cfg:" + pid, raw, fallbackName, source, -1, null));
    }

    /** @return whether any target configuration of {@code etc/} is there */
    boolean hasConfigurations() {
        return !configurations.isEmpty();
    }

    void removeConfiguration(String pid) {
        configurations.remove("cfg:" + pid);
    }

    /**
     * Applies the agent settings; invalid values are reported and the previous ones stay.
     *
     * @param source the agent configuration's file, for messages
     */
    void setAgentDefaults(Object intervalMs, Object timeoutMs, String source) {
        setAgentDefaults(intervalMs, timeoutMs, Map.of(), source);
    }

    /**
     * @param backoff the agent-wide backoff settings ({@code backoff}, {@code backoff_after},
     *                {@code backoff_max_ms}) as configured, for targets that set none
     */
    void setAgentDefaults(Object intervalMs, Object timeoutMs, Map<String, String> backoff, String source) {
        TargetValidator.Defaults d = defaults(intervalMs, timeoutMs, source, AGENT_KEY);
        if (d == null) {
            return;
        }
        Map<String, String> differing = new java.util.TreeMap<>();
        List<ConfigProblem> problems = new ArrayList<>();
        for (io.sonde.api.TargetOption o : io.sonde.agent.spi.Backoff.KEYS) {
            String v = backoff.get(o.name());
            if (v == null || v.isBlank()) {
                continue;
            }
            String problem = o.problem(v.strip());
            if (problem != null) {
                problems.add(new ConfigProblem(source, o.name(), problem));
            } else if (!v.strip().equalsIgnoreCase(o.defaultValue())) {
                differing.put(o.name(), v.strip());
            }
        }
        if (!problems.isEmpty()) {
            globalProblems.put(AGENT_KEY, join(problems));
            return;
        }
        agentDefaults = new TargetValidator.Defaults(d.interval(), d.timeout(), differing);
        globalProblems.remove(AGENT_KEY);
    }

    /** Adds the entry, or with {@code ip_version = both} its IPv4 and IPv6 halves, each an entry of its own. */
    private static void dualStack(Entry e, List<Entry> into) {
        List<Map<String, Object>> halves = e.raw() == null ? null : io.sonde.agent.spi.TargetKeys.dualStack(e.raw(), e.fallbackName());
        if (halves == null || halves.size() == 1) {
            into.add(e);
            return;
        }
        for (Map<String, Object> half : halves) {
            String family = String.valueOf(half.get(Target.IP_VERSION));
            into.add(new Entry(e.key() + "|ipv" + family, half, null, e.origin(), e.index(), e.duplicateOf()));
        }
    }

    /** The agent's interval and timeout defaults in force. */
    TargetValidator.Defaults agentDefaults() {
        return agentDefaults;
    }

    /** Takes a newly read targets file; its entries replace the previous file's. */
    void setFile(String source, TargetsFile file) {
        TargetValidator.Defaults d = file.intervalMs() == null && file.timeoutMs() == null ? null
                : defaults(file.intervalMs() == null ? agentDefaults.interval().toMillis() : file.intervalMs(),
                        file.timeoutMs() == null ? agentDefaults.timeout().toMillis() : file.timeoutMs(),
                        source, FILE_KEY);
        if (d == null && (file.intervalMs() != null || file.timeoutMs() != null)) {
            return; // bad file-wide settings: the file is unusable, the previous one stays
        }
        fileDefaults = d;
        fileEntries = entries("file:", source, file);
        globalProblems.remove(FILE_KEY);
    }

    /** The entries of a document of targets, each keyed by its name (or place) under {@code prefix}. */
    private static List<Entry> entries(String prefix, String source, TargetsFile file) {
        List<Entry> entries = new ArrayList<>(file.entries().size());
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < file.entries().size(); i++) {
            Map<String, Object> raw = file.entries().get(i);
            String name = raw == null ? null : TargetValidator.text(raw.get("name"));
            if (raw == null) {
                entries.add(new Entry(prefix + "#" + i, null, null, source, i, null));
            } else if (name == null || name.isBlank()) {
                entries.add(new Entry(prefix + "#" + i, raw, null, source, i, null));
            } else if (!seen.add(name.strip())) {
                entries.add(new Entry(prefix + name.strip() + "#" + i, raw, null, source, i, name.strip()));
            } else {
                entries.add(new Entry(prefix + name.strip(), raw, null, source, i, null));
            }
        }
        return entries;
    }

    /**
     * Takes the targets a program hands over: they replace what the same source handed before.
     *
     * @param key    the source, one key per service
     * @param source what the source is called in messages
     * @param raw    its entries, each the keys of a target
     */
    void setProgram(String key, String source, List<? extends Map<String, ?>> raw) {
        List<Entry> entries = new ArrayList<>(raw.size());
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < raw.size(); i++) {
            Map<String, ?> r = raw.get(i);
            String name = r == null ? null : TargetValidator.text(r.get("name"));
            String where = source + (name == null || name.isBlank() ? " target #" + i : " target \"" + name.strip() + "\"");
            String id = name == null || name.isBlank() || !seen.add(name.strip()) ? "#" + i : name.strip();
            entries.add(new Entry("program:" + key + ":" + id, r == null ? null : new LinkedHashMap<>(r), null, where, -1, null));
        }
        programs.put(key, List.copyOf(entries));
    }

    /** The program's source is gone: so are its targets. */
    void removeProgram(String key) {
        programs.remove(key);
    }

    /** @return how many entries each program's source hands over now, by key */
    Map<String, Integer> programEntries() {
        Map<String, Integer> out = new TreeMap<>();
        programs.forEach((k, v) -> out.put(k, v.size()));
        return out;
    }

    /** Takes the server's document: its entries replace the previous document's. */
    void setServer(String source, TargetsFile document) {
        serverEntries = entries(SERVER, source, document);
    }

    /** No server document is in force any more. */
    void clearServer() {
        serverEntries = List.of();
    }

    /** The targets file could not be used; its previous entries stay in force. */
    void fileUnusable(ConfigProblem problem) {
        globalProblems.put(FILE_KEY, problem);
    }

    /** No targets file is configured any more. */
    void clearFile() {
        fileEntries = List.of();
        fileDefaults = null;
        globalProblems.remove(FILE_KEY);
    }

    /** Parses interval and timeout defaults; on a problem records it under {@code problemKey} and returns null. */
    private TargetValidator.Defaults defaults(Object intervalMs, Object timeoutMs, String source, String problemKey) {
        String intervalKey = "probe_interval_ms";
        String timeoutKey = "default_timeout_ms";
        List<ConfigProblem> problems = new ArrayList<>();
        Long interval = TargetValidator.whole(intervalMs, intervalKey, source, problems);
        Long timeout = TargetValidator.whole(timeoutMs, timeoutKey, source, problems);
        if (interval != null && (interval < TargetValidator.MIN_INTERVAL_MS || interval > TargetValidator.MAX_INTERVAL_MS)) {
            problems.add(new ConfigProblem(source, intervalKey, interval + " is out of range ("
                    + TargetValidator.MIN_INTERVAL_MS + "-" + TargetValidator.MAX_INTERVAL_MS + ")"));
        }
        if (timeout != null && timeout < 1) {
            problems.add(new ConfigProblem(source, timeoutKey, timeout + " must be at least 1"));
        }
        if (!problems.isEmpty()) {
            globalProblems.put(problemKey, join(problems));
            return null;
        }
        return new TargetValidator.Defaults(Duration.ofMillis(interval), Duration.ofMillis(timeout));
    }

    /**
     * Validates every entry against the current defaults and installed kinds. An entry that did not
     * change since it was last checked (same keys, defaults and prober) is not checked again; only
     * its host's verdict is asked, which is a look-up in memory.
     *
     * @param kinds     the probers installed, by kind
     * @param hostCheck the verdict on a target's host
     */
    Result recompute(ProberKind.Lookup kinds, HostNames.Check hostCheck) {
        List<Entry> fromPrograms = new ArrayList<>();
        programs.values().forEach(fromPrograms::addAll);
        List<Entry> all = new ArrayList<>(configurations.size() + fromPrograms.size() + fileEntries.size() + serverEntries.size());
        for (List<Entry> source : List.of(List.copyOf(configurations.values()), fromPrograms, fileEntries, serverEntries)) {
            for (Entry e : source) { // the server's last: a name defined there and locally is the local one's
                dualStack(e, all);
            }
        }

        Map<String, Target> candidates = new LinkedHashMap<>();
        Map<String, Long> candidateProber = new HashMap<>();
        Map<String, ConfigProblem> problems = new LinkedHashMap<>();
        Map<String, Checked> nextChecked = new HashMap<>(all.size() * 2);
        int noProber = 0;
        Map<String, String> noProberServer = new LinkedHashMap<>();
        java.util.Set<String> nowHeld = new java.util.HashSet<>();
        List<Held> newlyHeld = new ArrayList<>();
        int resolving = 0;
        int rechecked = 0;
        for (Entry e : all) {
            if (e.raw() == null) {
                problems.put(e.key(), new ConfigProblem(e.source(), null, "is not a JSON object"));
                continue;
            }
            TargetValidator.Defaults d = e.fromFile() && fileDefaults != null ? fileDefaults : agentDefaults;
            Checked c = checked.get(e.key());
            String kindName;
            if (c != null && c.raw() == e.raw()) {
                kindName = c.kind(); // the same entry as last time (the targets file's reader keeps unchanged ones)
            } else {
                String kindText = TargetValidator.text(e.raw().get("kind"));
                kindName = kindText == null || kindText.isBlank() ? null : TargetValidator.canonicalKind(kindText);
            }
            ProberKind kind = kindName == null ? null : kinds.kind(kindName);
            long proberId = kind == null ? -1 : kind.serviceId();
            // an entry that only moved in its file keeps its check; a problem's message names its place anew
            // (the place is text built only where it is needed: a file may hold 10,000 entries)
            String source = c != null && c.result().outcome().ok() ? c.source() : e.source();
            if (c == null || c.prober() != proberId || !c.defaults().equals(d)
                    || (!c.result().outcome().ok() && !c.source().equals(source))
                    || !(c.raw() == e.raw() || c.raw().equals(e.raw()))) {
                source = e.source();
                c = new Checked(e.raw(), kindName, d, source, proberId,
                        TargetValidator.check(e.raw(), e.fallbackName(), d, source, e.origin(), kinds));
                rechecked++;
            }
            nextChecked.put(e.key(), c);
            TargetValidator.Outcome o = TargetValidator.lookUp(c.result(), source, hostCheck);
            if (o.state() == TargetValidator.State.INVALID && c.result().outcome().ok()) {
                o = TargetValidator.lookUp(c.result(), e.source(), hostCheck); // its host failed: name its place as it is now
            }
            switch (o.state()) {
                case OK -> {
                    candidates.put(e.key(), o.target());
                    candidateProber.put(e.key(), o.prober());
                }
                case INVALID -> problems.put(e.key(), join(o.problems()));
                case NO_PROBER -> {
                    noProber++;
                    nowHeld.add(e.key());
                    if (!held.contains(e.key())) {
                        newlyHeld.add(new Held(e.source(), e.nameOrPlace(), kindName));
                    }
                    if (e.fromServer()) {
                        noProberServer.put(e.nameOrPlace(), io.sonde.agent.spi.Health.State.NO_PROBER.label() + ": no installed plugin registers probe.type="
                                + kindName);
                    }
                }
                case RESOLVING -> resolving++;
            }
        }
        checked = nextChecked;
        held = nowHeld;

        // A name belongs to the entry whose last good target holds it, else to the first claimant;
        // a local entry (etc/, the targets file) always before the server's
        Map<String, String> previousOwner = new HashMap<>();
        good.forEach((key, t) -> previousOwner.put(t.name(), key));
        Map<String, String> owner = new HashMap<>();
        for (boolean server : new boolean[] {false, true}) {
            for (Map.Entry<String, Target> c : candidates.entrySet()) {
                if (c.getKey().startsWith(SERVER) != server) {
                    continue;
                }
                String name = c.getValue().name();
                String prev = previousOwner.get(name);
                if (server && owner.containsKey(name) && !owner.get(name).startsWith(SERVER)) {
                    continue; // a local entry holds it
                }
                if (prev != null && prev.startsWith(SERVER) == server && candidates.containsKey(prev)
                        && candidates.get(prev).name().equals(name)) {
                    owner.put(name, prev);
                } else {
                    owner.putIfAbsent(name, c.getKey());
                }
            }
        }
        Map<String, Entry> byKey = new HashMap<>();
        for (Map.Entry<String, Target> c : candidates.entrySet()) {
            String name = c.getValue().name();
            String winner = owner.get(name);
            if (!winner.equals(c.getKey())) {
                if (byKey.isEmpty()) {
                    all.forEach(e -> byKey.put(e.key(), e)); // only when two entries claim a name
                }
                boolean yields = c.getKey().startsWith(SERVER) && !winner.startsWith(SERVER);
                problems.put(c.getKey(), new ConfigProblem(byKey.get(c.getKey()).source(), "name",
                        "'" + name + "' is already used by " + byKey.get(winner).source()
                                + (yields ? "; the local definition is in force" : "")));
            }
        }

        Map<String, Target> next = new LinkedHashMap<>();
        Set<String> taken = new HashSet<>(owner.keySet());
        for (Entry e : all) {
            String key = e.key();
            if (candidates.containsKey(key) && !problems.containsKey(key)) {
                next.put(key, candidates.get(key));
            }
        }
        Map<String, Long> nextProber = new HashMap<>();
        candidateProber.forEach((key, id) -> {
            if (next.containsKey(key)) {
                nextProber.put(key, id);
            }
        });
        for (Entry e : all) {
            String key = e.key();
            Target previous = good.get(key);
            if (next.containsKey(key) || previous == null || taken.contains(previous.name())) {
                continue;
            }
            ProberKind now = kinds.kind(previous.kind());
            Long by = goodProber.get(key);
            if (now == null || by == null || now.serviceId() == by) {
                next.put(key, previous); // the last good version stays in force
                nextProber.put(key, by);
                taken.add(previous.name());
            }
        }
        // keep the configuration order: ConfigAdmin entries by PID, then the file's
        Map<String, Target> ordered = new LinkedHashMap<>();
        for (Entry e : all) {
            Target t = next.get(e.key());
            if (t != null) {
                ordered.put(e.key(), t);
            }
        }
        good = ordered;
        nextProber.keySet().retainAll(ordered.keySet());
        goodProber = nextProber;

        List<String> fresh = new ArrayList<>();
        Map<String, ConfigProblem> current = new LinkedHashMap<>(globalProblems);
        current.putAll(problems);
        reported.keySet().retainAll(current.keySet());
        for (Map.Entry<String, ConfigProblem> p : current.entrySet()) {
            String message = p.getValue().message();
            if (!message.equals(reported.put(p.getKey(), message))) {
                fresh.add(message);
            }
        }
        List<io.sonde.agent.spi.RemoteConfig.Rejected> serverRejected = new ArrayList<>();
        if (!serverEntries.isEmpty()) {
            for (Entry e : serverEntries) {
                ConfigProblem p = problems.get(e.key());
                if (p != null) {
                    serverRejected.add(new io.sonde.agent.spi.RemoteConfig.Rejected(e.nameOrPlace(), p.message()));
                }
            }
            noProberServer.forEach((name, why) -> serverRejected.add(new io.sonde.agent.spi.RemoteConfig.Rejected(name, why)));
        }
        return new Result(List.copyOf(ordered.values()), fresh, problems.size(), noProber, resolving, rechecked,
                List.copyOf(serverRejected), List.copyOf(newlyHeld));
    }

    private static ConfigProblem join(List<ConfigProblem> problems) {
        if (problems.size() == 1) {
            return problems.get(0);
        }
        String source = problems.get(0).source();
        String reason = problems.stream()
                .map(p -> p.key() == null ? p.reason() : "key '" + p.key() + "': " + p.reason())
                .collect(Collectors.joining("; "));
        return new ConfigProblem(source, null, reason);
    }
}
