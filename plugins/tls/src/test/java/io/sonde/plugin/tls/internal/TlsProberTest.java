package io.sonde.plugin.tls.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import io.sonde.api.FailureReason;
import io.sonde.api.MeasuredResult;
import io.sonde.api.ResultSchema;
import io.sonde.api.Target;
import io.sonde.api.TargetProblem;

/** Against real TLS servers on 127.0.0.1, with keys and certificates made by the JDK's keytool. */
public class TlsProberTest {

    private static Path dir;
    private static Path valid;
    private static Path expired;
    private static String ca;
    private static final TlsProber PROBER = new TlsProber();

    @BeforeClass
    public static void keys() throws Exception {
        dir = Files.createTempDirectory("sonde-tls-test");
        valid = TestTlsServer.keystore(dir, "valid", null, 30);
        expired = TestTlsServer.keystore(dir, "expired", "-10d", 2);
        ca = dir.resolve("valid.pem").toString();
    }

    @AfterClass
    public static void clean() throws Exception {
        PROBER.deactivate();
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(dir);
    }

    private static Target target(int port, String... options) {
        Map<String, String> o = new HashMap<>();
        for (int i = 0; i < options.length; i += 2) {
            o.put(options[i], options[i + 1]);
        }
        return new Target("t", "tls", "127.0.0.1", port, Duration.ofSeconds(10), Duration.ofSeconds(3), Set.of(), o, "test");
    }

