package io.sonde.plugin.tcp.internal;

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

/** The keys the tcp plugin declares, checked as the agent checks them, without probing. */
public class SchemaTest {

    private static final TargetSchema SCHEMA = TcpProber.SCHEMA;

    private static Target target(String host, Map<String, String> options, long timeoutMs) {
        return new Target("t", "tcp", host, 80, Duration.ofMillis(Math.max(timeoutMs, 1000)), Duration.ofMillis(timeoutMs),
                Set.of(), options, "etc/io.sonde.target-t.cfg");
    }


    @Test
    public void closeIsFinOrReset() {
        assertEquals(List.of(), SCHEMA.problems("tcp", Map.of("close", "reset")));
        assertEquals("[key 'close': 'rst' is not one of fin, reset]", SCHEMA.problems("tcp", Map.of("close", "rst")).toString());
        assertEquals("[key 'count' is not known for kind tcp; its own keys are close, dscp, expect.*, send.*, source_address, source_interface]", SCHEMA.problems("tcp", Map.of("count", "5")).toString());
        assertEquals("reset", TcpProber.CLOSE.value(target("h", Map.of("close", "Reset"), 1000)));
        assertEquals("fin", TcpProber.CLOSE.value(target("h", Map.of(), 1000)));
        assertEquals(HostForm.NAME, SCHEMA.host());
        assertTrue(SCHEMA.portRequired());
    }
}
