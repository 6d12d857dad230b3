package io.sonde.plugin.grpc.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.sonde.api.FailureReason;
import io.sonde.api.HostForm;
import io.sonde.api.MeasuredResult;
import io.sonde.api.ProbeKind;
import io.sonde.api.Prober;
import io.sonde.api.ResultSchema;
import io.sonde.api.Target;
import io.sonde.api.TargetOption;
import io.sonde.api.TargetSchema;
import io.sonde.sockets.Resolver;

/**
 * {@code kind=grpc}: the standard gRPC health check, {@code grpc.health.v1.Health/Check}, as
 * blackbox_exporter's grpc prober makes it: a new connection per probe (plain text or TLS, HTTP/2
 * by grpc-java), one Check call for {@code service} (empty: the server as a whole), and the answer.
 * SERVING is a success; NOT_SERVING, UNKNOWN and a service the server does not know fail with
 * reason {@code status}; a server without the health service, a refused connection, a chain that
 * does not verify and silence fail with their own reasons. It measures the phases (resolve,
 * connect until the channel is ready, check) and reports the status code, TLS protocol, cipher and
 * the chain's earliest expiry.
 *
 * <p>grpc-java's jars are embedded in this bundle; its network threads are this prober's own
 * (an event loop group of {@value #EVENT_LOOP_THREADS}), ended when the prober goes away. At most
 * {@value #MAX_IN_FLIGHT} checks run at once; beyond, a probe fails at once naming the limit.
 */
@Component(service = Prober.class)
@ProbeKind(type = "grpc", cost = 10)
public final class GrpcProber implements Prober {

    static final int EVENT_LOOP_THREADS = 2;
    static final int MAX_IN_FLIGHT = 256;
    /** The largest answer read: a health check's is a few bytes. */
    static final int MAX_MESSAGE_BYTES = 64 * 1024;
    /** How long a {@code ca_file}'s trust manager is used before the file is looked at again. */
    static final long TRUST_RECHECK_MS = 10_000;

    static final TargetOption SERVICE = TargetOption.text("service", "",
            "The service whose health is asked (grpc.health.v1 HealthCheckRequest.service); empty for the server as a whole");
    static final TargetOption TLS = TargetOption.bool("tls", false, "Connect with TLS (h2) instead of plain text (h2c)");
    static final TargetOption SERVER_NAME = TargetOption.text("server_name", "",
            "With tls: the name sent as SNI and checked against the certificate (default: the host)");
    static final TargetOption CA_FILE = TargetOption.file("ca_file",
            "With tls: PEM file of the CAs the chain must verify against (default: the JVM's trust store)");
    static final TargetOption INSECURE = TargetOption.bool("insecure_skip_verify", false,
            "With tls: accept a chain that does not verify or name the host (its expiry is still reported)");

    static final TargetSchema SCHEMA = TargetSchema.of(HostForm.NAME, true, SERVICE, TLS, SERVER_NAME, CA_FILE, INSECURE,
            io.sonde.sockets.Marking.SOURCE_ADDRESS, io.sonde.sockets.Marking.SOURCE_INTERFACE, io.sonde.sockets.Marking.DSCP);

    private record Trust(X509TrustManager manager, String stamp, long checkedAt) {
    }

    private final Map<String, Trust> trust = new ConcurrentHashMap<>();
    private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
    private final Resolver resolver = new Resolver("sonde-grpc-lookup", 4);
    /** Netty's threads and grpc-java's offload pool, made at the first probe: an agent with no grpc target pays nothing. */
    private record Threads(EventLoopGroup loop, ThreadPoolExecutor offload) {
    }

    private Threads threads;
    private boolean stopped;

    private synchronized Threads threads() {
        if (stopped) {
            throw new IllegalStateException("the grpc prober is stopping");
        }
        if (threads == null) {
            EventLoopGroup loop = new NioEventLoopGroup(EVENT_LOOP_THREADS, io.sonde.base.DaemonThreads.numbered("sonde-grpc"));
            ThreadPoolExecutor offload = new ThreadPoolExecutor(0, 16, 30, TimeUnit.SECONDS, new SynchronousQueue<>(),
                    io.sonde.base.DaemonThreads.numbered("sonde-grpc-offload"), new ThreadPoolExecutor.CallerRunsPolicy());
            threads = new Threads(loop, offload);
        }
        return threads;
    }

