package io.sonde.server.alerts.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import io.sonde.server.spi.AgentRecord;
import io.sonde.server.spi.SeriesWindow;
import io.sonde.server.spi.StoredResult;

/**
 * Turns what the store holds into one {@link Observation} per subject of a rule. A target's
 * vantage agents are those the rule selects that are online; each says bad or not by the rule's
 * threshold, and the rule's condition holds when at least {@code min_vantage} of them say bad. A
 * target none of them has results for is {@code nodata}, never down.
 */
final class Observe {

    /** What the store is asked beyond the window: per (agent, target). */
    interface Lookup {
        /** @return the agent's latest result for the target */
        Optional<StoredResult> latest(String agentId, String target);

        /** @return the agent's results for the target over the last hour, oldest first */
        List<StoredResult> lastHour(String agentId, String target);

        /** @return the version of the agent's configuration document now, if the server makes one for it */
        Optional<String> configVersion(String agentId);

        /** @return the kind's result schema as its agents announce it, or null when none did */
        io.sonde.api.ResultSchema schema(String kind);

        /** @return the operator's IP-to-AS table, or null when there is none */
        default io.sonde.asn.AsnLookup asns() {
            return null;
        }
    }

    /** @return the name of the kind's value with that role, or null */
    private static String valueWith(Lookup lookup, String kind, io.sonde.api.ResultSchema.Role role) {
        return io.sonde.server.spi.AnnouncedKinds.valueWith(lookup.schema(kind), role);
    }

    /** One vantage agent's figure: whether it is past the threshold, past the recovery threshold. */
    private record Vantage(String agentId, double value, boolean bad, boolean stillBad, String text) {
    }

    private Observe() {
    }

    /** @return whether the rule takes this target, by name or by its tags (as the target definitions have them) */
    static boolean takes(AlertRule rule, String target, Map<String, List<String>> targetTags) {
        if (!rule.target().equals("*")) {
            return rule.target().equals(target);
        }
        if (rule.targets() == null) {
            return true;
        }
        List<String> tags = targetTags.get(target);
        return tags != null && rule.targets().matches(tags);
    }

    static List<Observation> targets(AlertRule rule, List<SeriesWindow> windows, Map<String, AgentRecord> agents,
            Map<String, List<String>> targetTags, Set<String> known, Instant now, Duration offlineAfter, Lookup lookup) {
        Map<String, List<SeriesWindow>> byTarget = new TreeMap<>();
        for (SeriesWindow w : windows) {
            if (takes(rule, w.target(), targetTags)) {
                byTarget.computeIfAbsent(w.target(), k -> new ArrayList<>()).add(w);
            }
        }
        Set<String> subjects = new TreeSet<>(byTarget.keySet());
        subjects.addAll(known);
        List<Observation> out = new ArrayList<>();
        for (String target : subjects) {
            List<Vantage> vantages = new ArrayList<>();
            int offline = 0;
            for (SeriesWindow w : byTarget.getOrDefault(target, List.of())) {
                AgentRecord a = agents.get(w.agentId());
                if (a == null || !rule.agents().matches(a.tags())) {
                    continue;
                }
                if (!a.online(now, offlineAfter)) {
                    offline++;
                    continue;
                }
                Vantage v = vantage(rule, w, lookup, now);
                if (v != null) {
                    vantages.add(v);
                }
            }
            if (vantages.isEmpty()) {
                if (byTarget.containsKey(target) || known.contains(target)) {
                    out.add(Observation.noData(target, offline > 0 ? "its vantage agents are offline"
                            : "no vantage agent has results for it in the last " + AlertRule.text(rule.window())));
                }
                continue;
            }
            out.add(combine(rule, target, vantages));
        }
        return out;
    }

