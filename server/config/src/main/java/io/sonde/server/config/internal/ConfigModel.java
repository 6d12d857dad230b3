package io.sonde.server.config.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;

import io.sonde.server.spi.AgentConfigs;
import io.sonde.server.spi.AgentRecord;
import io.sonde.server.spi.AgentSelector;
import io.sonde.server.spi.Definition;
import io.sonde.wire.WireCodec;

/**
 * What the definitions make of the agents at one moment: each selector parsed and each mesh's
 * peers planned once, every agent's document made from them on first demand and kept. Immutable
 * apart from that cache; the same definitions and agents make the same documents, byte for byte,
 * on every server instance.
 */
final class ConfigModel {

    /** Where a mesh target's name starts: definitions cannot hold a '/', so no target clashes with one. */
    static final String MESH_PREFIX = "mesh/";

    /** A target definition: its selector, and its entry in documents, serialized once. */
    record TargetDef(AgentSelector agents, String entry) {
    }

    /** The targets of every agent with one set of tags: their entries joined, and a digest of them. */
    private record TargetsPart(String entries, byte[] digest) {
    }

    /** What an agent's document holds beside the targets of its tags; kept per agent (small). */
    private record Skeleton(String version, TargetsPart targets, String meshEntries, String meshViews, String responder,
            String bundles) {
    }

    /**
     * A mesh as planned now.
     *
     * @param body    its definition
     * @param members the agents its selector takes now (revoked ones left out)
     * @param plan    who probes whom
     */
    record Mesh(JsonObject body, List<String> members, PeerPlan plan) {
    }

    private final List<TargetDef> targets = new ArrayList<>();
    private final Map<String, Mesh> meshes = new LinkedHashMap<>();
    private final Map<String, AgentRecord> agents = new LinkedHashMap<>();
    private final Map<List<String>, TargetsPart> byTags = new ConcurrentHashMap<>();
    private final Map<String, Skeleton> skeletons = new ConcurrentHashMap<>();
    private final List<String> unreadable = new ArrayList<>();

    /**
     * @param targets the target definitions, as stored (checked when stored)
     * @param meshes  the mesh definitions, as stored
     * @param agents  the agents
     */
    ConfigModel(List<Definition> targets, List<Definition> meshes, List<AgentRecord> agents) {
        this(targets, meshes, List.of(), List.of(), agents);
    }

    /**
     * A rollout as planned now.
     *
     * @param name    its name
     * @param body    its definition
     * @param release the release it names
     * @param agents  the agents it takes now: selected, and within its percentage
     */
    record Rollout(String name, JsonObject body, io.sonde.server.spi.Release release, List<String> agents) {
        String state() {
            return body.get("state").getAsString();
        }
    }

    private final Map<String, Rollout> rollouts = new LinkedHashMap<>();

    /**
     * @param rollouts the rollout definitions, as stored
     * @param releases the releases in the repository, for the rollouts' SHA-256 and size
     */
    ConfigModel(List<Definition> targets, List<Definition> meshes, List<Definition> rollouts, List<io.sonde.server.spi.Release> releases,
            List<AgentRecord> agents) {
        for (AgentRecord a : agents) {
            if (a.revokedAt() == null) {
                this.agents.put(a.agentId(), a);
            }
        }
        // each definition on its own: one this server cannot read (a newer server's) is left out and said, not fatal
        for (Definition d : targets) {
            try {
                JsonObject body = JsonParser.parseString(d.body()).getAsJsonObject();
                AgentSelector selector = AgentSelector.parse(body.get(Definitions.AGENTS).getAsString());
                body.remove(Definitions.AGENTS);
                this.targets.add(new TargetDef(selector, body.toString()));
            } catch (RuntimeException e) {
                unreadable.add("target '" + d.name() + "': " + e);
            }
        }
        for (Definition d : meshes) {
            try {
                JsonObject body = JsonParser.parseString(d.body()).getAsJsonObject();
                List<String> ids = selected(AgentSelector.parse(body.get("members").getAsString()));
                body.getAsJsonObject("kinds").entrySet().forEach(k -> k.getValue().getAsJsonObject()); // each kind's keys an object, or unreadable
                this.meshes.put(d.name(), new Mesh(body, ids, PeerPlan.of(d.name(), ids, fanout(body))));
            } catch (RuntimeException e) {
                unreadable.add("mesh '" + d.name() + "': " + e);
            }
        }
        readRollouts(rollouts, releases);
    }

