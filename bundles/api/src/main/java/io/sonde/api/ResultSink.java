package io.sonde.api;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Whiteboard service receiving every probe result: the exporter, later the uplink. Each sink is
 * called from its own thread, in the order the results of a target completed; a slow sink delays
 * only itself.
 */
@ConsumerType
public interface ResultSink {

    /** @param result one completed probe */
    void accept(ProbeResult result);

    /**
     * Called when a target is no longer configured, so a sink can forget what it kept about it.
     *
     * @param target the removed target, as it was last configured
     */
    default void targetRemoved(Target target) {
    }

    /**
     * Called on the sink's thread when the results handed to it so far are all it has for now (its
     * queue ran dry): a sink that writes them somewhere can do so in one go here.
     */
    default void flush() {
    }
}
