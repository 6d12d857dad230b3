package io.sonde.server.spi;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import io.sonde.agent.spi.Health;
import io.sonde.agent.spi.Health.State;

/**
 * The server's side of the health model: each target's state from each of its vantage agents
 * and overall, by {@link Health}'s rule, from what the store keeps (the latest word per agent and
 * target, the agents, the target definitions and a window of results). The health API, the alert
 * evaluator and the dashboard all take their states from {@link #compute}.
 *
 * <p>A result stands until the agent's next probe of the target is due (the agent says when, also
 * for a backed-off target) plus {@link #GRACE}; a backed-off target is therefore down, not
 * missing, for as long as the agent waits. An agent that is offline, or whose result is overdue,
 * knows nothing ({@link State#UNKNOWN}); an agent that refused the definition says so
 * ({@link State#REFUSED}).
 *
 * @since 1.5
 */
public final class FleetHealth {

    /** How long after its next probe was due a result still stands: the probe's own time and the upload's. */
    public static final Duration GRACE = Duration.ofSeconds(60);

    /** How long a result of an agent that does not say when it probes next stands. */
    public static final Duration STANDS_WITHOUT_SCHEDULE = Duration.ofMinutes(5);

    /**
     * One vantage agent's word on a target.
     *
     * @param agentId   the agent
     * @param state     its state
     * @param since     since when, or null when not known
     * @param reason    why, in words: the failure's reason and error, the refusal, "offline" ...
     * @param lastAt    when its latest probe of the target started, or null
     * @param nextProbe when it probes the target next, or null
     * @param loss      lost over sent over the window, NaN when it has no results there
     * @param p50       median latency over the window in seconds, NaN when none succeeded
     */
    public record Vantage(String agentId, State state, Instant since, String reason, Instant lastAt, Instant nextProbe, double loss,
            double p50) {
    }

    /**
     * One target's health.
     *
     * @param target        its name
     * @param kind          its kind, as its latest result or its definition says
     * @param overall       the worst state over its vantage agents, with counts
     * @param since         since when the overall state holds (the earliest of the agents in it), or null
     * @param tags          its tags, from its definition (none for a target an agent configures locally)
     * @param defined       whether the server holds a definition of it
     * @param lastFailureAt when its latest failure was measured, by any agent, or null
     * @param lastReason    that failure's reason label, or null
     * @param lastError     that failure's error text, or null
     * @param loss          mean loss over the vantages with results in the window, NaN without any
     * @param p50           median of the vantages' median latencies in seconds, NaN without any
     * @param vantages      each agent's word, worst first
     */
    public record TargetHealth(String target, String kind, Health.Overall overall, Instant since, List<String> tags, boolean defined,
            Instant lastFailureAt, String lastReason, String lastError, double loss, double p50, List<Vantage> vantages) {
    }

    /** The order of lists: worst first, then the most affected, then the longest in that state, then by name. */
    public static final Comparator<TargetHealth> WORST_FIRST = Comparator
            .comparing((TargetHealth t) -> t.overall().state())
            .thenComparing(t -> -t.overall().affected())
            .thenComparing(t -> t.since() == null ? Instant.MAX : t.since())
            .thenComparing(TargetHealth::target);

    private FleetHealth() {
    }

