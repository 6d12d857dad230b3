package io.sonde.server.config.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;

import io.sonde.api.Target;
import io.sonde.agent.spi.TargetKeys;
import io.sonde.api.TargetProblem;
import io.sonde.server.spi.AgentSelector;
import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

/**
 * What the API takes as a target definition and as a mesh, checked whole before it is stored: the
 * server's checks are the agent's generic ones ({@link TargetKeys}) and the selector grammar; a
 * kind's own keys are its plugin's, checked by the agents, which report what they refuse. Each
 * check returns the definition in its canonical form, the one stored and handed out.
 */
final class Definitions {

    /** A definition's name: a path segment, at most 200 characters, no control characters. */
    static final int MAX_NAME = 200;

    /** A kind's key: what a .cfg file may hold, at most 100 characters. */
    private static final String KEY = "[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}";

    /** The longest text value taken. */
    static final int MAX_VALUE = 4096;

    /** Keys of a target definition, beyond the target's own. */
    static final String AGENTS = "agents";

    /** The keys a mesh sets for each of its targets: not the operator's. */
    private static final Set<String> SET_BY_MESH = Set.of("name", "kind", "host", AGENTS, "tags", TargetKeys.LABELS);

    /** The keys of a mesh itself. */
    static final List<String> MESH_KEYS = List.of("name", "members", "kinds", "fanout", "interval_ms", "responder_port");

    /** Kinds one mesh may probe its peers with. */
    static final int MAX_KINDS = 8;

    private Definitions() {
    }

    static WireException invalid(String message) {
        return new WireException(WireException.Problem.INVALID, message);
    }

    /** Checks a definition's name, from the path, against the body's, if it has one. */
    static void checkName(String name, JsonObject body) throws WireException {
        if (name == null || name.isBlank() || name.length() > MAX_NAME || name.contains("/")
                || !name.chars().allMatch(c -> c >= 0x20 && c != 0x7f)) {
            throw invalid("name: '" + WireCodec.abbreviate(String.valueOf(name))
                    + "' is not a name (1-200 characters, no '/', no control characters)");
        }
        JsonElement inBody = body.get("name");
        if (inBody != null && !inBody.isJsonNull() && !(inBody.isJsonPrimitive() && name.equals(inBody.getAsString()))) {
            throw invalid("name: '" + WireCodec.abbreviate(inBody.toString()) + "' differs from the name in the path, '" + name + "'");
        }
    }

