package io.sonde.plugin.udp.internal;

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

/** The keys the udp plugin declares, checked as the agent checks them, without probing. */
public class SchemaTest {

    private static final TargetSchema SCHEMA = UdpProber.SCHEMA;

    private static Target target(String host, Map<String, String> options, long timeoutMs) {
        return new Target("t", "udp", host, 80, Duration.ofMillis(Math.max(timeoutMs, 1000)), Duration.ofMillis(timeoutMs),
                Set.of(), options, "etc/io.sonde.target-t.cfg");
    }


    @Test
    public void sizeIsBounded() {
        assertEquals(List.of(), SCHEMA.problems("udp", Map.of("size", "1400")));
        assertEquals("[key 'size': 10 is out of range (24-65000)]", SCHEMA.problems("udp", Map.of("size", "10")).toString());
        assertEquals(64, UdpProber.SIZE.intValue(target("h", Map.of(), 1000)));
        assertTrue(SCHEMA.portRequired());
        assertEquals(HostForm.NAME, SCHEMA.host());
    }
}