    /**
     * A target_down rule by the health model ({@link io.sonde.server.spi.FleetHealth}): a vantage
     * agent says down while its latest result failed and stands (a backed-off target stays down
     * until its next probe is due), up while it succeeded; agents that are offline, overdue or
     * refuse the target say nothing. No agent saying anything is {@code nodata}.
     */
    static List<Observation> targetsDown(AlertRule rule, List<io.sonde.server.spi.FleetHealth.TargetHealth> health,
            Map<String, AgentRecord> agents, Map<String, List<String>> targetTags) {
        List<Observation> out = new ArrayList<>();
        for (io.sonde.server.spi.FleetHealth.TargetHealth t : health) {
            if (!takes(rule, t.target(), targetTags)) {
                continue; // a target the rule no longer takes: its state goes
            }
            List<Vantage> vantages = new ArrayList<>();
            int silent = 0;
            String why = null;
            for (io.sonde.server.spi.FleetHealth.Vantage v : t.vantages()) {
                AgentRecord a = agents.get(v.agentId());
                if (a == null || !rule.agents().matches(a.tags())) {
                    continue;
                }
                io.sonde.agent.spi.Health.State st = v.state();
                if (st == io.sonde.agent.spi.Health.State.UNKNOWN || st == io.sonde.agent.spi.Health.State.REFUSED
                        || st == io.sonde.agent.spi.Health.State.NO_PROBER) {
                    silent++;
                    why = why == null ? v.agentId() + ": " + v.reason() : why;
                    continue;
                }
                boolean down = st.isDown();
                vantages.add(new Vantage(v.agentId(), down ? 1 : 0, down, down, v.agentId() + " " + st.label()
                        + (v.since() == null ? "" : " since " + v.since()) + (down && v.reason() != null ? " (" + v.reason() + ")" : "")));
            }
            if (vantages.isEmpty()) {
                out.add(Observation.noData(t.target(), silent == 0 ? "no vantage agent probes it"
                        : "no vantage agent has a standing result for it (" + why + ")"));
                continue;
            }
            out.add(combine(rule, t.target(), vantages));
        }
        return out;
    }

