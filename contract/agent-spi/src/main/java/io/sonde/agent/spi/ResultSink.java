package io.sonde.agent.spi;

import io.sonde.api.ProbeResult;
import io.sonde.api.Target;

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
     * One completed probe, with when its target is probed next. The scheduler calls this one; a
     * sink that has no use for the schedule implements {@link #accept(ProbeResult)} only.
     *
     * @param result one completed probe
     * @param next   when the target is probed next, and whether it is backed off
     * @since 1.8
     */
    default void accept(ProbeResult result, NextProbe next) {
        accept(result);
    }

    /**
     * @return completed once the sink takes results and what it serves is up (the exporter: once
     *         its port listens, or it has given up trying at first): a scheduler told to await the
     *         sink starts probing then. At once by default.
     * @since 1.8
     */
    default java.util.concurrent.CompletionStage<Void> ready() {
        return java.util.concurrent.CompletableFuture.completedFuture(null);
    }

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
