package io.sonde.server.statuspages.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;

import io.sonde.agent.spi.Health;
import io.sonde.server.spi.AgentRecord;
import io.sonde.server.spi.Definition;
import io.sonde.server.spi.FleetHealth;
import io.sonde.server.spi.MaintenanceCalendar;
import io.sonde.server.spi.Store;
import io.sonde.server.spi.StoreException;
import io.sonde.server.spi.Uptime;

/**
 * What a status page shows, built from the store in one go: each group's targets with their state
 * now by the health model (down and backoff are "down"; an agent's refusal or a missing plugin is
 * the operator's matter: "unknown"), their availability per day over 90 days and over 30, the
 * incidents going on (targets down or degraded now) and past (their outages of the last 14 days),
 * and the maintenance that takes them. Nothing else: no agent, address or error text.
 */
final class PageModel {

    static final int DAYS = 90;
    static final int MAX_TARGETS = 200;
    static final int PAST_DAYS = 14;
    static final int MAX_PAST = 20;
    static final long DAY_MS = 86_400_000L;

    /** One target as the page shows it, for its badge too. */
    record Shown(String target, String state, Double percent30) {
    }

    /** An answer as sent: its bytes, and gzipped for the clients that take it. */
    record Rendered(byte[] plain, byte[] gzip) {

