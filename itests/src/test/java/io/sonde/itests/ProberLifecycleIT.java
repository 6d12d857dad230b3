package io.sonde.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.io.FileInputStream;
import java.io.InputStream;
import java.net.http.HttpResponse;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;

/** The TCP plugin goes and comes back while a target waits; and the HTTP endpoints. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ProberLifecycleIT extends AgentTestSupport {

    @Configuration
    public Option[] config() {
        return agent();
    }

    @Test
    public void proberMissingThenPresent() throws Exception {
        int open = openPort();
        target("web", "name", "web", "kind", "tcp", "host", "127.0.0.1", "port", String.valueOf(open),
                "interval_ms", "200", "timeout_ms", "100");
        awaitMetrics(m -> value(m, "probe_success{target=\"web\",kind=\"tcp\"}") == 1.0);

        Bundle tcp = installed("io.sonde.plugin.tcp");
        assertNotNull(tcp);
        tcp.uninstall();
        // a probe in flight when the prober went still reports ("the TCP prober stopped"); then none starts
        String m = awaitMetrics(p -> value(p, "sonde_targets{state=\"no_prober\",}") == 1.0
                && value(p, "sonde_probes_in_flight") == 0.0);
        assertEquals(0.0, value(m, "sonde_targets{state=\"active\",}"), 0);
        long stalled = (long) value(m, "probe_total{target=\"web\",kind=\"tcp\"}");
        Thread.sleep(600);
        assertEquals("no probes without a prober", stalled,
                (long) value(metrics(), "probe_total{target=\"web\",kind=\"tcp\"}"));

        try (InputStream in = new FileInputStream(tcpPlugin())) {
            context.installBundle("itest:tcp-again", in).start();
        }
        awaitMetrics(p -> value(p, "sonde_targets{state=\"active\",}") == 1.0
                && value(p, "probe_total{target=\"web\",kind=\"tcp\"}") > stalled + 1);
    }

    /** The plugin's @ProbeKind(type = "tcp", async = true, cost = 1), as the build wrote it: typed service properties. */
    @Test
    public void theTcpProbersPropertiesAreTypedAsItsProbeKindSays() throws Exception {
        org.osgi.util.tracker.ServiceTracker<io.sonde.api.Prober, io.sonde.api.Prober> tracker = new org.osgi.util.tracker.ServiceTracker<>(
                context, context.createFilter("(&(objectClass=io.sonde.api.Prober)(probe.type=tcp))"), null);
        tracker.open();
        try {
            assertNotNull(tracker.waitForService(PATIENCE.toMillis()));
            org.osgi.framework.ServiceReference<io.sonde.api.Prober> ref = tracker.getServiceReference();
            assertEquals("io.sonde.plugin.tcp", ref.getBundle().getSymbolicName());
            assertEquals("tcp", ref.getProperty(io.sonde.api.Prober.PROBE_TYPE));
            assertEquals(Boolean.TRUE, ref.getProperty(io.sonde.api.Prober.PROBE_ASYNC));
            assertEquals(Integer.valueOf(1), ref.getProperty(io.sonde.api.Prober.PROBE_COST));
        } finally {
            tracker.close();
        }
    }

    /** A tcp prober of the test's, ranked above the plugin's, that knows no keys and fails every probe. */
    private org.osgi.framework.ServiceRegistration<io.sonde.api.Prober> rankedProber() {
        java.util.Hashtable<String, Object> props = new java.util.Hashtable<>();
        props.put(io.sonde.api.Prober.PROBE_TYPE, "tcp");
        props.put(org.osgi.framework.Constants.SERVICE_RANKING, 10);
        return context.registerService(io.sonde.api.Prober.class, new io.sonde.api.Prober() {
            @Override
            public java.util.concurrent.CompletionStage<io.sonde.api.ProbeResult> probe(io.sonde.api.Target t) {
                return java.util.concurrent.CompletableFuture.completedFuture(io.sonde.api.MeasuredResult.failure(t,
                        java.time.Instant.now(), java.time.Duration.ofMillis(1), io.sonde.api.FailureReason.ERROR,
                        "the ranked test prober", io.sonde.api.ResultSchema.NONE, java.util.Map.of()));
            }

            @Override
            public io.sonde.api.TargetSchema schema() {
                return io.sonde.api.TargetSchema.of(io.sonde.api.HostForm.NAME, true);
            }
        }, props);
    }

    @Test
    public void aProberThatTakesOverChecksItsTargetsAgainAndProbeFollowsTheRanking() throws Exception {
        int open = openPort();
        target("ranked", "name", "ranked", "kind", "tcp", "host", "127.0.0.1", "port", String.valueOf(open),
                "interval_ms", "200", "timeout_ms", "100", "close", "reset");
        probeModule("tcp_connect", "name", "tcp_connect", "prober", "tcp", "close", "reset");
        awaitMetrics(m -> value(m, "probe_success{target=\"ranked\",kind=\"tcp\"}") == 1.0);
        String probe = "/probe?module=tcp_connect&target=127.0.0.1:" + open;
        assertTrue(get(probe).body(), get(probe).body().contains("probe_success 1"));

        // the ranked prober knows no 'close': the target is checked again by its rules and withdrawn
        double errors = value(metrics(), "sonde_config_errors_total");
        org.osgi.framework.ServiceRegistration<io.sonde.api.Prober> ranked = rankedProber();
        try {
            awaitMetrics(m -> value(m, "sonde_targets{state=\"invalid\",}") == 1.0
                    && value(m, "sonde_config_errors_total") > errors && !m.contains("target=\"ranked\""));
            HttpResponse<String> r = get(probe); // the module, by the same rules, is misconfigured for this prober
            assertEquals(r.body(), 500, r.statusCode());
            assertTrue(r.body(), r.body().contains("io.sonde.probe.module~tcp_connect: key 'close' is not known for kind tcp"));
        } finally {
            ranked.unregister();
        }
        // it goes: the plugin's prober serves the kind again, for the scheduler and for /probe alike
        awaitMetrics(m -> value(m, "probe_success{target=\"ranked\",kind=\"tcp\"}") == 1.0
                && value(m, "sonde_targets{state=\"invalid\",}") == 0.0);
        HttpResponse<String> r = get(probe);
        assertEquals(r.body(), 200, r.statusCode());
        assertTrue(r.body(), r.body().contains("probe_success 1"));
    }

    @Test
    public void endpoints() throws Exception {
        HttpResponse<String> r = get("/metrics");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse(""), r.headers().firstValue("Content-Type")
                .orElse("").startsWith("text/plain; version=0.0.4"));
        assertTrue(r.body().contains("jvm_memory_pool_bytes_used"));
        assertTrue(r.body().contains("sonde_scheduler_lateness_seconds_bucket"));
        assertEquals(200, get("/healthz").statusCode());
        assertEquals("ok\n", get("/healthz").body());
        assertEquals(404, get("/nope").statusCode());
    }
}
