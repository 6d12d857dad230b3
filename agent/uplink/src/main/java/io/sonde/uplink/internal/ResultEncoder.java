package io.sonde.uplink.internal;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;

import io.sonde.api.ProbeResult;
import io.sonde.api.ResultSchema;
import io.sonde.wire.WireCodec;
import io.sonde.wire.WireResult;

/**
 * Turns a probe result into its wire form: the generic fields, and the kind's values as
 * {@code details} (times in seconds, addresses as text), without knowing any kind.
 */
final class ResultEncoder {

    private ResultEncoder() {
    }

    static WireResult toWire(long seq, ProbeResult r) {
        return toWire(seq, r, null);
    }

    /** @param next when the target is probed next, or null when the scheduler did not say */
    static WireResult toWire(long seq, ProbeResult r, io.sonde.agent.spi.NextProbe next) {
        return new WireResult(seq, r.target().name(), r.target().kind(), r.startedAt(), r.isSuccessful(),
                r.isSuccessful() ? null : r.failureReason().label(), r.isSuccessful() ? null : r.errorMessage(),
                seconds(r.responseTime()), details(r), next == null ? null : next.at(), next != null && next.backoff(), labels(r));
    }

    /** @return the target's labels, or null when it has none (left out of the JSON) */
    private static Map<String, String> labels(ProbeResult r) {
        Map<String, String> labels = labelsOf(r.target().tags());
        return labels.isEmpty() ? null : labels;
    }

    /** The labels of the tag sets seen, so that a result does not sort its target's tags again; emptied past 10,000 sets. */
    private static final java.util.concurrent.ConcurrentHashMap<java.util.Set<String>, Map<String, String>> LABELS =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** @return the labels of a target's tags (its tags written name=value), in name order */
    static Map<String, String> labelsOf(java.util.Set<String> tags) {
        if (tags.isEmpty()) {
            return Map.of();
        }
        Map<String, String> labels = LABELS.get(tags);
        if (labels == null) {
            if (LABELS.size() >= 10_000) {
                LABELS.clear();
            }
            labels = java.util.Collections.unmodifiableMap(io.sonde.agent.spi.TargetKeys.labels(tags));
            LABELS.put(tags, labels);
        }
        return labels;
    }

    static byte[] encode(long seq, ProbeResult r) {
        return encode(seq, r, null);
    }

    /**
     * The wire JSON of a result, written straight from the result and its values: byte for byte
     * what Gson writes for {@link #toWire} (the same writer settings: nulls in objects left out, no
     * HTML escaping), without the document tree in between.
     */
    static byte[] encode(long seq, ProbeResult r, io.sonde.agent.spi.NextProbe next) {
        return encode(seq, r, next, null);
    }

    /**
     * @param asns the agent's IP-to-AS table (etc/io.sonde.asn.cfg), or null: with one, each hop
     *             (a map with {@code ttl} and {@code address}) gets {@code asn} and {@code as_name},
     *             each path (a map with {@code flows} and {@code hops}) {@code asns}, as the server's
     *             table would give them (io.sonde.asn.HopAsns)
     */
    static byte[] encode(long seq, ProbeResult r, io.sonde.agent.spi.NextProbe next, io.sonde.asn.AsnLookup asns) {
        Text text = new Text(256);
        try (com.google.gson.stream.JsonWriter w = WireCodec.gson().newJsonWriter(text)) {
            boolean ok = r.isSuccessful();
            w.beginObject();
            w.name("seq").value(seq);
            w.name("target").value(r.target().name());
            w.name("kind").value(r.target().kind());
            w.name("started_at").value(r.startedAt() == null ? null : r.startedAt().toString());
            w.name("success").value(ok);
            w.name("failure_reason").value(ok ? null : r.failureReason().label());
            w.name("error").value(ok ? null : r.errorMessage());
            w.name("response_time_seconds").value(seconds(r.responseTime()));
            w.name("details").beginObject();
            java.util.Set<String> local = localValues(r.schema());
            for (Map.Entry<String, Object> e : r.values().entrySet()) {
                if (e.getValue() != null && !local.contains(e.getKey())) {
                    write(w.name(e.getKey()), e.getValue(), asns);
                }
            }
            w.endObject();
            w.name("next_probe").value(next == null ? null : next.at().toString());
            w.name("backoff").value(next != null && next.backoff());
            Map<String, String> labels = labelsOf(r.target().tags());
            if (!labels.isEmpty()) {
                w.name("labels").beginObject();
                for (Map.Entry<String, String> e : labels.entrySet()) {
                    w.name(e.getKey()).value(e.getValue());
                }
                w.endObject();
            }
            w.endObject();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e); // a StringWriter does not fail
        }
        return text.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** A writer into a StringBuilder: a StringWriter's buffer takes a lock for every piece the JSON writer hands it. */
    private static final class Text extends java.io.Writer {
        private final StringBuilder b;

        Text(int capacity) {
            b = new StringBuilder(capacity);
        }

        @Override
        public void write(char[] c, int off, int len) {
            b.append(c, off, len);
        }

        @Override
        public void write(int c) {
            b.append((char) c);
        }

        @Override
        public void write(String s, int off, int len) {
            b.append(s, off, off + len);
        }

        @Override
        public java.io.Writer append(CharSequence s) {
            b.append(s);
            return this;
        }

        @Override
        public java.io.Writer append(char c) {
            b.append(c);
            return this;
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }

        @Override
        public String toString() {
            return b.toString();
        }
    }

