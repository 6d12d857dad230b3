package io.sonde.plugin.icmp.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.sonde.api.FailureReason;
import io.sonde.api.HostForm;
import io.sonde.api.ModuleSection;
import io.sonde.api.ProbeKind;
import io.sonde.api.Prober;
import io.sonde.api.Target;
import io.sonde.api.TargetOption;
import io.sonde.api.TargetProblem;
import io.sonde.api.TargetSchema;
import io.sonde.sockets.Family;
import io.sonde.sockets.Resolver;

/**
 * {@code kind=icmp}: rounds of {@code count} echo requests (default 3) {@code packet_interval_ms}
 * apart (default 100), IPv4 and IPv6; the target's timeout bounds the whole round. Uses unprivileged datagram sockets where the system allows,
 * raw sockets with privilege, or the system's ping; says at start which.
 */
@Component(service = Prober.class)
@ProbeKind(type = "icmp", async = true, cost = 3)
public final class IcmpProber implements Prober {

    private static final Logger LOG = LoggerFactory.getLogger(IcmpProber.class);
    static final TargetOption COUNT = TargetOption.integer("count", 3, 1, 1000, "Echo requests in each round");
    static final TargetOption PACKET_INTERVAL = TargetOption.integer("packet_interval_ms", 100, 1, 60_000,
            "Milliseconds between the requests of a round");

    /** Payload bytes after the ICMP header, as ping's -s: Sonde's own 16 and a pattern to fill the rest. */
    static final TargetOption SIZE = TargetOption.integer("size", IcmpCodec.PAYLOAD, IcmpCodec.PAYLOAD, IcmpCodec.MAX_PAYLOAD,
            "Payload bytes of each echo request after the 8-byte ICMP header, as ping -s (the IP packet is 28 bytes more over IPv4)");

    static final TargetOption DONT_FRAGMENT = TargetOption.bool("dont_fragment", false,
            "Echo requests with the don't-fragment bit (IPv4; IPv6 never fragments on the way): one larger than the path takes fails");

    static final TargetSchema SCHEMA = TargetSchema.of(HostForm.NAME, false, COUNT, PACKET_INTERVAL, SIZE, DONT_FRAGMENT,
            io.sonde.sockets.Marking.SOURCE_ADDRESS, io.sonde.sockets.Marking.SOURCE_INTERFACE, io.sonde.sockets.Marking.DSCP);

    private final IcmpEngine engine;
    private final Resolver resolver = new Resolver("sonde-icmp-resolve", 1);

    @Activate
    public IcmpProber() {
        this(null);
    }

    /** @param forced the mode for both families, or null: the best the system allows (tests force one) */
    IcmpProber(Mode forced) {
        engine = new IcmpEngine(forced);
        for (Family f : Family.values()) {
            Mode m = engine.mode(f);
            if (m == Mode.NONE) {
                LOG.warn("ICMP over {}: {}", f, engine.unavailable(f));
            } else {
                LOG.info("ICMP over {}: {}", f, switch (m) {
                    case DATAGRAM -> "unprivileged datagram sockets";
                    case RAW -> "raw sockets";
                    default -> "the system's ping binary (coarser timing; allow datagram sockets for better)";
                });
            }
        }
    }

    /** @return how echo requests are sent over {@code family} */
    Mode mode(Family family) {
        return engine.mode(family);
    }

    @Deactivate
    void deactivate() {
        resolver.close();
        engine.close();
    }

    /** What its results hold, announced to the server with the kind: the record's own schema. */
    @Override
    public io.sonde.api.ResultSchema resultSchema() {
        return PingResult.SCHEMA;
    }

