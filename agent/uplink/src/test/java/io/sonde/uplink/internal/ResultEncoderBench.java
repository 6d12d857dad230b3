package io.sonde.uplink.internal;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.sonde.plugin.http.internal.HttpGetResult;
import io.sonde.plugin.icmp.internal.PingResult;
import io.sonde.api.ProbeResult;
import io.sonde.api.Target;
import io.sonde.plugin.tcp.internal.TcpConnectResult;
import io.sonde.plugin.traceroute.internal.TracerouteResult;

/**
 * What the uplink's encoding of one result costs (to its wire JSON), by kind: ns per result,
 * median of rounds after a warm-up. Not a test: run by bench/metrics_bench.sh on this build and an
 * older one in one run. Arguments: rounds, labels per target (0).
 */
public final class ResultEncoderBench {

    private ResultEncoderBench() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        labels = args.length > 1 ? Integer.parseInt(args[1]) : 0;
        InetAddress a = InetAddress.getByName("127.0.0.1");
        Instant now = Instant.now();
        Duration rt = Duration.ofNanos(234_567);
        Map<String, ProbeResult> byKind = new java.util.LinkedHashMap<>();
        byKind.put("tcp", new TcpConnectResult(t("tcp"), now, rt, null, null, new InetSocketAddress(a, 80)));
        byKind.put("icmp", new PingResult(t("icmp"), now, rt, null, null, a, 3, List.of(rt, rt.plusNanos(3000), rt.plusNanos(1000)), 0, 64));
        byKind.put("http", new HttpGetResult(t("http"), now, rt, null, null, 200, Map.of("dns", Duration.ZERO, "connect", rt, "tls", rt,
                "processing", rt, "transfer", rt), 1234, "HTTP/1.1", "TLSv1.3", now.plusSeconds(86400 * 30), now.plusSeconds(86400 * 60)));
        byKind.put("traceroute", new TracerouteResult(t("traceroute"), now, rt, null, null, a, List.of(new TracerouteResult.Hop(1, a,
                List.of(rt, rt), 2), new TracerouteResult.Hop(2, null, List.of(), 2), new TracerouteResult.Hop(3, a, List.of(rt), 2)), true));
        StringBuilder out = new StringBuilder();
        long sink = 0;
        for (Map.Entry<String, ProbeResult> e : byKind.entrySet()) {
            List<Double> ns = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < 100_000; i++) {
                    sink += ResultEncoder.encode(i + 1, e.getValue()).length;
                }
                long t1 = System.nanoTime();
                if (r >= rounds / 3) {
                    ns.add((t1 - t0) / 100_000.0);
                }
            }
            ns.sort(Double::compare);
            out.append(String.format("%s %.0f ns; ", e.getKey(), ns.get(ns.size() / 2)));
        }
        System.out.println("encode " + out + "(" + sink % 7 + ")");
    }

    /** Labels of each target (site=..., team=...): the second argument, 0 unless given. */
    private static int labels;

    private static Target t(String kind) {
        Set<String> tags = new java.util.HashSet<>();
        for (int l = 0; l < labels; l++) {
            tags.add("label" + l + "=value-" + l);
        }
        return new Target("t", kind, "127.0.0.1", 80, Duration.ofSeconds(10), Duration.ofSeconds(2), tags, Map.of(), "bench");
    }
}
