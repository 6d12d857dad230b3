package io.sonde.sockets;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Turns a target's host into one address, off the caller's thread: probers are called on the
 * scheduler's thread and must not block on the name service. Address literals need no lookup and
 * are answered at once. With an IP version, only addresses of that family count.
 *
 * <p>A prober owns one and closes it when it goes away; the threads end when idle.
 */
public final class Resolver implements AutoCloseable {

    /** The target option that restricts a probe to one address family: {@code 4} or {@code 6}. */
    public static final String IP_VERSION = "ip_version";

    private final ThreadPoolExecutor pool;

    /** @param name prefix of the threads' names; {@code threads} resolve in parallel */
    public Resolver(String name, int threads) {
        AtomicInteger n = new AtomicInteger();
        pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(10_000), r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
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
        CompletableFuture<InetAddress> result = new CompletableFuture<>();
        try {
            pool.execute(() -> {
                if (result.isDone()) {
                    return;
                }
                try {
                    result.complete(pick(host, InetAddress.getAllByName(host), ipVersion));
                } catch (UnknownHostException e) {
                    result.completeExceptionally(new UnknownHostException("cannot resolve '" + host + "'"));
                }
            });
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(new UnknownHostException("too many host names waiting to be resolved"));
        }
        return result;
    }

    /** The IP version a target asks for in its {@value #IP_VERSION} option: 4, 6 or 0 for any. */
    public static int ipVersion(String option) {
        return option == null || option.isBlank() ? 0 : Integer.parseInt(option.strip());
    }

    private static InetAddress pick(String host, InetAddress[] all, int ipVersion) throws UnknownHostException {
        for (InetAddress a : all) {
            if (ipVersion == 0 || (ipVersion == 4 && a instanceof Inet4Address)
                    || (ipVersion == 6 && a instanceof Inet6Address)) {
                return a;
            }
        }
        throw new UnknownHostException("'" + host + "' has no IPv" + ipVersion + " address");
    }

    /** True for an IPv4 or IPv6 address literal, which resolves without a lookup. */
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

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
