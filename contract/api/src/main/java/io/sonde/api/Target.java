package io.sonde.api;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One validated thing to probe, immutable.
 *
 * @param name     unique name of the target within the agent; the {@code target} label of its metrics
 * @param kind     the probe type, matched against {@link Prober#PROBE_TYPE}, for example {@code tcp}
 * @param host     host name or address; for some kinds a URL or server (see the kind's documentation)
 * @param port     port number, or 0 where the kind has none
 * @param interval time between the starts of two probes
 * @param timeout  how long one probe may take before it counts as timed out
 * @param tags     free-form labels used to select targets
 * @param options  kind-specific settings, as strings, keyed by their configuration key
 * @param source   where the target was defined (a file, and an entry within it), for messages
 */
public record Target(
        String name,
        String kind,
        String host,
        int port,
        Duration interval,
        Duration timeout,
        Set<String> tags,
        Map<String, String> options,
        String source) {

    /** Checks presence of the required parts and takes immutable copies of the collections. */
    public Target {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(interval, "interval");
        Objects.requireNonNull(timeout, "timeout");
        tags = tags == null ? Set.of() : Set.copyOf(tags);
        options = options == null ? Map.of() : Map.copyOf(options);
        source = source == null ? "" : source;
    }

    /**
     * @param key kind-specific configuration key
     * @param defaultValue returned when the key is absent
     * @return the option's value, or {@code defaultValue}
     */
    public String option(String key, String defaultValue) {
        return options.getOrDefault(key, defaultValue);
    }

    /** Kind names of the Latency Probe's configuration, accepted for the kinds they stand for. */
    private static final Map<String, String> KIND_ALIASES = Map.of("tcpconnect", "tcp", "echo", "udp");

    /**
     * @param kind a kind as written in a configuration
     * @return the kind it names: stripped, lower case, an alias ({@code tcpconnect}, {@code echo})
     *         replaced by the kind it stands for ({@code tcp}, {@code udp})
     * @since 1.3
     */
    public static String canonicalKind(String kind) {
        String k = kind.strip().toLowerCase(java.util.Locale.ROOT);
        return KIND_ALIASES.getOrDefault(k, k);
    }

    /** The generic key that keeps a target to one address family. */
    public static final String IP_VERSION = "ip_version";

    /**
     * @return the address family the target asks for with {@value #IP_VERSION}: 4, 6, or 0 for any
     * @since 1.3
     */
    public int ipVersion() {
        String v = options.get(IP_VERSION);
        return v == null ? 0 : switch (v.strip()) {
            case "4" -> 4;
            case "6" -> 6;
            default -> 0;
        };
    }
}
