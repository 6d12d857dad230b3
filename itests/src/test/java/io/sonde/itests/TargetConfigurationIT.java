package io.sonde.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;

/** Targets from ConfigAdmin and from a targets file, in a real framework, against real sockets. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class TargetConfigurationIT extends AgentTestSupport {

    @Configuration
    public Option[] config() {
        return agent();
    }

    @Test
    public void targetAddedChangedAndRemoved() throws Exception {
        int open = openPort();
        target("web", "name", "web", "kind", "tcp", "host", "127.0.0.1", "port", String.valueOf(open),
                "interval_ms", "200", "timeout_ms", "100", "tags", "itest");
        awaitMetrics(m -> value(m, "probe_success{target=\"web\",kind=\"tcp\"}") == 1.0
                && value(m, "probe_latency_seconds_count{target=\"web\",kind=\"tcp\"}") >= 1);

        // edited live: now a closed port
        target("web", "name", "web", "kind", "tcp", "host", "127.0.0.1", "port", String.valueOf(closedPort()),
                "interval_ms", "200", "timeout_ms", "100");
        awaitMetrics(m -> value(m, "probe_failure_total{target=\"web\",kind=\"tcp\",reason=\"refused\"}") >= 1
                && value(m, "probe_success{target=\"web\",kind=\"tcp\"}") == 0.0);

        // removed: its series go
        configAdmin.getFactoryConfiguration("io.sonde.target", "web", "?").delete();
        awaitMetrics(m -> !m.contains("target=\"web\""));
    }

    @Test
    public void everyBadConfigurationIsCountedAndHarmsNothing() throws Exception {
        int open = openPort();
        target("good", "name", "good", "kind", "tcp", "host", "127.0.0.1", "port", String.valueOf(open),
                "interval_ms", "200", "timeout_ms", "100");
        String m0 = awaitMetrics(m -> value(m, "probe_success{target=\"good\",kind=\"tcp\"}") == 1.0);
        double errors = value(m0, "sonde_config_errors_total");

        // a kind without a plugin is held, not an error: it is checked when its plugin comes
        target("held", "name", "b0", "kind", "gopher", "host", "127.0.0.1", "port", "1");
        awaitMetrics(p -> value(p, "sonde_targets{state=\"no_prober\",}") == 1.0
                && value(p, "sonde_config_errors_total") == errors);

        List<Object[]> bad = new ArrayList<>();
        // the three that passed in silence before the kinds declared their keys
        bad.add(new Object[] {"name", "b1", "kind", "tcp", "host", "127.0.0.1", "port", "80", "intervall_ms", "1000"});
        bad.add(new Object[] {"name", "b6", "kind", "tcp", "host", "127.0.0.1", "port", "80", "count", "5"});
        bad.add(new Object[] {"name", "b7", "kind", "tcp", "host", "127.0.0.1", "port", "80", "close", "rst"});
        bad.add(new Object[] {"name", "b2", "kind", "tcp", "host", "127.0.0.1", "port", "70000"});
        bad.add(new Object[] {"name", "b3", "kind", "tcp", "port", "80"});
        bad.add(new Object[] {"name", "b4", "kind", "tcp", "host", "127.0.0.1", "port", "80", "interval_ms", "0"});
        bad.add(new Object[] {"name", "b5", "kind", "tcp", "host", "127.0.0.1", "port", "80", "timeout_ms", "soon"});
        bad.add(new Object[] {"name", "good", "kind", "tcp", "host", "127.0.0.1", "port", "81"}); // duplicate name
        int i = 0;
        for (Object[] kv : bad) {
            target("bad" + i++, kv);
            double expected = errors + i;
            double invalid = i;
            awaitMetrics(p -> value(p, "sonde_config_errors_total") == expected
                    && value(p, "sonde_targets{state=\"invalid\",}") == invalid);
        }
        // nothing bad is probed, the good target still is
        long before = (long) value(metrics(), "probe_total{target=\"good\",kind=\"tcp\"}");
        String m = awaitMetrics(p -> value(p, "probe_total{target=\"good\",kind=\"tcp\"}") > before + 2);
        for (int b = 0; b <= 7; b++) {
            assertTrue(m, !m.contains("target=\"b" + b + "\""));
        }
        assertEquals(1.0, value(m, "sonde_targets{state=\"active\",}"), 0);
        assertEquals(1.0, value(m, "probe_success{target=\"good\",kind=\"tcp\"}"), 0);
    }

    @Test
    public void lastGoodVersionStaysInForce() throws Exception {
        int open = openPort();
        target("keep", "name", "keep", "kind", "tcp", "host", "127.0.0.1", "port", String.valueOf(open),
                "interval_ms", "200", "timeout_ms", "100");
        String m0 = awaitMetrics(m -> value(m, "probe_success{target=\"keep\",kind=\"tcp\"}") == 1.0);
        double errors = value(m0, "sonde_config_errors_total");

        target("keep", "name", "keep", "kind", "tcp", "host", "127.0.0.1", "port", "70000",
                "interval_ms", "200", "timeout_ms", "100");
        awaitMetrics(m -> value(m, "sonde_config_errors_total") == errors + 1);
        long before = (long) value(metrics(), "probe_total{target=\"keep\",kind=\"tcp\"}");
        String m = awaitMetrics(p -> value(p, "probe_total{target=\"keep\",kind=\"tcp\"}") > before + 2);
        // still probing the old, open port: no failures
        assertEquals(1.0, value(m, "probe_success{target=\"keep\",kind=\"tcp\"}"), 0);
        assertTrue(m, !m.contains("probe_failure_total{target=\"keep\""));
    }

    @Test
    public void badAgentSettingsAreNamedAndTheOnesInForceStay() throws Exception {
        int open = openPort();
        target("steady", "name", "steady", "kind", "tcp", "host", "127.0.0.1", "port", String.valueOf(open),
                "interval_ms", "200", "timeout_ms", "100");
        String m0 = awaitMetrics(m -> value(m, "probe_success{target=\"steady\",kind=\"tcp\"}") == 1.0);
        double errors = value(m0, "sonde_config_errors_total");
        // through ConfigAdmin and Declarative Services' typed configuration: two values that are no
        // numbers (the typed getters refuse them) and a backoff setting the rule refuses
        agentConfig("probe_interval_ms", "soon", "max_cpu_percent", "lots", "backoff", "sometimes");
        awaitMetrics(m -> value(m, "sonde_config_errors_total") == errors + 3);
        long before = (long) value(metrics(), "probe_total{target=\"steady\",kind=\"tcp\"}");
        String m = awaitMetrics(p -> value(p, "probe_total{target=\"steady\",kind=\"tcp\"}") > before + 2);
        assertEquals(0.0, value(m, "sonde_resource_throttled{resource=\"cpu\",}"), 0);
        assertEquals(1.0, value(m, "probe_success{target=\"steady\",kind=\"tcp\"}"), 0);
    }

    @Test
    public void targetsFileIsLoadedReloadedAndSurvivesBadJson() throws Exception {
        int open = openPort();
        File file = File.createTempFile("targets", ".json");
        file.deleteOnExit();
        StringBuilder json = new StringBuilder("{\"probe_interval_ms\": 500, \"default_timeout_ms\": 200, \"targets\": [");
        for (int i = 0; i < 50; i++) {
            json.append(i == 0 ? "" : ",").append("{\"name\": \"f").append(i)
                    .append("\", \"kind\": \"tcpconnect\", \"host\": \"127.0.0.1\", \"port\": ").append(open).append('}');
        }
        Files.writeString(file.toPath(), json.append("]}").toString());
        agentConfig("targets_file", file.getAbsolutePath());
        String m = awaitMetrics(p -> value(p, "sonde_targets{state=\"active\",}") == 50
                && value(p, "probe_success{target=\"f49\",kind=\"tcp\"}") == 1.0);
        double errors = value(m, "sonde_config_errors_total");

        // broken JSON: counted, the 50 stay
        Files.writeString(file.toPath(), "{\"targets\": [ {\"name\": ");
        m = awaitMetrics(p -> value(p, "sonde_config_errors_total") == errors + 1);
        assertEquals(50.0, value(m, "sonde_targets{state=\"active\",}"), 0);

        // fixed and shrunk: reloaded
        Files.writeString(file.toPath(), "{\"targets\": [{\"name\": \"only\", \"kind\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": "
                + open + ", \"interval_ms\": 200, \"timeout_ms\": 100}]}");
        awaitMetrics(p -> value(p, "sonde_targets{state=\"active\",}") == 1
                && value(p, "probe_success{target=\"only\",kind=\"tcp\"}") == 1.0 && !p.contains("target=\"f1\""));
    }
}
