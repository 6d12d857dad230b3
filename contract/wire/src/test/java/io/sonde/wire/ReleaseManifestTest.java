package io.sonde.wire;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class ReleaseManifestTest {

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    /** A small bundle jar: a manifest with these headers (none when null) and one class-sized entry. */
    public static Path bundle(Path file, String symbolicName, String version) throws Exception {
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        if (symbolicName != null) {
            m.getMainAttributes().putValue("Bundle-ManifestVersion", "2");
            m.getMainAttributes().putValue("Bundle-SymbolicName", symbolicName + ";singleton:=true");
            m.getMainAttributes().putValue("Bundle-Version", version);
        }
        try (OutputStream out = Files.newOutputStream(file); JarOutputStream jar = new JarOutputStream(out, m)) {
            jar.putNextEntry(new JarEntry("io/sonde/test/Nothing.txt"));
            jar.write(("nothing " + version).getBytes());
            jar.closeEntry();
        }
        return file;
    }

    static KeyPair pair() throws Exception {
        return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    }

    static void refused(Check c, String why) throws Exception {
        try {
            c.run();
            fail("taken; expected: " + why);
        } catch (WireException e) {
            assertTrue(e.getMessage(), e.getMessage().contains(why));
        }
    }

    interface Check {
        void run() throws Exception;
    }

    @Test
    public void aSignedManifestVerifiesAndMatchesItsJarOnly() throws Exception {
        KeyPair owner = pair();
        Path jar = bundle(tmp.getRoot().toPath().resolve("p.jar"), "io.sonde.plugin.tcp", "0.2.0");
        ReleaseManifest m = ReleaseManifest.sign(jar, owner.getPrivate(), owner.getPublic());
        assertEquals("io.sonde.plugin.tcp", m.symbolicName());
        assertEquals("0.2.0", m.version());
        assertEquals(Files.size(jar), m.size());
        assertEquals(owner.getPublic(), m.verify(List.of(pair().getPublic(), owner.getPublic())));
        m.checkJar(jar);
        // through JSON and back, as it travels
        ReleaseManifest back = WireCodec.read(new java.io.ByteArrayInputStream(WireCodec.json(m)), false, ReleaseManifest.MAX_BYTES,
                ReleaseManifest.class);
        assertEquals(m, back);
        back.verify(List.of(owner.getPublic()));

        refused(() -> m.verify(List.of(pair().getPublic())), "which is not a trusted release key");
        KeyPair other = pair();
        ReleaseManifest resigned = ReleaseManifest.sign(jar, other.getPrivate(), other.getPublic());
        refused(() -> new ReleaseManifest(1, m.symbolicName(), m.version(), m.sha256(), m.size(), m.keyId(), resigned.signature())
                .verify(List.of(owner.getPublic())), "does not verify");
        refused(() -> new ReleaseManifest(1, m.symbolicName(), "9.9.9", m.sha256(), m.size(), m.keyId(), m.signature())
                .verify(List.of(owner.getPublic())), "the manifest was changed after it was signed");
        refused(() -> new ReleaseManifest(1, m.symbolicName(), m.version(), m.sha256(), m.size(), m.keyId(), null)
                .verify(List.of(owner.getPublic())), "the manifest is not signed");
        refused(() -> new ReleaseManifest(2, m.symbolicName(), m.version(), m.sha256(), m.size(), m.keyId(), m.signature())
                .verify(List.of(owner.getPublic())), "schema 2 is newer");

        // other bytes than signed: cut, changed, another bundle, another version
        Path cut = tmp.getRoot().toPath().resolve("cut.jar");
        Files.write(cut, java.util.Arrays.copyOf(Files.readAllBytes(jar), (int) m.size() / 2));
        refused(() -> m.checkJar(cut), "(cut short)");
        Path changed = tmp.getRoot().toPath().resolve("changed.jar");
        byte[] bytes = Files.readAllBytes(jar);
        bytes[bytes.length / 2] ^= 1;
        Files.write(changed, bytes);
        refused(() -> m.checkJar(changed), "other bytes than those signed");
        Path renamed = bundle(tmp.getRoot().toPath().resolve("r.jar"), "io.sonde.plugin.evil", "0.2.0");
        ReleaseManifest forRenamed = ReleaseManifest.sign(renamed, owner.getPrivate(), owner.getPublic());
        refused(() -> new ReleaseManifest(1, "io.sonde.plugin.tcp", "0.2.0", forRenamed.sha256(), forRenamed.size(), m.keyId(), null)
                .checkJar(renamed), "the jar is bundle io.sonde.plugin.evil, the manifest says io.sonde.plugin.tcp");
    }

    @Test
    public void whatIsNotABundleIsNotSigned() throws Exception {
        KeyPair owner = pair();
        Path plain = bundle(tmp.getRoot().toPath().resolve("plain.jar"), null, null);
        refused(() -> ReleaseManifest.sign(plain, owner.getPrivate(), owner.getPublic()), "not a bundle: the jar has no Bundle-SymbolicName");
        Path text = tmp.getRoot().toPath().resolve("text.jar");
        Files.writeString(text, "not a zip at all");
        refused(() -> ReleaseManifest.bundleIdentity(text), "not a bundle");
    }

    @Test
    public void publicKeysAreReadFromPemOrBase64() throws Exception {
        KeyPair owner = pair();
        String b64 = java.util.Base64.getEncoder().encodeToString(owner.getPublic().getEncoded());
        assertEquals(owner.getPublic(), ReleaseManifest.publicKey(b64));
        assertEquals(owner.getPublic(), ReleaseManifest.publicKey("-----BEGIN PUBLIC KEY-----\n" + b64 + "\n-----END PUBLIC KEY-----\n"));
        try {
            ReleaseManifest.publicKey("bm90IGEga2V5");
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith("not an Ed25519 public key"));
        }
        assertEquals(16, ReleaseManifest.keyId(owner.getPublic()).length());
    }
}
