package io.sonde.uplink.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

/**
 * The agent's trust in its server, against real HTTPS servers on loopback whose certificates
 * keytool made: the pinned CA is trusted, and a refusal says why (another CA, expired, wrong name).
 */
public class ServerTrustTest {

    private static Path dir;
    private static final List<HttpsServer> SERVERS = new ArrayList<>();
    private static String caSha256;

    @BeforeClass
    public static void setUp() throws Exception {
        dir = Files.createTempDirectory("sonde-trust-test-");
        keytool("-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=Test CA",
                "-ext", "bc:c", "-validity", "30", "-keystore", "ca.p12");
        keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", "ca.p12", "-file", "ca.pem");
        try (InputStream in = Files.newInputStream(dir.resolve("ca.pem"))) {
            X509Certificate ca = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
            caSha256 = ServerTrust.format(MessageDigest.getInstance("SHA-256").digest(ca.getEncoded()));
        }
        issue("good", "san=ip:127.0.0.1", null, "20");
        issue("expired", "san=ip:127.0.0.1", "-10d", "2");
        issue("othername", "san=dns:elsewhere.test", null, "20");
    }

    @AfterClass
    public static void tearDown() throws IOException {
        SERVERS.forEach(s -> s.stop(0));
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private static void issue(String name, String san, String startDate, String validity) throws Exception {
        String store = name + ".p12";
        keytool("-genkeypair", "-alias", name, "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + name,
                "-validity", "30", "-keystore", store);
        keytool("-certreq", "-alias", name, "-keystore", store, "-file", name + ".csr");
        List<String> gencert = new ArrayList<>(List.of("-gencert", "-alias", "ca", "-keystore", "ca.p12", "-infile",
                name + ".csr", "-outfile", name + ".crt", "-rfc", "-ext", san, "-validity", validity));
        if (startDate != null) {
            gencert.addAll(List.of("-startdate", startDate));
        }
        keytool(gencert.toArray(String[]::new));
        keytool("-importcert", "-noprompt", "-alias", "ca", "-keystore", store, "-file", "ca.pem");
        keytool("-importcert", "-alias", name, "-keystore", store, "-file", name + ".crt");
    }

    private static void keytool(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        command.addAll(List.of(args));
        command.addAll(List.of("-storepass", "changeit", "-keypass", "changeit", "-storetype", "PKCS12"));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("keytool " + List.of(args) + " failed: " + out);
        }
    }

    private static int serve(String name) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(dir.resolve(name + ".p12"))) {
            ks.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "changeit".toCharArray());
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        HttpsServer s = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 10);
        s.setHttpsConfigurator(new HttpsConfigurator(ctx));
        s.createContext("/", e -> {
            e.sendResponseHeaders(204, -1);
            e.close();
        });
        s.start();
        SERVERS.add(s);
        return s.getAddress().getPort();
    }

    private static int get(SSLContext trust, int port) throws Exception {
        HttpClient c = HttpClient.newBuilder().sslContext(trust).build();
        return c.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/")).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    private static String refusal(SSLContext trust, int port) throws Exception {
        try {
            get(trust, port);
            fail("trusted");
            return null;
        } catch (IOException e) {
            Throwable t = e;
            StringBuilder all = new StringBuilder();
            while (t != null) {
                all.append(t.getMessage()).append(" | ");
                t = t.getCause();
            }
            return all.toString();
        }
    }

    @Test
    public void thePinnedCaIsTrustedInEitherSpelling() throws Exception {
        int port = serve("good");
        assertEquals(204, get(ServerTrust.context(caSha256, null), port));
        assertEquals(204, get(ServerTrust.context(caSha256.replace(":", "").toLowerCase(), null), port));
        assertEquals(204, get(ServerTrust.context("", dir.resolve("ca.pem")), port));
    }

    @Test
    public void refusalsSayWhy() throws Exception {
        String other = "00".repeat(32);
        String mismatch = refusal(ServerTrust.context(other, null), serve("good"));
        assertTrue(mismatch, mismatch.contains("server CA fingerprint mismatch: pinned 00:00:"));
        assertTrue(mismatch, mismatch.contains("the server's chain ends in " + caSha256));
        String expired = refusal(ServerTrust.context(caSha256, null), serve("expired"));
        assertTrue(expired, expired.contains("validity check failed") || expired.contains("expired"));
        String name = refusal(ServerTrust.context(caSha256, null), serve("othername"));
        assertTrue(name, name.contains("127.0.0.1"));
    }

    @Test
    public void badSettingsNameTheirKey() throws Exception {
        try {
            ServerTrust.context("abc", null);
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith("key 'server_ca_sha256': 'abc' is not a SHA-256 fingerprint"));
        }
        try {
            ServerTrust.context("", null);
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("set 'server_ca_sha256'"));
        }
        Path junk = dir.resolve("junk.pem");
        Files.writeString(junk, "not a certificate");
        try {
            ServerTrust.context("", junk);
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith("key 'server_ca_file': "));
        }
    }
}
