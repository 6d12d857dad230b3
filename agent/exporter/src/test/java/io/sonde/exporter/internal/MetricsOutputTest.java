package io.sonde.exporter.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.Assume;
import org.junit.Test;

import io.prometheus.client.Collector;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.GaugeMetricFamily;
import io.sonde.api.FailureReason;
import io.sonde.api.ProbeFailure;
import io.sonde.api.MeasuredResult;
import io.sonde.api.ResultSchema;
import io.sonde.api.Target;
import io.sonde.plugin.tcp.internal.TcpConnectResult;

public class MetricsOutputTest {

    private final CollectorRegistry registry = new CollectorRegistry(true);
    private final ProbeMetrics metrics = new ProbeMetrics();

    private static Target target(String name) {
        return new Target(name, "tcp", "127.0.0.1", 80, Duration.ofSeconds(5), Duration.ofSeconds(1), Set.of(),
                Map.of(), "test");
    }

    private String render(List<Collector> contributed) throws IOException {
        StringWriter w = new StringWriter();
        metrics.write(w);
        MetricsWriter.write(w, contributed, () -> registry.metricFamilySamples().asIterator());
        return w.toString();
    }

    private static Collector targets(String state, double value) {
        return new Collector() {
            @Override
            public List<MetricFamilySamples> collect() {
                GaugeMetricFamily f = new GaugeMetricFamily("sonde_targets", "Targets by state", List.of("state"));
                f.addMetric(List.of(state), value);
                return List.of(f);
            }
        };
    }

    @Test
    public void successFailureAndTimeoutAreCounted() throws Exception {
        Target t = target("web");
        metrics.record(new TcpConnectResult(t, Instant.now(), Duration.ofMillis(2), null, null, null));
        metrics.record(new TcpConnectResult(t, Instant.now(), Duration.ofMillis(1), FailureReason.REFUSED, "refused", null));
        metrics.record(new ProbeFailure(t, Instant.now(), Duration.ofSeconds(1), FailureReason.TIMEOUT, "late"));
        String out = render(List.of());
        assertTrue(out, out.contains("probe_total{target=\"web\",kind=\"tcp\"} 3"));
        assertTrue(out, out.contains("probe_timeout_total{target=\"web\",kind=\"tcp\"} 1"));
        assertTrue(out, out.contains("probe_failure_total{target=\"web\",kind=\"tcp\",reason=\"refused\"} 1"));
        assertTrue(out, out.contains("probe_success{target=\"web\",kind=\"tcp\"} 0"));
        assertTrue(out, out.contains("probe_latency_seconds_bucket{target=\"web\",kind=\"tcp\",le=\"0.0025\"} 1"));
        assertTrue(out, out.contains("probe_latency_seconds_count{target=\"web\",kind=\"tcp\"} 1"));
    }

    @Test
    public void removedTargetLeavesNoSeries() throws Exception {
        Target t = target("gone");
        metrics.record(new TcpConnectResult(t, Instant.now(), Duration.ofMillis(2), null, null, null));
        metrics.record(new TcpConnectResult(t, Instant.now(), Duration.ofMillis(1), FailureReason.UNREACHABLE, "x", null));
        metrics.record(new TcpConnectResult(target("stays"), Instant.now(), Duration.ofMillis(2), null, null, null));
        metrics.remove(t);
        String out = render(List.of());
        assertFalse(out, out.contains("\"gone\""));
        assertTrue(out, out.contains("\"stays\""));
    }

    @Test
    public void labelValuesAreEscaped() throws Exception {
        Target t = new Target("a \"quoted\" \\ name", "tcp", "h", 1, Duration.ofSeconds(5), Duration.ofSeconds(1),
                Set.of(), Map.of(), "test");
        metrics.record(new TcpConnectResult(t, Instant.now(), Duration.ofMillis(2), null, null, null));
        String out = render(List.of());
        assertTrue(out, out.contains("probe_total{target=\"a \\\"quoted\\\" \\\\ name\",kind=\"tcp\"} 1"));
    }

