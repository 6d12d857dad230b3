package io.sonde.core.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.Test;

/**
 * The verdicts, how long they are remembered, and that the caller never waits for a look-up.
 * Names are answered by a table here, on an executor the test runs by hand, so that no name
 * server is asked and nothing depends on timing; literals need no look-up.
 */
public class HostNamesTest {

    private final Map<String, InetAddress[]> table = new ConcurrentHashMap<>();
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final AtomicInteger lookups = new AtomicInteger();
    private final AtomicInteger answers = new AtomicInteger();
    private volatile String failure = "Name or service not known";
    private final ArrayDeque<Runnable> queued = new ArrayDeque<>();
    private final Executor byHand = queued::add;
    private final HostNames names = new HostNames(host -> {
        lookups.incrementAndGet();
        InetAddress[] a = table.get(host);
        if (a == null) {
            throw new UnknownHostException(host + ": " + failure);
        }
        return a;
    }, now::get, byHand, answers::incrementAndGet);

    /** Runs the look-ups asked for so far. */
    private void answer() {
        while (!queued.isEmpty()) {
            queued.poll().run();
        }
    }

    /** Addresses as the resolver gives them for {@code name}: each carries the name. */
    private static InetAddress[] addresses(String name, String... literals) throws UnknownHostException {
        InetAddress[] a = new InetAddress[literals.length];
        for (int i = 0; i < a.length; i++) {
            a[i] = InetAddress.getByAddress(name, InetAddress.getByName(literals[i]).getAddress());
        }
        return a;
    }

    @Test
    public void literalsOfTheWrongFamilyAreNamedSoAtOnce() {
        HostNames system = new HostNames(InetAddress::getAllByName, now::get, byHand, () -> { });
        assertNull(system.check("127.0.0.1", 0).problem());
        assertNull(system.check("127.0.0.1", 4).problem());
        assertEquals("'127.0.0.1' is an IPv4 address but ip_version is 6", system.check("127.0.0.1", 6).problem());
        assertEquals("'::1' is an IPv6 address but ip_version is 4", system.check("::1", 4).problem());
        assertTrue("no look-up for a literal", queued.isEmpty());
    }

    @Test
    public void aNameIsPendingUntilItsAnswerComesAndThenTheCallerIsTold() throws Exception {
        table.put("v4only.test", addresses("v4only.test", "198.18.0.1"));
        assertTrue(names.check("v4only.test", 4).pending());
        assertTrue("asked once however often checked", names.check("v4only.test", 6).pending());
        assertEquals(1, queued.size());
        answer();
        assertEquals(1, answers.get());
        assertNull(names.check("v4only.test", 4).problem());
        assertEquals("'v4only.test' has no IPv6 address (it resolves to 198.18.0.1)", names.check("v4only.test", 6).problem());
    }

    @Test
    public void anUnknownNameIsAProblemUntilItAppears() throws Exception {
        names.check("later.test", 0);
        answer();
        String p = names.check("later.test", 0).problem();
        assertTrue(p, p.contains("'later.test' does not resolve"));
        assertEquals("the failure is remembered", 1, lookups.get());

        table.put("later.test", addresses("later.test", "198.18.0.9"));
        now.addAndGet(HostNames.FAILURE_MS + 1);
        assertEquals("an expired verdict still speaks while the name is asked again", p, names.check("later.test", 0).problem());
        answer();
        assertNull(names.check("later.test", 0).problem());
        assertEquals(2, answers.get());
        names.check("later.test", 0);
        assertTrue("the success is remembered", queued.isEmpty());
        now.addAndGet(HostNames.SUCCESS_MS + 1);
        names.check("later.test", 0);
        answer();
        assertEquals("until it expires", 3, lookups.get());
        assertEquals("an answer that changes nothing tells no one", 2, answers.get());
    }

    @Test
    public void aResolverThatIsDownGivesNoVerdict() {
        failure = "Temporary failure in name resolution";
        names.check("any.test", 6);
        answer();
        assertEquals(HostNames.Answer.OK, names.check("any.test", 6));
    }

    @Test
    public void aSlowNameDoesNotHoldTheCaller() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            HostNames slow = new HostNames(host -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return addresses(host, "198.18.0.7");
            }, now::get, pool, () -> { });
            // answered at once, while the look-up hangs
            assertTrue(slow.check("slow.test", 0).pending());
            assertFalse(slow.check("127.0.0.1", 0).pending());
            release.countDown();
            assertEquals("198.18.0.7", slow.address("slow.test", 4).get(30, TimeUnit.SECONDS).getHostAddress());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    public void anAddressOnRequestIsOfTheFamilyAskedFor() throws Exception {
        table.put("both.test", addresses("both.test", "198.18.0.1", "2001:db8::1"));
        var v6 = names.address("both.test", 6);
        answer();
        assertEquals("2001:db8:0:0:0:0:0:1", v6.get().getHostAddress());
        var none = names.address("nowhere.test", 0);
        answer();
        try {
            none.get();
            throw new AssertionError("resolved");
        } catch (ExecutionException e) {
            assertTrue(e.getCause() instanceof UnknownHostException);
        }
    }
}