    @Deactivate
    synchronized void deactivate() {
        stopped = true;
        resolver.close();
        if (threads != null) {
            threads.loop().shutdownGracefully(0, 1, TimeUnit.SECONDS);
            threads.offload().shutdownNow();
        }
    }

    @Override
    public TargetSchema schema() {
        return SCHEMA;
    }

    @Override
    public ResultSchema resultSchema() {
        return GrpcResults.SCHEMA;
    }

    @Override
    public CompletionStage<MeasuredResult> probe(Target target) {
        CompletableFuture<MeasuredResult> result = new CompletableFuture<>();
        Instant startedAt = Instant.now();
        long t0 = System.nanoTime();
        boolean tls = TLS.booleanValue(target);
        X509TrustManager manager = null;
        if (tls) {
            try {
                manager = INSECURE.booleanValue(target) ? AcceptAll.INSTANCE : trust(CA_FILE.value(target));
            } catch (GeneralSecurityException | IOException e) {
                result.complete(MeasuredResult.failure(target, startedAt, Duration.ZERO, FailureReason.TLS,
                        "ca_file " + CA_FILE.value(target) + " cannot be used: " + e.getMessage(), GrpcResults.SCHEMA, Map.of()));
                return result;
            }
        }
        if (!inFlight.tryAcquire()) {
            result.complete(MeasuredResult.failure(target, startedAt, Duration.ZERO, FailureReason.ERROR,
                    MAX_IN_FLIGHT + " gRPC health checks are under way already: this one was not started", GrpcResults.SCHEMA, Map.of()));
            return result;
        }
        result.whenComplete((r, e) -> inFlight.release());
        X509TrustManager trustManager = manager;
        resolver.resolve(target.host(), target.ipVersion()).whenComplete((address, lookupError) -> {
            Map<String, Object> values = new LinkedHashMap<>();
            Map<String, Duration> phases = new LinkedHashMap<>();
            values.put("phases", phases);
            values.put("tls", tls);
            phases.put("resolve", Duration.ofNanos(System.nanoTime() - t0));
            if (lookupError != null) {
                result.complete(MeasuredResult.failure(target, startedAt, Duration.ofNanos(System.nanoTime() - t0), FailureReason.DNS,
                        "cannot resolve '" + target.host() + "': " + cause(lookupError).getMessage(), GrpcResults.SCHEMA, values));
                return;
            }
            values.put("address", address);
            values.put("port", target.port());
            try {
                check(target, startedAt, t0, address, trustManager, values, phases, result);
            } catch (SSLException | RuntimeException e) {
                result.complete(MeasuredResult.failure(target, startedAt, Duration.ofNanos(System.nanoTime() - t0), FailureReason.ERROR,
                        "cannot set up the call: " + e, GrpcResults.SCHEMA, values));
            }
        });
        return result;
    }

    @Override
    public java.util.List<io.sonde.api.TargetProblem> check(Target target) {
        return io.sonde.sockets.Marking.problems(target);
    }