    private void readRollouts(List<Definition> definitions, List<io.sonde.server.spi.Release> releases) {
        Map<String, io.sonde.server.spi.Release> byId = new java.util.HashMap<>();
        releases.forEach(r -> byId.put(r.symbolicName() + "\u0000" + r.version(), r));
        for (Definition d : definitions) {
            try {
                JsonObject body = JsonParser.parseString(d.body()).getAsJsonObject();
                io.sonde.server.spi.Release release = byId.get(body.get("bundle").getAsString() + "\u0000" + body.get("version").getAsString());
                if (release == null) {
                    throw new IllegalStateException("no release " + body.get("bundle").getAsString() + " " + body.get("version").getAsString());
                }
                int percent = body.get("percent").getAsInt();
                List<String> taken = canary(d.name(), selected(AgentSelector.parse(body.get("agents").getAsString())), percent);
                this.rollouts.put(d.name(), new Rollout(d.name(), body, release, taken));
            } catch (RuntimeException e) {
                unreadable.add("rollout '" + d.name() + "': " + e);
            }
        }
    }

    /**
     * @return the agents a rollout takes of those selected: {@code percent} of them, rounded up, in
     *         the order of a hash of the rollout's and the agent's names, so that the same agents stay
     *         in as the percentage grows, on every server instance
     */
    static List<String> canary(String rollout, java.util.Collection<String> selected, int percent) {
        List<String> ordered = new ArrayList<>(selected);
        if (percent >= 100) {
            return ordered;
        }
        Map<String, Long> rank = new java.util.HashMap<>();
        for (String id : ordered) {
            byte[] h = sha256((rollout + "\u0000" + id).getBytes(StandardCharsets.UTF_8));
            long v = 0;
            for (int i = 0; i < 8; i++) {
                v = (v << 8) | (h[i] & 0xff);
            }
            rank.put(id, v);
        }
        ordered.sort(java.util.Comparator.comparing((String id) -> rank.get(id), Long::compareUnsigned).thenComparing(id -> id));
        int n = (int) ((ordered.size() * (long) percent + 99) / 100);
        return new ArrayList<>(ordered.subList(0, n));
    }

    /** @return the rollout as planned now, or null */
    Rollout rollout(String name) {
        return rollouts.get(name);
    }

    /** @return every rollout as planned now */
    java.util.Collection<Rollout> rollouts() {
        return rollouts.values();
    }

    /**
     * @return each agent the rollout takes, with what its updater last said of this rollout's version:
     *         its update (state and reason), or a {@code pending} one when it said nothing of it yet
     */
    Map<String, io.sonde.wire.AgentStatus.Update> progress(Rollout r) {
        Map<String, io.sonde.wire.AgentStatus.Update> out = new LinkedHashMap<>();
        for (String id : r.agents()) {
            AgentRecord a = agents.get(id);
            io.sonde.wire.AgentStatus.Update found = null;
            if (a != null && a.config() != null) {
                for (io.sonde.wire.AgentStatus.Update u : a.config().updates()) {
                    if (r.name().equals(u.rollout()) && r.release().version().equals(u.version())
                            && r.release().symbolicName().equals(u.symbolicName())) {
                        found = u;
                    }
                }
            }
            out.put(id, found != null ? found : new io.sonde.wire.AgentStatus.Update(r.release().symbolicName(), r.release().version(),
                    r.name(), "pending", null));
        }
        return out;
    }

    /** @return the stored definitions this model could not read, each with why: left out of every document */
    List<String> unreadable() {
        return unreadable;
    }

    /** The kinds that probe a peer's responder at the mesh's responder port, where the kind sets no port. */
    static final java.util.Set<String> RESPONDER_KINDS = java.util.Set.of("tcp", "udp");

