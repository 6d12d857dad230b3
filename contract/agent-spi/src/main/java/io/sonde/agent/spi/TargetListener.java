package io.sonde.agent.spi;

import io.sonde.api.Target;

import java.util.Collection;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Whiteboard service told the complete set of valid targets whenever it changes, and once when it
 * is registered.
 */
@ConsumerType
public interface TargetListener {

    /** @param targets every valid target, unique by {@link Target#name()} */
    void targetsChanged(Collection<Target> targets);
}