    @Test
    public void aTargetsLabelsAreOnEachOfItsSeriesAndAChangeMakesNewSeries() throws Exception {
        Target t = new Target("web", "tcp", "h", 1, Duration.ofSeconds(5), Duration.ofSeconds(1), Set.of("eu", "team=d\"b", "site=fra"),
                Map.of(), "test");
        metrics.record(new TcpConnectResult(t, Instant.now(), Duration.ofMillis(2), null, null, null));
        metrics.record(new TcpConnectResult(t, Instant.now(), Duration.ofMillis(2), FailureReason.REFUSED, "no", null));
        String out = render(List.of());
        assertTrue(out, out.contains("probe_total{target=\"web\",kind=\"tcp\",site=\"fra\",team=\"d\\\"b\"} 2"));
        assertTrue(out, out.contains("probe_failure_total{target=\"web\",kind=\"tcp\",site=\"fra\",team=\"d\\\"b\",reason=\"refused\"} 1"));
        assertTrue(out, out.contains("probe_latency_seconds_bucket{target=\"web\",kind=\"tcp\",site=\"fra\",team=\"d\\\"b\",le=\"+Inf\"} 1"));
        assertFalse("a plain tag is no label", out.contains("eu"));
        Target moved = new Target("web", "tcp", "h", 1, Duration.ofSeconds(5), Duration.ofSeconds(1), Set.of("site=ams"), Map.of(), "test");
        metrics.record(new TcpConnectResult(moved, Instant.now(), Duration.ofMillis(2), null, null, null));
        out = render(List.of());
        assertTrue(out, out.contains("probe_total{target=\"web\",kind=\"tcp\",site=\"ams\"} 1"));
        assertFalse("the old labels' series is gone", out.contains("fra"));
    }

    @Test
    public void histogramIsCumulative() throws Exception {
        Target t = target("h");
        for (long ms : new long[] {0, 1, 3, 20, 20_000}) {
            metrics.record(new TcpConnectResult(t, Instant.now(), Duration.ofMillis(ms), null, null, null));
        }
        String out = render(List.of());
        assertTrue(out, out.contains("probe_latency_seconds_bucket{target=\"h\",kind=\"tcp\",le=\"0.0001\"} 1"));
        assertTrue(out, out.contains("probe_latency_seconds_bucket{target=\"h\",kind=\"tcp\",le=\"0.001\"} 2"));
        assertTrue(out, out.contains("probe_latency_seconds_bucket{target=\"h\",kind=\"tcp\",le=\"0.025\"} 4"));
        assertTrue(out, out.contains("probe_latency_seconds_bucket{target=\"h\",kind=\"tcp\",le=\"10\"} 4"));
        assertTrue(out, out.contains("probe_latency_seconds_bucket{target=\"h\",kind=\"tcp\",le=\"+Inf\"} 5"));
        assertTrue(out, out.contains("probe_latency_seconds_count{target=\"h\",kind=\"tcp\"} 5"));
        assertTrue(out, out.contains("probe_latency_seconds_sum{target=\"h\",kind=\"tcp\"} 20.024"));
    }

    @Test
    public void icmpRoundsCountPacketsAndEveryReply() throws Exception {
        Target t = new Target("lo", "icmp", "127.0.0.1", 0, Duration.ofSeconds(5), Duration.ofSeconds(1), Set.of(),
                Map.of(), "test");
        metrics.record(new io.sonde.plugin.icmp.internal.PingResult(t, Instant.now(), Duration.ofMillis(2), null, null, null, 3,
                List.of(Duration.ofMillis(1), Duration.ofMillis(3)), 0, 64));
        metrics.record(new io.sonde.plugin.icmp.internal.PingResult(t, Instant.now(), Duration.ZERO, FailureReason.TIMEOUT, "lost",
                null, 3, List.of(), 0, -1));
        String out = render(List.of());
        assertTrue(out, out.contains("probe_packets_sent_total{target=\"lo\",kind=\"icmp\"} 6"));
        assertTrue(out, out.contains("probe_packets_received_total{target=\"lo\",kind=\"icmp\"} 2"));
        assertTrue(out, out.contains("probe_latency_seconds_count{target=\"lo\",kind=\"icmp\"} 2"));
        assertTrue(out, out.contains("probe_timeout_total{target=\"lo\",kind=\"icmp\"} 1"));
        assertTrue(out, out.contains("probe_success{target=\"lo\",kind=\"icmp\"} 0"));
        assertTrue(out, out.contains("# TYPE probe_jitter_seconds gauge"));
    }

