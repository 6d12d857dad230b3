package io.sonde.server.core.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.Test;

public class LoginThrottleTest {

    @Test
    public void fortyParallelAttemptsGetFivePasswordChecks() throws Exception {
        LoginThrottle t = new LoginThrottle();
        AtomicInteger checked = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(40);
        for (int i = 0; i < 40; i++) {
            pool.execute(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                if (t.attempt("10.0.0.1", "admin", 1_000) == 0) {
                    checked.incrementAndGet();
                }
            });
        }
        go.countDown();
        pool.shutdown();
        assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS));
        assertEquals(LoginThrottle.MAX_FAILURES, checked.get());
    }

    @Test
    public void anAttackerElsewhereCannotLockAUserOut() {
        LoginThrottle t = new LoginThrottle();
        for (int i = 0; i < 10; i++) {
            t.attempt("10.6.6.6", "alice", 1_000);
        }
        assertTrue(t.attempt("10.6.6.6", "alice", 1_000) > 0);
        assertEquals("alice's own address still tries", 0, t.attempt("10.0.0.7", "alice", 1_000));
    }

    @Test
    public void eachLockoutLastsTwiceTheOneBeforeAndASuccessForgets() {
        LoginThrottle t = new LoginThrottle();
        long now = 0;
        for (int i = 0; i < LoginThrottle.MAX_FAILURES; i++) {
            assertEquals(0, t.attempt("s", "u", now));
        }
        assertEquals(LoginThrottle.WINDOW_MS, t.attempt("s", "u", now));
        now += LoginThrottle.WINDOW_MS;
        for (int i = 0; i < LoginThrottle.MAX_FAILURES; i++) {
            assertEquals(0, t.attempt("s", "u", now));
        }
        assertEquals("the second lockout: twice as long", 2 * LoginThrottle.WINDOW_MS, t.attempt("s", "u", now));
        now += 2 * LoginThrottle.WINDOW_MS;
        assertEquals(0, t.attempt("s", "u", now));
        t.succeeded("s", "u");
        for (int i = 0; i < LoginThrottle.MAX_FAILURES; i++) {
            assertEquals("forgotten after a success", 0, t.attempt("s", "u", now));
        }
    }

    @Test
    public void oneAddressCannotTryManyNames() {
        LoginThrottle t = new LoginThrottle();
        int checked = 0;
        for (int i = 0; i < 100; i++) {
            checked += t.attempt("10.6.6.6", "user" + i, 1_000) == 0 ? 1 : 0;
        }
        assertEquals(LoginThrottle.MAX_SOURCE_FAILURES, checked);
    }

    @Test
    public void theMapIsBounded() {
        LoginThrottle t = new LoginThrottle(100);
        for (int i = 0; i < 10_000; i++) {
            t.attempt("10.0." + (i / 250) + "." + (i % 250), "u" + i, i);
        }
        assertTrue(String.valueOf(t.size()), t.size() <= 100);
    }
}
