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

import com.google.gson.JsonParser;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.MalformedJsonException;

/**
 * A bulk target list in the Latency Probe's format:
 * {@code {"probe_interval_ms": 5000, "default_timeout_ms": 3000, "targets": [{"name": ..., "kind": ..., "host": ..., "port": ...}]}}.
 *
 * @param intervalMs file-wide interval, or {@code null} to use the agent's
 * @param timeoutMs  file-wide timeout, or {@code null} to use the agent's
 * @param entries    the raw target entries, in file order; an entry that is not a JSON object is
 *                   kept as {@code null} so that it can be reported by its position
 * @param logLevel   the Latency Probe's {@code log_level} (its logging's level names), or {@code null}
 */
record TargetsFile(Object intervalMs, Object timeoutMs, List<Map<String, Object>> entries, Object logLevel) {

    TargetsFile(Object intervalMs, Object timeoutMs, List<Map<String, Object>> entries) {
        this(intervalMs, timeoutMs, entries, null);
    }

    /**
     * The level of Sonde's loggers that {@code log_level} names: DEBUG, INFO, WARNING (or WARN),
     * ERROR, CRITICAL as the Latency Probe (Python's logging) has them, any case; or TRACE.
     *
     * @throws IllegalArgumentException with the reason, for any other value
     */
    static java.util.logging.Level logLevel(Object value) {
        String name = value instanceof String s ? s.strip().toUpperCase(java.util.Locale.ROOT) : String.valueOf(value);
        return switch (name) {
            case "TRACE" -> java.util.logging.Level.FINEST;
            case "DEBUG" -> java.util.logging.Level.FINE;
            case "INFO" -> java.util.logging.Level.INFO;
            case "WARNING", "WARN" -> java.util.logging.Level.WARNING;
            case "ERROR", "CRITICAL" -> java.util.logging.Level.SEVERE;
            default -> throw new IllegalArgumentException("'" + value + "' is no level; use one of DEBUG, INFO, WARNING, ERROR,"
                    + " CRITICAL (or TRACE)");
        };
    }

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

    /**
     * The entries of the last read, by the hash and length of their text: an entry whose text did
     * not change is not parsed again, and keeps its map (so the catalog sees the same object and
     * checks nothing). One per targets file; only the core's thread uses it.
     */
    static final class Memo {
        private record Key(long hash, int length) {
        }

        private Map<Key, Map<String, Object>> entries = Map.of();
    }

    /** Reads the file with nothing remembered. */
    static TargetsFile read(Path path) throws Unusable {
        return read(path, new Memo());
    }

    /**
     * Reads the file: one streaming pass checks the whole document (and gives the file-wide
     * settings), a scan finds each entry's text, and only entries whose text is not in {@code memo}
     * are parsed. A file of 10,000 entries with one edited parses one.
     */
    static TargetsFile read(Path path, Memo memo) throws Unusable {
        String source = path.toString();
        String text;
        try {
            text = Files.readString(path, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new Unusable(new ConfigProblem(source, null, "no such file"));
        } catch (IOException e) {
            throw new Unusable(new ConfigProblem(source, null, "cannot be read: " + e));
        }
        return of(text, source, memo);
    }

    /**
     * Reads a document of this shape from its text: the targets file's, or the server's
     * configuration document (whose other fields are skipped).
     *
     * @param source where the text is from, for messages
     * @param memo   the entries of the last read of this source
     */
    static TargetsFile of(String text, String source, Memo memo) throws Unusable {
        TargetsFile shape = parse(text, source, false);
        List<int[]> spans = EntrySpans.of(text);
        if (spans == null || spans.size() != shape.entries().size()) {
            memo.entries = Map.of(); // a document the scan does not follow (escaped keys, say): parsed whole
            return parse(text, source, true);
        }
        Map<Memo.Key, Map<String, Object>> next = new java.util.HashMap<>(spans.size() * 2);
        List<Map<String, Object>> entries = new ArrayList<>(spans.size());
        for (int[] span : spans) {
            if (text.charAt(span[0]) != '{') {
                entries.add(null); // not an object: kept as null, reported by its position
                continue;
            }
            Memo.Key key = new Memo.Key(EntrySpans.hash(text, span[0], span[1]), span[1] - span[0]);
            Map<String, Object> entry = memo.entries.get(key);
            if (entry == null) {
                entry = next.get(key);
            }
            if (entry == null) {
                try (JsonReader reader = new JsonReader(new java.io.StringReader(text.substring(span[0], span[1])))) {
                    reader.setStrictness(com.google.gson.Strictness.STRICT);
                    entry = entry(reader);
                } catch (IOException | RuntimeException e) { // checked by the first pass: cannot happen
                    memo.entries = Map.of();
                    return parse(text, source, true);
                }
            }
            next.put(key, entry);
            entries.add(entry);
        }
        memo.entries = next;
        return new TargetsFile(shape.intervalMs(), shape.timeoutMs(), entries, shape.logLevel());
    }

    /**
     * One streaming pass over the document: its shape checked, its settings read, and with
     * {@code entriesToo} its entries; without, each entry is skipped and stands as {@code null}.
     */
    private static TargetsFile parse(String text, String source, boolean entriesToo) throws Unusable {
        try (Reader r = new java.io.StringReader(text); JsonReader reader = new JsonReader(r)) {
            reader.setStrictness(com.google.gson.Strictness.STRICT);
            JsonToken top = reader.peek();
            if (top != JsonToken.BEGIN_OBJECT) {
                throw new Unusable(new ConfigProblem(source, null,
                        "must hold a JSON object {\"targets\": [...]}, not " + describe(reader, top)));
            }
            reader.beginObject();
            Object interval = null;
            Object timeout = null;
            Object logLevel = null;
            List<Map<String, Object>> entries = null;
            while (reader.hasNext()) {
                String name = reader.nextName();
                switch (name) {
                    case "probe_interval_ms" -> interval = value(reader);
                    case "default_timeout_ms" -> timeout = value(reader);
                    case "log_level" -> logLevel = value(reader);
                    case "targets" -> {
                        if (reader.peek() != JsonToken.BEGIN_ARRAY) {
                            throw new Unusable(new ConfigProblem(source, "targets", "must be an array, not "
                                    + describe(reader, reader.peek())));
                        }
                        entries = new ArrayList<>();
                        reader.beginArray();
                        while (reader.hasNext()) {
                            if (entriesToo && reader.peek() == JsonToken.BEGIN_OBJECT) {
                                entries.add(entry(reader));
                            } else {
                                reader.skipValue(); // not an object: kept as null, reported by its position
                                entries.add(null);
                            }
                        }
                        reader.endArray();
                    }
                    default -> reader.skipValue();
                }
            }
            reader.endObject();
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new Unusable(new ConfigProblem(source, null, "is not valid JSON: more after the object at "
                        + reader.getPath()));
            }
            if (entries == null) {
                throw new Unusable(new ConfigProblem(source, "targets", "missing; the file needs a \"targets\" array"));
            }
            return new TargetsFile(interval, timeout, entries, logLevel);
        } catch (MalformedJsonException | IllegalStateException | NumberFormatException | java.io.EOFException e) {
            throw new Unusable(new ConfigProblem(source, null, "is not valid JSON: " + e.getMessage()));
        } catch (IOException e) {
            throw new Unusable(new ConfigProblem(source, null, "cannot be read: " + e));
        }
    }

