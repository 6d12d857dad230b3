package io.sonde.plugin.traceroute.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.Test;

import io.sonde.api.HostForm;
import io.sonde.api.Target;
import io.sonde.api.TargetProblem;
import io.sonde.api.TargetSchema;

/** The keys the traceroute plugin declares, checked as the agent checks them, without probing. */
public class SchemaTest {

    private static final TargetSchema SCHEMA = TracerouteProber.SCHEMA;

    private static Target target(String host, Map<String, String> options, long timeoutMs) {
        return new Target("t", "traceroute", host, 80, Duration.ofMillis(Math.max(timeoutMs, 1000)), Duration.ofMillis(timeoutMs),
                Set.of(), options, "etc/io.sonde.target-t.cfg");
    }


    @Test
    public void hopsQueriesAndTimeoutAreBounded() {
        assertEquals(List.of(), SCHEMA.problems("traceroute", Map.of("max_hops", "30", "queries", "1", "hop_timeout_ms", "500")));
        assertEquals("[key 'max_hops': 0 is out of range (1-255)]", SCHEMA.problems("traceroute", Map.of("max_hops", "0")).toString());
        assertEquals("[key 'max_hops': 300 is out of range (1-255)]", SCHEMA.problems("traceroute", Map.of("max_hops", "300")).toString());
        assertEquals("[key 'max_hop' is not known for kind traceroute; did you mean 'max_hops'?]", SCHEMA.problems("traceroute", Map.of("max_hop", "3")).toString());
        assertEquals(30, TracerouteProber.MAX_HOPS.intValue(target("h", Map.of(), 1000)));
        assertTrue(!SCHEMA.portRequired());
    }

    @Test
    public void flowsSourcePortAndMarkingAreChecked() {
        assertEquals(List.of(), SCHEMA.problems("traceroute", Map.of("flows", "16", "source_port", "40000", "dscp", "EF")));
        assertEquals("[key 'flows': 0 is out of range (1-64)]", SCHEMA.problems("traceroute", Map.of("flows", "0")).toString());
        assertEquals("[key 'flows': 65 is out of range (1-64)]", SCHEMA.problems("traceroute", Map.of("flows", "65")).toString());
        assertEquals("[key 'source_port': 70000 is out of range (0-65535)]",
                SCHEMA.problems("traceroute", Map.of("source_port", "70000")).toString());
        TracerouteProber prober = new TracerouteProber();
        try {
            Target high = new Target("t", "traceroute", "h", 65_530, Duration.ofSeconds(60), Duration.ofSeconds(5), Set.of(),
                    Map.of("flows", "8"), "etc/io.sonde.target-t.cfg");
            assertEquals(List.of(new TargetProblem("flows", "port 65530 + 8 flows goes past port 65535: lower port or flows")),
                    prober.check(high));
            Target bad = target("h", Map.of("dscp", "XX"), 1000);
            assertEquals("dscp", prober.check(bad).get(0).key());
            assertEquals(List.of(), prober.check(target("h", Map.of("flows", "8"), 1000)));
            // the source port is the target's own: the same each round, another for another target
            assertEquals(TracerouteProber.sourcePort(target("h", Map.of(), 1000)), TracerouteProber.sourcePort(target("h", Map.of(), 1000)));
            int p = TracerouteProber.sourcePort(target("h", Map.of(), 1000));
            assertTrue(String.valueOf(p), p >= 34_000 && p < 40_000);
            assertEquals(40_000, TracerouteProber.sourcePort(target("h", Map.of("source_port", "40000"), 1000)));
        } finally {
            prober.deactivate();
        }
    }
}
