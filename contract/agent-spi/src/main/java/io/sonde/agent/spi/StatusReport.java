package io.sonde.agent.spi;

import java.util.Map;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Whiteboard service: one section of what the agent says about itself at {@code GET /status}
 * (and in {@code sonde-cli status}, {@code sonde:status}). Each bundle reports what it alone knows
 * (the core its configuration, the uplink its server and spool, the updater its updates) under the
 * name in its {@value #SECTION} service property.
 *
 * @since 1.7
 */
@ConsumerType
public interface StatusReport {

    /** Service property: the section's name in the status document, such as {@code uplink}. */
    String SECTION = "status.section";

    /**
     * Called on the asker's thread; answers quickly (a bundle whose state lives on its own thread
     * hands the question over and waits briefly).
     *
     * @return the section now: values are strings, numbers, booleans, {@code null}, and lists and
     *         maps of these
     */
    Map<String, Object> status();
}