    /**
     * @param name the target's name, from the path
     * @param body its keys: those of a .cfg target, and {@code agents}, the selector of the agents that probe it
     * @return the canonical definition: name, agents, then the keys as given
     * @throws WireException naming the field at fault
     */
    static JsonObject target(String name, JsonObject body) throws WireException {
        checkName(name, body);
        JsonObject out = new JsonObject();
        out.addProperty("name", name);
        out.addProperty(AGENTS, selector(body, AGENTS).toString());
        Map<String, Object> keys = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : body.entrySet()) {
            String key = e.getKey();
            if (key.equals("name") || key.equals(AGENTS) || e.getValue().isJsonNull()) {
                continue;
            }
            Object value = value(key, e.getValue(), key);
            keys.put(key, value);
            out.add(key, e.getValue());
        }
        keys.put("name", name);
        problems(TargetKeys.check(keys, name, null).problems(), "");
        return out;
    }

    /**
     * Checks a target definition's own keys against its kind's options as the agents announce them
     * (the same check the agents apply: {@link io.sonde.api.TargetSchema#problems}).
     *
     * @param checked  the definition, in its canonical form
     * @param schemas  each announced kind's schema
     * @return a warning when no agent announces the kind (its keys are then checked by the agents
     *         that take it, which report what they refuse), else null
     * @throws WireException naming each key at fault
     */
    static String kindOptions(JsonObject checked, Map<String, io.sonde.api.TargetSchema> schemas) throws WireException {
        JsonElement k = checked.get("kind");
        String kind = k == null || !k.isJsonPrimitive() ? null : Target.canonicalKind(k.getAsString());
        if (kind == null) {
            return null; // TargetKeys named it missing already
        }
        io.sonde.api.TargetSchema schema = schemas.get(kind);
        if (schema == null) {
            return "no agent has announced the kind '" + kind + "' (announced: " + (schemas.isEmpty() ? "none yet"
                    : String.join(", ", schemas.keySet())) + "); its own keys are checked by the agents that take it";
        }
        Map<String, String> options = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : checked.entrySet()) {
            if (e.getKey().equals(AGENTS) || !e.getValue().isJsonPrimitive()) {
                continue;
            }
            java.util.Optional<io.sonde.api.TargetOption> o = schema.option(e.getKey());
            // a file is the agent's, not the server's: its name is checked where it is read
            boolean file = o.isPresent() && o.get().type() == io.sonde.api.TargetOption.Type.FILE;
            options.put(e.getKey(), file ? "" : e.getValue().getAsString().strip());
        }
        List<TargetProblem> found = new ArrayList<>();
        for (TargetProblem p : schema.problems(kind, options)) {
            java.util.Optional<io.sonde.api.TargetOption> o = p.key() == null ? java.util.Optional.empty() : schema.option(p.key());
            if (o.isEmpty() || o.get().type() != io.sonde.api.TargetOption.Type.FILE || !options.containsKey(p.key())) {
                found.add(p);
            }
        }
        problems(found, "");
        if (schema.portRequired() && !options.containsKey("port")) {
            throw invalid("port: missing; " + kind + " targets need a port");
        }
        return null;
    }

    /**
     * @param name the mesh's name, from the path
     * @param body {@code members} (a selector), {@code kinds} (a list of kinds, or each kind with
     *             its own keys), {@code fanout} (peers each member probes, or {@code all}),
     *             {@code interval_ms} (the kinds' interval where they set none)
     * @return the canonical mesh: kinds as an object of each kind's keys
     * @throws WireException naming the field at fault
     */
    static JsonObject mesh(String name, JsonObject body) throws WireException {
        checkName(name, body);
        onlyKeys(body, MESH_KEYS, "mesh", "; a kind's keys go in kinds");
        JsonObject out = new JsonObject();
        out.addProperty("name", name);
        out.addProperty("members", selector(body, "members").toString());
        JsonElement fanout = body.get("fanout");
        if (fanout == null || fanout.isJsonNull()) {
            throw invalid("fanout: missing; the peers each member probes (1 or more), or all for a full mesh");
        }
        if (fanout.isJsonPrimitive() && fanout.getAsJsonPrimitive().isString() && fanout.getAsString().strip().equalsIgnoreCase("all")) {
            out.addProperty("fanout", "all");
        } else {
            Long k = fanout.isJsonPrimitive() ? TargetKeys.whole(fanout.getAsJsonPrimitive().isNumber() ? fanout.getAsNumber()
                    : fanout.getAsString(), "fanout", new ArrayList<>()) : null;
            if (k == null || k < 1 || k > PeerPlan.MAX_MEMBERS) {
                throw invalid("fanout: " + WireCodec.abbreviate(fanout.toString()) + " is neither a number of peers (1 or more) nor all");
            }
            out.addProperty("fanout", k);
        }
        if (body.has("responder_port") && !body.get("responder_port").isJsonNull()) {
            out.addProperty("responder_port", whole(body, "responder_port", 1, 65535, 0,
                    "a port number (1-65535); the members' responders listen there"));
        }
        Long interval = null;
        JsonElement rawInterval = body.get("interval_ms");
        if (rawInterval != null && !rawInterval.isJsonNull()) {
            // the mesh's own key, by the targets' rule: a bad one is named here, not in each kind
            TargetKeys.Generic read = TargetKeys.check(Map.of("name", name, "kind", "mesh", "host", "peer.invalid",
                    "interval_ms", value("interval_ms", rawInterval, "interval_ms")), name, null);
            problems(read.problems(), "");
            interval = read.intervalMs();
            out.addProperty("interval_ms", interval);
        }
        JsonElement kinds = body.get("kinds");
        JsonObject perKind = new JsonObject();
        if (kinds != null && kinds.isJsonArray()) {
            for (int i = 0; i < kinds.getAsJsonArray().size(); i++) {
                JsonElement k = kinds.getAsJsonArray().get(i);
                if (!k.isJsonPrimitive() || !k.getAsJsonPrimitive().isString()) {
                    throw invalid("kinds[" + i + "]: " + WireCodec.abbreviate(k.toString()) + " is not a kind");
                }
                perKind.add(k.getAsString(), new JsonObject());
            }
        } else if (kinds != null && kinds.isJsonObject()) {
            for (Map.Entry<String, JsonElement> e : kinds.getAsJsonObject().entrySet()) {
                if (!e.getValue().isJsonObject() && !e.getValue().isJsonNull()) {
                    throw invalid("kinds." + e.getKey() + ": the kind's keys, as an object ({} for none)");
                }
                perKind.add(e.getKey(), e.getValue().isJsonNull() ? new JsonObject() : e.getValue());
            }
        } else {
            throw invalid("kinds: missing; the kinds the members probe each other with, e.g. [\"icmp\", \"tcp\"], or each with its keys");
        }
        if (perKind.size() == 0 || perKind.size() > MAX_KINDS) {
            throw invalid("kinds: " + perKind.size() + " kinds; a mesh probes with 1 to " + MAX_KINDS);
        }
        JsonObject canonicalKinds = new JsonObject();
        for (Map.Entry<String, JsonElement> e : perKind.entrySet()) {
            String kind = Target.canonicalKind(e.getKey());
            String at = "kinds." + e.getKey();
            if (!e.getKey().matches(KEY)) {
                throw invalid(at + ": '" + WireCodec.abbreviate(e.getKey()) + "' is not a kind");
            }
            if (canonicalKinds.has(kind)) {
                throw invalid(at + ": " + kind + " is named twice");
            }
            Map<String, Object> keys = new LinkedHashMap<>();
            for (Map.Entry<String, JsonElement> k : e.getValue().getAsJsonObject().entrySet()) {
                if (SET_BY_MESH.contains(k.getKey())) {
                    throw invalid(at + "." + k.getKey() + ": set by the mesh (the name, the kind, and the peer as host)");
                }
                if (!k.getValue().isJsonNull()) {
                    keys.put(k.getKey(), value(k.getKey(), k.getValue(), at + "." + k.getKey()));
                }
            }
            if (interval != null && !keys.containsKey("interval_ms")) {
                keys.put("interval_ms", interval);
            }
            Map<String, Object> asTarget = new LinkedHashMap<>(keys);
            asTarget.put("name", name);
            asTarget.put("kind", kind);
            asTarget.put("host", "peer.invalid"); // the peer's address, known when documents are made
            problems(TargetKeys.check(asTarget, name, null).problems(), at + ".");
            JsonObject settings = new JsonObject();
            keys.forEach((k, v) -> settings.add(k, v instanceof Number n ? new JsonPrimitive(n) : new JsonPrimitive(String.valueOf(v))));
            canonicalKinds.add(kind, settings);
        }
        out.add("kinds", canonicalKinds);
        return out;
    }

    /** The keys of a rollout. */
    static final List<String> ROLLOUT_KEYS = List.of("name", "bundle", "version", "agents", "percent", "state", "max_failed_percent");

    /** A rollout's states: agents install it; hold where they are; go back to what they ran before it. */
    static final List<String> ROLLOUT_STATES = List.of("active", "paused", "rolled_back");

    /**
     * @param name the rollout's name, from the path
     * @param body {@code bundle} (a symbolic name), {@code version}, {@code agents} (a selector),
     *             {@code percent} (1-100 of the agents selected, 100 when absent), {@code state}
     *             ({@code active} when absent, {@code paused}, {@code rolled_back})
     * @return the canonical rollout
     * @throws WireException naming the field at fault
     */
    static JsonObject rollout(String name, JsonObject body) throws WireException {
        checkName(name, body);
        onlyKeys(body, ROLLOUT_KEYS, "rollout", "");
        JsonObject out = new JsonObject();
        out.addProperty("name", name);
        for (String key : List.of("bundle", "version")) {
            JsonElement v = body.get(key);
            if (v == null || !v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString() || v.getAsString().isBlank()
                    || v.getAsString().length() > 255) {
                throw invalid(key + ": missing; the " + (key.equals("bundle") ? "bundle's symbolic name" : "version to run")
                        + ", as the repository has it (GET /api/v1/bundles)");
            }
            out.addProperty(key, v.getAsString().strip());
        }
        out.addProperty("agents", selector(body, "agents").toString());
        out.addProperty("percent", whole(body, "percent", 1, 100, 100, "a percentage of the agents selected (1-100)"));
        String state = "active";
        JsonElement st = body.get("state");
        if (st != null && !st.isJsonNull()) {
            state = st.isJsonPrimitive() ? st.getAsString().strip().toLowerCase(java.util.Locale.ROOT) : "";
            if (!ROLLOUT_STATES.contains(state)) {
                throw invalid("state: " + WireCodec.abbreviate(st.toString()) + " is not one of " + String.join(", ", ROLLOUT_STATES));
            }
        }
        out.addProperty("state", state);
        out.addProperty("max_failed_percent", whole(body, "max_failed_percent", 1, 100, 20,
                "a percentage (1-100) of the agents taken that may fail before the rollout is paused"));
        return out;
    }

    /** Refuses a key of {@code body} not in {@code keys}, naming it and what a {@code what} takes. */
    private static void onlyKeys(JsonObject body, List<String> keys, String what, String hint) throws WireException {
        for (String key : body.keySet()) {
            if (!keys.contains(key)) {
                throw invalid(key + ": not a " + what + " setting (" + String.join(", ", keys) + hint + ")");
            }
        }
    }

    /**
     * @return the whole number in {@code key} within {@code min..max}, {@code absent} when the key is
     *         missing; anything else an error saying it is not {@code what}
     */
    private static int whole(JsonObject body, String key, int min, int max, int absent, String what) throws WireException {
        JsonElement v = body.get(key);
        if (v == null || v.isJsonNull()) {
            return absent;
        }
        Long n = v.isJsonPrimitive() ? TargetKeys.whole(v.getAsJsonPrimitive().isNumber() ? v.getAsNumber() : v.getAsString(), key,
                new ArrayList<>()) : null;
        if (n == null || n < min || n > max) {
            throw invalid(key + ": " + WireCodec.abbreviate(v.toString()) + " is not " + what);
        }
        return n.intValue();
    }

    /** @return the selector in {@code field}, parsed; a missing or bad one is an error naming the field */
    static AgentSelector selector(JsonObject body, String field) throws WireException {
        JsonElement e = body.get(field);
        if (e == null || e.isJsonNull()) {
            throw invalid(field + ": missing; a selector of agents by tag, e.g. eu AND NOT edge, or * for every agent");
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw invalid(field + ": " + WireCodec.abbreviate(e.toString()) + " is not a selector (a text, e.g. eu AND NOT edge)");
        }
        try {
            return AgentSelector.parse(e.getAsString());
        } catch (AgentSelector.ParseException ex) {
            throw invalid(field + ": " + ex.getMessage());
        }
    }

    /** A target key's value as the agent reads .cfg values: text, numbers, booleans; tags also as a list. */
    private static Object value(String key, JsonElement v, String at) throws WireException {
        if (!key.matches(KEY)) {
            throw invalid(at + ": '" + WireCodec.abbreviate(key) + "' is not a key (letters, digits, _ . : -)");
        }
        if (v.isJsonPrimitive()) {
            JsonPrimitive p = v.getAsJsonPrimitive();
            if (p.isNumber()) {
                return p.getAsNumber();
            }
            String s = p.getAsString();
            if (s.length() > MAX_VALUE) {
                throw invalid(at + ": " + s.length() + " characters, at most " + MAX_VALUE);
            }
            return s;
        }
        if (v.isJsonObject() && key.equals(TargetKeys.LABELS)) {
            Map<String, Object> labels = new LinkedHashMap<>();
            for (Map.Entry<String, JsonElement> e : v.getAsJsonObject().entrySet()) {
                if (!e.getValue().isJsonPrimitive()) {
                    throw invalid(at + "." + e.getKey() + ": a label is a text");
                }
                labels.put(e.getKey(), e.getValue().getAsString());
            }
            return labels;
        }
        if (v.isJsonArray() && key.equals("tags")) {
            List<String> tags = new ArrayList<>();
            JsonArray a = v.getAsJsonArray();
            for (int i = 0; i < a.size(); i++) {
                if (!a.get(i).isJsonPrimitive()) {
                    throw invalid(at + "[" + i + "]: " + WireCodec.abbreviate(a.get(i).toString()) + " is not a tag");
                }
                tags.add(a.get(i).getAsString());
            }
            return tags;
        }
        throw invalid(at + ": " + (v.isJsonArray() ? "a list" : "an object") + " is not a setting (text, a number or true/false"
                + (key.equals("tags") ? "" : "; lists only for tags, objects only for labels") + ")");
    }

    /** Throws the problems as one error, each with its key ({@code prefix} before it). */
    private static void problems(List<TargetProblem> problems, String prefix) throws WireException {
        if (!problems.isEmpty()) {
            List<String> parts = new ArrayList<>();
            for (TargetProblem p : problems) {
                parts.add(p.key() == null ? p.reason() : prefix + p.key() + ": " + p.reason());
            }
            throw invalid(String.join("; ", parts));
        }
    }
}
