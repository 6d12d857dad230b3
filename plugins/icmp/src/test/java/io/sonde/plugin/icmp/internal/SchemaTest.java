package io.sonde.plugin.icmp.internal;

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

/** The keys the icmp plugin declares, checked as the agent checks them, without probing. */
public class SchemaTest {

    private static final TargetSchema SCHEMA = IcmpProber.SCHEMA;

    private static Target target(String host, Map<String, String> options, long timeoutMs) {
        return new Target("t", "icmp", host, 80, Duration.ofMillis(Math.max(timeoutMs, 1000)), Duration.ofMillis(timeoutMs),
                Set.of(), options, "etc/io.sonde.target-t.cfg");
    }


    @Test
    public void countAndSpacingAreBoundedAndMustFitTheTimeout() {
        assertEquals(List.of(), SCHEMA.problems("icmp", Map.of("count", "5", "packet_interval_ms", "10")));
        assertEquals("[key 'count': 0 is out of range (1-1000)]", SCHEMA.problems("icmp", Map.of("count", "0")).toString());
        assertEquals("[key 'packet_interval_ms': 'fast' is not a whole number]", SCHEMA.problems("icmp", Map.of("packet_interval_ms", "fast")).toString());
        IcmpProber p = new IcmpProber(Mode.NONE);
        try {
            assertEquals(SCHEMA, p.schema());
            assertEquals(List.of(), p.check(target("h", Map.of("count", "5", "packet_interval_ms", "100"), 1000)));
            List<TargetProblem> tooMany = p.check(target("h", Map.of("count", "100", "packet_interval_ms", "100"), 3000));
            assertEquals("count", tooMany.get(0).key());
            assertTrue(tooMany.get(0).reason(), tooMany.get(0).reason().contains("do not fit in the timeout of 3000 ms"));
        } finally {
            p.deactivate();
        }
    }

    @Test
    public void dontFragmentAndMarkingAreCheckedAndTakenFromABlackboxModule() {
        assertEquals(List.of(), SCHEMA.problems("icmp", Map.of("dont_fragment", "true", "dscp", "AF41", "source_address", "127.0.0.1")));
        List<?> bad = SCHEMA.problems("icmp", Map.of("dont_fragment", "maybe"));
        assertEquals(bad.toString(), 1, bad.size());
        assertTrue(bad.toString(), bad.toString().contains("dont_fragment"));
        IcmpProber p = new IcmpProber(Mode.NONE);
        try {
            assertEquals("dscp", p.check(target("h", Map.of("dscp", "FAST"), 1000)).get(0).key());
            assertEquals(Map.of("count", "1", "dont_fragment", "true", "source_address", "198.18.0.1", "size", "1000"),
                    p.blackboxKeys(Map.of("dont_fragment", true, "source_ip_address", "198.18.0.1", "payload_size", 1000)));
            try {
                p.blackboxKeys(Map.of("ttl", 3));
                throw new AssertionError("ttl taken");
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage(), e.getMessage().contains("ttl"));
            }
        } finally {
            p.deactivate();
        }
    }
}
