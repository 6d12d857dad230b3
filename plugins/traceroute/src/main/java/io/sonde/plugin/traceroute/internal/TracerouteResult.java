package io.sonde.plugin.traceroute.internal;

import io.sonde.api.FailureReason;
import io.sonde.api.ProbeResult;
import io.sonde.api.ResultSchema;
import io.sonde.api.Target;

import java.util.Map;
import java.util.LinkedHashMap;
import java.util.ArrayList;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * A traceroute towards a target.
 *
 * @param responseTime total time of the trace
 * @param address      the resolved destination address, or {@code null} if resolution failed
 * @param hops         every hop, nearest first; the target itself is the last hop when reached
 * @param reached      whether the destination answered (on some flow)
 * @param paths        with several flows, the distinct paths they took (flow 0's first); else empty
 */
public record TracerouteResult(
        Target target,
        Instant startedAt,
        Duration responseTime,
        FailureReason failureReason,
        String errorMessage,
        InetAddress address,
        List<Hop> hops,
        boolean reached,
        List<FlowPath> paths) implements ProbeResult {

    /** Takes an immutable copy of the hops and paths. */
    public TracerouteResult {
        hops = hops == null ? List.of() : List.copyOf(hops);
        paths = paths == null ? List.of() : List.copyOf(paths);
    }

    /** A trace on one flow. */
    public TracerouteResult(Target target, Instant startedAt, Duration responseTime, FailureReason failureReason,
            String errorMessage, InetAddress address, List<Hop> hops, boolean reached) {
        this(target, startedAt, responseTime, failureReason, errorMessage, address, hops, reached, List.of());
    }

    /**
     * One of the distinct paths of a trace on several flows.
     *
     * @param flows the flows that took it (0 is the one whose hops {@link #hops()} lists)
     * @param hops  the address answering at each TTL from 1, null where none did
     */
    public record FlowPath(List<Integer> flows, List<InetAddress> hops) {

        /** Takes a copy; the hops may hold nulls. */
        public FlowPath {
            flows = List.copyOf(flows);
            hops = java.util.Collections.unmodifiableList(new ArrayList<>(hops));
        }
    }

    /**
     * One hop of a trace.
     *
     * @param ttl     the TTL or hop limit of the queries
     * @param address the address that answered, or {@code null} if none did
     * @param rtts    round-trip time of each answered query
     * @param sent    queries sent to this hop
     */
    public record Hop(int ttl, InetAddress address, List<Duration> rtts, int sent) {

        /** Takes an immutable copy of the RTTs. */
        public Hop {
            rtts = rtts == null ? List.of() : List.copyOf(rtts);
        }
    }

    /** Traceroute's values and families, as its plugin describes them. @since 1.9 */
    public static final ResultSchema SCHEMA = new ResultSchema("2", List.of(
            ResultSchema.Value.of("address", ResultSchema.Type.ADDRESS, "", ResultSchema.Role.ADDRESS, "the resolved destination"),
            ResultSchema.Value.of("reached", ResultSchema.Type.BOOLEAN, "", ResultSchema.Role.NONE, "whether the destination answered"),
            ResultSchema.Value.of("hops", ResultSchema.Type.HOPS, "", ResultSchema.Role.PATH, "every hop of flow 0, nearest first"),
            ResultSchema.Value.of("paths", ResultSchema.Type.PATHS, "", ResultSchema.Role.BRANCHES,
                    "with several flows: the distinct paths they took and which flows took each"),
            ResultSchema.Value.local("path_count", ResultSchema.Type.NUMBER, "", "distinct paths of the flows"),
            ResultSchema.Value.local("route_hash", ResultSchema.Type.NUMBER, "",
                    "CRC-32 of the hop addresses in order; with several paths, of the set of paths")),
            List.of(ResultSchema.Family.of("probe_traceroute_hops", ResultSchema.Sample.GAUGE,
                    "Hops of the last trace, the destination included when reached", "hops"),
                    ResultSchema.Family.of("probe_traceroute_paths", ResultSchema.Sample.GAUGE,
                            "Distinct paths the flows of the last trace took (1 on a single flow)", "path_count"),
                    ResultSchema.Family.of("probe_traceroute_route_hash", ResultSchema.Sample.GAUGE,
                            "CRC-32 of the hop addresses of the last trace (of the set of paths with several): changes when the path does", "route_hash"),
                    ResultSchema.Family.of("probe_traceroute_route_changes_total", ResultSchema.Sample.CHANGES,
                            "Traces whose path differed from the trace before", "route_hash")),
            List.of(ResultSchema.Family.of("probe_traceroute_hops", ResultSchema.Sample.GAUGE,
                    "Hops of the trace, the destination included when reached", "hops")));

    @Override
    public ResultSchema schema() {
        return SCHEMA;
    }

    @Override
    public Map<String, Object> values() {
        Map<String, Object> v = new LinkedHashMap<>();
        if (address != null) {
            v.put("address", address);
        }
        v.put("reached", reached);
        List<Map<String, Object>> list = new ArrayList<>(hops.size());
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        for (Hop h : hops) {
            Map<String, Object> hop = new LinkedHashMap<>(8);
            InetAddress address = h.address();
            hop.put("ttl", h.ttl());
            hop.put("address", address == null ? null : ResultSchema.text(address));
            hop.put("sent", h.sent());
            hop.put("rtts", h.rtts());
            list.add(hop);
            if (address != null) { // the address's bytes, a silent hop none: a change of either is a new route
                crc.update(address.getAddress());
            }
            crc.update(address == null ? 0 : 1);
        }
        v.put("hops", list);
        if (paths.isEmpty()) {
            v.put("path_count", 1);
            v.put("route_hash", crc.getValue());
            return v;
        }
        List<Map<String, Object>> branches = new ArrayList<>(paths.size());
        long[] crcs = new long[paths.size()];
        for (int i = 0; i < paths.size(); i++) {
            FlowPath p = paths.get(i);
            List<String> addresses = new ArrayList<>(p.hops().size());
            java.util.zip.CRC32 one = new java.util.zip.CRC32();
            for (InetAddress a : p.hops()) {
                addresses.add(a == null ? null : ResultSchema.text(a));
                if (a != null) {
                    one.update(a.getAddress());
                }
                one.update(a == null ? 0 : 1);
            }
            crcs[i] = one.getValue();
            branches.add(Map.of("flows", p.flows(), "hops", java.util.Collections.unmodifiableList(addresses)));
        }
        v.put("paths", branches);
        v.put("path_count", paths.size());
        if (paths.size() == 1) {
            v.put("route_hash", crc.getValue()); // one path: as on a single flow
        } else {
            java.util.Arrays.sort(crcs); // the set of paths, whichever flows took them
            java.util.zip.CRC32 set = new java.util.zip.CRC32();
            for (long c : crcs) {
                set.update(java.nio.ByteBuffer.allocate(8).putLong(c).array());
            }
            v.put("route_hash", set.getValue());
        }
        return v;
    }
}