    @Test
    public void traceroutePathChangesAreCounted() throws Exception {
        Target t = new Target("tr", "traceroute", "198.18.3.2", 0, Duration.ofSeconds(60), Duration.ofSeconds(5),
                Set.of(), Map.of(), "test");
        java.net.InetAddress a = java.net.InetAddress.getByName("198.18.0.2");
        java.net.InetAddress b = java.net.InetAddress.getByName("198.18.1.2");
        java.net.InetAddress d = java.net.InetAddress.getByName("198.18.3.2");
        List<io.sonde.plugin.traceroute.internal.TracerouteResult.Hop> path1 = List.of(new io.sonde.plugin.traceroute.internal.TracerouteResult.Hop(1, a, List.of(), 3),
                new io.sonde.plugin.traceroute.internal.TracerouteResult.Hop(2, d, List.of(), 3));
        List<io.sonde.plugin.traceroute.internal.TracerouteResult.Hop> path2 = List.of(new io.sonde.plugin.traceroute.internal.TracerouteResult.Hop(1, b, List.of(), 3),
                new io.sonde.plugin.traceroute.internal.TracerouteResult.Hop(2, d, List.of(), 3));
        for (List<io.sonde.plugin.traceroute.internal.TracerouteResult.Hop> p : List.of(path1, path1, path2)) {
            metrics.record(new io.sonde.plugin.traceroute.internal.TracerouteResult(t, Instant.now(), Duration.ofMillis(5), null, null, d, p, true));
        }
        String out = render(List.of());
        assertTrue(out, out.contains("probe_traceroute_hops{target=\"tr\",kind=\"traceroute\"} 2"));
        assertTrue(out, out.contains("probe_traceroute_route_changes_total{target=\"tr\",kind=\"traceroute\"} 1"));
        assertTrue(out, out.contains("probe_success{target=\"tr\",kind=\"traceroute\"} 1"));
    }

    private void recordHttp(String name) {
        Target t = new Target(name, "http", "https://127.0.0.1/", 0, Duration.ofSeconds(10), Duration.ofSeconds(5),
                Set.of(), Map.of(), "test");
        Map<String, Duration> phases = Map.of("dns", Duration.ZERO, "connect", Duration.ofMillis(1), "tls",
                Duration.ofMillis(3), "processing", Duration.ofMillis(300), "transfer", Duration.ofMillis(2));
        metrics.record(new io.sonde.plugin.http.internal.HttpGetResult(t, Instant.now(), Duration.ofMillis(306), null, null, 200, phases,
                42, "HTTP/1.1", "TLSv1.3", Instant.ofEpochSecond(1_900_000_000), Instant.ofEpochSecond(1_900_000_100)));
    }

    @Test
    public void httpPhasesStatusAndCertificateExpiry() throws Exception {
        recordHttp("web");
        String out = render(List.of());
        assertTrue(out, out.contains("probe_http_duration_seconds{target=\"web\",kind=\"http\",phase=\"processing\"} 0.3\n"));
        assertTrue(out, out.contains("probe_http_duration_seconds{target=\"web\",kind=\"http\",phase=\"dns\"} 0\n"));
        assertTrue(out, out.contains("probe_http_status_code{target=\"web\",kind=\"http\"} 200\n"));
        assertTrue(out, out.contains("probe_tls_cert_expiry_timestamp_seconds{target=\"web\",kind=\"http\",cert=\"earliest\"} 1900000000\n"));
        assertTrue(out, out.contains("probe_tls_cert_expiry_timestamp_seconds{target=\"web\",kind=\"http\",cert=\"leaf\"} 1900000100\n"));
        assertTrue(out, out.contains("probe_http_version_info{target=\"web\",kind=\"http\",version=\"HTTP/1.1\",tls_version=\"TLSv1.3\"} 1\n"));
        assertTrue(out, out.contains("probe_latency_seconds_count{target=\"web\",kind=\"http\"} 1\n"));
    }

