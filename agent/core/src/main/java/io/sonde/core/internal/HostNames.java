package io.sonde.core.internal;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;


/**
 * Checks at configuration time that a target's host has an address (of the family its
 * {@code ip_version} asks for), so that a misspelt name or an IPv6 literal on an IPv4-only target
 * is a configuration error, reported once with its file and key, rather than a probe failure
 * every interval. Names are looked up on the {@code lookups} executor, never on the caller's
 * thread: a name not known yet is {@link Answer#PENDING} until its answer comes, and then
 * {@code onAnswer} runs so the caller checks again. Answers are remembered: failures for
 * {@link #FAILURE_MS}, successes for {@link #SUCCESS_MS}; an expired answer still speaks while
 * the name is asked again, so a target does not flicker. A resolver that is down ("temporary
 * failure") is no verdict: the target is accepted and its probes say what fails.
 *
 * <p>Thread-safe.
 */
final class HostNames {

    static final long FAILURE_MS = 30_000;
    static final long SUCCESS_MS = 600_000;

    /** The system's resolver, or another in tests. */
    interface Lookup {
        InetAddress[] all(String host) throws UnknownHostException;
    }

    /**
     * A verdict on a host.
     *
     * @param pending whether the name is being looked up and there is no verdict yet
     * @param problem why the host cannot be probed, or {@code null}
     */
    record Answer(boolean pending, String problem) {
        static final Answer OK = new Answer(false, null);
        static final Answer PENDING = new Answer(true, null);
    }

    /** What {@link TargetValidator} asks: the verdict on {@code host} for {@code ipVersion} (4, 6 or 0). */
    interface Check {
        Check NONE = (host, ipVersion) -> Answer.OK;

        Answer check(String host, int ipVersion);
    }

    private record Known(InetAddress[] addresses, String failure, long until) {
    }

    /** The verdict on address literals, which the JDK parses without any name service. */
    static final Check LITERALS = (host, ipVersion) -> verdict(host, literal(host), ipVersion);

    private final Lookup lookup;
    private final LongSupplier clockMs;
    private final Executor lookups;
    private final Runnable onAnswer;
    private final Map<String, Known> known = new ConcurrentHashMap<>();
    private final Map<String, Boolean> asking = new ConcurrentHashMap<>();

    /**
     * @param lookup   the name service
     * @param clockMs  the clock of the answers' ages
     * @param lookups  where names are looked up
     * @param onAnswer run (on a lookup thread) after an answer came that changes a verdict
     */
    HostNames(Lookup lookup, LongSupplier clockMs, Executor lookups, Runnable onAnswer) {
        this.lookup = lookup;
        this.clockMs = clockMs;
        this.lookups = lookups;
        this.onAnswer = onAnswer;
    }

    /** @return the verdict on {@code host} for {@code ipVersion} (4, 6 or 0 for any); never blocks */
    Answer check(String host, int ipVersion) {
        if (isLiteral(host)) { // the JDK parses a literal, no name service: not worth its memory at 10,000 targets
            return verdict(host, literal(host), ipVersion);
        }
        Known k = known.get(host);
        if (k == null || k.until() < clockMs.getAsLong()) {
            ask(host);
        }
        return k == null ? Answer.PENDING : verdict(host, k, ipVersion);
    }

    /**
     * Looks {@code host} up now, without the remembered answers (a probe on request measures its lookup).
     *
     * @return the first address of the family, or a failure with an {@link UnknownHostException} saying why
     */
    CompletableFuture<InetAddress> address(String host, int ipVersion) {
        CompletableFuture<InetAddress> result = new CompletableFuture<>();
        boolean literal = isLiteral(host);
        Runnable task = () -> {
            try {
                result.complete(pick(host, literal ? InetAddress.getAllByName(host) : lookup.all(host), ipVersion));
            } catch (UnknownHostException e) {
                result.completeExceptionally(literal || e.getMessage() != null && e.getMessage().startsWith("'")
                        ? e : new UnknownHostException("cannot resolve '" + host + "'"));
            } catch (RuntimeException e) {
                result.completeExceptionally(new UnknownHostException("cannot resolve '" + host + "': " + e));
            }
        };
        if (literal) {
            task.run();
            return result;
        }
        try {
            lookups.execute(task);
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(new UnknownHostException("the agent is stopping"));
        }
        return result;
    }


