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
                seconds(r.responseTime()), details(r), next == null ? null : next.at(), next != null && next.backoff());
    }

    static byte[] encode(long seq, ProbeResult r) {
        return encode(seq, r, null);
    }

    static byte[] encode(long seq, ProbeResult r, io.sonde.agent.spi.NextProbe next) {
        return WireCodec.json(toWire(seq, r, next));
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
            return new JsonPrimitive(a.getHostAddress());
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
