package io.sonde.plugin.icmp.internal;

import java.time.Instant;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

import io.sonde.api.FailureReason;
import io.sonde.api.HostForm;
import io.sonde.api.MeasuredResult;
import io.sonde.api.ProbeKind;
import io.sonde.api.Prober;
import io.sonde.api.ResultSchema;
import io.sonde.api.Target;
import io.sonde.api.TargetSchema;
import io.sonde.sockets.Resolver;

/**
 * {@code kind=mtu}: path MTU discovery to a host (see {@link PathMtu}), each probe on a socket and a
 * thread of its own; a round of a dozen or more echo requests, so a probe is dear.
 */
@Component(service = Prober.class)
@ProbeKind(type = "mtu", async = true, cost = 30)
public final class MtuProber implements Prober {

    static final TargetSchema SCHEMA = TargetSchema.of(HostForm.NAME, false, PathMtu.MAX_MTU, PathMtu.STEP_TIMEOUT);

    /** Discoveries in progress at most. */
    static final int THREADS = 16;

    private final Resolver resolver = new Resolver("sonde-mtu-resolve", 1);
    private final ThreadPoolExecutor pool;

    public MtuProber() {
        pool = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(1000),
                io.sonde.base.DaemonThreads.numbered("sonde-mtu"));
        pool.allowCoreThreadTimeOut(true);
    }

    @Deactivate
    void deactivate() {
        pool.shutdownNow();
        resolver.close();
    }

    @Override
    public TargetSchema schema() {
        return SCHEMA;
    }

    @Override
    public ResultSchema resultSchema() {
        return PathMtu.SCHEMA;
    }

    @Override
    public CompletionStage<MeasuredResult> probe(Target target) {
        Instant startedAt = Instant.now();
        CompletableFuture<MeasuredResult> result = new CompletableFuture<>();
        resolver.resolve(target.host(), target.ipVersion()).whenComplete((address, e) -> {
            if (address == null) {
                result.complete(new MeasuredResult(target, startedAt, java.time.Duration.ZERO, FailureReason.DNS,
                        (e.getCause() != null ? e.getCause() : e).getMessage(), PathMtu.SCHEMA, java.util.Map.of()));
                return;
            }
            try {
                pool.execute(() -> {
                    if (!result.isDone()) {
                        result.complete(new PathMtu(target, address).run(startedAt));
                    }
                });
            } catch (RejectedExecutionException x) {
                result.complete(new MeasuredResult(target, startedAt, java.time.Duration.ZERO, FailureReason.ERROR,
                        "too many path MTU probes waiting", PathMtu.SCHEMA, java.util.Map.of()));
            }
        });
        return result;
    }
}
