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
import io.sonde.api.Prober;
import io.sonde.api.Target;
import io.sonde.api.TargetOption;
import io.sonde.api.TargetSchema;
import io.sonde.sockets.Resolver;

/**
 * {@code kind=tcp}: the time to establish a TCP connection (SYN to ESTABLISHED), IPv4 or IPv6.
 * Host names are resolved off the selector thread; address literals need no lookup; option
 * {@code ip_version} (4 or 6) keeps to one address family.
 *
 * <p>Target option {@code close}: {@code fin} (default) ends each connection politely, which leaves
 * a TIME_WAIT socket on this host for a minute; {@code reset} ends it with a reset, which leaves
 * none (cheaper at thousands of probes a second) but shows as a reset connection on the peer.
 */
@Component(service = Prober.class, property = {Prober.PROBE_TYPE + "=tcp", Prober.PROBE_ASYNC + ":Boolean=true",
        Prober.PROBE_COST + ":Integer=1"})
public final class TcpProber implements Prober {

    /** Target option: how to end the connection. */
    static final TargetOption CLOSE = TargetOption.choice("close", "fin",
            "How each connection ends: fin (polite; leaves TIME_WAIT on this host) or reset (leaves none)", "fin", "reset");

    static final TargetSchema SCHEMA = TargetSchema.of(HostForm.NAME, true, CLOSE);

    private final Connector connector;
    private final Resolver resolver = new Resolver("sonde-tcp-resolve", 2);

    @Activate
    public TcpProber() throws IOException {
        connector = new Connector("sonde-tcp-connect");
    }

    @Deactivate
    void deactivate() {
        resolver.close();
        connector.close();
    }

    /** What its results hold, announced to the server with the kind: the record's own schema. */
    @Override
    public io.sonde.api.ResultSchema resultSchema() {
        return TcpConnectResult.SCHEMA;
    }

    /**
     * A blackbox_exporter module's {@code tcp:} section: its address-family keys; query_response,
     * TLS (the tls kind's job) and source address are refused.
     */
    @Override
    public java.util.Map<String, String> blackboxKeys(java.util.Map<String, ?> raw) {
        ModuleSection section = ModuleSection.of(raw);
        if (section.has("tls") || section.has("tls_config")) {
            throw section.refuse(section.has("tls") ? "tls" : "tls_config", "not taken: TLS after connect is the tls kind's (prober: tls)");
        }
        section.only("blackbox_exporter's tcp prober", java.util.Set.of("preferred_ip_protocol", "ip_protocol_fallback"));
        int ip = section.ipVersion();
        return ip == 0 ? java.util.Map.of() : java.util.Map.of(Target.IP_VERSION, Integer.toString(ip));
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

    private void connect(Target target, Instant startedAt, long start, InetAddress address,
            CompletableFuture<TcpConnectResult> result) {
        InetSocketAddress socketAddress = new InetSocketAddress(address, target.port());
        Duration left = target.timeout().minusNanos(System.nanoTime() - start);
        if (left.isNegative() || left.isZero()) {
            result.complete(failed(target, startedAt, start, FailureReason.TIMEOUT,
                    "resolving '" + target.host() + "' used up the timeout", socketAddress));
            return;
        }
        CompletableFuture<Connector.Outcome> connect = connector.connect(socketAddress, left,
                "reset".equals(CLOSE.value(target)));
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