    /** The responder port of a mesh that sets none. */
    static final int DEFAULT_RESPONDER_PORT = 9199;

    /** @return the port the members' responders listen on for a mesh */
    static int responderPort(JsonObject mesh) {
        JsonElement p = mesh.get("responder_port");
        return p == null || p.isJsonNull() ? DEFAULT_RESPONDER_PORT : p.getAsInt();
    }

    /** @return the fan-out a mesh definition asks for, {@link PeerPlan#ALL} for all */
    static int fanout(JsonObject mesh) {
        JsonElement f = mesh.get("fanout");
        return f.getAsJsonPrimitive().isString() ? PeerPlan.ALL : f.getAsInt();
    }

    /** @return the mesh as planned now, or null */
    Mesh mesh(String name) {
        return meshes.get(name);
    }

    /** @return the agents a selector takes now (revoked ones left out), by id */
    List<String> selected(AgentSelector selector) {
        List<String> ids = new ArrayList<>();
        for (AgentRecord a : agents.values()) {
            if (selector.matches(a.tags())) {
                ids.add(a.agentId());
            }
        }
        return ids;
    }

    /** @return the version of the agent's document, without making the document; empty for an agent not known or revoked */
    Optional<String> version(String agentId) {
        return skeleton(agentId).map(Skeleton::version);
    }

    /** @return the agent's document; empty for an agent not known or revoked */
    Optional<AgentConfigs.Document> document(String agentId) {
        return skeleton(agentId).map(k -> {
            StringBuilder doc = new StringBuilder(k.targets().entries().length() + k.meshEntries().length() + k.meshViews().length() + 200);
            doc.append("{\"schema\":").append(WireCodec.SCHEMA).append(",\"agent_id\":").append(new JsonPrimitive(agentId))
                    .append(",\"version\":\"").append(k.version()).append("\",\"targets\":[").append(k.targets().entries());
            if (!k.targets().entries().isEmpty() && !k.meshEntries().isEmpty()) {
                doc.append(',');
            }
            doc.append(k.meshEntries()).append("],\"meshes\":").append(k.meshViews());
            if (!k.responder().isEmpty()) {
                doc.append(",\"responder\":").append(k.responder());
            }
            if (!k.bundles().isEmpty()) {
                doc.append(",\"bundles\":").append(k.bundles());
            }
            doc.append('}');
            return new AgentConfigs.Document(k.version(), doc.toString());
        });
    }

    private Optional<Skeleton> skeleton(String agentId) {
        AgentRecord agent = agents.get(agentId);
        if (agent == null) {
            return Optional.empty();
        }
        return Optional.of(skeletons.computeIfAbsent(agentId, id -> skeleton(agent)));
    }

    /** The targets of agents with these tags: worked out once per set of tags, most agents share theirs. */
    private TargetsPart targetsFor(List<String> tags) {
        List<String> key = tags.stream().sorted().toList();
        return byTags.computeIfAbsent(key, k -> {
            java.util.Set<String> set = new java.util.HashSet<>(k);
            StringBuilder entries = new StringBuilder();
            for (TargetDef t : targets) {
                if (t.agents().matches(set)) {
                    if (entries.length() > 0) {
                        entries.append(',');
                    }
                    entries.append(t.entry());
                }
            }
            String text = entries.toString();
            return new TargetsPart(text, sha256(text.getBytes(StandardCharsets.UTF_8)));
        });
    }

