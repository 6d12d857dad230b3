package io.sonde.exporter.internal;

import java.io.StringWriter;
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
 * What /metrics costs to record and to write with 10,000 targets of four kinds (4,000 tcp, 3,000
 * icmp, 2,000 http, 1,000 traceroute): ns per recorded result, ms per rendering, medians of rounds
 * after a warm-up. Not a test (no *Test name): run by bench/metrics_bench.sh, on this build and an
 * older one, in one run. Arguments: rounds, a kind or {@code all}, labels per target (0).
 */
public final class ProbeMetricsBench {

    private ProbeMetricsBench() {
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        String only = args.length > 1 && !args[1].equals("all") ? args[1] : null; // one kind's 10,000 targets alone
        int labels = args.length > 2 ? Integer.parseInt(args[2]) : 0; // each target's labels (site=..., team=..., ...)
        InetAddress a = InetAddress.getByName("127.0.0.1");
        List<ProbeResult> results = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            String kind = only != null ? only : i < 4000 ? "tcp" : i < 7000 ? "icmp" : i < 9000 ? "http" : "traceroute";
            Set<String> tags = new java.util.HashSet<>();
            for (int l = 0; l < labels; l++) {
                tags.add("label" + l + "=value-" + (i % 50) + "-" + l);
            }
            Target t = new Target("t" + i, kind, "127.0.0.1", 80, Duration.ofSeconds(10), Duration.ofSeconds(2), tags, Map.of(), "bench");
            Instant now = Instant.now();
            Duration rt = Duration.ofNanos(200_000 + i);
            results.add(switch (kind) {
                case "tcp" -> new TcpConnectResult(t, now, rt, null, null, new InetSocketAddress(a, 80));
                case "icmp" -> new PingResult(t, now, rt, null, null, a, 3, List.of(rt, rt.plusNanos(3000), rt.plusNanos(1000)), 0, 64);
                case "http" -> new HttpGetResult(t, now, rt, null, null, 200, Map.of("dns", Duration.ZERO, "connect", rt, "tls", rt,
                        "processing", rt, "transfer", rt), 1234, "HTTP/1.1", "TLSv1.3", now.plusSeconds(86400 * 30), now.plusSeconds(86400 * 60));
                default -> new TracerouteResult(t, now, rt, null, null, a, List.of(new TracerouteResult.Hop(1, a, List.of(rt, rt), 2),
                        new TracerouteResult.Hop(2, null, List.of(), 2), new TracerouteResult.Hop(3, a, List.of(rt), 2)), true);
            });
        }
        ProbeMetrics metrics = new ProbeMetrics();
        List<Double> recordNs = new ArrayList<>();
        List<Double> writeMs = new ArrayList<>();
        int size = 0;
        for (int r = 0; r < rounds; r++) {
            long t0 = System.nanoTime();
            for (ProbeResult p : results) {
                metrics.record(p);
            }
            long t1 = System.nanoTime();
            StringWriter w = new StringWriter(16 << 20);
            metrics.write(w);
            long t2 = System.nanoTime();
            size = w.getBuffer().length();
            if (r >= rounds / 3) { // after the JIT's first compilations
                recordNs.add((t1 - t0) / (double) results.size());
                writeMs.add((t2 - t1) / 1e6);
            }
        }
        recordNs.sort(Double::compare);
        writeMs.sort(Double::compare);
        System.out.printf("record %.0f ns/result, write %.1f ms (median of %d), %d KB%n", recordNs.get(recordNs.size() / 2),
                writeMs.get(writeMs.size() / 2), writeMs.size(), size / 1024);
    }
}
