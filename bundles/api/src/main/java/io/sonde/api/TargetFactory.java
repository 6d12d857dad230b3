package io.sonde.api;

import java.util.Map;

import org.osgi.annotation.versioning.ProviderType;

/**
 * Makes a {@link Target} from settings, checked by the same rules as a target in a configuration
 * file ({@code io.sonde.target}): for bundles that probe on request, such as the exporter's
 * {@code /probe}. Registered by the core. The host is not looked up: a name that does not resolve
 * fails the probe, with reason {@link FailureReason#DNS}, instead of the settings.
 */
@ProviderType
public interface TargetFactory {

    /**
     * @param settings the keys of a target ({@code name}, {@code kind}, {@code host}, {@code port},
     *                 {@code interval_ms}, {@code timeout_ms}, and the kind's own), values as strings
     *                 or numbers
     * @param source   where the settings come from, for messages
     * @return the target
     * @throws IllegalArgumentException if the settings are not a valid target; the message names
     *         the source, the key and the reason for each problem, separated by {@code "; "}
     */
    Target create(Map<String, ?> settings, String source);
}
