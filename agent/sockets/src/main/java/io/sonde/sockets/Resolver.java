package io.sonde.sockets;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Turns a target's host into one address, off the caller's thread: probers are called on the
 * scheduler's thread and must not block on the name service. Address literals need no lookup and
 * are answered at once. With an IP version, only addresses of that family count.
 *
 * <p>A prober owns one and closes it when it goes away; the threads end when idle.
 */
public final class Resolver implements AutoCloseable {

    private final ThreadPoolExecutor pool;

    /** @param name prefix of the threads' names; {@code threads} resolve in parallel */
    public Resolver(String name, int threads) {
        pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(10_000), io.sonde.base.DaemonThreads.numbered(name));
        pool.allowCoreThreadTimeOut(true);
    }

    /**
     * @param host      a host name or an IPv4/IPv6 literal
     * @param ipVersion 4 or 6 to take only addresses of that family, 0 for the first of any
     * @return the address; fails with an {@link UnknownHostException} whose message says why
     *         (unknown name, no address of the family, too many lookups waiting)
     */
    public CompletableFuture<InetAddress> resolve(String host, int ipVersion) {
        if (isLiteral(host)) {
            try {
                return CompletableFuture.completedFuture(pick(host, InetAddress.getAllByName(host), ipVersion));
            } catch (UnknownHostException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
        Lookup lookup = new Lookup(host, ipVersion);
        try {
            pool.execute(lookup);
        } catch (RejectedExecutionException e) {
            lookup.result.completeExceptionally(new UnknownHostException(pool.isShutdown()
                    ? "the prober is stopping" : "too many host names waiting to be resolved"));
        }
        return lookup.result;
    }

    /** One look-up, kept in the queue with its answer so that {@link #close} can complete it. */
    private static final class Lookup implements Runnable {
        final String host;
        final int ipVersion;
        final CompletableFuture<InetAddress> result = new CompletableFuture<>();

        Lookup(String host, int ipVersion) {
            this.host = host;
            this.ipVersion = ipVersion;
        }

        @Override
        public void run() {
            if (result.isDone()) {
                return;
            }
            try {
                result.complete(pick(host, InetAddress.getAllByName(host), ipVersion));
            } catch (UnknownHostException e) {
                result.completeExceptionally(new UnknownHostException("cannot resolve '" + host + "'"));
            } catch (RuntimeException e) {
                result.completeExceptionally(new UnknownHostException("cannot resolve '" + host + "': " + e));
            }
        }
    }

    /** Stops; the look-ups still queued fail at once, saying so, instead of timing out later. */
    @Override
    public void close() {
        for (Runnable r : pool.shutdownNow()) {
            if (r instanceof Lookup l) {
                l.result.completeExceptionally(new UnknownHostException("the prober is stopping"));
            }
        }
    }

    /**
     * @param host      the name the addresses are of, for the message
     * @param all       the addresses the name service gave, in its order
     * @param ipVersion 4 or 6 to take only addresses of that family (a target's {@code ip_version}), 0 for any
     * @return the first address of the family
     * @throws java.net.UnknownHostException saying that {@code host} has no address of the family
     */
    public static java.net.InetAddress pick(String host, java.net.InetAddress[] all, int ipVersion)
            throws java.net.UnknownHostException {
        for (java.net.InetAddress a : all) {
            if (ipVersion == 0 || (ipVersion == 4 && a instanceof java.net.Inet4Address)
                    || (ipVersion == 6 && a instanceof java.net.Inet6Address)) {
                return a;
            }
        }
        throw new java.net.UnknownHostException("'" + host + "' has no IPv" + ipVersion + " address");
    }

    /**
     * @param host a host name or address, without brackets
     * @return whether it is an IPv4 or IPv6 address literal, which resolves without the name service
     */
    public static boolean isLiteral(String host) {
        if (host.indexOf(':') >= 0) {
            return true;
        }
        int dots = 0;
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c == '.') {
                dots++;
            } else if (c < '0' || c > '9') {
                return false;
            }
        }
        return dots == 3;
    }
}