    /**
     * @param states       the latest word per series ({@link Store#targetStates})
     * @param agents       the agents by id
     * @param definitions  the target definitions
     * @param window       the results of a recent window ({@link Store#window}), for loss and latency
     * @param now          the time
     * @param offlineAfter how long without a word an agent counts as offline
     * @return every target that has a definition or a result, worst first
     */
    public static List<TargetHealth> compute(Collection<TargetState> states, Map<String, AgentRecord> agents,
            Collection<Definition> definitions, Collection<SeriesWindow> window, Instant now, Duration offlineAfter) {
        Map<String, JsonObject> defs = new TreeMap<>();
        for (Definition d : definitions) {
            if (Definition.TARGET.equals(d.type())) {
                try {
                    defs.put(d.name(), JsonParser.parseString(d.body()).getAsJsonObject());
                } catch (RuntimeException e) {
                    // a definition is checked before it is stored; one that cannot be read has no keys
                    defs.put(d.name(), new JsonObject());
                }
            }
        }
        Map<String, Map<String, TargetState>> byTarget = new TreeMap<>();
        for (TargetState s : states) {
            // one word per agent and target: the newest, whatever kind the target had before
            byTarget.computeIfAbsent(s.target(), k -> new TreeMap<>()).merge(s.agentId(), s,
                    (a, b) -> a.lastAt().isAfter(b.lastAt()) ? a : b);
        }
        Map<String, SeriesWindow> windows = new HashMap<>();
        for (SeriesWindow w : window) {
            windows.merge(w.agentId() + "\u0000" + w.target(), w, (a, b) -> a.count() >= b.count() ? a : b);
        }
        Set<String> targets = new TreeSet<>(byTarget.keySet());
        targets.addAll(defs.keySet());
        List<TargetHealth> out = new ArrayList<>(targets.size());
        for (String target : targets) {
            JsonObject def = defs.get(target);
            Health.Thresholds thresholds = def == null ? Health.Thresholds.NONE : Health.Thresholds.of(k -> text(def.get(k)));
            Map<String, TargetState> words = byTarget.getOrDefault(target, Map.of());
            Set<String> vantageIds = new TreeSet<>(words.keySet());
            AgentSelector selector = def == null ? null : selector(def);
            if (selector != null) {
                for (AgentRecord a : agents.values()) {
                    if (a.revokedAt() == null && selector.matches(a.tags())) {
                        vantageIds.add(a.agentId());
                    }
                }
            }
            List<Vantage> vantages = new ArrayList<>();
            String kind = def == null ? null : text(def.get("kind"));
            TargetState lastFailure = null;
            for (String agentId : vantageIds) {
                AgentRecord a = agents.get(agentId);
                if (a == null || a.revokedAt() != null) {
                    continue;
                }
                TargetState s = words.get(agentId);
                if (s != null) {
                    kind = s.kind();
                    if (s.failureAt() != null && (lastFailure == null || s.failureAt().isAfter(lastFailure.failureAt()))) {
                        lastFailure = s;
                    }
                }
                vantages.add(vantage(a, s, target, windows.get(agentId + "\u0000" + target), thresholds, now, offlineAfter));
            }
            vantages.sort(Comparator.comparing(Vantage::state).thenComparing(Vantage::agentId));
            Health.Overall overall = Health.overall(vantages.stream().map(Vantage::state).toList());
            Instant since = null;
            for (Vantage v : vantages) {
                boolean counts = overall.state().isDown() ? v.state().isDown() : v.state() == overall.state();
                if (counts && v.since() != null && (since == null || v.since().isBefore(since))) {
                    since = v.since();
                }
            }
            out.add(new TargetHealth(target, kind, overall, since, def == null ? List.of() : tags(def), def != null,
                    lastFailure == null ? null : lastFailure.failureAt(), lastFailure == null ? null : lastFailure.failureReason(),
                    lastFailure == null ? null : lastFailure.failureError(), mean(vantages, true), median(vantages), List.copyOf(vantages)));
        }
        out.sort(WORST_FIRST);
        return out;
    }

    private static Vantage vantage(AgentRecord a, TargetState s, String target, SeriesWindow w, Health.Thresholds thresholds, Instant now,
            Duration offlineAfter) {
        double loss = w == null || w.count() == 0 ? Double.NaN : w.loss();
        double p50 = w == null || w.p50() == null ? Double.NaN : w.p50();
        Instant lastAt = s == null ? null : s.lastAt();
        Instant next = s == null ? null : s.nextProbe();
        if (!a.online(now, offlineAfter)) {
            return new Vantage(a.agentId(), State.UNKNOWN, a.lastSeen(),
                    a.lastSeen() == null ? "the agent has never reported" : "the agent is offline (last heard from " + a.lastSeen() + ")",
                    lastAt, next, loss, p50);
        }
        if (a.config() != null) {
            for (io.sonde.wire.AgentStatus.Rejected r : a.config().rejected()) {
                if (target.equals(r.name())) {
                    // the agent names an entry of a kind it has no plugin for so: no_prober, not refused
                    State st = r.reason() != null && r.reason().startsWith(State.NO_PROBER.label() + ":") ? State.NO_PROBER : State.REFUSED;
                    return new Vantage(a.agentId(), st, a.config().reportedAt(), r.reason(), lastAt, next, loss, p50);
                }
            }
        }
        if (s == null) {
            return new Vantage(a.agentId(), State.UNKNOWN, null, "not probed yet", null, null, loss, p50);
        }
        Instant standsUntil = s.nextProbe() == null ? s.lastAt().plus(STANDS_WITHOUT_SCHEDULE) : s.nextProbe().plus(GRACE);
        if (now.isAfter(standsUntil)) {
            return new Vantage(a.agentId(), State.UNKNOWN, standsUntil, "no result since " + s.lastAt()
                    + (s.nextProbe() == null ? "" : "; the next was due at " + s.nextProbe()), lastAt, next, loss, p50);
        }
        if (!s.success()) {
            return new Vantage(a.agentId(), Health.of(false, loss, p50, thresholds, s.backoff()), s.since(),
                    s.reason() + (s.error() == null ? "" : ": " + s.error()), lastAt, next, loss, p50);
        }
        String degraded = Health.degraded(loss, p50, thresholds);
        return new Vantage(a.agentId(), degraded == null ? State.UP : State.DEGRADED, s.since(), degraded, lastAt, next, loss, p50);
    }