    private void check(Target target, Instant startedAt, long t0, InetAddress address, X509TrustManager trustManager,
            Map<String, Object> values, Map<String, Duration> phases, CompletableFuture<MeasuredResult> result) throws SSLException {
        String host = target.host();
        String name = SERVER_NAME.value(target);
        String authority = (name == null || name.isBlank() ? (host.indexOf(':') >= 0 ? "[" + host + "]" : host) : name.strip())
                + ":" + target.port();
        Threads own = threads();
        InetAddress source;
        try {
            source = io.sonde.sockets.Marking.source(target, address);
        } catch (java.net.SocketException e) {
            result.complete(MeasuredResult.failure(target, startedAt, Duration.ofNanos(System.nanoTime() - t0), FailureReason.ERROR,
                    e.getMessage(), GrpcResults.SCHEMA, values));
            return;
        }
        NettyChannelBuilder builder = NettyChannelBuilder.forAddress(new InetSocketAddress(address, target.port()))
                .overrideAuthority(authority)
                .eventLoopGroup(own.loop())
                // a channel of the destination's family: on the JDK's dual-stack default a traffic class marks IPv6 only
                .channelFactory(() -> {
                    try {
                        return new NioSocketChannel(io.sonde.sockets.Marking.channel(address));
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                })
                .directExecutor()
                .offloadExecutor(own.offload())
                .proxyDetector(a -> null)
                .disableRetry()
                .disableServiceConfigLookUp()
                .maxInboundMessageSize(MAX_MESSAGE_BYTES)
                .maxInboundMetadataSize(MAX_MESSAGE_BYTES)
                .userAgent("sonde");
        int tos = io.sonde.sockets.Marking.trafficClass(target);
        if (tos >= 0) {
            builder.withOption(io.grpc.netty.shaded.io.netty.channel.ChannelOption.IP_TOS, tos);
        }
        if (source != null) {
            builder.localSocketPicker(new NettyChannelBuilder.LocalSocketPicker() {
                @Override
                public java.net.SocketAddress createSocketAddress(java.net.SocketAddress remote,
                        io.grpc.Attributes attrs) {
                    return new InetSocketAddress(source, 0);
                }
            });
        }
        if (trustManager == null) {
            builder.usePlaintext();
        } else {
            builder.sslContext(GrpcSslContexts.forClient().trustManager(trustManager).build());
        }
        ManagedChannel channel = builder.build();
        result.whenComplete((r, e) -> channel.shutdownNow()); // done, or cancelled by the scheduler's timeout
        HealthCheck.run(channel, SERVICE.value(target), target.timeout(), t0, (outcome) -> {
            if (outcome.readyNanos() > 0) {
                phases.put("connect", Duration.ofNanos(outcome.readyNanos() - outcome.connectFromNanos()));
                phases.put("check", Duration.ofNanos(outcome.doneNanos() - outcome.readyNanos()));
            }
            tlsValues(outcome.session(), values);
            Duration took = Duration.ofNanos(outcome.doneNanos() - t0);
            result.complete(judge(target, startedAt, took, outcome.status(), outcome.servingStatus(), values));
        });
    }

    /** The result of a call that ended with {@code status} and, when it was OK, the answer {@code serving}. */
    static MeasuredResult judge(Target target, Instant startedAt, Duration took, Status status, String serving,
            Map<String, Object> values) {
        values.put("status_code", status.getCode().value());
        String service = SERVICE.value(target);
        String what = service == null || service.isEmpty() ? "the server" : "service '" + service + "'";
        if (status.getCode() == Status.Code.NOT_FOUND) {
            serving = "SERVICE_UNKNOWN";
        }
        if (serving != null) {
            values.put("serving_status", serving);
            for (String s : GrpcResults.SERVING_STATUSES) {
                values.put("is_" + s.toLowerCase(java.util.Locale.ROOT), s.equals(serving) ? 1 : 0);
            }
            if (serving.equals("SERVING")) {
                return MeasuredResult.success(target, startedAt, took, GrpcResults.SCHEMA, values);
            }
            String m = serving.equals("SERVICE_UNKNOWN") ? "the server does not know " + what + " (" + describe(status) + ")"
                    : what + " is " + serving;
            return MeasuredResult.failure(target, startedAt, took, FailureReason.STATUS, m, GrpcResults.SCHEMA, values);
        }
        Throwable cause = status.getCause();
        FailureReason reason;
        String message;
        switch (status.getCode()) {
            case DEADLINE_EXCEEDED:
                reason = FailureReason.TIMEOUT;
                message = "no answer within " + target.timeout().toMillis() + " ms";
                break;
            case UNIMPLEMENTED:
                reason = FailureReason.ERROR;
                message = "the server does not implement grpc.health.v1.Health (" + describe(status) + ")";
                break;
            case UNAVAILABLE:
                if (has(cause, java.net.BindException.class)) {
                    reason = FailureReason.ERROR;
                    message = "the source address (source_address or source_interface) cannot be used: "
                            + deepest(cause).getMessage();
                } else if (has(cause, ConnectException.class)) {
                    reason = FailureReason.REFUSED;
                    message = "connection refused by " + values.get("address") + " port " + target.port();
                } else if (has(cause, NoRouteToHostException.class)) {
                    reason = FailureReason.UNREACHABLE;
                    message = "no route to " + values.get("address");
                } else if (has(cause, SSLException.class)) {
                    reason = FailureReason.TLS;
                    message = "TLS: " + deepest(cause).getMessage();
                } else {
                    reason = FailureReason.ERROR;
                    message = "unavailable: " + describe(status) + (cause == null ? "" : " (" + deepest(cause) + ")");
                }
                break;
            default:
                reason = has(cause, SSLException.class) ? FailureReason.TLS : FailureReason.ERROR;
                message = "gRPC status " + status.getCode() + ": " + describe(status);
        }
        return MeasuredResult.failure(target, startedAt, took, reason, message, GrpcResults.SCHEMA, values);
    }

    private static void tlsValues(SSLSession session, Map<String, Object> values) {
        if (session == null) {
            return;
        }
        values.put("protocol", session.getProtocol());
        values.put("cipher", session.getCipherSuite());
        try {
            Instant earliest = null;
            for (Certificate c : session.getPeerCertificates()) {
                if (c instanceof X509Certificate x) {
                    Instant at = x.getNotAfter().toInstant();
                    earliest = earliest == null || at.isBefore(earliest) ? at : earliest;
                }
            }
            if (earliest != null) {
                values.put("cert_expiry", earliest);
            }
        } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
            // no chain to report
        }
    }

