package io.sonde.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.net.http.HttpResponse;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.ComponentConstants;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import io.prometheus.client.Collector;
import io.sonde.agent.spi.StatusReport;

/**
 * What the agent's bundles report, in a real framework: every {@code /status} section and every
 * self-metrics {@link Collector} is a DS service (the exporter's own {@code results} section the one
 * registered by hand), the core's, the scheduler's and the uplink's through a report component of
 * their own that outlives the host's restart and says {@code running: false} without it.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class AgentReportsIT extends AgentTestSupport {

    @Configuration
    public Option[] config() {
        return agent();
    }

    @Test
    public void everySectionAndCollectorIsADsServiceOfTheBundleThatKnowsIt() throws Exception {
        Map<String, String> sections = new TreeMap<>();
        for (ServiceReference<StatusReport> r : context.getServiceReferences(StatusReport.class, null)) {
            sections.put(String.valueOf(r.getProperty(StatusReport.SECTION)),
                    String.valueOf(r.getProperty(ComponentConstants.COMPONENT_NAME)));
        }
        assertEquals(Map.of("config", "io.sonde.core.internal.CoreReport", "results", "null",
                "scheduler", "io.sonde.scheduler.internal.SchedulerReport", "updater", "io.sonde.updater.internal.Updater",
                "uplink", "io.sonde.uplink.internal.UplinkReport"), sections);

        Map<String, String> collectors = new TreeMap<>();
        for (ServiceReference<Collector> r : context.getServiceReferences(Collector.class, null)) {
            collectors.put(String.valueOf(r.getProperty(ComponentConstants.COMPONENT_NAME)), r.getBundle().getSymbolicName());
        }
        assertEquals(Map.of("io.sonde.core.internal.CoreReport", "io.sonde.core",
                "io.sonde.core.internal.PluginDirectoryWatch", "io.sonde.core",
                "io.sonde.responder.internal.Responder", "io.sonde.responder",
                "io.sonde.scheduler.internal.SchedulerReport", "io.sonde.scheduler",
                "io.sonde.uplink.internal.UplinkReport", "io.sonde.uplink"), collectors);
    }

    @Test
    public void theSchedulersReportOutlivesItsRestartAndSaysWhenItDoesNotRun() throws Exception {
        int open = openPort();
        target("reported", "name", "reported", "kind", "tcp", "host", "127.0.0.1", "port", String.valueOf(open),
                "interval_ms", "200", "timeout_ms", "100");
        awaitMetrics(m -> value(m, "probe_success{target=\"reported\",kind=\"tcp\"}") == 1.0
                && value(m, "sonde_targets{state=\"active\",}") == 1.0);
        JsonObject running = awaitStatus(s -> s.getAsJsonObject("scheduler").has("targets")
                && s.getAsJsonObject("scheduler").getAsJsonObject("targets").has("reported"));
        assertEquals("active", running.getAsJsonObject("scheduler").getAsJsonObject("targets").getAsJsonObject("reported")
                .get("state").getAsString());
        // no uplink is configured here: its report is there and says it does not run; no uplink figures
        assertEquals("{\"running\":false}", running.getAsJsonObject("uplink").toString());
        assertTrue(!metrics().contains("sonde_uplink_up"));

        ServiceReference<ServiceComponentRuntime> ref = context.getServiceReference(ServiceComponentRuntime.class);
        assertNotNull(ref);
        ServiceComponentRuntime scr = context.getService(ref);
        try {
            ComponentDescriptionDTO scheduler = scr.getComponentDescriptionDTO(installed("io.sonde.scheduler"),
                    "io.sonde.scheduler.internal.Scheduler");
            assertNotNull(scheduler);
            double lateness = value(metrics(), "sonde_scheduler_lateness_seconds_count");
            assertTrue("probes were started: " + lateness, lateness > 0);
            scr.disableComponent(scheduler).getValue();
            try {
                JsonObject stopped = awaitStatus(s -> s.getAsJsonObject("scheduler").has("running"));
                assertEquals("{\"running\":false}", stopped.getAsJsonObject("scheduler").toString());
                String m = metrics();
                assertTrue("no targets counted without a scheduler", Double.isNaN(value(m, "sonde_targets{state=\"active\",}")));
                double kept = value(m, "sonde_scheduler_lateness_seconds_count");
                assertTrue("the counters stay: " + kept + " after " + lateness, kept >= lateness);
            } finally {
                scr.enableComponent(scheduler).getValue();
            }
            String back = awaitMetrics(m -> value(m, "sonde_targets{state=\"active\",}") == 1.0
                    && value(m, "sonde_scheduler_lateness_seconds_count") > lateness);
            assertTrue(back, value(back, "sonde_scheduler_lateness_seconds_count") > lateness);
            awaitStatus(s -> s.getAsJsonObject("scheduler").has("targets")
                    && s.getAsJsonObject("scheduler").getAsJsonObject("targets").has("reported"));
        } finally {
            context.ungetService(ref);
        }
    }

    /** Polls {@code /status} until {@code condition} holds; fails with the last document after {@link #PATIENCE}. */
    private JsonObject awaitStatus(Predicate<JsonObject> condition) throws Exception {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        String last = null;
        java.io.IOException error = null;
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> r = get("/status");
                last = r.body();
                if (r.statusCode() == 200) {
                    JsonObject doc = JsonParser.parseString(last).getAsJsonObject();
                    if (condition.test(doc)) {
                        return doc;
                    }
                }
            } catch (java.io.IOException e) {
                error = e;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("condition not met within " + PATIENCE + "; last /status:\n" + last
                + (error == null ? "" : "\nlast error: " + error));
    }
}