        static Rendered of(String text) {
            byte[] plain = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(plain.length / 8 + 64);
            try (java.util.zip.GZIPOutputStream gz = new java.util.zip.GZIPOutputStream(out)) {
                gz.write(plain);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e); // into memory: does not happen
            }
            return new Rendered(plain, out.toByteArray());
        }
    }

    /** The page built: its document (status.json) and its targets, the page and the document rendered once for every request. */
    record Built(JsonObject document, Map<String, Shown> targets, long builtAtMs, Rendered html, Rendered json) {
    }

    private PageModel() {
    }

    /**
     * @return the page's groups in order, each with the targets it takes: a group with
     *         {@code by_label} becomes one group per value of that label among its targets (in the
     *         values' order, "name: value"; its targets without the label last, "name: other")
     */
    static Map<String, List<FleetHealth.TargetHealth>> groups(StatusPage page, List<FleetHealth.TargetHealth> health,
            Map<String, List<String>> tags, Map<String, java.util.SortedMap<String, String>> labels) {
        Map<String, List<FleetHealth.TargetHealth>> out = new LinkedHashMap<>();
        for (StatusPage.Group g : page.groups()) {
            List<FleetHealth.TargetHealth> taken = new ArrayList<>();
            for (FleetHealth.TargetHealth t : health) {
                if (StatusPage.takes(g, t.target(), tags.getOrDefault(t.target(), List.of()))) {
                    taken.add(t);
                }
            }
            if (g.byLabel() == null) {
                out.computeIfAbsent(g.name(), k -> new ArrayList<>()).addAll(taken);
                continue;
            }
            java.util.TreeMap<String, List<FleetHealth.TargetHealth>> byValue = new java.util.TreeMap<>();
            List<FleetHealth.TargetHealth> other = new ArrayList<>();
            for (FleetHealth.TargetHealth t : taken) {
                String v = labels.getOrDefault(t.target(), java.util.Collections.emptySortedMap()).get(g.byLabel());
                (v == null ? other : byValue.computeIfAbsent(v, k -> new ArrayList<>())).add(t);
            }
            byValue.forEach((v, ts) -> out.computeIfAbsent(g.name() + ": " + v, k -> new ArrayList<>()).addAll(ts));
            if (!other.isEmpty()) {
                out.computeIfAbsent(g.name() + ": other", k -> new ArrayList<>()).addAll(other);
            }
        }
        return out;
    }

    static Built build(StatusPage page, Store store, MaintenanceCalendar calendar, Duration offlineAfter, Instant now) throws StoreException {
        List<Definition> definitions = store.definitions(Definition.TARGET);
        Map<String, Map<String, String>> stored = store.targetLabels();
        Map<String, List<String>> tags = FleetHealth.targetTags(definitions, stored);
        Map<String, java.util.SortedMap<String, String>> labels = FleetHealth.targetLabels(definitions, stored);
        Map<String, AgentRecord> agents = new HashMap<>();
        for (AgentRecord a : store.agents()) {
            agents.put(a.agentId(), a);
        }
        List<FleetHealth.TargetHealth> health = FleetHealth.compute(store.targetStates(), agents, definitions, List.of(), now, offlineAfter);
        Instant today = Instant.ofEpochMilli(Math.floorDiv(now.toEpochMilli(), DAY_MS) * DAY_MS);
        Instant to = today.plus(Duration.ofDays(1));
        Instant from = to.minus(Duration.ofDays(DAYS));
        Map<String, Shown> shown = new LinkedHashMap<>();
        JsonArray groups = new JsonArray();
        List<JsonObject> ongoing = new ArrayList<>();
        List<Uptime.Outage> past = new ArrayList<>();
        List<JsonObject> maintenance = new ArrayList<>();
        Map<String, JsonObject> windowsSeen = new HashMap<>();
        int down = 0;
        int degraded = 0;
        int known = 0;
        for (Map.Entry<String, List<FleetHealth.TargetHealth>> g : groups(page, health, tags, labels).entrySet()) {
            JsonArray targets = new JsonArray();
            String worst = null;
            for (FleetHealth.TargetHealth t : g.getValue()) {
                List<String> tTags = tags.getOrDefault(t.target(), List.of());
                if (shown.size() >= MAX_TARGETS && !shown.containsKey(t.target())) {
                    continue;
                }
                String state = state(t.overall().state());
                JsonObject o = new JsonObject();
                o.addProperty("name", t.target());
                o.addProperty("state", state);
                o.addProperty("since", t.since() == null ? null : t.since().toString());
                List<Uptime> days = new ArrayList<>(store.uptime(from, to, t.target(), true));
                days.removeIf(u -> u.agentId() != null);
                Uptime all = sum(t.target(), days, from);
                Uptime last30 = sum(t.target(), days, to.minus(Duration.ofDays(30)));
                o.addProperty("availability_90d", percent(all));
                o.addProperty("availability_30d", percent(last30));
                o.add("days", days(days, from, to));
                targets.add(o);
                if (!shown.containsKey(t.target())) {
                    shown.put(t.target(), new Shown(t.target(), state, percent(last30)));
                    known += state.equals("unknown") ? 0 : 1;
                    down += state.equals("down") ? 1 : 0;
                    degraded += state.equals("degraded") ? 1 : 0;
                    if (state.equals("down") || state.equals("degraded")) {
                        JsonObject i = new JsonObject();
                        i.addProperty("target", t.target());
                        i.addProperty("state", state);
                        i.addProperty("since", t.since() == null ? null : t.since().toString());
                        ongoing.add(i);
                    }
                    for (Uptime.Outage out : store.outages(now.minus(Duration.ofDays(PAST_DAYS)), now, t.target())) {
                        if (out.end().isBefore(now.minus(Duration.ofHours(3))) || !state.equals("down")) {
                            past.add(out); // while it is down, one that ends where the counting does (an hour or two behind) is the one going on
                        }
                    }
                    if (calendar != null) {
                        for (MaintenanceCalendar.Opening m : calendar.openings(t.target(), tTags, now)) {
                            JsonObject w = windowsSeen.get(m.name());
                            if (w == null) {
                                w = new JsonObject();
                                w.addProperty("title", m.comment().isEmpty() ? m.name() : m.comment());
                                w.addProperty("active", m.active());
                                w.addProperty("starts_at", m.startsAt().toString());
                                w.addProperty("ends_at", m.endsAt().toString());
                                w.add("targets", new JsonArray());
                                windowsSeen.put(m.name(), w);
                                maintenance.add(w);
                            }
                            w.getAsJsonArray("targets").add(t.target());
                        }
                    }
                }
                worst = worse(worst, state);
            }
            JsonObject group = new JsonObject();
            group.addProperty("name", g.getKey());
            group.addProperty("state", worst == null ? "unknown" : worst);
            group.add("targets", targets);
            groups.add(group);
        }
        JsonObject doc = new JsonObject();
        doc.addProperty("name", page.name());
        doc.addProperty("title", page.title());
        doc.addProperty("description", page.description());
        doc.addProperty("notice", page.notice());
        doc.addProperty("state", known == 0 ? "unknown" : down * 2 >= known ? "major_outage" : down > 0 ? "partial_outage"
                : degraded > 0 ? "degraded" : "operational");
        doc.addProperty("updated_at", now.toString());
        doc.addProperty("days_from", from.toString().substring(0, 10));
        doc.add("groups", groups);
        JsonObject incidents = new JsonObject();
        JsonArray on = new JsonArray();
        ongoing.forEach(on::add);
        incidents.add("ongoing", on);
        past.sort(Comparator.comparing(Uptime.Outage::start).reversed());
        JsonArray before = new JsonArray();
        for (Uptime.Outage o : past.subList(0, Math.min(MAX_PAST, past.size()))) {
            JsonObject x = new JsonObject();
            x.addProperty("target", o.target());
            x.addProperty("start", o.start().toString());
            x.addProperty("end", o.end().toString());
            x.addProperty("minutes", o.minutes());
            before.add(x);
        }
        incidents.add("past", before);
        doc.add("incidents", incidents);
        JsonArray ms = new JsonArray();
        maintenance.sort(Comparator.comparing((JsonObject w) -> w.get("starts_at").getAsString()));
        maintenance.forEach(ms::add);
        doc.add("maintenance", ms);
        return new Built(doc, Map.copyOf(shown), now.toEpochMilli(), Rendered.of(Html.page(doc)), Rendered.of(doc.toString()));
    }

    /** @return the state a public page says: up, degraded, down or unknown */
    static String state(Health.State s) {
        return switch (s) {
            case UP -> "up";
            case DEGRADED -> "degraded";
            case DOWN, BACKOFF -> "down";
            default -> "unknown";
        };
    }

    private static String worse(String a, String b) {
        List<String> order = List.of("unknown", "up", "degraded", "down");
        if (a == null) {
            return b;
        }
        return order.indexOf(b) > order.indexOf(a) ? b : a;
    }

    private static Uptime sum(String target, List<Uptime> days, Instant from) {
        Uptime total = new Uptime(target, null, null, 0, 0, 0, 0);
        for (Uptime d : days) {
            if (!d.day().isBefore(from)) {
                total = total.plus(d);
            }
        }
        return total;
    }

    private static Double percent(Uptime u) {
        double a = u.availability();
        return Double.isNaN(a) ? null : Math.round(a * 1_000_000) / 10_000.0;
    }

    /** @return a cell per day from {@code from}: its availability in percent, null where nothing is counted */
    private static JsonArray days(List<Uptime> days, Instant from, Instant to) {
        Map<Instant, Uptime> byDay = new HashMap<>();
        days.forEach(d -> byDay.put(d.day(), d));
        JsonArray out = new JsonArray();
        for (Instant d = from; d.isBefore(to); d = d.plus(Duration.ofDays(1))) {
            Uptime u = byDay.get(d);
            Double p = u == null ? null : percent(u);
            if (p == null) {
                out.add(JsonNull.INSTANCE);
            } else {
                out.add(p);
            }
        }
        return out;
    }
}
