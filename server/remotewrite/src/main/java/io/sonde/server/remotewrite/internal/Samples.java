package io.sonde.server.remotewrite.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;

import io.sonde.server.spi.KindRoles;
import io.sonde.wire.WireResult;

/**
 * A result as the series of Prometheus's remote-write protocol (1.0: {@code prometheus.WriteRequest}
 * in protobuf, snappy-compressed by the sender): {@code sonde_probe_success} (1 or 0),
 * {@code sonde_probe_duration_seconds} and, for a kind whose results count requests sent and replies
 * received, {@code sonde_probe_packet_loss_ratio}; each labelled {@code agent}, {@code target},
 * {@code kind} and the configured labels, stamped with the probe's start. A result's bytes are
 * {@code WriteRequest} field 1 entries, so that the bytes of several results laid end to end are a
 * {@code WriteRequest} of all of them.
 */
final class Samples {

    /** Names the operator's labels may have: Prometheus's, and none of the ones Sonde sets. */
    static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]{0,127}");
    static final List<String> OWN_LABELS = List.of("__name__", "agent", "target", "kind");

    // WriteRequest.timeseries = 1; TimeSeries.labels = 1, samples = 2; Label.name = 1, value = 2; Sample.value = 1, timestamp = 2
    private static final int TIMESERIES = 1;
    private static final int LABELS = 1;
    private static final int SAMPLES = 2;

    private final TreeMap<String, String> external;

    /** @param external the labels every series gets besides Sonde's own */
    Samples(Map<String, String> external) {
        this.external = new TreeMap<>(external);
    }

    /**
     * @param labels {@code name=value} pairs separated by commas
     * @return them by name
     * @throws IllegalArgumentException naming the pair that is wrong
     */
    static Map<String, String> parseLabels(String labels) {
        Map<String, String> out = new TreeMap<>();
        for (String pair : labels.split(",")) {
            if (pair.isBlank()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = eq < 0 ? pair.strip() : pair.substring(0, eq).strip();
            if (eq < 0 || !LABEL_NAME.matcher(name).matches() || name.startsWith("__")) {
                throw new IllegalArgumentException("labels: '" + pair.strip() + "' is not name=value with a Prometheus label name");
            }
            if (OWN_LABELS.contains(name)) {
                throw new IllegalArgumentException("labels: '" + name + "' is set by Sonde on every series (" + OWN_LABELS + ")");
            }
            if (out.put(name, pair.substring(eq + 1).strip()) != null) {
                throw new IllegalArgumentException("labels: '" + name + "' is given twice");
            }
        }
        return out;
    }

    /** @return how many series {@link #encode} makes of the result */
    static int count(WireResult r, KindRoles.Counts roles) {
        return loss(r, roles) >= 0 ? 3 : 2;
    }

    /** @return the result's series, encoded as {@code WriteRequest} field 1 entries */
    byte[] encode(String agentId, WireResult r, KindRoles.Counts roles) {
        long ts = r.startedAt().toEpochMilli();
        List<byte[]> series = new ArrayList<>(3);
        series.add(series("sonde_probe_success", agentId, r, r.success() ? 1 : 0, ts));
        series.add(series("sonde_probe_duration_seconds", agentId, r, r.responseTimeSeconds(), ts));
        double loss = loss(r, roles);
        if (loss >= 0) {
            series.add(series("sonde_probe_packet_loss_ratio", agentId, r, loss, ts));
        }
        int size = 0;
        for (byte[] s : series) {
            size += CodedOutputStream.computeTagSize(TIMESERIES) + CodedOutputStream.computeUInt32SizeNoTag(s.length) + s.length;
        }
        byte[] out = new byte[size];
        CodedOutputStream o = CodedOutputStream.newInstance(out);
        try {
            for (byte[] s : series) {
                o.writeTag(TIMESERIES, WireFormat.WIRETYPE_LENGTH_DELIMITED);
                o.writeUInt32NoTag(s.length);
                o.writeRawBytes(s);
            }
            o.checkNoSpaceLeft();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // sized exactly: cannot happen
        }
        return out;
    }

    /** @return the loss of a result whose kind counts what it sent and received, or -1 */
    private static double loss(WireResult r, KindRoles.Counts roles) {
        int sent = roles.sent(r.details());
        int received = roles.received(r.details());
        if (sent <= 0 || received < 0) {
            return -1;
        }
        return Math.max(0, sent - Math.min(sent, received)) / (double) sent;
    }

    /** One TimeSeries message: its labels sorted by name, as the protocol requires, and one sample. */
    private byte[] series(String name, String agentId, WireResult r, double value, long ts) {
        TreeMap<String, String> labels = new TreeMap<>(external);
        labels.putAll(r.labelsOrEmpty()); // the target's labels, over the configured ones (as a series' own labels win over external labels)
        labels.put("__name__", name);
        labels.put("agent", agentId);
        labels.put("target", r.target());
        labels.put("kind", r.kind());
        int size = 0;
        for (Map.Entry<String, String> l : labels.entrySet()) {
            int ls = labelSize(l.getKey(), l.getValue());
            size += CodedOutputStream.computeTagSize(LABELS) + CodedOutputStream.computeUInt32SizeNoTag(ls) + ls;
        }
        int ss = CodedOutputStream.computeDoubleSize(1, value) + CodedOutputStream.computeInt64Size(2, ts);
        size += CodedOutputStream.computeTagSize(SAMPLES) + CodedOutputStream.computeUInt32SizeNoTag(ss) + ss;
        byte[] out = new byte[size];
        CodedOutputStream o = CodedOutputStream.newInstance(out);
        try {
            for (Map.Entry<String, String> l : labels.entrySet()) {
                o.writeTag(LABELS, WireFormat.WIRETYPE_LENGTH_DELIMITED);
                o.writeUInt32NoTag(labelSize(l.getKey(), l.getValue()));
                o.writeString(1, l.getKey());
                o.writeString(2, l.getValue());
            }
            o.writeTag(SAMPLES, WireFormat.WIRETYPE_LENGTH_DELIMITED);
            o.writeUInt32NoTag(ss);
            o.writeDouble(1, value);
            o.writeInt64(2, ts);
            o.checkNoSpaceLeft();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static int labelSize(String name, String value) {
        return CodedOutputStream.computeStringSize(1, name) + CodedOutputStream.computeStringSize(2, value);
    }
}
