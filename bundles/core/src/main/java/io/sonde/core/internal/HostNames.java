package io.sonde.core.internal;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;

/**
 * Checks at configuration time that a target's host has an address (of the family its
 * {@code ip_version} asks for), so that a misspelt name or an IPv6 literal on an IPv4-only target
 * is a configuration error, reported once with its file and key, rather than a probe failure
 * every interval. Answers are remembered: failures for {@link #FAILURE_MS} (then asked again, so
 * a name that appears later becomes valid), successes for {@link #SUCCESS_MS}. A resolver that is
 * down ("temporary failure") is no verdict: the target is accepted and its probes say what fails.
 *
 * <p>Used on the core thread only.
 */
final class HostNames {

    static final long FAILURE_MS = 30_000;
    static final long SUCCESS_MS = 600_000;

    /** The system's resolver, or another in tests. */
    interface Lookup {
        InetAddress[] all(String host) throws UnknownHostException;
    }

    /** What {@link TargetValidator} asks: the problem with {@code host}, or null. */
    interface Check {
        Check NONE = (host, ipVersion) -> null;

        String problem(String host, int ipVersion);
    }

    private record Known(InetAddress[] addresses, String failure, long until) {
    }

    private final Lookup lookup;
    private final LongSupplier clockMs;
    private final Map<String, Known> known = new HashMap<>();

    HostNames(Lookup lookup, LongSupplier clockMs) {
        this.lookup = lookup;
        this.clockMs = clockMs;
    }

    static HostNames system() {
        return new HostNames(InetAddress::getAllByName, System::currentTimeMillis);
    }

    /** @return why {@code host} cannot be probed with {@code ipVersion} (4, 6 or 0 for any), or null */
    String problem(String host, int ipVersion) {
        long now = clockMs.getAsLong();
        Known k = known.get(host);
        if (k == null || k.until() < now) {
            k = ask(host, now);
            if (!isLiteral(k)) { // a literal costs no lookup: not worth its memory at 10,000 targets
                known.put(host, k);
            }
        }
        if (k.failure() != null) {
            return k.failure();
        }
        if (k.addresses() == null || ipVersion == 0) {
            return null;
        }
        Class<?> wanted = ipVersion == 4 ? Inet4Address.class : Inet6Address.class;
        if (Arrays.stream(k.addresses()).anyMatch(wanted::isInstance)) {
            return null;
        }
        String found = Arrays.stream(k.addresses()).map(InetAddress::getHostAddress).collect(Collectors.joining(", "));
        return isLiteral(k)
                ? "'" + host + "' is an IPv" + (ipVersion == 4 ? 6 : 4) + " address but ip_version is " + ipVersion
                : "'" + host + "' has no IPv" + ipVersion + " address (it resolves to " + found + ")";
    }

    /** An address given as such has no name: its text form starts with the slash. */
    private static boolean isLiteral(Known k) {
        return k.addresses() != null && k.addresses().length == 1 && k.addresses()[0].toString().startsWith("/");
    }

    private Known ask(String host, long now) {
        try {
            return new Known(lookup.all(host), null, now + SUCCESS_MS);
        } catch (UnknownHostException e) {
            String m = String.valueOf(e.getMessage());
            if (m.contains("Temporary failure") || m.contains("try again")) {
                return new Known(null, null, now + FAILURE_MS); // no verdict while the resolver is down
            }
            return new Known(null, "'" + host + "' does not resolve to an address (asked again every "
                    + FAILURE_MS / 1000 + " s)", now + FAILURE_MS);
        }
    }

    /** Forgets failed and expired answers; true if some name failed, so that it is asked again. */
    boolean forgetFailures() {
        long now = clockMs.getAsLong();
        boolean failed = known.values().stream().anyMatch(k -> k.failure() != null || k.addresses() == null);
        known.values().removeIf(k -> k.failure() != null || k.addresses() == null || k.until() < now);
        return failed;
    }
}