    /** One copy of each key and kind, which repeat in every entry (cheaper than String.intern, and bounded). */
    private static final Map<String, String> SHARED = new java.util.concurrent.ConcurrentHashMap<>();

    private static String shared(String s) {
        String known = SHARED.get(s);
        if (known != null) {
            return known;
        }
        if (SHARED.size() < 4096) {
            known = SHARED.putIfAbsent(s, s);
        }
        return known == null ? s : known;
    }

    private static Map<String, Object> entry(JsonReader reader) throws IOException {
        Map<String, Object> map = new LinkedHashMap<>();
        reader.beginObject();
        while (reader.hasNext()) {
            String key = shared(reader.nextName());
            Object v = io.sonde.agent.spi.TargetKeys.LABELS.equals(key) && reader.peek() == JsonToken.BEGIN_OBJECT
                    ? labels(reader) : value(reader);
            if (v != null) { // null is as good as absent
                map.put(key, "kind".equals(key) && v instanceof String k ? shared(k) : v);
            }
        }
        reader.endObject();
        return Map.copyOf(map); // compact: a file may hold 10,000 of these
    }

    /** The labels object of an entry, as a map of its values (checked by the generic keys' rule). */
    private static Map<String, Object> labels(JsonReader reader) throws IOException {
        Map<String, Object> map = new LinkedHashMap<>();
        reader.beginObject();
        while (reader.hasNext()) {
            String name = reader.nextName();
            Object v = value(reader);
            if (v != null) {
                map.put(name, v);
            }
        }
        reader.endObject();
        return map;
    }

    /** A JSON value as a string, a whole number (Long), another number (Double), a list or {@code null}; objects as JSON text. */
    private static Object value(JsonReader reader) throws IOException {
        switch (reader.peek()) {
            case NULL -> {
                reader.nextNull();
                return null;
            }
            case NUMBER -> {
                String n = reader.nextString();
                try {
                    return Long.parseLong(n);
                } catch (NumberFormatException e) {
                    BigDecimal d = new BigDecimal(n);
                    try {
                        return d.longValueExact();
                    } catch (ArithmeticException notWhole) {
                        return d.doubleValue();
                    }
                }
            }
            case BOOLEAN -> {
                return Boolean.toString(reader.nextBoolean());
            }
            case STRING -> {
                return reader.nextString();
            }
            case BEGIN_ARRAY -> {
                List<Object> list = new ArrayList<>();
                reader.beginArray();
                while (reader.hasNext()) {
                    list.add(value(reader));
                }
                reader.endArray();
                return list;
            }
            default -> {
                return JsonParser.parseReader(reader).toString(); // an object: kept as its text
            }
        }
    }

    private static String describe(JsonReader reader, JsonToken token) throws IOException {
        return switch (token) {
            case BEGIN_ARRAY -> "an array";
            case NULL -> "null";
            case BEGIN_OBJECT -> "an object";
            case STRING -> "the value \"" + reader.nextString() + "\"";
            default -> "the value " + reader.nextString();
        };
    }
}
