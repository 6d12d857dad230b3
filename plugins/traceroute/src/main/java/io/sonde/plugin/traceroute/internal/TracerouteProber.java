package io.sonde.plugin.traceroute.internal;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

import io.sonde.api.FailureReason;
import io.sonde.api.Prober;
import io.sonde.api.Target;
import io.sonde.api.TracerouteResult;

/**
 * {@code kind=traceroute}: the path to a host, hop by hop, without privilege (UDP probes, ICMP
 * answers from the socket error queue). Keys: {@code max_hops} (default 30), {@code queries} per
 * hop (default 3), {@code hop_timeout_ms} (default 1000), {@code port} (default 33434).
 */
@Component(service = Prober.class, property = {Prober.PROBE_TYPE + "=traceroute", Prober.PROBE_ASYNC + ":Boolean=true"})
public final class TracerouteProber implements Prober {

    private final Tracer tracer = new Tracer();
    private final ThreadPoolExecutor resolver;

    @Activate
    public TracerouteProber() {
        resolver = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(10_000), r -> {
            Thread t = new Thread(r, "sonde-traceroute-resolve");
            t.setDaemon(true);
            return t;
        });
        resolver.allowCoreThreadTimeOut(true);
    }

    @Deactivate
    void deactivate() {
        resolver.shutdownNow();
        tracer.close();
    }

    @Override
    public CompletionStage<TracerouteResult> probe(Target target) {
        Instant startedAt = Instant.now();
        int maxHops = Integer.parseInt(target.option("max_hops", "30"));
        int queries = Integer.parseInt(target.option("queries", "3"));
        Duration hopTimeout = Duration.ofMillis(Long.parseLong(target.option("hop_timeout_ms", "1000")));
        int port = target.port() > 0 ? target.port() : 33434;
        String host = target.host();
        if (host.indexOf(':') >= 0 || host.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'))) {
            try {
                return tracer.trace(target, InetAddress.getByName(host), port, maxHops, queries, hopTimeout, startedAt);
            } catch (UnknownHostException e) {
                return failed(target, startedAt, "bad address '" + host + "'");
            }
        }
        CompletableFuture<TracerouteResult> result = new CompletableFuture<>();
        try {
            resolver.execute(() -> {
                try {
                    tracer.trace(target, InetAddress.getByName(host), port, maxHops, queries, hopTimeout, startedAt)
                            .whenComplete((r, e) -> result.complete(r));
                } catch (UnknownHostException e) {
                    result.complete(failed(target, startedAt, "cannot resolve '" + host + "'").join());
                }
            });
        } catch (RejectedExecutionException e) {
            return failed(target, startedAt, "too many host names waiting to be resolved");
        }
        return result;
    }

    private static CompletableFuture<TracerouteResult> failed(Target t, Instant startedAt, String message) {
        return CompletableFuture.completedFuture(new TracerouteResult(t, startedAt, Duration.ZERO,
                message.startsWith("too many") ? FailureReason.ERROR : FailureReason.DNS, message, null, List.of(), false));
    }
}
