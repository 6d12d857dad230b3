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

    record TargetDef(JsonObject body, AgentSelector agents) {
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
    private final Map<String, AgentConfigs.Document> documents = new ConcurrentHashMap<>();
    private final List<String> unreadable = new ArrayList<>();

    /**
     * @param targets the target definitions, as stored (checked when stored)
     * @param meshes  the mesh definitions, as stored
     * @param agents  the agents
     */
    ConfigModel(List<Definition> targets, List<Definition> meshes, List<AgentRecord> agents) {
        for (AgentRecord a : agents) {
            if (a.revokedAt() == null) {
                this.agents.put(a.agentId(), a);
            }
        }
        // each definition on its own: one this server cannot read (a newer server's) is left out and said, not fatal
        for (Definition d : targets) {
            try {
                JsonObject body = JsonParser.parseString(d.body()).getAsJsonObject();
                this.targets.add(new TargetDef(body, AgentSelector.parse(body.get(Definitions.AGENTS).getAsString())));
            } catch (RuntimeException e) {
                unreadable.add("target '" + d.name() + "': " + e);
            }
        }
        for (Definition d : meshes) {
            try {
                JsonObject body = JsonParser.parseString(d.body()).getAsJsonObject();
                AgentSelector members = AgentSelector.parse(body.get("members").getAsString());
                List<String> ids = new ArrayList<>();
                for (AgentRecord a : this.agents.values()) {
                    if (members.matches(a.tags())) {
                        ids.add(a.agentId());
                    }
                }
                body.getAsJsonObject("kinds").entrySet().forEach(k -> k.getValue().getAsJsonObject());
                this.meshes.put(d.name(), new Mesh(body, ids, PeerPlan.of(d.name(), ids, fanout(body))));
            } catch (RuntimeException e) {
                unreadable.add("mesh '" + d.name() + "': " + e);
            }
        }
    }

    /** @return the stored definitions this model could not read, each with why: left out of every document */
    List<String> unreadable() {
        return unreadable;
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

    /** @return how many agents a selector takes now (revoked ones left out) */
    int count(AgentSelector selector) {
        int n = 0;
        for (AgentRecord a : agents.values()) {
            if (selector.matches(a.tags())) {
                n++;
            }
        }
        return n;
    }

    /** @return the agent's document; empty for an agent not known or revoked */
    Optional<AgentConfigs.Document> document(String agentId) {
        AgentRecord agent = agents.get(agentId);
        if (agent == null) {
            return Optional.empty();
        }
        return Optional.of(documents.computeIfAbsent(agentId, id -> make(agent)));
    }

    private AgentConfigs.Document make(AgentRecord agent) {
        JsonArray out = new JsonArray();
        for (TargetDef t : targets) {
            if (t.agents().matches(agent.tags())) {
                JsonObject entry = t.body().deepCopy();
                entry.remove(Definitions.AGENTS);
                out.add(entry);
            }
        }
        JsonArray meshViews = new JsonArray();
        for (Map.Entry<String, Mesh> m : meshes.entrySet()) {
            List<String> peers = m.getValue().plan().peers().get(agent.agentId());
            if (peers == null) {
                continue;
            }
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
        JsonObject doc = new JsonObject();
        doc.addProperty("schema", WireCodec.SCHEMA);
        doc.addProperty("agent_id", agent.agentId());
        doc.add("targets", out);
        doc.add("meshes", meshViews);
        String version = version(doc.toString());
        JsonObject versioned = new JsonObject();
        versioned.addProperty("schema", WireCodec.SCHEMA);
        versioned.addProperty("agent_id", agent.agentId());
        versioned.addProperty("version", version);
        versioned.add("targets", out);
        versioned.add("meshes", meshViews);
        return new AgentConfigs.Document(version, versioned.toString());
    }

    /** @return the first 16 bytes of the SHA-256 of the content, in hex */
    static String version(String content) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(content.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
