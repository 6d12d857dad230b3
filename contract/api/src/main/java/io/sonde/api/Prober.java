package io.sonde.api;

import java.util.List;
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
     * Service property, {@code Integer}: what one probe of the kind costs the agent, relative to a
     * TCP connect (1): an ICMP round of a few echoes about 3, a TLS handshake or an HTTP request
     * about 10, a traceroute about 30. An agent over its CPU or memory ceiling stretches the
     * intervals of the dearest kinds first. Without it a kind is taken as dear.
     *
     * @since 1.9
     */
    String PROBE_COST = "probe.cost";

    /**
     * Starts one probe of {@code target}. Must not block on the network.
     *
     * @param target the target to measure, already validated
     * @return a stage completing with the result of this one probe
     */
    CompletionStage<? extends ProbeResult> probe(Target target);

    /**
     * Declares what the kind takes beyond the generic keys. The core checks every target of the
     * kind against it before the target is probed, so {@link #probe(Target)} reads values that are
     * known to be good; a key the schema does not list is an error, with a suggestion if one is close.
     *
     * @return the kind's schema; {@code null}, the default, for a prober built before
     *         {@code io.sonde.api} 1.3, whose targets' own keys are then passed on unchecked
     * @since 1.3
     */
    default TargetSchema schema() {
        return null;
    }

    /**
     * Checks what one key's declaration cannot: keys that depend on each other or on the generic
     * ones (a round of requests that must fit in the timeout). Called by the core, after every key
     * passed its {@link TargetSchema} check, on a target that is not probed yet; must not block or
     * touch the network. The server may call it to check a target description too.
     *
     * @param target a target whose keys each passed the schema
     * @return what is wrong, empty if nothing
     * @since 1.3
     */
    default List<TargetProblem> check(Target target) {
        return List.of();
    }

    /**
     * Declares what the kind's results hold and which metric families it wants: the agent
     * announces it to its server with the kinds it runs, and every reader downstream works from
     * it. The results this prober completes carry the same schema ({@link ProbeResult#schema()}).
     *
     * @return the kind's result schema; {@link ResultSchema#NONE}, the default, for a kind whose
     *         results have only the standard measurements
     * @since 1.9
     */
    default ResultSchema resultSchema() {
        return ResultSchema.NONE;
    }

    /**
     * Reads this kind's section of a prometheus-blackbox-exporter module (the map under {@code http:}
     * of a module whose {@code prober} is {@code http}), so a blackbox configuration file carries over:
     * the {@code /probe} endpoint probes the module's targets with the keys returned, checked as any
     * target's. A key the kind does not take, or takes only in part, must be refused, never ignored.
     * Must not block or touch the network.
     *
     * @param section the section as YAML reads it: maps, lists, strings, numbers and booleans
     * @return the target keys and values that mean the same, empty for an empty section
     * @throws IllegalArgumentException naming the first key refused by its path within the section
     *         ({@code fail_if_header_matches[0].allow_missing: ...}) and why
     * @since 2.1
     */
    default java.util.Map<String, String> blackboxKeys(java.util.Map<String, ?> section) {
        if (section.isEmpty()) {
            return java.util.Map.of();
        }
        throw new IllegalArgumentException(section.keySet().iterator().next()
                + ": this kind does not read blackbox_exporter module settings");
    }
}
