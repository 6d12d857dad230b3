package io.sonde.plugin.traceroute.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

import io.sonde.api.FailureReason;
import io.sonde.api.Prober;
import io.sonde.api.Target;
import io.sonde.api.TracerouteResult;
import io.sonde.sockets.Resolver;

/**
 * {@code kind=traceroute}: the path to a host, hop by hop, without privilege (UDP probes, ICMP
 * answers from the socket error queue). Keys: {@code max_hops} (default 30), {@code queries} per
 * hop (default 3), {@code hop_timeout_ms} (default 1000), {@code port} (default 33434).
 */
@Component(service = Prober.class, property = {Prober.PROBE_TYPE + "=traceroute", Prober.PROBE_ASYNC + ":Boolean=true"})
public final class TracerouteProber implements Prober {

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

    @Override
    public CompletionStage<TracerouteResult> probe(Target target) {
        Instant startedAt = Instant.now();
        int maxHops = Integer.parseInt(target.option("max_hops", "30"));
        int queries = Integer.parseInt(target.option("queries", "3"));
        Duration hopTimeout = Duration.ofMillis(Long.parseLong(target.option("hop_timeout_ms", "1000")));
        int port = target.port() > 0 ? target.port() : 33434;
        CompletableFuture<TracerouteResult> result = new CompletableFuture<>();
        resolver.resolve(target.host(), Resolver.ipVersion(target.option(Resolver.IP_VERSION, null)))
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
