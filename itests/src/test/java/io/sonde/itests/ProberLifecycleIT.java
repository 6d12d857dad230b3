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
        awaitMetrics(p -> value(p, "sonde_targets{state=\"no_prober\",}") == 1.0);
        Thread.sleep(500); // a probe in flight when the prober went still reports ("the TCP prober stopped")
        String m = metrics();
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
