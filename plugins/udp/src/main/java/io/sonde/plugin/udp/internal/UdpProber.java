package io.sonde.plugin.udp.internal;

import java.io.IOException;
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
import io.sonde.api.ProbeKind;
import io.sonde.api.Prober;
import io.sonde.api.Target;
import io.sonde.api.TargetOption;
import io.sonde.api.TargetSchema;
import io.sonde.sockets.Marking;
import io.sonde.sockets.Resolver;

/**
 * {@code kind=udp} (the Latency Probe's {@code echo}): one datagram to {@code host:port} carrying a
 * sequence number and a nonce, the time until the same bytes come back. An ICMP port unreachable
 * is {@code refused}, no answer within the timeout is a timeout, an answer that is not ours is
 * ignored. Option {@code size}: datagram bytes, 24 to 65,000 (default 64).
 */
@Component(service = Prober.class)
@ProbeKind(type = "udp", async = true, cost = 1)
public final class UdpProber implements Prober {

    /** Target option: the datagram's size. */
    static final TargetOption SIZE = TargetOption.integer("size", 64, 24, 65_000,
            "Bytes of each datagram, sequence number and nonce included");

    static final TargetSchema SCHEMA = TargetSchema.of(HostForm.NAME, true, SIZE, Marking.SOURCE_ADDRESS, Marking.SOURCE_INTERFACE,
            Marking.DSCP);

    private final Resolver resolver = new Resolver("sonde-udp-resolve", 1);
    private final Echoer echoer;

    @Activate
    public UdpProber() throws IOException {
        echoer = new Echoer("sonde-udp-echo");
    }

    @Deactivate
    void deactivate() {
        resolver.close();
        echoer.close();
    }

    /** What its results hold, announced to the server with the kind: the record's own schema. */
    @Override
    public io.sonde.api.ResultSchema resultSchema() {
        return UdpConnectResult.SCHEMA;
    }

    @Override
    public TargetSchema schema() {
        return SCHEMA;
    }

    @Override
    public java.util.List<io.sonde.api.TargetProblem> check(Target target) {
        return Marking.problems(target);
    }

    @Override
    public CompletionStage<UdpConnectResult> probe(Target target) {
        Instant startedAt = Instant.now();
        long start = System.nanoTime();
        int size = SIZE.intValue(target);
        CompletableFuture<UdpConnectResult> result = new CompletableFuture<>();
        resolver.resolve(target.host(), target.ipVersion())
                .whenComplete((address, e) -> {
                    if (result.isDone()) {
                        return;
                    }
                    if (address == null) {
                        result.complete(new UdpConnectResult(target, startedAt, Duration.ofNanos(System.nanoTime() - start),
                                FailureReason.DNS, (e.getCause() != null ? e.getCause() : e).getMessage(), null));
                        return;
                    }
                    InetSocketAddress to = new InetSocketAddress(address, target.port());
                    long deadline = start + target.timeout().toNanos();
                    java.net.InetAddress source;
                    try {
                        source = Marking.source(target, address);
                    } catch (java.net.SocketException x) {
                        result.complete(new UdpConnectResult(target, startedAt, Duration.ofNanos(System.nanoTime() - start),
                                FailureReason.ERROR, x.getMessage(), to));
                        return;
                    }
                    CompletableFuture<Echoer.Outcome> echo = echoer.echo(to, size, deadline, source, Marking.trafficClass(target));
                    result.whenComplete((r, x) -> {
                        if (result.isCancelled()) {
                            echo.cancel(false);
                        }
                    });
                    echo.thenAccept(o -> result.complete(new UdpConnectResult(target, startedAt, o.elapsed(), o.failure(),
                            o.failure() == FailureReason.TIMEOUT ? "no echo from " + to + " within "
                                    + target.timeout().toMillis() + " ms" : o.message(), to)));
                });
        return result;
    }
}