    private void ask(String host) {
        if (asking.putIfAbsent(host, Boolean.TRUE) != null) {
            return;
        }
        try {
            lookups.execute(() -> {
                try {
                    Known before = known.get(host);
                    Known now = answer(host, clockMs.getAsLong());
                    known.put(host, now);
                    if (before == null || !sameVerdict(before, now)) {
                        onAnswer.run();
                    }
                } finally {
                    asking.remove(host);
                }
            });
        } catch (RejectedExecutionException e) {
            asking.remove(host); // stopping
        }
    }

    private static boolean sameVerdict(Known a, Known b) {
        return java.util.Objects.equals(a.failure(), b.failure()) && Arrays.equals(a.addresses(), b.addresses());
    }

    private static Known literal(String host) {
        try {
            return new Known(InetAddress.getAllByName(host), null, Long.MAX_VALUE);
        } catch (UnknownHostException e) {
            return new Known(null, "'" + host + "' is not a valid address", Long.MAX_VALUE);
        }
    }

    private Known answer(String host, long now) {
        try {
            return new Known(lookup.all(host), null, now + SUCCESS_MS);
        } catch (UnknownHostException e) {
            String m = String.valueOf(e.getMessage());
            if (m.contains("Temporary failure") || m.contains("try again")) {
                return new Known(null, null, now + FAILURE_MS); // no verdict while the resolver is down
            }
            return new Known(null, "'" + host + "' does not resolve to an address (asked again every "
                    + FAILURE_MS / 1000 + " s)", now + FAILURE_MS);
        } catch (RuntimeException e) {
            return new Known(null, null, now + FAILURE_MS);
        }
    }

    private static Answer verdict(String host, Known k, int ipVersion) {
        if (k.failure() != null) {
            return new Answer(false, k.failure());
        }
        if (k.addresses() == null || ipVersion == 0) {
            return Answer.OK;
        }
        Class<?> wanted = ipVersion == 4 ? Inet4Address.class : Inet6Address.class;
        if (Arrays.stream(k.addresses()).anyMatch(wanted::isInstance)) {
            return Answer.OK;
        }
        String found = Arrays.stream(k.addresses()).map(InetAddress::getHostAddress).collect(Collectors.joining(", "));
        return new Answer(false, isLiteral(host)
                ? "'" + host + "' is an IPv" + (ipVersion == 4 ? 6 : 4) + " address but ip_version is " + ipVersion
                : "'" + host + "' has no IPv" + ipVersion + " address (it resolves to " + found + ")");
    }


    /*
     * The rules of io.sonde.sockets.Resolver, kept here too: the core does not depend on the native
     * sockets bundle (a broken one must not take the targets down with it).
     */

    /** @return the first of {@code all} of the IP version (0: any); fails naming the host when none is */
    static InetAddress pick(String host, InetAddress[] all, int ipVersion) throws java.net.UnknownHostException {
        for (InetAddress a : all) {
            if (ipVersion == 0 || (ipVersion == 4 && a instanceof java.net.Inet4Address)
                    || (ipVersion == 6 && a instanceof java.net.Inet6Address)) {
                return a;
            }
        }
        throw new java.net.UnknownHostException("'" + host + "' has no IPv" + ipVersion + " address");
    }

    /**
     * @return whether {@code host} is an IPv4 or IPv6 address literal, which resolves without the name service. The rule of
     *         the sockets' {@code Resolver.isLiteral}, kept here: the core does not import the sockets bundle, so that a
     *         broken update of it (staged for the next start) stops the probers that use it and never the core.
     */
    static boolean isLiteral(String host) {
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
