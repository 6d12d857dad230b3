package io.sonde.scheduler.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.Test;

import io.sonde.agent.spi.ResultSink;
import io.sonde.api.MeasuredResult;
import io.sonde.api.ProbeResult;
import io.sonde.api.ResultSchema;
import io.sonde.api.Target;

/** A sink that restarts while it takes a result finishes taking it: the result is neither lost nor handed on twice. */
public class SinkWorkerTest {

    @Test
    public void aResultInTheSinksHandsIsTakenBeforeTheRestIsHandedBack() throws Exception {
        Target t = new Target("t", "tcp", "127.0.0.1", 1, Duration.ofSeconds(1), Duration.ofMillis(500), Set.of(), Map.of(), "test");
        CountDownLatch inHand = new CountDownLatch(1);
        AtomicInteger taken = new AtomicInteger();
        ResultSink slow = new ResultSink() {
            @Override
            public void accept(ProbeResult result) {
                if (taken.get() == 0) {
                    inHand.countDown();
                    try {
                        Thread.sleep(1500); // held up behind its disk for longer than a second
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                taken.incrementAndGet();
            }
        };
        SinkWorker w = new SinkWorker(slow, "slow", 100);
        ProbeResult r = MeasuredResult.success(t, Instant.now(), Duration.ofMillis(1), ResultSchema.NONE, Map.of());
        w.offer(r, null);
        assertTrue(inHand.await(10, TimeUnit.SECONDS));
        w.offer(r, null);
        w.offer(r, null);
        List<Object> rest = w.stopAndDrain();
        assertEquals("the result in hand was taken before the stop returned", 1, taken.get());
        assertEquals(1, w.delivered());
        assertEquals("the two not taken are handed back", 2, rest.size());
        Thread.sleep(200);
        assertEquals("and not taken after", 1, taken.get());
    }
}
