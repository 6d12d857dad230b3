package io.sonde.plugin.tcp.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

import io.sonde.api.FailureReason;
import io.sonde.api.HostForm;
import io.sonde.api.ModuleSection;
import io.sonde.api.ProbeKind;
import io.sonde.api.Prober;
import io.sonde.api.Target;
import io.sonde.api.TargetOption;
import io.sonde.api.TargetSchema;
import io.sonde.sockets.Marking;
import io.sonde.sockets.Resolver;

/**
 * {@code kind=tcp}: the time to establish a TCP connection (SYN to ESTABLISHED), IPv4 or IPv6; or,
 * with {@code expect.N}/{@code send.N}, a line exchange after it (see {@link Conversation}).
 * Host names are resolved off the selector thread; address literals need no lookup; option
 * {@code ip_version} (4 or 6) keeps to one address family.
 *
 * <p>Target option {@code close}: {@code fin} (default) ends each connection politely, which leaves
 * a TIME_WAIT socket on this host for a minute; {@code reset} ends it with a reset, which leaves
 * none (cheaper at thousands of probes a second) but shows as a reset connection on the peer.
 */
@Component(service = Prober.class)
@ProbeKind(type = "tcp", async = true, cost = 1)
public final class TcpProber implements Prober {

    /** Target option: how to end the connection. */
    static final TargetOption CLOSE = TargetOption.choice("close", "fin",
            "How each connection ends: fin (polite; leaves TIME_WAIT on this host) or reset (leaves none)", "fin", "reset");

    static final TargetSchema SCHEMA = TargetSchema.of(HostForm.NAME, true, CLOSE, Conversation.EXPECT, Conversation.SEND,
            Marking.SOURCE_ADDRESS, Marking.SOURCE_INTERFACE, Marking.DSCP);

    /** Exchanges ({@code expect.N}/{@code send.N}) in progress at most; a connect alone needs no thread. */
    static final int THREADS = 32;

    private final Connector connector;
    private final Resolver resolver = new Resolver("sonde-tcp-resolve", 2);
    private final java.util.concurrent.ThreadPoolExecutor exchanges;

    @Activate
    public TcpProber() throws IOException {
        connector = new Connector("sonde-tcp-connect");
        exchanges = new java.util.concurrent.ThreadPoolExecutor(THREADS, THREADS, 30, java.util.concurrent.TimeUnit.SECONDS,
                new java.util.concurrent.ArrayBlockingQueue<>(10_000), io.sonde.base.DaemonThreads.numbered("sonde-tcp-exchange"));
        exchanges.allowCoreThreadTimeOut(true);
    }

    @Deactivate
    void deactivate() {
        resolver.close();
        connector.close();
        exchanges.shutdownNow();
    }

    @Override
    public java.util.List<io.sonde.api.TargetProblem> check(Target target) {
        java.util.List<io.sonde.api.TargetProblem> problems = new java.util.ArrayList<>(Conversation.problems(target));
        problems.addAll(Marking.problems(target));
        return problems;
    }

    /** What its results hold, announced to the server with the kind: the record's own schema. */
    @Override
    public io.sonde.api.ResultSchema resultSchema() {
        return TcpConnectResult.SCHEMA;
    }

    /**
     * A blackbox_exporter module's {@code tcp:} section: {@code query_response} (its steps as
     * {@code expect.N}/{@code send.N}) and the address-family keys; TLS and STARTTLS (the tls kind's
     * job) and a source address are refused.
     */
    @Override
    public java.util.Map<String, String> blackboxKeys(java.util.Map<String, ?> raw) {
        ModuleSection section = ModuleSection.of(raw);
        if (section.has("tls") || section.has("tls_config")) {
            throw section.refuse(section.has("tls") ? "tls" : "tls_config", "not taken: TLS after connect is the tls kind's (prober: tls)");
        }
        section.only("blackbox_exporter's tcp prober", java.util.Set.of("preferred_ip_protocol", "ip_protocol_fallback",
                "query_response"));
        java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
        int n = 0;
        for (ModuleSection step : section.sections("query_response")) {
            n++;
            if (step.has("starttls")) {
                throw step.refuse("starttls", "not taken: STARTTLS is the tls kind's (prober: tls, starttls)");
            }
            step.only("a query_response step", java.util.Set.of("expect", "send"));
            if (step.has("expect")) {
                out.put(Conversation.EXPECT_PREFIX + n, step.text("expect"));
            }
            if (step.has("send")) {
                out.put(Conversation.SEND_PREFIX + n, Conversation.escape(step.text("send")));
            }
        }
        if (n > Conversation.MAX_STEPS) {
            throw section.refuse("query_response", n + " steps; at most " + Conversation.MAX_STEPS);
        }
        int ip = section.ipVersion();
        if (ip != 0) {
            out.put(Target.IP_VERSION, Integer.toString(ip));
        }
        return out;
    }

