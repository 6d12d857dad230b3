package io.sonde.server.core.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.List;

import org.junit.Test;

import io.sonde.wire.WireException;

public class AgentAddressTest {

    @Test
    public void anAdvertisedAddressIsAnAddressOrAHostName() {
        for (String ok : List.of("127.0.0.1", "10.0.0.255", "::1", "fd00::1", "fe80::1%eth0", "::ffff:10.0.0.1", "agent-7.lab.sonde.test",
                "localhost", "lab.sonde.test.")) {
            assertEquals(ok, true, AgentAddress.isValid(ok));
        }
        for (String bad : List.of("", "....", "-", "a..b", "256.1.1.1", "1.2.3", "1.2.3.4.5", "a:b:c", "g::1", ":::1", "-host.sonde.test",
                "host-.sonde.test", "x".repeat(64) + ".sonde.test", "a b", "a/b", "http://x", "1.2.3.4:80")) {
            assertEquals(bad, false, AgentAddress.isValid(bad));
        }
    }

    @Test
    public void anIpv6LiteralInBracketsIsTakenWithoutThemAndABadOneIsNamed() throws Exception {
        assertEquals("fd00::1", AgentAddress.of(" [fd00::1] "));
        try {
            AgentAddress.of("a b");
            throw new AssertionError("taken");
        } catch (WireException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("address: 'a b' is neither an IP address nor a host name"));
        }
    }
}
