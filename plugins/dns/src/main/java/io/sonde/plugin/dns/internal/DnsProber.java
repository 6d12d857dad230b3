package io.sonde.plugin.dns.internal;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeoutException;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;

import io.sonde.api.FailureReason;
import io.sonde.api.HostForm;
import io.sonde.api.MeasuredResult;
import io.sonde.api.ModuleSection;
import io.sonde.api.ProbeKind;
import io.sonde.api.Prober;
import io.sonde.api.ResultSchema;
import io.sonde.api.Target;
import io.sonde.api.TargetProblem;
import io.sonde.api.TargetSchema;

/**
 * {@code kind=dns}: one query to the DNS server {@code host} (port {@code port}, default 53), over
 * UDP and again over TCP when the UDP answer comes truncated, or over TCP only with
 * {@code transport=tcp}. Success is an answer whose response code is expected ({@code expect_rcode},
 * default NOERROR) and, with {@code expect_answer}, an answer record matching it. The other keys are
 * those of {@link DnsQuery}; {@code ip_version} (4 or 6) picks the server's address family.
 *
 * <p>The result is a {@link MeasuredResult} of the values {@link DnsResults} describes, which the
 * exporter shows as {@code probe_dns_<value>}: {@code rcode}, {@code answer_rrs}, {@code authority_rrs},
 * {@code additional_rrs}, {@code query_succeeded} (1 if any answer came), {@code tcp_fallback}
 * (1 if UDP came back truncated), {@code lookup_time_seconds} (finding the server's address),
 * {@code serial} (for an SOA answer). {@code address} is the server address asked.
 */
@Component(service = Prober.class)
@ProbeKind(type = "dns", async = true, cost = 3)
public final class DnsProber implements Prober {

    /** Looks up server names, which can block; literals never come here. */
    private final ExecutorService lookups = Executors.newFixedThreadPool(2, io.sonde.base.DaemonThreads.named("sonde-dns-lookup"));

    /** Queries of targets with {@code dscp} ({@link MarkedIo}): each holds a thread until its answer or timeout. */
    private final java.util.concurrent.ThreadPoolExecutor marked = new java.util.concurrent.ThreadPoolExecutor(32, 32, 30,
            java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(), io.sonde.base.DaemonThreads.named("sonde-dns-marked"));

    @Activate
    public DnsProber() {
        marked.allowCoreThreadTimeOut(true);
    }

    @Deactivate
    void deactivate() {
        lookups.shutdownNow();
        marked.shutdownNow();
    }

    /** The kind's keys; {@code host} is the server, {@code port} its port (53 if not set). */
    static final TargetSchema SCHEMA = TargetSchema.of(HostForm.NAME, false, DnsQuery.QUERY, DnsQuery.QUERY_TYPE,
            DnsQuery.EXPECT_RCODE, DnsQuery.EXPECT_ANSWER, DnsQuery.TRANSPORT, DnsQuery.DOH_PATH, DnsQuery.CA_FILE,
            DnsQuery.SERVER_NAME, DnsQuery.RECURSION, DnsQuery.FAIL_IF_ANSWER,
            DnsQuery.MIN_ANSWERS, DnsQuery.MAX_ANSWERS, DnsQuery.MIN_TTL, DnsQuery.MAX_TTL, Dnssec.MODE, Dnssec.TRUST_ANCHOR_FILE,
            Dnssec.ALLOW_INSECURE, io.sonde.sockets.Marking.SOURCE_ADDRESS, io.sonde.sockets.Marking.SOURCE_INTERFACE,
            io.sonde.sockets.Marking.DSCP);

    @Override
    public ResultSchema resultSchema() {
        return DnsResults.SCHEMA;
    }