    private static String describe(Status status) {
        String d = status.getDescription();
        Throwable c = status.getCause();
        return d != null ? d : c != null ? deepest(c).toString() : status.getCode().toString();
    }

    private static boolean has(Throwable t, Class<? extends Throwable> type) {
        for (int i = 0; t != null && i < 10; i++, t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    private static Throwable deepest(Throwable t) {
        for (int i = 0; t.getCause() != null && t.getCause() != t && i < 10; i++) {
            t = t.getCause();
        }
        return t;
    }

    private static Throwable cause(Throwable t) {
        return t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
    }

    /** The trust manager of a CA file (the JVM's for none), built again when the file changed. */
    private X509TrustManager trust(String caFile) throws GeneralSecurityException, IOException {
        String key = caFile == null ? "" : caFile.strip();
        Trust t = trust.get(key);
        long now = System.currentTimeMillis();
        if (t != null && (key.isEmpty() || now - t.checkedAt() < TRUST_RECHECK_MS)) {
            return t.manager();
        }
        String stamp = key.isEmpty() ? "" : Files.getLastModifiedTime(Path.of(key)).toMillis() + "/" + Files.size(Path.of(key));
        t = t != null && t.stamp().equals(stamp) ? new Trust(t.manager(), stamp, now)
                : new Trust(trustManager(key.isEmpty() ? null : Path.of(key)), stamp, now);
        trust.put(key, t);
        return t.manager();
    }

    /** @return the trust manager of the CAs in a PEM file, or the JVM's own for {@code null} */
    static X509TrustManager trustManager(Path pem) throws GeneralSecurityException, IOException {
        KeyStore store = null;
        if (pem != null) {
            store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int n = 0;
            try (InputStream in = Files.newInputStream(pem)) {
                for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    store.setCertificateEntry("ca" + n++, c);
                }
            }
            if (n == 0) {
                throw new GeneralSecurityException("no certificate in " + pem);
            }
        }
        TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        f.init(store);
        for (javax.net.ssl.TrustManager m : f.getTrustManagers()) {
            if (m instanceof X509TrustManager x) {
                return x;
            }
        }
        throw new GeneralSecurityException("no X.509 trust manager");
    }

    /** insecure_skip_verify: every chain, any name (an extended manager, so that the JDK adds no host check of its own). */
    static final class AcceptAll extends X509ExtendedTrustManager {
        static final AcceptAll INSTANCE = new AcceptAll();

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, java.net.Socket socket) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, java.net.Socket socket) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine engine) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine engine) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
