package io.sonde.plugin.grpc.testing;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import javax.net.ssl.KeyManagerFactory;

import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.protobuf.services.HealthStatusManager;

/**
 * A real gRPC server on loopback (grpc-java with Netty), with the standard health service of
 * grpc-services or without it, in plain text or TLS with a key the JDK's keytool made; it counts
 * the calls that reached it.
 */
public final class TestGrpcServer implements AutoCloseable {

    public final HealthStatusManager health = new HealthStatusManager();
    /** Health calls that reached the service: the ground truth of a probe's success. */
    public final AtomicInteger calls = new AtomicInteger();
    /** The address each call came from, in order. */
    public final java.util.Queue<java.net.SocketAddress> peers = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final Server server;

    /**
     * @param withHealth whether the server offers grpc.health.v1.Health
     * @param keystore   a PKCS#12 store (password changeit) for TLS, or null for plain text
     */
    public TestGrpcServer(boolean withHealth, Path keystore) throws Exception {
        NettyServerBuilder b = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0));
        ServerInterceptor count = new ServerInterceptor() {
            @Override
            public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
                calls.incrementAndGet();
                peers.add(call.getAttributes().get(io.grpc.Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
                return next.startCall(call, headers);
            }
        };
        if (withHealth) {
            b.addService(ServerInterceptors.intercept(health.getHealthService(), count));
        }
        if (keystore != null) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(keystore)) {
                ks.load(in, "changeit".toCharArray());
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, "changeit".toCharArray());
            b.sslContext(GrpcSslContexts.configure(SslContextBuilder.forServer(kmf)).build());
        }
        server = b.build().start();
    }

    public int port() {
        return server.getPort();
    }

    public void set(String service, ServingStatus status) {
        health.setStatus(service, status);
    }

    @Override
    public void close() throws InterruptedException {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
    }

    /**
     * Makes a PKCS#12 store with a self-signed EC key for 127.0.0.1 and grpc.sonde.test with the
     * JDK's keytool, and its certificate as PEM beside it ({@code <name>.pem}).
     */
    public static Path keystore(Path dir, String name, int days) throws Exception {
        Path ks = dir.resolve(name + ".p12");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        run(List.of(keytool, "-genkeypair", "-alias", "s", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=sonde-test",
                "-ext", "SAN=ip:127.0.0.1,dns:grpc.sonde.test", "-validity", String.valueOf(days), "-keystore", ks.toString(),
                "-storetype", "PKCS12", "-storepass", "changeit"));
        run(List.of(keytool, "-exportcert", "-rfc", "-alias", "s", "-keystore", ks.toString(), "-storepass", "changeit", "-file",
                dir.resolve(name + ".pem").toString()));
        return ks;
    }

    private static void run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(command.get(1) + " failed: " + out);
        }
    }
}