    /** @return the vantage's figure, or null where the rule has nothing to say of this kind of result */
    private static Vantage vantage(AlertRule rule, SeriesWindow w, Lookup lookup, Instant now) {
        switch (rule.type()) {
            case TARGET_DOWN -> {
                boolean down = w.count() > 0 && w.failures() == w.count();
                return new Vantage(w.agentId(), down ? 1 : 0, down, down,
                        w.agentId() + (down ? " down (" + w.count() + " of " + w.count() + " failed)" : " up (" + (w.count() - w.failures())
                                + " of " + w.count() + " succeeded)"));
            }
            case LOSS -> {
                double pct = w.loss() * 100;
                return new Vantage(w.agentId(), pct, pct > rule.threshold(), pct > rule.recovery(),
                        w.agentId() + " " + String.format(Locale.ROOT, "%.1f %%", pct));
            }
            case LATENCY -> {
                Double s = switch (rule.percentile()) {
                    case 50 -> w.p50();
                    case 99 -> w.p99();
                    default -> w.p90();
                };
                if (s == null) {
                    return null; // nothing succeeded: a matter for target_down
                }
                double ms = s * 1000;
                return new Vantage(w.agentId(), ms, ms > rule.threshold(), ms > rule.recovery(),
                        w.agentId() + " p" + rule.percentile() + " " + String.format(Locale.ROOT, "%.1f ms", ms));
            }
            case TLS_EXPIRY -> {
                String expiry = valueWith(lookup, w.kind(), io.sonde.api.ResultSchema.Role.CERT_EXPIRY);
                if (expiry == null) {
                    return null; // the kind's results have no certificate
                }
                Optional<StoredResult> r = lookup.latest(w.agentId(), w.target());
                if (r.isEmpty() || !r.get().details().has(expiry)) {
                    return null; // no certificate in this one (plain HTTP)
                }
                double days;
                try {
                    days = (Instant.parse(r.get().details().get(expiry).getAsString()).toEpochMilli() - now.toEpochMilli()) / 86_400_000.0;
                } catch (RuntimeException e) {
                    return null;
                }
                return new Vantage(w.agentId(), days, days < rule.threshold(), days < rule.recovery(),
                        w.agentId() + " " + String.format(Locale.ROOT, "%.1f days", days));
            }
            case VALUE -> {
                Optional<StoredResult> r = lookup.latest(w.agentId(), w.target());
                double v = r.isEmpty() ? Double.NaN : io.sonde.server.spi.ResultValues.number(r.get().details(), rule.value());
                if (Double.isNaN(v)) {
                    return null; // the kind's results do not have it, or this one did not measure it
                }
                boolean bad = rule.below() ? v < rule.threshold() : v > rule.threshold();
                boolean stillBad = rule.below() ? v < rule.recovery() : v > rule.recovery();
                return new Vantage(w.agentId(), v, bad, stillBad, w.agentId() + " " + rule.value() + " "
                        + String.format(Locale.ROOT, "%.6g", v));
            }
            case ROUTE_CHANGE -> {
                String path = valueWith(lookup, w.kind(), io.sonde.api.ResultSchema.Role.PATH);
                if (path == null) {
                    return null; // the kind's results have no path
                }
                int changes = routeChanges(lookup.lastHour(w.agentId(), w.target()), path,
                        valueWith(lookup, w.kind(), io.sonde.api.ResultSchema.Role.BRANCHES));
                return new Vantage(w.agentId(), changes, changes > rule.threshold(), changes > rule.recovery(),
                        w.agentId() + " " + changes + " changes");
            }
            case NEW_AS -> {
                io.sonde.asn.AsnLookup asns = lookup.asns();
                String path = valueWith(lookup, w.kind(), io.sonde.api.ResultSchema.Role.PATH);
                if (asns == null || path == null) {
                    return null; // no table, or the kind's results have no path
                }
                // the ASes the results of the rule's window cross that none crossed at the start of the hour: the
                // first window's results (so that the alert holds while the path crosses it, an hour at most)
                List<StoredResult> hour = lookup.lastHour(w.agentId(), w.target());
                if (hour.isEmpty()) {
                    return null;
                }
                Instant since = now.minus(rule.window());
                Instant first = hour.get(0).result().startedAt().plus(rule.window());
                Instant baselineEnd = first.isBefore(since) ? first : since;
                String branches = valueWith(lookup, w.kind(), io.sonde.api.ResultSchema.Role.BRANCHES);
                Map<Long, String> recent = new java.util.LinkedHashMap<>();
                java.util.Set<Long> before = new java.util.HashSet<>();
                boolean history = false;
                for (StoredResult r : hour) {
                    Instant t = r.result().startedAt();
                    if (t.isBefore(baselineEnd)) {
                        before.addAll(crossed(r, path, branches, asns).keySet());
                        history = true;
                    } else if (!t.isBefore(since)) {
                        crossed(r, path, branches, asns).forEach(recent::putIfAbsent);
                    }
                }
                if (recent.isEmpty() && !history) {
                    return null;
                }
                List<String> fresh = new ArrayList<>();
                if (history) { // with nothing before, nothing is new
                    recent.forEach((asn, where) -> {
                        if (!before.contains(asn)) {
                            fresh.add(where);
                        }
                    });
                }
                return new Vantage(w.agentId(), fresh.size(), fresh.size() > rule.threshold(), fresh.size() > rule.recovery(),
                        w.agentId() + (fresh.isEmpty() ? " no new AS" : " crosses " + String.join(", ", fresh)));
            }
            default -> {
                return null;
            }
        }
    }