    /** A kind no module of the agent knows, described only by its schema. */
    static final ResultSchema ACME = new ResultSchema("2", List.of(
            ResultSchema.Value.of("answers", ResultSchema.Type.NUMBER, "", ResultSchema.Role.NONE, "answers"),
            ResultSchema.Value.of("handshake", ResultSchema.Type.DURATION, "seconds", ResultSchema.Role.NONE, "h"),
            ResultSchema.Value.of("not_after", ResultSchema.Type.TIMESTAMP, "", ResultSchema.Role.CERT_EXPIRY, "e"),
            ResultSchema.Value.of("phases", ResultSchema.Type.DURATION_MAP, "seconds", ResultSchema.Role.PHASES, "p"),
            ResultSchema.Value.of("cipher", ResultSchema.Type.TEXT, "", ResultSchema.Role.NONE, "c"),
            ResultSchema.Value.of("bytes", ResultSchema.Type.NUMBER, "bytes", ResultSchema.Role.NONE, "b"),
            ResultSchema.Value.of("path_id", ResultSchema.Type.NUMBER, "", ResultSchema.Role.NONE, "i")),
            List.of(ResultSchema.Family.of("probe_acme_answers", ResultSchema.Sample.GAUGE, "Answers of the last probe", "answers"),
                    ResultSchema.Family.of("probe_acme_handshake_seconds", ResultSchema.Sample.GAUGE, "Handshake", "handshake"),
                    ResultSchema.Family.of("probe_acme_expiry_timestamp_seconds", ResultSchema.Sample.GAUGE, "Expiry", "not_after"),
                    ResultSchema.Family.labelled("probe_acme_phase_seconds", ResultSchema.Sample.GAUGE, "Phases", "phase",
                            "open", "phases.open", "talk", "phases.talk"),
                    ResultSchema.Family.info("probe_acme_info", "Cipher", "cipher", "cipher"),
                    ResultSchema.Family.of("probe_acme_bytes_total", ResultSchema.Sample.COUNTER, "Bytes", "bytes"),
                    ResultSchema.Family.of("probe_acme_path_changes_total", ResultSchema.Sample.CHANGES, "Changes", "path_id")),
            List.of());

    private void recordAcme(String name, Map<String, Object> values) {
        Target t = new Target(name, "acme", "127.0.0.1", 5, Duration.ofSeconds(10), Duration.ofSeconds(5),
                Set.of(), Map.of(), "test");
        metrics.record(MeasuredResult.success(t, Instant.now(), Duration.ofMillis(1), ACME, values));
    }

    @Test
    public void aKindNoModuleKnowsGetsTheFamiliesItsSchemaDeclares() throws Exception {
        recordAcme("a1", Map.of("answers", 2, "handshake", Duration.ofMillis(250), "not_after", Instant.ofEpochSecond(1_900_000_000),
                "phases", Map.of("open", Duration.ofMillis(1), "talk", Duration.ofMillis(3)), "cipher", "X_\"Y", "bytes", 10,
                "path_id", 7));
        recordAcme("a2", Map.of("answers", 0, "bytes", 5));
        recordAcme("a1", Map.of("answers", 3, "bytes", 20, "path_id", 7, "cipher", "X_\"Y"));
        recordAcme("a1", Map.of("answers", 3, "bytes", 1, "path_id", 8, "cipher", "X_\"Y"));
        String out = render(List.of());
        assertTrue(out, out.contains("# TYPE probe_acme_answers gauge\n"));
        assertTrue(out, out.contains("probe_acme_answers{target=\"a1\",kind=\"acme\"} 3\n"));
        assertTrue(out, out.contains("probe_acme_answers{target=\"a2\",kind=\"acme\"} 0\n"));
        // the newest result replaces the gauges of the one before: no handshake, no expiry, no phases now
        assertFalse(out, out.contains("probe_acme_handshake_seconds{target=\"a1\""));
        assertFalse(out, out.contains("probe_acme_phase_seconds{target=\"a1\""));
        assertTrue(out, out.contains("probe_acme_info{target=\"a1\",kind=\"acme\",cipher=\"X_\\\"Y\"} 1\n"));
        assertTrue(out, out.contains("# TYPE probe_acme_bytes_total counter\n"));
        assertTrue(out, out.contains("probe_acme_bytes_total{target=\"a1\",kind=\"acme\"} 31\n"));
        assertTrue(out, out.contains("probe_acme_bytes_total{target=\"a2\",kind=\"acme\"} 5\n"));
        assertTrue(out, out.contains("probe_acme_path_changes_total{target=\"a1\",kind=\"acme\"} 1\n"));
        assertFalse(out, out.contains("probe_acme_path_changes_total{target=\"a2\""));
        assertEquals(out, 1, out.split("# TYPE probe_acme_answers ", -1).length - 1);
        recordAcme("a3", Map.of("handshake", Duration.ofMillis(250), "not_after", Instant.ofEpochSecond(1_900_000_000),
                "phases", Map.of("open", Duration.ofMillis(1), "talk", Duration.ofMillis(3))));
        out = render(List.of());
        assertTrue(out, out.contains("probe_acme_handshake_seconds{target=\"a3\",kind=\"acme\"} 0.25\n"));
        assertTrue(out, out.contains("probe_acme_expiry_timestamp_seconds{target=\"a3\",kind=\"acme\"} 1900000000\n"));
        assertTrue(out, out.contains("probe_acme_phase_seconds{target=\"a3\",kind=\"acme\",phase=\"open\"} 0.001\n"));
        assertTrue(out, out.contains("probe_acme_phase_seconds{target=\"a3\",kind=\"acme\",phase=\"talk\"} 0.003\n"));
        assertFalse(out, out.contains("probe_acme_info{target=\"a3\""));
        // an infinite value is written as the text format writes it, never as Java's "Infinity"
        recordAcme("a4", Map.of("answers", Double.POSITIVE_INFINITY, "handshake", Duration.ofMillis(1)));
        out = render(List.of());
        assertTrue(out, out.contains("probe_acme_answers{target=\"a4\",kind=\"acme\"} +Inf\n"));
        assertFalse(out, out.contains("Infinity"));
    }

