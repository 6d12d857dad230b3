package io.sonde.core.internal;

import java.io.IOException;
import java.io.Reader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;

/**
 * A bulk target list in the Latency Probe's format:
 * {@code {"probe_interval_ms": 5000, "default_timeout_ms": 3000, "targets": [{"name": ..., "kind": ..., "host": ..., "port": ...}]}}.
 *
 * @param intervalMs file-wide interval, or {@code null} to use the agent's
 * @param timeoutMs  file-wide timeout, or {@code null} to use the agent's
 * @param entries    the raw target entries, in file order; an entry that is not a JSON object is
 *                   kept as {@code null} so that it can be reported by its position
 */
record TargetsFile(Object intervalMs, Object timeoutMs, List<Map<String, Object>> entries) {

    /** The file cannot be used at all; {@link #problem()} says why. */
    static final class Unusable extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient ConfigProblem problem;

        Unusable(ConfigProblem problem) {
            super(problem.message());
            this.problem = problem;
        }

        ConfigProblem problem() {
            return problem;
        }
    }

    static TargetsFile read(Path path) throws Unusable {
        String source = path.toString();
        JsonElement root;
        try (Reader reader = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            root = JsonParser.parseReader(reader);
        } catch (NoSuchFileException e) {
            throw new Unusable(new ConfigProblem(source, null, "no such file"));
        } catch (IOException e) {
            throw new Unusable(new ConfigProblem(source, null, "cannot be read: " + e));
        } catch (JsonParseException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new Unusable(new ConfigProblem(source, null, "is not valid JSON: " + cause.getMessage()));
        }
        if (!root.isJsonObject()) {
            throw new Unusable(new ConfigProblem(source, null,
                    "must hold a JSON object {\"targets\": [...]}, not " + describe(root)));
        }
        JsonObject object = root.getAsJsonObject();
        JsonElement targets = object.get("targets");
        if (targets == null || !targets.isJsonArray()) {
            throw new Unusable(new ConfigProblem(source, "targets",
                    targets == null ? "missing; the file needs a \"targets\" array" : "must be an array, not " + describe(targets)));
        }
        JsonArray array = targets.getAsJsonArray();
        List<Map<String, Object>> entries = new ArrayList<>(array.size());
        for (JsonElement element : array) {
            entries.add(element.isJsonObject() ? toMap(element.getAsJsonObject()) : null);
        }
        return new TargetsFile(value(object.get("probe_interval_ms")), value(object.get("default_timeout_ms")), entries);
    }

    private static Map<String, Object> toMap(JsonObject object) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : object.entrySet()) {
            // keys and kinds repeat in every entry: one copy each, not one per target
            Object v = value(e.getValue());
            if (v != null) { // null is as good as absent
                map.put(e.getKey().intern(), "kind".equals(e.getKey()) && v instanceof String k ? k.intern() : v);
            }
        }
        return Map.copyOf(map); // compact: a file may hold 10,000 of these
    }

    /** JSON value to a string, a number, a list or {@code null}; objects stay as JSON text. */
    private static Object value(JsonElement element) {
        if (element == null || element.isJsonNull()) {
            return null;
        }
        if (element.isJsonPrimitive()) {
            JsonPrimitive p = element.getAsJsonPrimitive();
            if (p.isNumber()) {
                BigDecimal d = p.getAsBigDecimal();
                try {
                    return d.longValueExact();
                } catch (ArithmeticException e) {
                    return d.doubleValue();
                }
            }
            return p.getAsString();
        }
        if (element.isJsonArray()) {
            List<Object> list = new ArrayList<>();
            element.getAsJsonArray().forEach(v -> list.add(value(v)));
            return list;
        }
        return element.toString();
    }

    private static String describe(JsonElement e) {
        if (e.isJsonArray()) {
            return "an array";
        }
        if (e.isJsonNull()) {
            return "null";
        }
        return e.isJsonObject() ? "an object" : "the value " + e;
    }
}
