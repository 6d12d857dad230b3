package io.sonde.plugin.grpc.internal;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import javax.net.ssl.SSLSession;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ConnectivityState;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;

/**
 * One {@code grpc.health.v1.Health/Check} call on a new channel, watched from the first connection
 * attempt to the answer: when the channel became ready (the connect phase ends there), the TLS
 * session it ran on, the call's status and the serving status answered.
 */
final class HealthCheck {

    /**
     * What one call came to.
     *
     * @param status           how the call ended
     * @param servingStatus    the answer's serving status, when the call was OK
     * @param session          the TLS session, when there was one
     * @param connectFromNanos when the channel was asked to connect ({@link System#nanoTime()})
     * @param readyNanos       when it was ready, 0 if it never was
     * @param doneNanos        when the call ended
     */
    record Outcome(Status status, String servingStatus, SSLSession session, long connectFromNanos, long readyNanos, long doneNanos) {
    }

    private HealthCheck() {
    }

    /** Starts the call; {@code done} hears its outcome once, on one of grpc's threads. */
    static void run(ManagedChannel channel, String service, Duration timeout, long t0, Consumer<Outcome> done) {
        long connectFrom = System.nanoTime();
        AtomicLong ready = new AtomicLong();
        watch(channel, channel.getState(true), ready);
        AtomicReference<SSLSession> session = new AtomicReference<>();
        AtomicBoolean finished = new AtomicBoolean();
        ClientCall<HealthCheckRequest, HealthCheckResponse> call = channel.newCall(HealthGrpc.getCheckMethod(),
                CallOptions.DEFAULT.withDeadlineAfter(Math.max(1, timeout.toNanos() - (connectFrom - t0)), TimeUnit.NANOSECONDS));
        AtomicReference<HealthCheckResponse> answer = new AtomicReference<>();
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onHeaders(Metadata headers) {
                session.compareAndSet(null, call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
            }

            @Override
            public void onMessage(HealthCheckResponse message) {
                answer.set(message);
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
                long now = System.nanoTime();
                if (!finished.compareAndSet(false, true)) {
                    return;
                }
                session.compareAndSet(null, call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
                HealthCheckResponse a = answer.get();
                String serving = null;
                if (status.isOk() && a != null) {
                    int n = a.getStatusValue();
                    serving = n >= 0 && n < GrpcResults.SERVING_STATUSES.size() ? GrpcResults.SERVING_STATUSES.get(n) : "UNKNOWN";
                } else if (status.isOk()) {
                    status = Status.INTERNAL.withDescription("the call ended OK without an answer");
                }
                long r = ready.get();
                if (r == 0 && status.isOk()) {
                    r = now; // answered before the state watcher heard of READY
                }
                done.accept(new Outcome(status, serving, session.get(), connectFrom, r, now));
            }
        }, new Metadata());
        call.sendMessage(HealthCheckRequest.newBuilder().setService(service == null ? "" : service).build());
        call.halfClose();
        call.request(2);
    }

    /** Notes when the channel first becomes ready. */
    private static void watch(ManagedChannel channel, ConnectivityState state, AtomicLong ready) {
        if (state == ConnectivityState.READY) {
            ready.compareAndSet(0, System.nanoTime());
            return;
        }
        if (state == ConnectivityState.SHUTDOWN) {
            return;
        }
        channel.notifyWhenStateChanged(state, () -> watch(channel, channel.getState(false), ready));
    }
}
