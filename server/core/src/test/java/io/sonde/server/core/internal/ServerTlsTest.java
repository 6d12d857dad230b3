package io.sonde.server.core.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;

import org.junit.Test;

public class ServerTlsTest {

    @Test
    public void makesACaOnceAndACertificateItSigns() throws Exception {
        Path dir = Files.createTempDirectory("tls");
        Set<String> names = Set.of("localhost", "127.0.0.1", "::1");
        Instant now = Instant.now();
        ServerTls.Material first = ServerTls.prepare(dir, null, null, names, now);
        assertTrue(first.made());
        first.leaf().verify(first.ca().getPublicKey());
        assertEquals(-1, first.leaf().getBasicConstraints());
        assertTrue(first.ca().getBasicConstraints() >= 0);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("ca.key"))));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("server.p12"))));
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(first.keyStore())) {
            ks.load(in, first.password().toCharArray());
        }
        assertEquals(2, ks.getCertificateChain("server").length);

        ServerTls.Material again = ServerTls.prepare(dir, null, null, names, now.plusSeconds(60));
        assertFalse("kept at the next start", again.made());
        assertEquals(first.fingerprint(), again.fingerprint());
        assertEquals(first.leaf(), again.leaf());

        ServerTls.Material renamed = ServerTls.prepare(dir, null, null, Set.of("localhost", "sonde.test"), now);
        assertTrue("a name more: a new certificate from the same CA", renamed.made());
        assertEquals(first.fingerprint(), renamed.fingerprint());

        ServerTls.Material late = ServerTls.prepare(dir, null, null, Set.of("localhost", "sonde.test"),
                renamed.leaf().getNotAfter().toInstant().minus(Duration.ofDays(10)));
        assertTrue("renewed before its end", late.made());
        assertNotEquals(renamed.leaf(), late.leaf());
        assertEquals(first.fingerprint(), late.fingerprint());
    }

    @Test
    public void takesTheOperatorsPemChainAndKey() throws Exception {
        Path made = Files.createTempDirectory("tls-made");
        ServerTls.Material m = ServerTls.prepare(made, null, null, Set.of("localhost"), Instant.now());
        Path chain = made.resolve("chain.pem");
        Files.writeString(chain, Files.readString(made.resolve("server.pem")) + Files.readString(made.resolve("ca.pem")));
        Path dir = Files.createTempDirectory("tls-own");
        ServerTls.Material own = ServerTls.prepare(dir, chain, made.resolve("server.key"), Set.of("localhost"), Instant.now());
        assertFalse(own.made());
        X509Certificate leaf = own.leaf();
        assertEquals(m.leaf(), leaf);
        assertEquals(m.fingerprint(), own.fingerprint());
        assertFalse("no CA of its own", Files.exists(dir.resolve("ca.key")));
    }

    @Test
    public void operatorMaterialThatCannotBeUsedIsReportedAndTheOwnCaServes() throws Exception {
        Path made = Files.createTempDirectory("tls-made2");
        ServerTls.Material m = ServerTls.prepare(made, null, null, Set.of("localhost"), Instant.now());
        Path other = Files.createTempDirectory("tls-other");
        ServerTls.prepare(other, null, null, Set.of("localhost"), Instant.now());
        java.util.List<String> problems = new java.util.ArrayList<>();

        Path dir = Files.createTempDirectory("tls-bad");
        ServerTls.Material missing = ServerTls.prepareOrOwn(dir, dir.resolve("nope.pem"), dir.resolve("nope.key"),
                Set.of("localhost"), Instant.now(), problems::add);
        assertTrue(missing.made());
        assertTrue(problems.toString(), problems.get(0).contains("nope.pem") && problems.get(0).contains("no such file"));

        Path junk = dir.resolve("junk.pem");
        Files.writeString(junk, "not PEM at all");
        ServerTls.prepareOrOwn(dir, junk, made.resolve("server.key"), Set.of("localhost"), Instant.now(), problems::add);
        assertTrue(problems.toString(), problems.get(1).contains("holds no PEM certificate"));

        ServerTls.prepareOrOwn(dir, made.resolve("server.pem"), other.resolve("server.key"), Set.of("localhost"), Instant.now(),
                problems::add);
        assertTrue(problems.toString(), problems.get(2).contains("is not the key of the first certificate"));

        ServerTls.Material good = ServerTls.prepareOrOwn(Files.createTempDirectory("tls-good"), made.resolve("server.pem"),
                made.resolve("server.key"), Set.of("localhost"), Instant.now(), problems::add);
        assertEquals(3, problems.size());
        assertEquals(m.leaf(), good.leaf());
    }
}
