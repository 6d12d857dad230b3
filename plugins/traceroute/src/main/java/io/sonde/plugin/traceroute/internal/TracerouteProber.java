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
import io.sonde.api.Prober;
import io.sonde.api.Target;
import io.sonde.sockets.Resolver;

/**
 * {@code kind=traceroute}: the path to a host, hop by hop, without privilege (UDP probes, ICMP
 * answers from the socket error queue). Keys: {@code max_hops} (default 30), {@code queries} per
 * hop (default 3), {@code hop_timeout_ms} (default 1000), {@code port} (default 33434).
 */
@Component(service = Prober.class, property = {Prober.PROBE_TYPE + "=traceroute", Prober.PROBE_ASYNC + ":Boolean=true",
        Prober.PROBE_COST + ":Integer=30"})
public final class TracerouteProber implements Prober {

    static final TargetOption MAX_HOPS = TargetOption.integer("max_hops", 30, 1, 255, "The farthest hop (TTL) probed");
    static final TargetOption QUERIES = TargetOption.integer("queries", 3, 1, 10, "Probes sent to each hop");
    static final TargetOption HOP_TIMEOUT = TargetOption.integer("hop_timeout_ms", 1000, 1, 60_000,
            "Milliseconds to wait for one hop's answer");

    static final TargetSchema SCHEMA = TargetSchema.of(HostForm.NAME, false, MAX_HOPS, QUERIES, HOP_TIMEOUT);

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
    public CompletionStage<TracerouteResult> probe(Target target) {
        Instant startedAt = Instant.now();
        int maxHops = MAX_HOPS.intValue(target);
        int queries = QUERIES.intValue(target);
        Duration hopTimeout = Duration.ofMillis(HOP_TIMEOUT.longValue(target));
        int port = target.port() > 0 ? target.port() : 33434;
        CompletableFuture<TracerouteResult> result = new CompletableFuture<>();
        resolver.resolve(target.host(), target.ipVersion())
                .whenComplete((address, e) -> {
                    if (address == null) {
                        result.complete(failed(target, startedAt, (e.getCause() != null ? e.getCause() : e).getMessage()));
                    } else if (!result.isDone()) {
                        CompletableFuture<TracerouteResult> trace =
                                tracer.trace(target, address, port, maxHops, queries, hopTimeout, startedAt);
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