    /** What the agent checks every dns target against before it is probed. */
    /**
     * A blackbox_exporter module's {@code dns:} section: query_name, query_type, transport_protocol,
     * dns_over_tls with tls_config's ca_file and server_name,
     * recursion_desired, valid_rcodes, validate_answer_rrs' fail_if_matches_regexp (fail_if_answer) and
     * one fail_if_none_matches_regexp (what expect_answer means) and the address-family keys; the other
     * record checks,
     * classes other than IN and a source address are refused.
     */
    @Override
    public java.util.Map<String, String> blackboxKeys(java.util.Map<String, ?> raw) {
        ModuleSection section = ModuleSection.of(raw);
        section.only("blackbox_exporter's dns prober", java.util.Set.of("query_name", "query_type", "query_class",
                "transport_protocol", "recursion_desired", "valid_rcodes", "validate_answer_rrs", "preferred_ip_protocol",
                "ip_protocol_fallback", "dns_over_tls", "tls_config"));
        java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
        if (section.has("query_name")) {
            out.put(DnsQuery.QUERY.name(), section.text("query_name"));
        }
        if (section.has("query_type")) {
            out.put(DnsQuery.QUERY_TYPE.name(), section.text("query_type"));
        }
        if (section.has("query_class") && !section.text("query_class").equalsIgnoreCase("IN")) {
            throw section.refuse("query_class", "'" + section.text("query_class") + "' is not taken: Sonde asks class IN");
        }
        if (section.has("transport_protocol")) {
            String t = section.text("transport_protocol");
            if (!t.equals("udp") && !t.equals("tcp")) {
                throw section.refuse("transport_protocol", "'" + t + "' is neither udp nor tcp");
            }
            out.put(DnsQuery.TRANSPORT.name(), t);
        }
        if (section.bool("dns_over_tls", false)) {
            out.put(DnsQuery.TRANSPORT.name(), "tls");
        }
        ModuleSection tls = section.section("tls_config");
        tls.only("tls_config", java.util.Set.of("ca_file", "server_name"));
        if (!tls.keys().isEmpty() && !section.bool("dns_over_tls", false)) {
            throw section.refuse("tls_config", "taken with dns_over_tls: true only");
        }
        if (tls.has("ca_file")) {
            out.put(DnsQuery.CA_FILE.name(), tls.text("ca_file"));
        }
        if (tls.has("server_name")) {
            out.put(DnsQuery.SERVER_NAME.name(), tls.text("server_name"));
        }
        if (section.has("recursion_desired")) {
            out.put(DnsQuery.RECURSION.name(), Boolean.toString(section.bool("recursion_desired", true)));
        }
        java.util.List<String> rcodes = section.texts("valid_rcodes");
        if (!rcodes.isEmpty()) {
            out.put(DnsQuery.EXPECT_RCODE.name(), String.join(",", rcodes));
        }
        ModuleSection answer = section.section("validate_answer_rrs");
        answer.only("validate_answer_rrs", java.util.Set.of("fail_if_none_matches_regexp", "fail_if_matches_regexp"));
        java.util.List<String> none = answer.texts("fail_if_matches_regexp");
        if (!none.isEmpty()) {
            out.put(DnsQuery.FAIL_IF_ANSWER.name(), none.size() == 1 ? none.get(0) : "(?:" + String.join(")|(?:", none) + ")");
        }
        java.util.List<String> any = answer.texts("fail_if_none_matches_regexp");
        if (any.size() > 1) {
            throw answer.refuse("fail_if_none_matches_regexp", "one pattern is taken, not " + any.size());
        }
        if (any.size() == 1) {
            out.put(DnsQuery.EXPECT_ANSWER.name(), any.get(0));
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

    /** The checks a key's declaration cannot make: a domain name, a record type, response codes. */
    @Override
    public List<TargetProblem> check(Target target) {
        List<TargetProblem> problems = new java.util.ArrayList<>(DnsQuery.problems(target));
        problems.addAll(Dnssec.problems(target));
        for (TargetProblem p : io.sonde.sockets.Marking.problems(target)) {
            problems.add(p);
        }
        boolean source = io.sonde.sockets.Marking.SOURCE_ADDRESS.value(target) != null
                || io.sonde.sockets.Marking.SOURCE_INTERFACE.value(target) != null;
        if (source && DnsQuery.TRANSPORT.value(target).equals("https")) {
            problems.add(new TargetProblem(io.sonde.sockets.Marking.SOURCE_ADDRESS.value(target) != null ? "source_address"
                    : "source_interface", "not taken with transport https (the HTTP client picks its own)"));
        }
        if (io.sonde.sockets.Marking.DSCP.value(target) != null && DnsQuery.TRANSPORT.value(target).equals("https")) {
            problems.add(new TargetProblem(io.sonde.sockets.Marking.DSCP.name(),
                    "not taken with transport https (the HTTP client's sockets take no mark)"));
        }
        return problems;
    }

    @Override
    public CompletionStage<MeasuredResult> probe(Target target) {
        Instant startedAt = Instant.now();
        long start = System.nanoTime();
        Probe p = new Probe(target, startedAt, start);
        DnsQuery query;
        try {
            query = DnsQuery.of(target);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(p.failed(FailureReason.ERROR, source(target) + e.getMessage()));
        }
        int ipVersion = target.ipVersion();
        CompletableFuture<InetAddress> address = io.sonde.sockets.Resolver.isLiteral(target.host())
                ? CompletableFuture.completedFuture(null)
                : CompletableFuture.supplyAsync(() -> lookup(target.host(), ipVersion), lookups);
        CompletableFuture<MeasuredResult> result = new CompletableFuture<>();
        address.whenComplete((a, e) -> {
            try {
                InetAddress server = a != null ? a : e == null ? InetAddress.getByName(target.host()) : null;
                p.lookup = System.nanoTime() - start;
                if (server == null) {
                    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                    result.complete(p.failed(FailureReason.DNS, "cannot resolve DNS server " + target.host() + ": "
                            + cause.getMessage()));
                    return;
                }
                p.server = new InetSocketAddress(server, target.port() != 0 ? target.port() : switch (DnsQuery.TRANSPORT.value(target)) {
                    case "tls" -> 853;
                    case "https" -> 443;
                    default -> SimpleResolver.DEFAULT_PORT;
                });
                send(p, query, query.tcp(), result);
            } catch (UnknownHostException | RuntimeException x) {
                result.complete(p.failed(FailureReason.ERROR, String.valueOf(x.getMessage())));
            }
        });
        return result;
    }

    /** Sends the query; a truncated answer over UDP is asked again over TCP, in the time left. */
    private void send(Probe p, DnsQuery query, boolean tcp, CompletableFuture<MeasuredResult> result) {
        Duration left = p.target.timeout().minusNanos(System.nanoTime() - p.start);
        if (left.isNegative() || left.isZero()) {
            result.complete(p.failed(FailureReason.TIMEOUT, "no answer from " + p.server + " within "
                    + p.target.timeout().toMillis() + " ms"));
            return;
        }
        String transport = DnsQuery.TRANSPORT.value(p.target);
        InetAddress source;
        try {
            source = io.sonde.sockets.Marking.source(p.target, p.server.getAddress());
        } catch (java.net.SocketException e) {
            result.complete(p.failed(FailureReason.ERROR, e.getMessage()));
            return;
        }
        org.xbill.DNS.Resolver head;
        if (transport.equals("tls")) {
            String name = DnsQuery.SERVER_NAME.value(p.target);
            head = EncryptedResolver.tls(p.server, p.target, name != null ? name : p.target.host(), DnsQuery.CA_FILE.value(p.target));
        } else if (transport.equals("https")) {
            String host = p.target.host().indexOf(':') >= 0 && !p.target.host().startsWith("[") ? "[" + p.target.host() + "]"
                    : p.target.host();
            head = EncryptedResolver.https(java.net.URI.create("https://" + host + ":" + p.server.getPort()
                    + DnsQuery.DOH_PATH.value(p.target)), DnsQuery.CA_FILE.value(p.target));
        } else {
            SimpleResolver simple = new SimpleResolver(p.server);
            if (source != null) {
                simple.setLocalAddress(new InetSocketAddress(source, 0));
            }
            int tos = io.sonde.sockets.Marking.trafficClass(p.target);
            if (tos >= 0) {
                simple.setIoClientFactory(new MarkedIo(tos, marked));
            }
            simple.setTCP(tcp);
            // a truncated answer comes to us: we ask again over TCP and say so (the validator's own questions retry by themselves)
            simple.setIgnoreTruncation(!Dnssec.MODE.value(p.target).equals("validate"));
            head = simple;
        }
        head.setTimeout(left);
        org.xbill.DNS.Resolver resolver;
        try {
            resolver = Dnssec.resolver(p.target, head);
        } catch (IOException e) {
            result.complete(p.failed(FailureReason.ERROR, e.getMessage()));
            return;
        }
        resolver.setTimeout(left);
        resolver.sendAsync(Dnssec.prepare(p.target, query.message()), Runnable::run).whenComplete((response, e) -> {
            if (result.isDone()) {
                return; // cancelled by the scheduler
            }
            if (e != null) {
                Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                result.complete(failure(p, cause, tcp));
                return;
            }
            if (!tcp && response.getHeader().getFlag(Flags.TC)) {
                p.tcpFallback = true;
                send(p, query, true, result);
                return;
            }
            result.complete(answered(p, query, response));
        });
    }

    private MeasuredResult answered(Probe p, DnsQuery query, Message response) {
        Map<String, Object> data = p.data();
        data.put("query_succeeded", 1);
        data.put("rcode", response.getRcode());
        data.put("answer_rrs", response.getSection(Section.ANSWER).size());
        data.put("authority_rrs", response.getSection(Section.AUTHORITY).size());
        data.put("additional_rrs", response.getSection(Section.ADDITIONAL).size());
        for (Record r : response.getSection(Section.ANSWER)) {
            if (r instanceof SOARecord soa) {
                data.put("serial", soa.getSerial());
            }
        }
        Dnssec.Verdict dnssec = Dnssec.verdict(p.target, response);
        if (dnssec != null) {
            data.put("dnssec", dnssec.status());
            data.put("dnssec_status", Dnssec.number(dnssec));
        }
        String mismatch = dnssec != null && dnssec.status().equals("bogus") ? Dnssec.failure(p.target, dnssec) : query.mismatch(response);
        FailureReason reason = null;
        if (mismatch != null) {
            reason = FailureReason.STATUS;
        } else if (!query.answerMatches(response)) {
            reason = FailureReason.BODY_MISMATCH;
            mismatch = "no answer record matches '" + query.expectAnswer().pattern() + "' (" + Rcode.string(response.getRcode())
                    + ", " + response.getSection(Section.ANSWER).size() + " answer records)";
        } else if ((mismatch = query.answerProblem(response)) != null) {
            reason = FailureReason.BODY_MISMATCH;
        } else if ((mismatch = Dnssec.failure(p.target, dnssec)) != null) {
            reason = FailureReason.STATUS;
        }
        return new MeasuredResult(p.target, p.startedAt, Duration.ofNanos(System.nanoTime() - p.start), reason,
                mismatch, DnsResults.SCHEMA, data);
    }

    private MeasuredResult failure(Probe p, Throwable cause, boolean tcp) {
        String transport = DnsQuery.TRANSPORT.value(p.target);
        String via = (transport.equals("tls") || transport.equals("https") ? transport + " " : tcp ? "tcp " : "udp ") + p.server;
        if (cause instanceof javax.net.ssl.SSLException || cause instanceof java.security.GeneralSecurityException) {
            return p.failed(FailureReason.TLS, via + ": " + cause.getMessage());
        }
        if (cause instanceof TimeoutException || cause instanceof SocketTimeoutException) {
            return p.failed(FailureReason.TIMEOUT, "no answer from " + via + " within " + p.target.timeout().toMillis() + " ms");
        }
        if (cause instanceof PortUnreachableException) {
            return p.failed(FailureReason.REFUSED, via + " refused: ICMP port unreachable");
        }
        if (cause instanceof ConnectException) {
            return p.failed(FailureReason.REFUSED, via + " refused: " + cause.getMessage());
        }
        if (cause instanceof IOException && String.valueOf(cause.getMessage()).toLowerCase(java.util.Locale.ROOT).contains("timed out")) {
            return p.failed(FailureReason.TIMEOUT, "no answer from " + via + " within " + p.target.timeout().toMillis() + " ms");
        }
        return p.failed(FailureReason.ERROR, via + ": " + cause);
    }

    private static InetAddress lookup(String host, int ipVersion) {
        try {
            return io.sonde.sockets.Resolver.pick(host, InetAddress.getAllByName(host), ipVersion);
        } catch (UnknownHostException e) {
            throw new CompletionException(e);
        }
    }

    private static String source(Target target) {
        return target.source().isEmpty() ? "" : target.source() + ": ";
    }

    /** One probe in flight. */
    private final class Probe {
        final Target target;
        final Instant startedAt;
        final long start;
        long lookup;
        InetSocketAddress server;
        boolean tcpFallback;

        Probe(Target target, Instant startedAt, long start) {
            this.target = target;
            this.startedAt = startedAt;
            this.start = start;
        }

        Map<String, Object> data() {
            Map<String, Object> data = new java.util.LinkedHashMap<>();
            data.put("lookup_time_seconds", lookup / 1e9);
            data.put("tcp_fallback", tcpFallback ? 1 : 0);
            data.put("query_succeeded", 0);
            for (String section : new String[] {"answer_rrs", "authority_rrs", "additional_rrs"}) {
                data.put(section, 0); // no answer, no records
            }
            if (server != null) {
                data.put("address", server.getAddress());
            }
            return data;
        }

        MeasuredResult failed(FailureReason reason, String message) {
            return new MeasuredResult(target, startedAt, Duration.ofNanos(System.nanoTime() - start), reason, message,
                    DnsResults.SCHEMA, data());
        }
    }
}
