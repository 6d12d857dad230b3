package io.sonde.uplink.internal;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;

import io.sonde.api.HttpGetResult;
import io.sonde.api.PingResult;
import io.sonde.api.PluginResult;
import io.sonde.api.ProbeResult;
import io.sonde.api.TcpConnectResult;
import io.sonde.api.TracerouteResult;
import io.sonde.api.UdpConnectResult;
import io.sonde.wire.WireCodec;
import io.sonde.wire.WireResult;

/**
 * Turns a probe result into its wire form: the generic fields, and the kind's measurements as
 * {@code details} (times in seconds, addresses as text).
 */
final class ResultEncoder {

    private ResultEncoder() {
    }

    static WireResult toWire(long seq, ProbeResult r) {
        return toWire(seq, r, null);
    }

    /** @param next when the target is probed next, or null when the scheduler did not say */
    static WireResult toWire(long seq, ProbeResult r, io.sonde.api.NextProbe next) {
        return new WireResult(seq, r.target().name(), r.target().kind(), r.startedAt(), r.isSuccessful(),
                r.isSuccessful() ? null : r.failureReason().label(), r.isSuccessful() ? null : r.errorMessage(),
                seconds(r.responseTime()), details(r), next == null ? null : next.at(), next != null && next.backoff());
    }

    static byte[] encode(long seq, ProbeResult r) {
        return encode(seq, r, null);
    }

    static byte[] encode(long seq, ProbeResult r, io.sonde.api.NextProbe next) {
        return WireCodec.json(toWire(seq, r, next));
    }

    static JsonObject details(ProbeResult r) {
        JsonObject d = new JsonObject();
        if (r instanceof PingResult p) {
            address(d, p.address());
            d.addProperty("sent", p.sent());
            d.addProperty("received", p.received());
            d.add("rtts", durations(p.rtts()));
            if (p.duplicates() > 0) {
                d.addProperty("duplicates", p.duplicates());
            }
            if (p.replyTtl() >= 0) {
                d.addProperty("reply_ttl", p.replyTtl());
            }
        } else if (r instanceof TracerouteResult t) {
            address(d, t.address());
            d.addProperty("reached", t.reached());
            JsonArray hops = new JsonArray();
            for (TracerouteResult.Hop h : t.hops()) {
                JsonObject hop = new JsonObject();
                hop.addProperty("ttl", h.ttl());
                hop.add("address", h.address() == null ? JsonNull.INSTANCE : new JsonPrimitive(h.address().getHostAddress()));
                hop.addProperty("sent", h.sent());
                hop.add("rtts", durations(h.rtts()));
                hops.add(hop);
            }
            d.add("hops", hops);
        } else if (r instanceof HttpGetResult h) {
            if (h.statusCode() > 0) {
                d.addProperty("status_code", h.statusCode());
            }
            JsonObject phases = new JsonObject();
            h.phases().forEach((k, v) -> phases.addProperty(k, seconds(v)));
            d.add("phases", phases);
            d.addProperty("body_bytes", h.bodySize());
            text(d, "http_version", h.httpVersion());
            text(d, "tls_version", h.tlsVersion());
            instant(d, "cert_expiry", h.certExpiry());
            instant(d, "leaf_cert_expiry", h.leafCertExpiry());
        } else if (r instanceof TcpConnectResult t) {
            socket(d, t.address());
        } else if (r instanceof UdpConnectResult u) {
            socket(d, u.address());
        } else if (r instanceof PluginResult p) {
            text(d, "plugin", p.pluginName());
            text(d, "plugin_version", p.pluginVersion());
            JsonObject data = new JsonObject();
            for (Map.Entry<String, Object> e : p.data().entrySet()) {
                data.add(e.getKey(), value(e.getValue()));
            }
            d.add("data", data);
        }
        return d;
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
        if (v instanceof List<?> list) {
            JsonArray a = new JsonArray();
            list.forEach(x -> a.add(value(x)));
            return a;
        }
        return new JsonPrimitive(String.valueOf(v));
    }

    private static JsonArray durations(List<Duration> ds) {
        JsonArray a = new JsonArray();
        for (Duration d : ds) {
            a.add(seconds(d));
        }
        return a;
    }

    static double seconds(Duration d) {
        return d == null ? 0 : d.toNanos() / 1e9;
    }

    private static void address(JsonObject d, InetAddress a) {
        if (a != null) {
            d.addProperty("address", a.getHostAddress());
        }
    }

    private static void socket(JsonObject d, InetSocketAddress a) {
        if (a != null && a.getAddress() != null) {
            d.addProperty("address", a.getAddress().getHostAddress());
            d.addProperty("port", a.getPort());
        }
    }

    private static void text(JsonObject d, String key, String value) {
        if (value != null) {
            d.addProperty(key, value);
        }
    }

    private static void instant(JsonObject d, String key, Instant value) {
        if (value != null) {
            d.addProperty(key, value.toString());
        }
    }
}
