package io.sonde.server.remotewrite.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;

import org.junit.After;
import org.junit.Test;

/** The receiver's credentials and CA as the settings name them: each missing or wrong file said with its key and path. */
public class RemoteWriteSettingsTest {

    static final String WHERE = "etc/io.sonde.server.remotewrite.cfg";
    private final Path home;

    public RemoteWriteSettingsTest() throws Exception {
        home = Files.createTempDirectory("remotewrite-settings");
    }

    @After
    public void clean() throws Exception {
        try (var s = Files.walk(home)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** @return the settings with these keys (as the file spells them) and the others at their defaults */
    static RemoteWriteConfig config(Map<String, String> keys) {
        return (RemoteWriteConfig) Proxy.newProxyInstance(RemoteWriteConfig.class.getClassLoader(), new Class<?>[] {RemoteWriteConfig.class},
                (proxy, m, args) -> {
                    String key = m.getName().replace("__", "_");
                    return keys.containsKey(key) ? keys.get(key) : m.getDefaultValue();
                });
    }

    private static String refused(ThrowingRunnable r) throws Exception {
        try {
            r.run();
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        throw new AssertionError("accepted");
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    public void aBearerTokenOrBasicCredentialsComeFromTheirFilesAndAMissingOrEmptyFileIsNamed() throws Exception {
        assertEquals("no credentials: no Authorization", null, RemoteWrite.authorization(home, config(Map.of()), WHERE));
        Path token = home.resolve("etc/remote-write.token");
        Files.createDirectories(token.getParent());
        assertEquals(WHERE + ": bearer_token_file: " + token + " does not exist",
                refused(() -> RemoteWrite.authorization(home, config(Map.of("bearer_token_file", "etc/remote-write.token")), WHERE)));
        Files.writeString(token, " \n");
        assertEquals(WHERE + ": bearer_token_file: " + token + " is empty",
                refused(() -> RemoteWrite.authorization(home, config(Map.of("bearer_token_file", "etc/remote-write.token")), WHERE)));
        Files.writeString(token, "s3cr3t-token\n");
        assertEquals("Bearer s3cr3t-token", RemoteWrite.authorization(home, config(Map.of("bearer_token_file", "etc/remote-write.token")), WHERE));

        Path password = home.resolve("etc/remote-write.password");
        assertEquals(WHERE + ": basic_auth_password_file: " + password + " does not exist", refused(() -> RemoteWrite.authorization(home,
                config(Map.of("basic_auth_user", "sonde", "basic_auth_password_file", "etc/remote-write.password")), WHERE)));
        Files.writeString(password, "pa:ss wörd\n");
        String basic = RemoteWrite.authorization(home, config(Map.of("basic_auth_user", "sonde", "basic_auth_password_file",
                "etc/remote-write.password")), WHERE);
        assertEquals("sonde:pa:ss wörd", new String(Base64.getDecoder().decode(basic.substring("Basic ".length())), StandardCharsets.UTF_8));
        assertTrue(basic.startsWith("Basic "));
    }

    @Test
    public void theCaFileMustHoldPemCertificates() throws Exception {
        Path missing = home.resolve("etc/none.pem");
        assertEquals(WHERE + ": ca_file: " + missing + " does not exist", refused(() -> RemoteWrite.trusting(missing, WHERE)));
        Path empty = home.resolve("empty.pem");
        Files.writeString(empty, "");
        assertEquals(WHERE + ": ca_file: " + empty + " holds no PEM certificate", refused(() -> RemoteWrite.trusting(empty, WHERE)));
        Path garbage = home.resolve("garbage.pem");
        Files.writeString(garbage, "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n");
        String said = refused(() -> RemoteWrite.trusting(garbage, WHERE));
        assertTrue(said, said.startsWith(WHERE + ": ca_file: " + garbage + " is not PEM certificates: "));
        // a real certificate, made by the JDK's keytool
        Path store = home.resolve("ca.p12");
        Path pem = home.resolve("ca.pem");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        run(keytool, "-genkeypair", "-alias", "ca", "-keyalg", "EC", "-dname", "CN=remote-write test CA", "-validity", "2",
                "-keystore", store.toString(), "-storepass", "changeit", "-storetype", "PKCS12");
        run(keytool, "-exportcert", "-rfc", "-alias", "ca", "-keystore", store.toString(), "-storepass", "changeit", "-file", pem.toString());
        SSLContext ctx = RemoteWrite.trusting(pem, WHERE);
        assertEquals("TLS", ctx.getProtocol());
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue("keytool did not end", p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(out, 0, p.exitValue());
    }
}