    @Override
    public TargetSchema schema() {
        return SCHEMA;
    }

    @Override
    public CompletionStage<TcpConnectResult> probe(Target target) {
        Instant startedAt = Instant.now();
        long start = System.nanoTime();
        CompletableFuture<TcpConnectResult> result = new CompletableFuture<>();
        CompletableFuture<InetAddress> resolved =
                resolver.resolve(target.host(), target.ipVersion());
        if (resolved.isDone() && !resolved.isCompletedExceptionally()) { // an address literal: no hand-over
            connect(target, startedAt, start, resolved.join(), result);
            return result;
        }
        resolved.whenComplete((address, e) -> {
            if (result.isDone()) {
                return;
            }
            if (address == null) {
                result.complete(failed(target, startedAt, start, FailureReason.DNS,
                        (e.getCause() != null ? e.getCause() : e).getMessage(), null));
            } else {
                connect(target, startedAt, start, address, result);
            }
        });
        return result;
    }

    /** An exchange after connecting, on a thread of {@link #exchanges}: the socket is closed when the probe is given up. */
    private void converse(Target target, Instant startedAt, long start, InetSocketAddress address, java.util.List<Conversation.Step> steps,
            CompletableFuture<TcpConnectResult> result) {
        java.util.concurrent.atomic.AtomicReference<java.net.Socket> socket = new java.util.concurrent.atomic.AtomicReference<>();
        result.whenComplete((r, e) -> {
            java.net.Socket s = socket.get();
            if (result.isCancelled() && s != null) {
                try {
                    s.close();
                } catch (IOException closing) {
                    // nothing more to do
                }
            }
        });
        try {
            exchanges.execute(() -> {
                if (!result.isDone()) {
                    result.complete(Conversation.run(target, startedAt, start, address, steps,
                            "reset".equals(CLOSE.value(target)), s -> {
                        socket.set(s);
                        if (result.isCancelled()) {
                            try {
                                s.close();
                            } catch (IOException closing) {
                                // nothing more to do
                            }
                        }
                    }));
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            result.complete(failed(target, startedAt, start, FailureReason.ERROR, "too many TCP exchanges waiting", address));
        }
    }

    private void connect(Target target, Instant startedAt, long start, InetAddress address,
            CompletableFuture<TcpConnectResult> result) {
        InetSocketAddress socketAddress = new InetSocketAddress(address, target.port());
        java.util.List<Conversation.Step> steps = Conversation.steps(target);
        if (!steps.isEmpty()) {
            converse(target, startedAt, start, socketAddress, steps, result);
            return;
        }
        Duration left = target.timeout().minusNanos(System.nanoTime() - start);
        if (left.isNegative() || left.isZero()) {
            result.complete(failed(target, startedAt, start, FailureReason.TIMEOUT,
                    "resolving '" + target.host() + "' used up the timeout", socketAddress));
            return;
        }
        java.net.InetAddress source;
        try {
            source = Marking.source(target, address);
        } catch (java.net.SocketException e) {
            result.complete(failed(target, startedAt, start, FailureReason.ERROR, e.getMessage(), socketAddress));
            return;
        }
        CompletableFuture<Connector.Outcome> connect = connector.connect(socketAddress, left,
                "reset".equals(CLOSE.value(target)), source, Marking.trafficClass(target));
        result.whenComplete((r, e) -> {
            if (result.isCancelled()) {
                connect.cancel(true);
            }
        });
        connect.thenAccept(o -> result.complete(o.failure() == FailureReason.TIMEOUT
                ? failed(target, startedAt, start, FailureReason.TIMEOUT, "no answer from " + socketAddress
                        + " within " + target.timeout().toMillis() + " ms", socketAddress)
                : new TcpConnectResult(target, startedAt, o.elapsed(), o.failure(), o.message(), socketAddress)));
    }

    private static TcpConnectResult failed(Target target, Instant startedAt, long start, FailureReason reason,
            String message, InetSocketAddress address) {
        return new TcpConnectResult(target, startedAt, Duration.ofNanos(System.nanoTime() - start), reason, message,
                address);
    }
}