    /**
     * @return the ASes a result's path crosses (with several flows, any of its paths), each with
     *         where it was first seen ({@code AS64530 NAME at hop 3}), in hop order
     */
    static Map<Long, String> crossed(StoredResult r, String pathValue, String branchesValue, io.sonde.asn.AsnLookup asns) {
        // the AS each hop has as the API shows it: its agent's own table's, else the server's
        JsonObject d = io.sonde.asn.HopAsns.annotate(r.details(), asns);
        Map<Long, String> out = new java.util.LinkedHashMap<>();
        JsonElement hops = d.get(pathValue);
        if (hops != null && hops.isJsonArray()) {
            int i = 0;
            for (JsonElement h : (JsonArray) hops) {
                i++;
                JsonElement asn = h.isJsonObject() ? h.getAsJsonObject().get("asn") : null;
                if (asn != null && asn.isJsonPrimitive()) {
                    JsonElement name = h.getAsJsonObject().get("as_name");
                    out.putIfAbsent(asn.getAsLong(), "AS" + asn.getAsLong() + (name == null ? "" : " " + name.getAsString()) + " at hop " + i);
                }
            }
        }
        JsonElement b = branchesValue == null ? null : d.get(branchesValue);
        if (b != null && b.isJsonArray()) {
            for (JsonElement p : (JsonArray) b) {
                JsonElement list = p.isJsonObject() ? p.getAsJsonObject().get("asns") : null;
                if (list != null && list.isJsonArray()) {
                    int i = 0;
                    for (JsonElement asn : (JsonArray) list) {
                        i++;
                        if (asn.isJsonPrimitive()) {
                            out.putIfAbsent(asn.getAsLong(), "AS" + asn.getAsLong() + " at hop " + i);
                        }
                    }
                }
            }
        }
        return out;
    }

    /** @return how often the path (the hops' addresses; a hop that did not answer is taken as last known) changed from one result to the next */
    static int routeChanges(List<StoredResult> results, String pathValue) {
        return routeChanges(results, pathValue, null);
    }

    /**
     * @param branchesValue the kind's value with the distinct paths of several flows (role BRANCHES), or null
     * @return how often the route changed from one result to the next: the path, or with several
     *         flows the set of distinct paths (a path of one result matching none of the other's, in
     *         either direction); a hop that did not answer matches any address
     */
    static int routeChanges(List<StoredResult> results, String pathValue, String branchesValue) {
        List<List<String>> before = null;
        int changes = 0;
        for (StoredResult r : results) {
            JsonElement branches = branchesValue == null ? null : r.details().get(branchesValue);
            List<List<String>> paths = new ArrayList<>();
            if (branches != null && branches.isJsonArray() && !((JsonArray) branches).isEmpty()) {
                for (JsonElement b : (JsonArray) branches) {
                    JsonElement hops = b.isJsonObject() ? b.getAsJsonObject().get("hops") : null;
                    if (hops != null && hops.isJsonArray()) {
                        paths.add(addresses((JsonArray) hops));
                    }
                }
            } else {
                JsonElement hops = r.details().get(pathValue);
                if (hops == null || !hops.isJsonArray()) {
                    continue;
                }
                paths.add(addresses((JsonArray) hops));
            }
            if (before != null && !(covered(paths, before) && covered(before, paths))) {
                changes++;
            } else if (before != null && paths.size() == 1 && before.size() == 1) {
                List<String> path = paths.get(0);
                for (int i = 0; i < path.size(); i++) {
                    if (path.get(i) == null) {
                        path.set(i, before.get(0).get(i)); // the hop as last known, so that a silent hop does not hide a change
                    }
                }
            }
            before = paths;
        }
        return changes;
    }

    /** @return the addresses of a list of hops (objects with an address) or of addresses, null for a silent hop */
    private static List<String> addresses(JsonArray hops) {
        List<String> path = new ArrayList<>(hops.size());
        for (JsonElement h : hops) {
            JsonElement a = h.isJsonObject() ? h.getAsJsonObject().get("address") : h;
            path.add(a == null || a.isJsonNull() ? null : a.getAsString());
        }
        return path;
    }

    /** @return whether every path of {@code these} is the same as some path of {@code those} */
    private static boolean covered(List<List<String>> these, List<List<String>> those) {
        for (List<String> p : these) {
            boolean found = false;
            for (List<String> q : those) {
                found |= samePath(p, q);
            }
            if (!found) {
                return false;
            }
        }
        return true;
    }