    private static MeasuredResult probe(Target t) throws Exception {
        assertEquals(List.<TargetProblem>of(), TlsProber.SCHEMA.problems("tls", t.options()));
        return PROBER.probe(t).toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    /**
     * The server's side of a handshake may end a moment after the client's (TLS 1.3 sends the
     * client's Finished last): its count is awaited, at most 10 s, never more than expected.
     */
    private static void awaitHandshakes(TestTlsServer server, int n) throws InterruptedException {
        for (int i = 0; i < 1000 && server.handshakes.get() < n; i++) {
            Thread.sleep(10);
        }
        assertEquals(n, server.handshakes.get());
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Duration> phases(MeasuredResult r) {
        return (Map<String, Duration>) r.values().get("phases");
    }

    @Test
    public void aVerifiedHandshakeSaysItsProtocolCipherChainAndPhases() throws Exception {
        try (TestTlsServer server = new TestTlsServer(valid, TestTlsServer.Mode.TLS)) {
            MeasuredResult r = probe(target(server.port(), "ca_file", ca));
            assertNull(r.errorMessage(), r.failureReason());
            Map<String, Object> v = r.values();
            assertEquals("TLSv1.3", v.get("protocol"));
            assertTrue(String.valueOf(v.get("cipher")), String.valueOf(v.get("cipher")).startsWith("TLS_"));
            assertEquals("TLS 1.3", v.get("protocol_go"));
            assertEquals(true, v.get("verified"));
            assertEquals(false, v.get("ocsp_stapled")); // the JDK's server staples nothing without a responder
            assertEquals("CN=sonde-test", v.get("leaf_subject"));
            assertEquals("CN=sonde-test", v.get("leaf_issuer"));
            assertEquals(1, v.get("chain_certificates"));
            assertEquals(InetAddress.getByName("127.0.0.1"), v.get("address"));
            assertEquals(server.port(), v.get("port"));
            Instant expiry = (Instant) v.get("cert_expiry");
            assertTrue(expiry.toString(), Math.abs(Duration.between(Instant.now().plus(Duration.ofDays(30)), expiry).toHours()) <= 25);
            assertEquals(expiry, v.get("verified_chain_expiry"));
            assertEquals(Set.of("connect", "handshake"), phases(r).keySet());
            assertTrue(phases(r).get("handshake").toNanos() > 0);
            assertTrue(r.responseTime().compareTo(phases(r).get("handshake")) >= 0);
            assertEquals(TlsResults.SCHEMA, r.schema());
            awaitHandshakes(server, 1);
        }
    }

    /** The handshake goes from the source asked for (the server sees it); a source not this host's sends nothing. */
    @Test
    public void theSourceAddressAndMarkAreTaken() throws Exception {
        try (TestTlsServer server = new TestTlsServer(valid, TestTlsServer.Mode.TLS)) {
            MeasuredResult r = probe(target(server.port(), "ca_file", ca, "source_address", "127.0.0.3", "dscp", "EF"));
            assertNull(r.errorMessage(), r.failureReason());
            assertEquals(List.of(InetAddress.getByName("127.0.0.3")), new java.util.ArrayList<>(server.peers));
            MeasuredResult lo = probe(target(server.port(), "ca_file", ca, "source_interface", "lo"));
            assertNull(lo.errorMessage(), lo.failureReason());
            MeasuredResult foreign = probe(target(server.port(), "ca_file", ca, "source_address", "198.18.255.1"));
            assertEquals(FailureReason.ERROR, foreign.failureReason());
            assertTrue(foreign.errorMessage(), foreign.errorMessage().startsWith(
                    "the source address (source_address or source_interface) cannot be used: "));
            MeasuredResult v6 = probe(target(server.port(), "ca_file", ca, "source_address", "::1"));
            assertEquals(FailureReason.ERROR, v6.failureReason());
            assertEquals("source_address ::1 is not of the family of 127.0.0.1", v6.errorMessage());
            assertEquals(2, server.peers.size());
        }
        List<TargetProblem> dscp = PROBER.check(target(443, "dscp", "XX"));
        assertEquals(dscp.toString(), List.of("dscp"), dscp.stream().map(TargetProblem::key).toList());
        assertEquals("'XX' is neither 0-63 nor a DSCP name (EF, AF11-AF43, CS0-CS7, LE, VA)", dscp.get(0).reason());
        assertEquals("source_address", PROBER.check(target(443, "source_address", "not-an-address")).get(0).key());
    }

    @Test
    public void aChainTheTrustStoreDoesNotKnowFailsYetSaysWhatItIs() throws Exception {
        try (TestTlsServer server = new TestTlsServer(valid, TestTlsServer.Mode.TLS)) {
            MeasuredResult r = probe(target(server.port()));
            assertEquals(FailureReason.TLS, r.failureReason());
            assertTrue(r.errorMessage(), r.errorMessage().startsWith("the chain does not verify: "));
            assertEquals("CN=sonde-test", r.values().get("leaf_subject"));
            assertNotNull(r.values().get("cert_expiry"));
            assertEquals(TlsResults.GO_ZERO_TIME, r.values().get("verified_chain_expiry"));
            MeasuredResult skipped = probe(target(server.port(), "insecure_skip_verify", "true"));
            assertNull(skipped.errorMessage(), skipped.failureReason());
            assertEquals(false, skipped.values().get("verified"));
            assertEquals("TLSv1.3", skipped.values().get("protocol"));
        }
    }

    @Test
    public void aNameTheCertificateDoesNotCarryFails() throws Exception {
        try (TestTlsServer server = new TestTlsServer(valid, TestTlsServer.Mode.TLS)) {
            MeasuredResult named = probe(target(server.port(), "ca_file", ca, "server_name", "tls.sonde.test"));
            assertNull(named.errorMessage(), named.failureReason());
            MeasuredResult other = probe(target(server.port(), "ca_file", ca, "server_name", "other.sonde.test"));
            assertEquals(FailureReason.TLS, other.failureReason());
            assertTrue(other.errorMessage(), other.errorMessage().contains("other.sonde.test"));
        }
    }

    @Test
    public void anExpiredCertificateFailsAndSaysWhenItExpired() throws Exception {
        try (TestTlsServer server = new TestTlsServer(expired, TestTlsServer.Mode.TLS)) {
            MeasuredResult r = probe(target(server.port(), "ca_file", dir.resolve("expired.pem").toString()));
            assertEquals(FailureReason.TLS, r.failureReason());
            Instant expiry = (Instant) r.values().get("cert_expiry");
            assertTrue(expiry + " is in the past", expiry.isBefore(Instant.now().minus(Duration.ofDays(7))));
        }
    }

    @Test
    public void everyStartTlsDialogueThenTheHandshake() throws Exception {
        for (TestTlsServer.Mode mode : List.of(TestTlsServer.Mode.SMTP, TestTlsServer.Mode.IMAP, TestTlsServer.Mode.POP3,
                TestTlsServer.Mode.FTP, TestTlsServer.Mode.XMPP)) {
            try (TestTlsServer server = new TestTlsServer(valid, mode)) {
                String protocol = mode.name().toLowerCase(java.util.Locale.ROOT);
                MeasuredResult r = probe(target(server.port(), "ca_file", ca, "starttls", protocol));
                assertNull(protocol + ": " + r.errorMessage(), r.failureReason());
                assertEquals(protocol, List.of("connect", "starttls", "handshake"), List.copyOf(phases(r).keySet()));
                assertEquals(protocol, true, r.values().get("verified"));
                awaitHandshakes(server, 1);
            }
        }
    }

    @Test
    public void aServerThatDoesNotOfferStartTlsIsNamed() throws Exception {
        try (TestTlsServer server = new TestTlsServer(valid, TestTlsServer.Mode.SMTP_WITHOUT_STARTTLS)) {
            MeasuredResult r = probe(target(server.port(), "ca_file", ca, "starttls", "smtp"));
            assertEquals(FailureReason.ERROR, r.failureReason());
            assertTrue(r.errorMessage(), r.errorMessage().startsWith("smtp: the server does not offer STARTTLS"));
            assertTrue(r.errorMessage(), r.errorMessage().contains("8BITMIME"));
            assertFalse(phases(r).containsKey("handshake"));
        }
    }

    @Test
    public void aClosedPortIsRefusedAndASilentServerTimesOut() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        MeasuredResult refused = probe(target(closed, "ca_file", ca));
        assertEquals(refused.errorMessage(), FailureReason.REFUSED, refused.failureReason());
        try (TestTlsServer server = new TestTlsServer(valid, TestTlsServer.Mode.SILENT)) {
            Target t = new Target("t", "tls", "127.0.0.1", server.port(), Duration.ofSeconds(10), Duration.ofMillis(700), Set.of(),
                    Map.of(), "test");
            MeasuredResult r = PROBER.probe(t).toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertEquals(r.errorMessage(), FailureReason.TIMEOUT, r.failureReason());
            assertTrue(r.errorMessage(), r.errorMessage().contains("700 ms"));
            assertTrue(phases(r).containsKey("connect"));
        }
    }

    @Test
    public void aBadCaFileIsNamed() throws Exception {
        Path notPem = dir.resolve("not.pem");
        Files.writeString(notPem, "not a certificate\n");
        MeasuredResult r = probe(target(1, "ca_file", notPem.toString()));
        assertEquals(FailureReason.TLS, r.failureReason());
        assertTrue(r.errorMessage(), r.errorMessage().startsWith("ca_file " + notPem + " cannot be used"));
    }

    @Test
    public void theSchemaDescribesEveryValueAResultHolds() throws Exception {
        try (TestTlsServer server = new TestTlsServer(valid, TestTlsServer.Mode.TLS)) {
            MeasuredResult r = probe(target(server.port(), "ca_file", ca));
            for (String name : r.values().keySet()) {
                assertTrue(name + " is declared", r.schema().value(name).isPresent());
            }
            assertEquals("cert_expiry", r.schema().withRole(ResultSchema.Role.CERT_EXPIRY).orElseThrow().name());
            assertEquals("phases", r.schema().withRole(ResultSchema.Role.PHASES).orElseThrow().name());
        }
    }
}
