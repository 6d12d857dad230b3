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
}