    private static boolean samePath(List<String> a, List<String> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i) != null && b.get(i) != null && !a.get(i).equals(b.get(i))) {
                return false;
            }
        }
        return true;
    }

    private static Observation combine(AlertRule rule, String target, List<Vantage> vantages) {
        boolean lowIsBad = rule.type() == AlertRule.Type.TLS_EXPIRY || rule.below();
        vantages.sort(Comparator.comparingDouble(Vantage::value));
        if (!lowIsBad) {
            java.util.Collections.reverse(vantages); // worst first
        }
        long bad = vantages.stream().filter(Vantage::bad).count();
        long stillBad = vantages.stream().filter(Vantage::stillBad).count();
        int x = rule.minVantage();
        double value = vantages.get(Math.min(x, vantages.size()) - 1).value();
        String counts = bad + " of " + vantages.size() + " vantage agents" + (x > 1 ? ", " + x + " needed" : "");
        String summary = switch (rule.type()) {
            case TARGET_DOWN -> target + " is down from " + counts;
            case LOSS -> target + " loses " + String.format(Locale.ROOT, "%.1f", value) + " % of its packets (" + counts + " over "
                    + fmt(rule.threshold()) + " %)";
            case LATENCY -> target + ": p" + rule.percentile() + " latency " + String.format(Locale.ROOT, "%.1f", value) + " ms (" + counts
                    + " over " + fmt(rule.threshold()) + " ms)";
            case TLS_EXPIRY -> "the certificate of " + target + " expires in " + String.format(Locale.ROOT, "%.1f", value) + " days";
            case ROUTE_CHANGE -> "the path to " + target + " changed " + (long) value + " times in the last hour (" + counts + ")";
            case NEW_AS -> "the path to " + target + " crosses " + (long) value + (value == 1 ? " AS" : " ASes")
                    + " it did not cross an hour ago (" + counts + ")";
            case VALUE -> target + ": " + rule.value() + " " + String.format(Locale.ROOT, "%.6g", value) + " (" + counts
                    + (rule.below() ? " under " : " over ") + fmt(rule.threshold()) + ")";
            default -> target;
        };
        if (rule.type() == AlertRule.Type.TARGET_DOWN) {
            value = bad;
        }
        return new Observation(target, false, bad >= x, stillBad >= x, value, summary,
                String.join("; ", vantages.stream().map(Vantage::text).toList()));
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    /** Agent rules: offline, or not applying the configuration document the server makes for it now. */
    static List<Observation> agents(AlertRule rule, Map<String, AgentRecord> agents, Instant now, Duration offlineAfter, Lookup lookup) {
        List<Observation> out = new ArrayList<>();
        for (AgentRecord a : agents.values()) {
            if (a.revokedAt() != null || !rule.agents().matches(a.tags())) {
                continue;
            }
            boolean online = a.online(now, offlineAfter);
            if (rule.type() == AlertRule.Type.AGENT_OFFLINE) {
                double seconds = a.lastSeen() == null ? Double.NaN : (now.toEpochMilli() - a.lastSeen().toEpochMilli()) / 1000.0;
                String seen = a.lastSeen() == null ? "never heard from" : "last heard from " + a.lastSeen();
                out.add(new Observation(a.agentId(), false, !online, !online, seconds,
                        "agent " + a.agentId() + (online ? " is online" : " is offline"), seen));
                continue;
            }
            if (!online) {
                out.add(Observation.noData(a.agentId(), "the agent is offline"));
                continue;
            }
            Optional<String> expected = lookup.configVersion(a.agentId());
            String applied = a.config() == null ? null : a.config().version();
            boolean stale = expected.isPresent() && !expected.get().equals(applied);
            out.add(new Observation(a.agentId(), false, stale, stale, stale ? 1 : 0,
                    "agent " + a.agentId() + (stale ? " does not apply its current configuration" : " applies its current configuration"),
                    "applies " + (applied == null ? "none" : applied) + (expected.isPresent() ? ", the server's is " + expected.get() : "")
                            + (a.config() != null && a.config().source() != null ? " (from " + a.config().source() + ")" : "")));
        }
        return out;
    }
}
