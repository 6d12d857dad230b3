package io.sonde.uplink.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;

import org.junit.Test;

/** A busy server's Retry-After is waited for, never less, spread over half as long again. */
public class RetryAfterTest {

    @Test
    public void neverSoonerAndUpToHalfAsLongAgain() {
        assertEquals(1000, ServerExchange.afterRetryAfter(1000, 0.0));
        assertEquals(1250, ServerExchange.afterRetryAfter(1000, 0.5));
        assertEquals(1499, ServerExchange.afterRetryAfter(1000, 0.999));
        assertEquals(45_000, ServerExchange.afterRetryAfter(30_000, 1.0));
    }

    @Test
    public void agentsTurnedAwayTogetherComeBackSpread() {
        SplittableRandom r = new SplittableRandom(7);
        Set<Long> seconds = new HashSet<>();
        long min = Long.MAX_VALUE;
        long max = 0;
        for (int agent = 0; agent < 1000; agent++) {
            long wait = ServerExchange.afterRetryAfter(1000, r.nextDouble());
            min = Math.min(min, wait);
            max = Math.max(max, wait);
            seconds.add(wait / 50); // 50 ms slots
        }
        assertTrue(min + " ms", min >= 1000);
        assertTrue(max + " ms", max < 1500);
        assertEquals("1,000 agents over ten 50 ms slots, none empty", 10, seconds.size());
    }
}
