package io.sonde.agent.spi;

import java.util.List;
import java.util.Map;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Targets a program hands the agent's core directly, a fourth source beside the configurations of
 * {@code etc/}, the targets file and the server's document: for a program that embeds the probes
 * (the embedding library's {@code Monitor}) or a bundle that makes targets of its own. Whiteboard:
 * the core reads {@link #targets()} when the service comes, again each time its
 * {@link #GENERATION} property changes, and drops the targets when it goes.
 *
 * <p>Each entry is checked by the rules of any other: a bad one is refused with a message naming
 * {@link #NAME} and the target, and the others are taken; a name another source already holds stays
 * that source's. The agent-wide interval and timeout are the defaults.
 *
 * @since 1.4
 */
@ConsumerType
public interface TargetSource {

    /**
     * Service property: changed by the provider (with {@code ServiceRegistration.setProperties}) each
     * time its targets change; a whole number or text, compared for equality only.
     */
    String GENERATION = "targets.generation";

    /** Service property: what the source is called in messages, for example {@code "monitor"}; the service id if absent. */
    String NAME = "targets.source";

    /**
     * @return the targets now, each as the keys of a targets-file entry ({@code name}, {@code kind},
     *         {@code host}, {@code port}, {@code interval_ms}, ... and the kind's own), values as
     *         strings, numbers or lists; called on the core's thread, so it must answer at once
     */
    List<Map<String, ?>> targets();
}