    /**
     * A blackbox_exporter module's {@code icmp:} section: one echo per probe, as blackbox_exporter
     * sends, its payload_size, dont_fragment, source_ip_address and its address-family keys; TTL is
     * refused until this kind takes it.
     */
    @Override
    public java.util.Map<String, String> blackboxKeys(java.util.Map<String, ?> raw) {
        ModuleSection section = ModuleSection.of(raw);
        section.only("blackbox_exporter's icmp prober", java.util.Set.of("preferred_ip_protocol", "ip_protocol_fallback",
                "payload_size", "dont_fragment", "source_ip_address"));
        java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
        out.put(COUNT.name(), "1");
        if (section.has("dont_fragment")) {
            out.put(DONT_FRAGMENT.name(), Boolean.toString(section.bool("dont_fragment", false)));
        }
        if (section.has("source_ip_address")) {
            out.put(io.sonde.sockets.Marking.SOURCE_ADDRESS.name(), section.text("source_ip_address"));
        }
        if (section.has("payload_size")) {
            long size = section.number("payload_size", IcmpCodec.PAYLOAD);
            if (size < IcmpCodec.PAYLOAD) { // blackbox_exporter pads a smaller payload: Sonde needs its 16 bytes to tell replies apart
                throw section.refuse("payload_size", size + " is below " + IcmpCodec.PAYLOAD + ", the bytes Sonde's own check takes");
            }
            out.put(SIZE.name(), Long.toString(size));
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

    /** The round's requests must all be sent within the timeout, which bounds the round. */
    @Override
    public List<TargetProblem> check(Target target) {
        long count = COUNT.longValue(target);
        long spacing = PACKET_INTERVAL.longValue(target);
        List<TargetProblem> problems = new java.util.ArrayList<>(io.sonde.sockets.Marking.problems(target));
        if ((count - 1) * spacing >= target.timeout().toMillis()) {
            problems.add(new TargetProblem(COUNT.name(), count + " requests " + spacing + " ms apart do not fit in the timeout of "
                    + target.timeout().toMillis() + " ms, which bounds the round"));
        }
        return problems;
    }

    @Override
    public CompletionStage<PingResult> probe(Target target) {
        Instant startedAt = Instant.now();
        int count = COUNT.intValue(target);
        Duration interval = Duration.ofMillis(PACKET_INTERVAL.longValue(target));
        CompletableFuture<java.net.InetAddress> resolved = resolver.resolve(target.host(), target.ipVersion());
        if (resolved.isDone() && !resolved.isCompletedExceptionally()) { // an address literal: no hand-over
            return ping(target, resolved.join(), count, interval, startedAt);
        }
        CompletableFuture<PingResult> result = new CompletableFuture<>();
        resolved.whenComplete((address, e) -> {
            if (address == null) {
                result.complete(failed(target, startedAt, FailureReason.DNS,
                        (e.getCause() != null ? e.getCause() : e).getMessage()).join());
            } else if (!result.isDone()) {
                CompletableFuture<PingResult> round = ping(target, address, count, interval, startedAt);
                result.whenComplete((r, x) -> round.cancel(false)); // cancelled by the scheduler: end the round
                round.whenComplete((r, x) -> {
                    if (r != null) {
                        result.complete(r);
                    } else {
                        result.completeExceptionally(x);
                    }
                });
            }
        });
        return result;
    }

    /** A round with the target's don't-fragment bit, DSCP and source address: the default shared socket when it asks for none. */
    private CompletableFuture<PingResult> ping(Target target, java.net.InetAddress address, int count, Duration interval, Instant startedAt) {
        java.net.InetAddress source;
        try {
            source = io.sonde.sockets.Marking.source(target, address);
        } catch (java.net.SocketException e) {
            return failed(target, startedAt, FailureReason.ERROR, e.getMessage());
        }
        Channel.Options options = new Channel.Options(DONT_FRAGMENT.booleanValue(target) && address instanceof java.net.Inet4Address,
                io.sonde.sockets.Marking.trafficClass(target), source);
        return engine.ping(target, address, count, interval, target.timeout(), startedAt, options);
    }

    private static CompletableFuture<PingResult> failed(Target t, Instant startedAt, FailureReason reason, String message) {
        return CompletableFuture.completedFuture(new PingResult(t, startedAt, Duration.ZERO, reason, message, null, 0,
                List.of(), 0, -1));
    }
}