    /** A hop's AS, or a path's, by the shapes of the contract's HOPS and PATHS types, when the map has none of its own. */
    private static void annotate(com.google.gson.stream.JsonWriter w, Map<?, ?> map, io.sonde.asn.AsnLookup asns) throws java.io.IOException {
        if (map.containsKey("ttl") && map.containsKey("address") && !map.containsKey("asn")) {
            io.sonde.asn.Origin o = origin(map.get("address"), asns);
            if (o != null) {
                w.name("asn").value(o.asn());
                if (!o.name().isEmpty()) {
                    w.name("as_name").value(o.name());
                }
            }
        } else if (map.containsKey("flows") && map.get("hops") instanceof List<?> hops && !map.containsKey("asns")) {
            w.name("asns").beginArray();
            for (Object a : hops) {
                io.sonde.asn.Origin o = origin(a, asns);
                if (o == null) {
                    w.nullValue();
                } else {
                    w.value(o.asn());
                }
            }
            w.endArray();
        }
    }

    private static io.sonde.asn.Origin origin(Object address, io.sonde.asn.AsnLookup asns) {
        if (address instanceof InetAddress a) {
            return asns.lookup(a);
        }
        return address instanceof String text ? io.sonde.asn.HopAsns.origin(new com.google.gson.JsonPrimitive(text), asns) : null;
    }

    /** One value as {@link #value} turns it into JSON, written at once. */
    private static void write(com.google.gson.stream.JsonWriter w, Object v, io.sonde.asn.AsnLookup asns) throws java.io.IOException {
        if (v == null) {
            w.nullValue();
        } else if (v instanceof Number n) {
            double x = n.doubleValue();
            if (Double.isFinite(x)) {
                w.value(n);
            } else {
                w.value(String.valueOf(n));
            }
        } else if (v instanceof Boolean b) {
            w.value(b.booleanValue());
        } else if (v instanceof Duration t) {
            w.value(seconds(t));
        } else if (v instanceof Instant t) {
            w.value(t.toString());
        } else if (v instanceof InetAddress a) {
            w.value(io.sonde.api.ResultSchema.text(a));
        } else if (v instanceof List<?> list) {
            w.beginArray();
            for (Object x : list) {
                write(w, x, asns);
            }
            w.endArray();
        } else if (v instanceof Map<?, ?> map) {
            w.beginObject();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                write(w.name(String.valueOf(e.getKey())), e.getValue(), asns);
            }
            if (asns != null) {
                annotate(w, map, asns);
            }
            w.endObject();
        } else {
            w.value(String.valueOf(v));
        }
    }

    /**
     * The result's values as JSON, whatever its kind: every value its schema does not keep on the
     * agent, in the result's order (durations in seconds, instants as ISO-8601 text, addresses as
     * text, lists and maps as arrays and objects).
     */
    static JsonObject details(ProbeResult r) {
        JsonObject d = new JsonObject();
        java.util.Set<String> local = localValues(r.schema());
        for (Map.Entry<String, Object> e : r.values().entrySet()) {
            if (e.getValue() != null && !local.contains(e.getKey())) {
                d.add(e.getKey(), value(e.getValue()));
            }
        }
        return d;
    }

    /**
     * The names of each schema's values that stay on the agent, by schema (the same object for every
     * result of a kind): a map copied on each new schema and read without a lock.
     */
    private static volatile Map<ResultSchema, java.util.Set<String>> local = new java.util.IdentityHashMap<>();

    private static java.util.Set<String> localValues(ResultSchema schema) {
        java.util.Set<String> names = local.get(schema);
        return names != null ? names : addLocalValues(schema);
    }

    private static synchronized java.util.Set<String> addLocalValues(ResultSchema schema) {
        java.util.Set<String> names = local.get(schema);
        if (names == null) {
            names = new java.util.HashSet<>();
            for (ResultSchema.Value v : schema.values()) {
                if (v.local()) {
                    names.add(v.name());
                }
            }
            // a plugin that makes a schema per result: kept bounded, read again
            Map<ResultSchema, java.util.Set<String>> next = local.size() >= 256 ? new java.util.IdentityHashMap<>()
                    : new java.util.IdentityHashMap<>(local);
            next.put(schema, names);
            local = next;
        }
        return names;
    }

    private static JsonElement value(Object v) {
        if (v == null) {
            return JsonNull.INSTANCE;
        }
        if (v instanceof Number n) {
            double x = n.doubleValue();
            return Double.isFinite(x) ? new JsonPrimitive(n) : new JsonPrimitive(String.valueOf(n));
        }
        if (v instanceof Boolean b) {
            return new JsonPrimitive(b);
        }
        if (v instanceof Duration t) {
            return new JsonPrimitive(seconds(t));
        }
        if (v instanceof Instant t) {
            return new JsonPrimitive(t.toString());
        }
        if (v instanceof InetAddress a) {
            return new JsonPrimitive(io.sonde.api.ResultSchema.text(a));
        }
        if (v instanceof List<?> list) { // loops, not forEach: a traceroute has a list and a map per hop
            JsonArray a = new JsonArray(list.size());
            for (Object x : list) {
                a.add(value(x));
            }
            return a;
        }
        if (v instanceof Map<?, ?> map) {
            JsonObject o = new JsonObject();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                o.add(String.valueOf(e.getKey()), value(e.getValue()));
            }
            return o;
        }
        return new JsonPrimitive(String.valueOf(v));
    }

    static double seconds(Duration d) {
        return d == null ? 0 : d.toNanos() / 1e9;
    }
}