    @Test
    public void aSchemaCannotTakeAStandardFamilyOrAReservedLabel() {
        IllegalArgumentException e = org.junit.Assert.assertThrows(IllegalArgumentException.class, () -> new ResultSchema("1",
                List.of(), List.of(ResultSchema.Family.of("probe_success", ResultSchema.Sample.GAUGE, "x", "a")), List.of()));
        assertTrue(e.getMessage(), e.getMessage().contains("probe_success"));
        e = org.junit.Assert.assertThrows(IllegalArgumentException.class, () -> ResultSchema.Family.labelled("probe_x",
                ResultSchema.Sample.GAUGE, "x", "target", "a", "b"));
        assertTrue(e.getMessage(), e.getMessage().contains("'target'"));
        e = org.junit.Assert.assertThrows(IllegalArgumentException.class, () -> ResultSchema.Value.of("Bad-Name",
                ResultSchema.Type.NUMBER, "", null, ""));
        assertTrue(e.getMessage(), e.getMessage().contains("'Bad-Name'"));
    }

    @Test
    public void familiesFromSeveralBundlesAreMerged() throws Exception {
        String out = render(List.of(targets("invalid", 2), targets("active", 5), targets("active", 1)));
        assertEquals(out, 1, out.split("# TYPE sonde_targets ", -1).length - 1);
        assertTrue(out, out.contains("sonde_targets{state=\"invalid\",} 2.0"));
        assertTrue(out, out.contains("sonde_targets{state=\"active\",} 6.0"));
    }

    @Test
    public void outputPassesPromtool() throws Exception {
        File promtool = new File("/usr/bin/promtool");
        if (!promtool.canExecute()) {
            // required in CI (.ci/run installs it): there a missing promtool fails, elsewhere the test is skipped
            org.junit.Assert.assertNull("promtool is not installed (Debian package prometheus), and CI needs it", System.getenv("CI"));
            Assume.assumeTrue("promtool is not installed (Debian package prometheus); CI installs it", false);
        }
        for (int i = 0; i < 50; i++) {
            Target t = target("t" + i);
            metrics.record(new TcpConnectResult(t, Instant.now(), Duration.ofMillis(i), null, null, null));
            metrics.record(new TcpConnectResult(t, Instant.now(), Duration.ofMillis(i), FailureReason.DNS, "x", null));
        }
        recordHttp("web");
        recordAcme("acme1", Map.of("answers", 2, "bytes", 3, "cipher", "c", "phases", Map.of("open", Duration.ofMillis(1))));
        String out = render(List.of(targets("active", 50), targets("invalid", 0)));
        Process p = new ProcessBuilder(promtool.getPath(), "check", "metrics").redirectErrorStream(true).start();
        p.getOutputStream().write(out.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String verdict = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(verdict, 0, p.exitValue());
        assertEquals("", verdict.strip());
    }
}
