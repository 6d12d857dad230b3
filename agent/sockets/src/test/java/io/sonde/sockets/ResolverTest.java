package io.sonde.sockets;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.ExecutionException;

import org.junit.After;
import org.junit.Test;

/** Literals and names, with and without a required IP version; no name server is asked. */
public class ResolverTest {

    private final Resolver resolver = new Resolver("test-resolve", 1);

    @After
    public void close() {
        resolver.close();
    }

    @Test
    public void literalsAreAnsweredAtOnce() throws Exception {
        assertTrue(resolver.resolve("127.0.0.1", 0).isDone());
        assertEquals(InetAddress.getByName("127.0.0.1"), resolver.resolve("127.0.0.1", 4).get());
        assertEquals(InetAddress.getByName("::1"), resolver.resolve("::1", 6).get());
    }

    @Test
    public void aLiteralOfTheOtherFamilyFails() {
        assertFails("has no IPv6 address", "127.0.0.1", 6);
        assertFails("has no IPv4 address", "fd00::1", 4);
    }

    @Test
    public void namesFromTheHostsFile() throws Exception {
        // localhost is in every hosts file; it needs no name server
        InetAddress a = resolver.resolve("localhost", 4).get();
        assertTrue(a.isLoopbackAddress());
    }

    @Test
    public void literalsAreRecognised() {
        assertTrue(Resolver.isLiteral("127.0.0.1"));
        assertTrue(Resolver.isLiteral("::1"));
        assertTrue(Resolver.isLiteral("fd00::1"));
        assertFalse(Resolver.isLiteral("localhost"));
        assertFalse(Resolver.isLiteral("1.2.3.example"));
    }

    @Test
    public void closingCompletesTheLookupsStillQueued() throws Exception {
        Resolver one = new Resolver("sonde-test-close", 1);
        java.util.List<java.util.concurrent.CompletableFuture<InetAddress>> all = new java.util.ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            all.add(one.resolve("localhost", 0));
        }
        one.close();
        // every one answers: the running look-up with its address, the queued ones with a failure saying why
        java.util.concurrent.CompletableFuture.allOf(all.stream().map(f -> f.handle((a, e) -> a))
                .toArray(java.util.concurrent.CompletableFuture[]::new)).get(30, java.util.concurrent.TimeUnit.SECONDS);
        long stopped = all.stream().filter(java.util.concurrent.CompletableFuture::isCompletedExceptionally).count();
        if (stopped > 0) {
            try {
                all.stream().filter(java.util.concurrent.CompletableFuture::isCompletedExceptionally).findFirst().get().get();
            } catch (ExecutionException e) {
                assertTrue(e.getCause().getMessage(), e.getCause().getMessage().contains("stopping"));
            }
        }
        assertFails("stopping", "localhost", 0, one);
    }

    private void assertFails(String expected, String host, int version) {
        assertFails(expected, host, version, resolver);
    }

    private static void assertFails(String expected, String host, int version, Resolver resolver) {
        try {
            resolver.resolve(host, version).get();
            fail("resolved " + host);
        } catch (ExecutionException e) {
            assertTrue(e.getCause() instanceof UnknownHostException);
            assertTrue(e.getCause().getMessage(), e.getCause().getMessage().contains(expected));
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
