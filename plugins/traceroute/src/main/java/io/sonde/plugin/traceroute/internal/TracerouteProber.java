package io.sonde.plugin.traceroute.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

import io.sonde.api.HostForm;
import io.sonde.api.TargetOption;
import io.sonde.api.TargetSchema;
import io.sonde.api.FailureReason;
import io.sonde.api.ProbeKind;
import io.sonde.api.Prober;
import io.sonde.api.Target;
import io.sonde.sockets.Marking;
import io.sonde.sockets.Resolver;

/**
 * {@code kind=traceroute}: the path to a host, hop by hop, without privilege (UDP probes, ICMP
 * answers from the socket error queue). Keys: {@code max_hops} (default 30), {@code queries} per
 * hop (default 3), {@code hop_timeout_ms} (default 1000), {@code port} (default 33434),
 * {@code flows} (default 8: destination ports {@code port} to {@code port + flows - 1}, the paths
 * of equal-cost routes), {@code source_port}, and the marking keys.
 */
@Component(service = Prober.class)
@ProbeKind(type = "traceroute", async = true, cost = 30)
public final class TracerouteProber implements Prober {

    static final TargetOption MAX_HOPS = TargetOption.integer("max_hops", 30, 1, 255, "The farthest hop (TTL) probed");
    static final TargetOption QUERIES = TargetOption.integer("queries", 3, 1, 10, "Probes sent to each hop");
    static final TargetOption HOP_TIMEOUT = TargetOption.integer("hop_timeout_ms", 1000, 1, 60_000,
            "Milliseconds to wait for one hop's answer");

    static final TargetOption FLOWS = TargetOption.integer("flows", 8, 1, 64,
            "Flows per round, each on a destination port of its own (port, port + 1, ...) and the same every round, "
                    + "so that equal-cost routes show as distinct paths (Dublin-style); 1: one flow (Paris-style). "
                    + "Flow 0 sends the queries, every other flow one probe per hop");
    static final TargetOption SOURCE_PORT = TargetOption.integer("source_port", 0, 0, 65_535,
            "UDP source port of every probe, the same each round so that a flow keeps its path; "
                    + "0: one of the target's own from its name, in 34000-39999 (another when it is in use)");

    static final TargetSchema SCHEMA = TargetSchema.of(HostForm.NAME, false, MAX_HOPS, QUERIES, HOP_TIMEOUT, FLOWS,
            SOURCE_PORT, Marking.SOURCE_ADDRESS, Marking.SOURCE_INTERFACE, Marking.DSCP);

    private final Tracer tracer = new Tracer();
    private final Resolver resolver = new Resolver("sonde-traceroute-resolve", 1);

    @Activate
    public TracerouteProber() {
    }

    @Deactivate
    void deactivate() {
        resolver.close();
        tracer.close();
    }

    /** What its results hold, announced to the server with the kind: the record's own schema. */
    @Override
    public io.sonde.api.ResultSchema resultSchema() {
        return TracerouteResult.SCHEMA;
    }

    @Override
    public TargetSchema schema() {
        return SCHEMA;
    }

    @Override
    public List<io.sonde.api.TargetProblem> check(Target target) {
        List<io.sonde.api.TargetProblem> problems = new java.util.ArrayList<>(Marking.problems(target));
        int port = target.port() > 0 ? target.port() : 33434;
        if (port + FLOWS.intValue(target) - 1 > 65_535) {
            problems.add(new io.sonde.api.TargetProblem("flows", "port " + port + " + " + FLOWS.intValue(target)
                    + " flows goes past port 65535: lower port or flows"));
        }
        return problems;
    }

    /** @return the target's source port: its own, or one from its name in 34000-39999 */
    static int sourcePort(Target target) {
        int p = SOURCE_PORT.intValue(target);
        return p > 0 ? p : 34_000 + Math.floorMod(target.name().hashCode() * 31 + target.host().hashCode(), 6_000);
    }

    @Override
    public CompletionStage<TracerouteResult> probe(Target target) {
        Instant startedAt = Instant.now();
        int maxHops = MAX_HOPS.intValue(target);
        int queries = QUERIES.intValue(target);
        Duration hopTimeout = Duration.ofMillis(HOP_TIMEOUT.longValue(target));
        int port = target.port() > 0 ? target.port() : 33434;
        int flows = FLOWS.intValue(target);
        CompletableFuture<TracerouteResult> result = new CompletableFuture<>();
        resolver.resolve(target.host(), target.ipVersion())
                .whenComplete((address, e) -> {
                    if (address == null) {
                        result.complete(failed(target, startedAt, (e.getCause() != null ? e.getCause() : e).getMessage()));
                    } else if (!result.isDone()) {
                        java.net.InetAddress source;
                        try {
                            source = Marking.source(target, address);
                        } catch (java.net.SocketException x) {
                            result.complete(new TracerouteResult(target, startedAt, Duration.ZERO, FailureReason.ERROR,
                                    x.getMessage(), address, List.of(), false));
                            return;
                        }
                        CompletableFuture<TracerouteResult> trace = tracer.trace(target, address, port, maxHops, queries,
                                flows, hopTimeout, startedAt, new Tracer.Origin(source, sourcePort(target),
                                        Marking.trafficClass(target)));
                        result.whenComplete((r, x) -> trace.cancel(false)); // cancelled by the scheduler: end it
                        trace.whenComplete((r, x) -> result.complete(r));
                    }
                });
        return result;
    }

    private static TracerouteResult failed(Target t, Instant startedAt, String message) {
        return new TracerouteResult(t, startedAt, Duration.ZERO,
                message.startsWith("too many") ? FailureReason.ERROR : FailureReason.DNS, message, null, List.of(), false);
    }
}
