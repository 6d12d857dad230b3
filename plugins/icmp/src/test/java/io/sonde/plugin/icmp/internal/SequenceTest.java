package io.sonde.plugin.icmp.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.Test;

import io.sonde.api.Target;

/** Sequence numbers of one socket: 16 bits shared by every target, never two requests on one. */
public class SequenceTest {

    private static Channel.Pending pending(Round r, int i) {
        return new Channel.Pending(r, i);
    }

    @Test
    public void aSequenceInFlightIsNeverGivenAgain() throws Exception {
        Target t = new Target("t", "icmp", "127.0.0.1", 0, Duration.ofSeconds(1), Duration.ofSeconds(1), Set.of(), Map.of(), "x");
        Round round = new Round(t, InetAddress.getLoopbackAddress(), 1, 1, Instant.now());
        AtomicInteger sequence = new AtomicInteger(65_000); // wraps past 65,535 on the way
        Map<Integer, Channel.Pending> pending = new ConcurrentHashMap<>();
        Set<Integer> given = new HashSet<>();
        for (int i = 0; i < 65_536; i++) {
            int seq = Channel.claim(sequence, pending, pending(round, i));
            assertTrue("sequence " + seq + " given twice while in flight", given.add(seq));
        }
        // all 65,536 in flight: the next request fails, saying so, instead of overwriting one
        assertEquals(-1, Channel.claim(sequence, pending, pending(round, 0)));
        // one answered: its number is free again, and it is the only one given
        pending.remove(4711);
        assertEquals(4711, Channel.claim(sequence, pending, pending(round, 0)));
        assertEquals(65_536, pending.size());
    }
}
