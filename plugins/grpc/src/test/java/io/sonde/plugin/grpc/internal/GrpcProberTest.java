package io.sonde.plugin.grpc.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.sonde.api.FailureReason;
import io.sonde.api.MeasuredResult;
import io.sonde.api.ResultSchema;
import io.sonde.api.Target;
import io.sonde.plugin.grpc.testing.TestGrpcServer;

/** The prober against real gRPC servers on loopback: the answers, the failures, TLS and its checks. */
public class GrpcProberTest {

    private static Path dir;
    private static Path keystore;
    private static Path ca;
    private static X509Certificate cert;
    private static final GrpcProber PROBER = new GrpcProber();

    @BeforeClass
    public static void keys() throws Exception {
        dir = Files.createTempDirectory("sonde-grpc-test");
        keystore = TestGrpcServer.keystore(dir, "server", 30);
        ca = dir.resolve("server.pem");
        try (var in = Files.newInputStream(ca)) {
            cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    @AfterClass
    public static void cleanUp() throws Exception {
        PROBER.deactivate();
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(dir);
    }

    private static Target target(int port, long timeoutMs, String... options) {
        Map<String, String> o = new HashMap<>();
        for (int i = 0; i < options.length; i += 2) {
            o.put(options[i], options[i + 1]);
        }
        return new Target("t", "grpc", "127.0.0.1", port, Duration.ofSeconds(10), Duration.ofMillis(timeoutMs), Set.of(), o, "test");
    }

    private static MeasuredResult probe(Target t) throws Exception {
        return PROBER.probe(t).toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Duration> phases(MeasuredResult r) {
        return (Map<String, Duration>) r.values().get("phases");
    }

    /** The call goes from the source asked for (the server sees it); a source not this host's fails naming it. */
    @Test
    public void theSourceAddressAndMarkAreTaken() throws Exception {
        try (TestGrpcServer server = new TestGrpcServer(true, null)) {
            server.set("", io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
            MeasuredResult r = probe(target(server.port(), 3000, "source_address", "127.0.0.4", "dscp", "AF41"));
            assertNull(r.errorMessage(), r.failureReason());
            assertEquals(1, server.peers.size());
            assertEquals(java.net.InetAddress.getByName("127.0.0.4"),
                    ((java.net.InetSocketAddress) server.peers.peek()).getAddress());
            MeasuredResult foreign = probe(target(server.port(), 3000, "source_address", "198.18.255.1"));
            assertEquals(FailureReason.ERROR, foreign.failureReason());
            assertTrue(foreign.errorMessage(), foreign.errorMessage().startsWith(
                    "the source address (source_address or source_interface) cannot be used: "));
            MeasuredResult nic = probe(target(server.port(), 3000, "source_interface", "no-such-nic0"));
            assertEquals("source_interface no-such-nic0: no such interface on this host", nic.errorMessage());
            assertEquals(1, server.calls.get());
        }
        assertEquals("dscp", PROBER.check(target(1, 1000, "dscp", "64")).get(0).key());
    }

    @Test
    public void aServingServerIsASuccessWithItsPhasesAndEveryCallReachesIt() throws Exception {
        try (TestGrpcServer server = new TestGrpcServer(true, null)) {
            server.set("", ServingStatus.SERVING);
            for (int i = 0; i < 5; i++) {
                MeasuredResult r = probe(target(server.port(), 3000));
                assertNull(r.errorMessage(), r.failureReason());
                assertEquals("SERVING", r.values().get("serving_status"));
                assertEquals(0, r.values().get("status_code"));
                assertEquals(1, r.values().get("is_serving"));
                assertEquals(0, r.values().get("is_not_serving"));
                assertEquals(false, r.values().get("tls"));
                assertEquals(InetAddress.getByName("127.0.0.1"), r.values().get("address"));
                assertEquals(server.port(), r.values().get("port"));
                assertTrue(phases(r).toString(), phases(r).get("connect").toNanos() > 0 && phases(r).get("check").toNanos() > 0);
                assertFalse(r.responseTime().minus(phases(r).get("connect")).isNegative());
            }
            assertEquals("the server answered every probe, each its own call", 5, server.calls.get());
        }
    }

    @Test
    public void aServiceNotServingOrUnknownFailsWithTheAnswer() throws Exception {
        try (TestGrpcServer server = new TestGrpcServer(true, null)) {
            server.set("orders", ServingStatus.NOT_SERVING);
            MeasuredResult r = probe(target(server.port(), 3000, "service", "orders"));
            assertEquals(FailureReason.STATUS, r.failureReason());
            assertEquals("service 'orders' is NOT_SERVING", r.errorMessage());
            assertEquals("NOT_SERVING", r.values().get("serving_status"));
            assertEquals(1, r.values().get("is_not_serving"));
            assertEquals(0, r.values().get("is_serving"));

            MeasuredResult unknown = probe(target(server.port(), 3000, "service", "billing"));
            assertEquals(FailureReason.STATUS, unknown.failureReason());
            assertTrue(unknown.errorMessage(), unknown.errorMessage().startsWith("the server does not know service 'billing'"));
            assertEquals("SERVICE_UNKNOWN", unknown.values().get("serving_status"));
            assertEquals("NOT_FOUND", 5, unknown.values().get("status_code"));
            assertEquals(2, server.calls.get());
        }
    }

    @Test
    public void aServerWithoutTheHealthServiceSaysSo() throws Exception {
        try (TestGrpcServer server = new TestGrpcServer(false, null)) {
            MeasuredResult r = probe(target(server.port(), 3000));
            assertEquals(FailureReason.ERROR, r.failureReason());
            assertTrue(r.errorMessage(), r.errorMessage().startsWith("the server does not implement grpc.health.v1.Health"));
            assertEquals("UNIMPLEMENTED", 12, r.values().get("status_code"));
            assertNull(r.values().get("serving_status"));
        }
    }

    @Test
    public void aClosedPortIsRefusedAndSilenceTimesOut() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            closed = s.getLocalPort();
        }
        MeasuredResult refused = probe(target(closed, 3000));
        assertEquals(refused.errorMessage(), FailureReason.REFUSED, refused.failureReason());
        assertEquals("connection refused by /127.0.0.1 port " + closed, refused.errorMessage());
        assertEquals(14, refused.values().get("status_code"));

        // a TCP listener that never speaks HTTP/2
        try (ServerSocket silent = new ServerSocket(0, 10, InetAddress.getByName("127.0.0.1"))) {
            List<Socket> held = new ArrayList<>();
            Thread accept = new Thread(() -> {
                try {
                    held.add(silent.accept());
                } catch (java.io.IOException e) {
                    // closed at the end
                }
            });
            accept.start();
            MeasuredResult r = probe(target(silent.getLocalPort(), 600));
            assertEquals(r.errorMessage(), FailureReason.TIMEOUT, r.failureReason());
            assertEquals("no answer within 600 ms", r.errorMessage());
            assertEquals(4, r.values().get("status_code"));
            silent.close();
            accept.join(5000);
            for (Socket s : held) {
                s.close();
            }
        }
    }

    @Test
    public void overTlsTheChainIsCheckedAndReported() throws Exception {
        try (TestGrpcServer server = new TestGrpcServer(true, keystore)) {
            server.set("", ServingStatus.SERVING);
            MeasuredResult r = probe(target(server.port(), 3000, "tls", "true", "ca_file", ca.toString()));
            assertNull(r.errorMessage(), r.failureReason());
            assertEquals(true, r.values().get("tls"));
            assertEquals("TLSv1.3", r.values().get("protocol"));
            assertTrue(String.valueOf(r.values().get("cipher")), String.valueOf(r.values().get("cipher")).startsWith("TLS_"));
            assertEquals(cert.getNotAfter().toInstant(), r.values().get("cert_expiry"));

            MeasuredResult byName = probe(target(server.port(), 3000, "tls", "true", "ca_file", ca.toString(),
                    "server_name", "grpc.sonde.test"));
            assertNull(byName.errorMessage(), byName.failureReason());

            MeasuredResult jvmTrust = probe(target(server.port(), 3000, "tls", "true"));
            assertEquals(jvmTrust.errorMessage(), FailureReason.TLS, jvmTrust.failureReason());
            assertTrue(jvmTrust.errorMessage(), jvmTrust.errorMessage().startsWith("TLS: "));

            MeasuredResult wrongName = probe(target(server.port(), 3000, "tls", "true", "ca_file", ca.toString(),
                    "server_name", "other.sonde.test"));
            assertEquals(wrongName.errorMessage(), FailureReason.TLS, wrongName.failureReason());
            assertTrue(wrongName.errorMessage(), wrongName.errorMessage().contains("other.sonde.test"));

            MeasuredResult insecure = probe(target(server.port(), 3000, "tls", "true", "insecure_skip_verify", "true",
                    "server_name", "other.sonde.test"));
            assertNull(insecure.errorMessage(), insecure.failureReason());
            assertEquals(cert.getNotAfter().toInstant(), insecure.values().get("cert_expiry"));

            MeasuredResult plain = probe(target(server.port(), 3000));
            assertEquals("plain text to a TLS server", FailureReason.ERROR, plain.failureReason());
            assertEquals("successes are the calls that reached the service", 3, server.calls.get());
        }
    }

    @Test
    public void aMissingCaFileIsNamed() throws Exception {
        MeasuredResult r = probe(target(1, 3000, "tls", "true", "ca_file", dir.resolve("none.pem").toString()));
        assertEquals(FailureReason.TLS, r.failureReason());
        assertTrue(r.errorMessage(), r.errorMessage().startsWith("ca_file " + dir.resolve("none.pem") + " cannot be used: "));
    }

    @Test
    public void theSchemaDescribesEveryValueAResultHoldsAndTheOptionsAreChecked() throws Exception {
        try (TestGrpcServer server = new TestGrpcServer(true, keystore)) {
            server.set("", ServingStatus.SERVING);
            MeasuredResult r = probe(target(server.port(), 3000, "tls", "true", "ca_file", ca.toString()));
            for (String name : r.values().keySet()) {
                assertTrue(name + " is declared", r.schema().value(name).isPresent());
            }
            assertEquals("cert_expiry", r.schema().withRole(ResultSchema.Role.CERT_EXPIRY).orElseThrow().name());
            assertEquals("phases", r.schema().withRole(ResultSchema.Role.PHASES).orElseThrow().name());
            assertEquals("status_code", r.schema().withRole(ResultSchema.Role.STATUS_CODE).orElseThrow().name());
        }
        assertEquals("[key 'tls': 'yes' is neither true nor false]", GrpcProber.SCHEMA.problems("grpc", Map.of("tls", "yes")).toString());
        assertTrue(GrpcProber.SCHEMA.problems("grpc", Map.of("servise", "x")).get(0).reason().contains("did you mean 'service'?"));
        assertTrue(Instant.now().isBefore(cert.getNotAfter().toInstant()));
    }
}