    private static AgentSelector selector(JsonObject def) {
        String s = text(def.get("agents"));
        if (s == null) {
            return null;
        }
        try {
            return AgentSelector.parse(s);
        } catch (AgentSelector.ParseException e) {
            return null;
        }
    }

    /**
     * @return the tags of each target the server defines, by name (a definition that cannot be read has none)
     * @since 1.16
     */
    public static Map<String, List<String>> targetTags(Collection<Definition> definitions) {
        Map<String, List<String>> out = new HashMap<>();
        for (Definition d : definitions) {
            if (Definition.TARGET.equals(d.type())) {
                try {
                    out.put(d.name(), tags(JsonParser.parseString(d.body()).getAsJsonObject()));
                } catch (RuntimeException e) {
                    out.put(d.name(), List.of());
                }
            }
        }
        return out;
    }

    /**
     * The tags selectors take a target by: its definition's tags, and its labels as
     * {@code name=value} — the definition's, and the ones its agents' results carry (so a target
     * an agent defines itself is taken by its labels too).
     *
     * @param labels the labels the results carry, by target ({@link Store#targetLabels})
     * @return tags by target name
     * @since 1.17
     */
    public static Map<String, List<String>> targetTags(Collection<Definition> definitions, Map<String, Map<String, String>> labels) {
        Map<String, List<String>> out = targetTags(definitions);
        labels.forEach((target, l) -> {
            List<String> tags = new ArrayList<>(out.getOrDefault(target, List.of()));
            l.forEach((k, v) -> {
                if (!tags.contains(k + "=" + v)) {
                    tags.add(k + "=" + v);
                }
            });
            out.put(target, tags);
        });
        return out;
    }

    /**
     * A target's labels: its definition's {@code labels}, and the ones its agents' results carry
     * (the definition's win where they differ: the agents' are the definition's, or older).
     *
     * @param labels the labels the results carry, by target ({@link Store#targetLabels})
     * @return labels by name in name order, by target; targets without labels left out
     * @since 1.17
     */
    public static Map<String, java.util.SortedMap<String, String>> targetLabels(Collection<Definition> definitions,
            Map<String, Map<String, String>> labels) {
        Map<String, java.util.SortedMap<String, String>> out = new HashMap<>();
        labels.forEach((target, l) -> out.put(target, new java.util.TreeMap<>(l)));
        for (Definition d : definitions) {
            if (!Definition.TARGET.equals(d.type())) {
                continue;
            }
            try {
                JsonElement l = JsonParser.parseString(d.body()).getAsJsonObject().get("labels");
                if (l != null && l.isJsonObject()) {
                    for (Map.Entry<String, JsonElement> e : l.getAsJsonObject().entrySet()) {
                        if (e.getValue().isJsonPrimitive()) {
                            out.computeIfAbsent(d.name(), k -> new java.util.TreeMap<>()).put(e.getKey(), e.getValue().getAsString());
                        }
                    }
                }
            } catch (RuntimeException e) {
                // a definition that cannot be read has no labels
            }
        }
        return out;
    }

    /**
     * @return {@link #targetTags(Collection, Map)} as the store has them now
     * @since 1.17
     */
    public static Map<String, List<String>> targetTags(Store store) throws StoreException {
        return targetTags(store.definitions(Definition.TARGET), store.targetLabels());
    }

    private static List<String> tags(JsonObject def) {
        JsonElement t = def.get("tags");
        List<String> out = new ArrayList<>();
        JsonElement labels = def.get("labels");
        if (labels != null && labels.isJsonObject()) {
            labels.getAsJsonObject().entrySet().forEach(e -> {
                if (e.getValue().isJsonPrimitive()) {
                    out.add(e.getKey() + "=" + e.getValue().getAsString());
                }
            });
        }
        if (t != null && t.isJsonArray()) {
            t.getAsJsonArray().forEach(e -> out.add(e.getAsString()));
        } else if (t != null && t.isJsonPrimitive()) {
            for (String s : t.getAsString().split(",")) {
                if (!s.isBlank()) {
                    out.add(s.strip());
                }
            }
        }
        return out;
    }

    private static String text(JsonElement e) {
        return e == null || e.isJsonNull() || !e.isJsonPrimitive() ? null : e.getAsString();
    }

    private static double mean(List<Vantage> vantages, boolean loss) {
        double sum = 0;
        int n = 0;
        for (Vantage v : vantages) {
            double x = loss ? v.loss() : v.p50();
            if (!Double.isNaN(x)) {
                sum += x;
                n++;
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    private static double median(List<Vantage> vantages) {
        double[] xs = vantages.stream().mapToDouble(Vantage::p50).filter(x -> !Double.isNaN(x)).sorted().toArray();
        if (xs.length == 0) {
            return Double.NaN;
        }
        return xs.length % 2 == 1 ? xs[xs.length / 2] : (xs[xs.length / 2 - 1] + xs[xs.length / 2]) / 2;
    }
}