    private Skeleton skeleton(AgentRecord agent) {
        TargetsPart targets = targetsFor(agent.tags());
        JsonArray out = new JsonArray();
        JsonArray meshViews = new JsonArray();
        java.util.TreeSet<Integer> responderPorts = new java.util.TreeSet<>();
        for (Map.Entry<String, Mesh> m : meshes.entrySet()) {
            List<String> peers = m.getValue().plan().peers().get(agent.agentId());
            if (peers == null) {
                continue;
            }
            int responderPort = responderPort(m.getValue().body());
            responderPorts.add(responderPort); // a member is probed by its peers: its responder answers them
            JsonArray reachable = new JsonArray();
            JsonArray waiting = new JsonArray();
            JsonObject kinds = m.getValue().body().getAsJsonObject("kinds");
            for (String peer : peers) {
                String address = agents.get(peer).address();
                if (address == null) {
                    waiting.add(peer); // has not reached a server yet: no address to probe
                    continue;
                }
                reachable.add(peer);
                for (Map.Entry<String, JsonElement> k : kinds.entrySet()) {
                    JsonObject entry = new JsonObject();
                    entry.addProperty("name", MESH_PREFIX + m.getKey() + "/" + k.getKey() + "/" + peer);
                    entry.addProperty("kind", k.getKey());
                    entry.addProperty("host", address);
                    if (RESPONDER_KINDS.contains(k.getKey()) && !k.getValue().getAsJsonObject().has("port")) {
                        entry.addProperty("port", responderPort); // the peer's responder
                    }
                    k.getValue().getAsJsonObject().entrySet().forEach(e -> entry.add(e.getKey(), e.getValue()));
                    JsonObject labels = new JsonObject();
                    labels.addProperty("mesh", m.getKey());
                    labels.addProperty("peer", peer);
                    entry.add("labels", labels);
                    out.add(entry);
                }
            }
            JsonObject view = new JsonObject();
            view.addProperty("name", m.getKey());
            view.add("peers", reachable);
            view.add("waiting", waiting);
            meshViews.add(view);
        }
        String meshEntries = out.isEmpty() ? "" : out.toString().substring(1, out.toString().length() - 1);
        String views = meshViews.toString();
        String responder = "";
        if (!responderPorts.isEmpty()) {
            JsonObject r = new JsonObject();
            JsonArray ports = new JsonArray();
            responderPorts.forEach(ports::add);
            r.add("ports", ports);
            responder = r.toString();
        }
        // the version: of the agent, its targets (by their digest) and its mesh part; the same wherever it is made
        MessageDigest d = digest();
        d.update(agent.agentId().getBytes(StandardCharsets.UTF_8));
        d.update((byte) 0);
        d.update(targets.digest());
        d.update(meshEntries.getBytes(StandardCharsets.UTF_8));
        d.update((byte) 0);
        d.update(views.getBytes(StandardCharsets.UTF_8));
        d.update((byte) 0);
        d.update(responder.getBytes(StandardCharsets.UTF_8));
        String bundles = bundles(agent.agentId());
        if (!bundles.isEmpty()) { // (documents without rollouts keep the versions they had)
            d.update((byte) 0);
            d.update(bundles.getBytes(StandardCharsets.UTF_8));
        }
        return new Skeleton(HexFormat.of().formatHex(d.digest(), 0, 16), targets, meshEntries, views, responder, bundles);
    }

    /**
     * @return the bundle versions the agent's rollouts name, one per bundle (of several rollouts of
     *         one bundle, the highest version's), as JSON; empty when none
     */
    private String bundles(String agentId) {
        Map<String, Rollout> byBundle = new java.util.TreeMap<>();
        for (Rollout r : rollouts.values()) {
            if (!r.agents().contains(agentId)) {
                continue;
            }
            Rollout other = byBundle.get(r.release().symbolicName());
            if (other == null || org.osgi.framework.Version.parseVersion(r.release().version())
                    .compareTo(org.osgi.framework.Version.parseVersion(other.release().version())) > 0) {
                byBundle.put(r.release().symbolicName(), r);
            }
        }
        if (byBundle.isEmpty()) {
            return "";
        }
        JsonArray out = new JsonArray();
        for (Rollout r : byBundle.values()) {
            JsonObject b = new JsonObject();
            b.addProperty("symbolic_name", r.release().symbolicName());
            b.addProperty("version", r.release().version());
            b.addProperty("sha256", r.release().sha256());
            b.addProperty("size", r.release().size());
            b.addProperty("rollout", r.name());
            b.addProperty("state", r.state());
            out.add(b);
        }
        return out.toString();
    }

    private static byte[] sha256(byte[] bytes) {
        return digest().digest(bytes);
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
