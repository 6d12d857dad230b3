package io.sonde.uplink.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

/**
 * The server's configuration documents for this agent: each received one checked as a whole
 * before it is taken, the last good one kept in {@code data/state/} (written beside and renamed
 * over, so a kill leaves the old copy or the new, never half of one), and read back at start.
 */
final class ConfigDocuments {

    /** The file of the last good document, in {@code data/state/}. */
    static final String CACHE_FILE = "server-config.json";

    /** Most bytes of one document, uncompressed: 50,000 targets of ~400 bytes, and room for meshes. */
    static final long MAX_BYTES = 64L << 20;

    /** Most target entries one document may hold, as the server's own limit and its meshes. */
    static final int MAX_TARGETS = 60_000;

    /**
     * A document as taken: checked, with its text.
     *
     * @param version the server's name for it
     * @param json    its text
     */
    record Document(String version, String json) {
    }

    private final Path stateDir;

    ConfigDocuments(Path stateDir) {
        this.stateDir = stateDir;
    }

    Path cacheFile() {
        return stateDir.resolve(CACHE_FILE);
    }

    /**
     * Checks a document the server sent: JSON of this schema, for {@code agentId}, with a version,
     * its {@code targets} a list of objects within {@link #MAX_TARGETS}.
     *
     * @param body    the document, at most {@link #MAX_BYTES} uncompressed
     * @param gzip    whether the body is gzip
     * @param agentId the agent this is
     * @return the document
     * @throws WireException saying what is wrong with it
     */
    static Document check(InputStream body, boolean gzip, String agentId) throws WireException {
        JsonObject doc;
        try {
            doc = WireCodec.read(body, gzip, MAX_BYTES, JsonObject.class);
        } catch (WireException e) {
            throw e;
        } catch (RuntimeException e) { // a JSON value that is not an object
            throw new WireException(WireException.Problem.MALFORMED, "not a JSON object: " + e.getMessage());
        }
        return check(doc, agentId);
    }

    private static Document check(JsonObject doc, String agentId) throws WireException {
        JsonElement schema = doc.get("schema");
        WireCodec.checkSchema(schema != null && schema.isJsonPrimitive() && schema.getAsJsonPrimitive().isNumber()
                ? schema.getAsInt() : 0, "the configuration document");
        String id = text(doc, "agent_id");
        if (!agentId.equals(id)) {
            throw malformed("the document is for agent '" + WireCodec.abbreviate(String.valueOf(id)) + "', not for this agent ('"
                    + agentId + "')");
        }
        String version = text(doc, "version");
        if (version == null || version.isBlank() || version.length() > 200) {
            throw malformed("the document has no version");
        }
        JsonElement targets = doc.get("targets");
        if (targets != null && !targets.isJsonNull()) {
            if (!targets.isJsonArray()) {
                throw malformed("targets: must be a list of target entries");
            }
            if (targets.getAsJsonArray().size() > MAX_TARGETS) {
                throw malformed("targets: " + targets.getAsJsonArray().size() + " entries, more than an agent takes ("
                        + MAX_TARGETS + ")");
            }
        }
        JsonElement responder = doc.get("responder");
        if (responder != null && !responder.isJsonNull() && !responder.isJsonObject()) {
            throw malformed("responder: must be an object");
        }
        return new Document(version, doc.toString());
    }

    private static String text(JsonObject doc, String key) {
        JsonElement e = doc.get(key);
        return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isString() ? e.getAsString() : null;
    }

    private static WireException malformed(String message) {
        return new WireException(WireException.Problem.MALFORMED, message);
    }

    /**
     * @param agentId the agent this is
     * @return the kept document, or null when there is none
     * @throws IOException when the kept file cannot be used (unreadable, not JSON, another agent's),
     *                     saying why: the caller reports it and goes on without
     */
    Document load(String agentId) throws IOException {
        Path file = cacheFile();
        if (!Files.exists(file)) {
            return null;
        }
        try {
            JsonElement e = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8));
            if (!e.isJsonObject()) {
                throw new IOException("not a JSON object");
            }
            return check(e.getAsJsonObject(), agentId);
        } catch (JsonParseException | java.nio.charset.CharacterCodingException e) {
            throw new IOException("not valid JSON: " + e.getMessage(), e);
        } catch (WireException e) {
            throw new IOException(e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IOException(String.valueOf(e), e);
        }
    }

    /** Keeps {@code doc} as the last good one: written whole beside the old, synced, renamed over it. */
    void save(Document doc) throws IOException {
        io.sonde.base.AtomicFiles.write(cacheFile(), doc.json().getBytes(StandardCharsets.UTF_8));
    }

    /** @return the entries refused, as a status carries them: at most {@link io.sonde.wire.AgentStatus#MAX_REJECTED} */
    static List<io.sonde.wire.AgentStatus.Rejected> bounded(List<io.sonde.agent.spi.RemoteConfig.Rejected> rejected) {
        int max = io.sonde.wire.AgentStatus.MAX_REJECTED;
        List<io.sonde.wire.AgentStatus.Rejected> out = new java.util.ArrayList<>(Math.min(max, rejected.size()));
        for (int i = 0; i < rejected.size() && i < max; i++) {
            io.sonde.agent.spi.RemoteConfig.Rejected r = rejected.get(i);
            String reason = i == max - 1 && rejected.size() > max
                    ? r.reason() + " (and " + (rejected.size() - max) + " more entries refused)" : r.reason();
            out.add(new io.sonde.wire.AgentStatus.Rejected(r.name(), reason));
        }
        return out;
    }
}
