package io.sonde.plugin.http.internal;

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
import io.sonde.api.ProbeKind;
import io.sonde.api.Prober;
import io.sonde.api.Target;
import io.sonde.api.TargetProblem;
import io.sonde.api.TargetSchema;
import io.sonde.sockets.Resolver;

/**
 * {@code kind=http}: an HTTP(S) request per probe on a fresh connection, with the time of each
 * phase (see {@link Exchange}) and the certificate's expiry. Never blocks the caller: exchanges run
 * on this prober's threads, as many at a time as {@link #THREADS}; a probe the scheduler gives up
 * on has its connection closed.
 */
@Component(service = Prober.class)
@ProbeKind(type = "http", async = true, cost = 10)
public final class HttpProber implements Prober {

    /** Exchanges in progress at most; a slow server holds one until its timeout. */
    static final int THREADS = 64;

    private final Resolver resolver = new Resolver("sonde-http-resolve", 2);
    private final Trust trust = new Trust();
    private final ThreadPoolExecutor pool;

    @Activate
    public HttpProber() {
        pool = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(20_000),
                io.sonde.base.DaemonThreads.numbered("sonde-http"));
        pool.allowCoreThreadTimeOut(true);
    }

    @Deactivate
    void deactivate() {
        pool.shutdownNow();
        resolver.close();
    }

    /** What its results hold, announced to the server with the kind: the record's own schema. */
    @Override
    public io.sonde.api.ResultSchema resultSchema() {
        return HttpGetResult.SCHEMA;
    }

    @Override
    public TargetSchema schema() {
        return Request.SCHEMA;
    }

    @Override
    public List<TargetProblem> check(Target target) {
        return Request.problems(target);
    }

    /** A blackbox_exporter module's {@code http:} section (see {@link BlackboxModule}). */
    @Override
    public java.util.Map<String, String> blackboxKeys(java.util.Map<String, ?> section) {
        return BlackboxModule.keys(section);
    }

    @Override
    public CompletionStage<HttpGetResult> probe(Target target) {
        Request request;
        try {
            request = Request.of(target);
        } catch (RuntimeException e) { // the core validates these keys; a plugin may be newer than the core
            return CompletableFuture.completedFuture(failed(target, "bad http target: " + e.getMessage()));
        }
        Exchange exchange = new Exchange(target, request, resolver, trust);
        CompletableFuture<HttpGetResult> result = new CompletableFuture<>();
        try {
            pool.execute(() -> {
                if (!result.isDone()) {
                    result.complete(exchange.run());
                }
            });
        } catch (RejectedExecutionException e) {
            return CompletableFuture.completedFuture(failed(target, "too many HTTP probes waiting"));
        }
        result.whenComplete((r, e) -> {
            if (result.isCancelled()) {
                exchange.abort();
            }
        });
        return result;
    }

    private static HttpGetResult failed(Target t, String message) {
        return new HttpGetResult(t, Instant.now(), Duration.ZERO, FailureReason.ERROR, message, 0, null, 0, null, null,
                null, null);
    }
}
