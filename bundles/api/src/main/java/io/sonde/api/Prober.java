package io.sonde.api;

import java.util.concurrent.CompletionStage;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Measures one {@link Target}. Registered as an OSGi service with the property
 * {@value #PROBE_TYPE} naming the {@link Target#kind() kind} it handles.
 *
 * <p>Probes are asynchronous: {@link #probe(Target)} starts the measurement and returns at once, so
 * thousands of probes can be in flight without a thread each. The returned stage completes with a
 * result, successful or not; it should not complete exceptionally, but the scheduler copes if it
 * does. A prober should honour {@link Target#timeout()}; the scheduler enforces it anyway and then
 * cancels the stage's {@link java.util.concurrent.CompletableFuture}, if it is one, so the prober
 * can release its sockets.
 */
@ConsumerType
public interface Prober {

    /** Service property naming the target kind a prober handles, for example {@code tcp}. */
    String PROBE_TYPE = "probe.type";

    /**
     * Service property, {@code Boolean}: {@code true} declares that {@link #probe(Target)} never
     * blocks and returns within microseconds, so the scheduler may call it on its own thread
     * instead of handing each call to a thread of the prober's kind. A prober that declares it and
     * then blocks is caught and handed calls the ordinary way, after a warning. Default false.
     */
    String PROBE_ASYNC = "probe.async";

    /**
     * Starts one probe of {@code target}. Must not block on the network.
     *
     * @param target the target to measure, already validated
     * @return a stage completing with the result of this one probe
     */
    CompletionStage<? extends ProbeResult> probe(Target target);
}
