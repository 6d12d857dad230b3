package io.sonde.agent.spi;

import io.sonde.api.FailureReason;
import io.sonde.api.HostForm;
import io.sonde.api.Target;

import java.net.InetAddress;
import java.util.Map;
import java.util.concurrent.CompletionStage;

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

    /**
     * Looks up the address a target is probed at, by the rules of its kind's {@link HostForm} and
     * its {@link Target#ipVersion() IP version}, off the caller's thread, as the core does for
     * configured targets.
     *
     * @param target a target made by {@link #create}
     * @return a stage completing with the target to hand the prober (for a {@link HostForm#NAME}
     *         host, the same target at the address found, so the prober looks up nothing; otherwise
     *         the target as it is) and the address ({@code null} for {@link HostForm#OTHER}); or failing
     *         with a {@link java.net.UnknownHostException} whose message says why
     * @since 1.3
     */
    CompletionStage<Resolved> resolve(Target target);

    /**
     * A target ready to probe and the address it is probed at.
     *
     * @param target  the target to hand the prober
     * @param address the address looked up, or {@code null} if the kind's host is not a name
     * @since 1.3
     */
    record Resolved(Target target, InetAddress address) {
    }

    /**
     * Checks a targets file (the Latency Probe's JSON format, as {@code targets_file} names it) by
     * the agent's own rules, as the agent would check it on reading it: the document's shape, every
     * entry with the prober of its kind, names used twice, the file-wide settings. For tools that
     * check files before a rollout.
     *
     * @param json   the file's text
     * @param source where the text is from (a path), at the start of every problem
     * @return the problems, each naming the source, the entry or key and the reason; empty when the
     *         agent would take every entry. An entry of a kind no installed plugin serves is one.
     * @since 1.7
     */
    default java.util.List<String> check(String json, String source) {
        throw new UnsupportedOperationException("this core does not check whole files");
    }
}
