package io.sonde.wire;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import java.util.HexFormat;
import java.util.jar.Manifest;

/**
 * What a release owner signs for one bundle: its symbolic name, version, SHA-256 and size, and an
 * Ed25519 signature over those by the owner's key. The server's bundle repository takes only
 * bundles whose manifest a trusted key signed and whose bytes match it; an agent installs only
 * what the key it pins itself signed. One rule for both, here.
 *
 * @param schema       {@link WireCodec#SCHEMA}
 * @param symbolicName the bundle's {@code Bundle-SymbolicName}
 * @param version      its {@code Bundle-Version}
 * @param sha256       the SHA-256 of the jar, lower-case hex
 * @param size         the jar's length in bytes
 * @param keyId        {@link #keyId(PublicKey)} of the key that signed
 * @param signature    the Ed25519 signature over {@link #signedBytes()}, base64
 * @since 1.1
 */
public record ReleaseManifest(int schema, String symbolicName, String version, String sha256, long size, String keyId,
        String signature) {

    /** Most bytes of a manifest: it is a few hundred. */
    public static final int MAX_BYTES = 16 * 1024;

    private static final String ALGORITHM = "Ed25519";

    /** @return the bytes the signature is over: a fixed prefix, then each signed field on a line of its own */
    public byte[] signedBytes() {
        return ("sonde-release-manifest-v1\n" + symbolicName + "\n" + version + "\n" + sha256 + "\n" + size + "\n")
                .getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Signs a jar.
     *
     * @param jar the bundle
     * @param key the release owner's private key (Ed25519)
     * @param pub its public key
     * @return the manifest, signed
     * @throws WireException when the jar is not a bundle
     */
    public static ReleaseManifest sign(Path jar, PrivateKey key, PublicKey pub) throws IOException, GeneralSecurityException,
            WireException {
        String[] id = bundleIdentity(jar);
        ReleaseManifest unsigned = new ReleaseManifest(WireCodec.SCHEMA, id[0], id[1], sha256(jar), Files.size(jar), keyId(pub), null);
        Signature s = Signature.getInstance(ALGORITHM);
        s.initSign(key);
        s.update(unsigned.signedBytes());
        return new ReleaseManifest(unsigned.schema(), id[0], id[1], unsigned.sha256(), unsigned.size(), unsigned.keyId(),
                Base64.getEncoder().encodeToString(s.sign()));
    }

    /**
     * Checks that the manifest is whole and signed by one of {@code trusted}.
     *
     * @return the key that signed it
     * @throws WireException saying what is wrong: a field missing, an untrusted key, a signature that does not verify
     */
    public PublicKey verify(Collection<PublicKey> trusted) throws WireException {
        WireCodec.checkSchema(schema, "release manifest");
        if (symbolicName == null || symbolicName.isBlank() || version == null || version.isBlank()) {
            throw invalid("symbolic_name and version are needed");
        }
        if (sha256 == null || !sha256.matches("[0-9a-f]{64}")) {
            throw invalid("sha256: not 64 lower-case hex digits");
        }
        if (size < 1) {
            throw invalid("size: " + size + " is not a jar's length");
        }
        if (signature == null || signature.isBlank()) {
            throw invalid("signature: missing; the manifest is not signed (bin/sonde-release sign)");
        }
        byte[] sig;
        try {
            sig = Base64.getDecoder().decode(signature.strip());
        } catch (IllegalArgumentException e) {
            throw invalid("signature: not base64");
        }
        PublicKey by = null;
        for (PublicKey k : trusted) {
            if (keyId(k).equals(keyId)) {
                by = k;
            }
        }
        if (by == null) {
            throw invalid("signed by key " + keyId + ", which is not a trusted release key");
        }
        try {
            Signature s = Signature.getInstance(ALGORITHM);
            s.initVerify(by);
            s.update(signedBytes());
            if (!s.verify(sig)) {
                throw invalid("signature: does not verify with release key " + keyId + " (the manifest was changed after it was signed,"
                        + " or signed by another key)");
            }
        } catch (GeneralSecurityException e) {
            throw invalid("signature: does not verify with release key " + keyId + " (" + e.getMessage() + ")");
        }
        return by;
    }

    /**
     * Checks a jar against the manifest: its length, its SHA-256, and that it is the bundle the
     * manifest names.
     *
     * @throws WireException saying what differs
     */
    public void checkJar(Path jar) throws IOException, WireException {
        long length = Files.size(jar);
        if (length != size) {
            throw invalid("the jar has " + length + " bytes, the manifest says " + size + (length < size ? " (cut short)" : ""));
        }
        String actual = sha256(jar);
        if (!actual.equals(sha256)) {
            throw invalid("the jar's SHA-256 is " + actual + ", the manifest says " + sha256 + " (other bytes than those signed)");
        }
        String[] id = bundleIdentity(jar);
        if (!id[0].equals(symbolicName)) {
            throw invalid("the jar is bundle " + id[0] + ", the manifest says " + symbolicName);
        }
        if (!id[1].equals(version)) {
            throw invalid("the jar is version " + id[1] + " of " + id[0] + ", the manifest says " + version);
        }
    }

    /**
     * @return the bundle's symbolic name (without its directives) and version, from its manifest
     * @throws WireException when the jar has none (not a jar, or not a bundle)
     */
    public static String[] bundleIdentity(Path jar) throws IOException, WireException {
        Manifest m = null;
        // the manifest is inflated within a bound: a crafted jar whose manifest inflates to gigabytes stops here
        try (InputStream in = Files.newInputStream(jar); java.util.zip.ZipInputStream z = new java.util.zip.ZipInputStream(in)) {
            for (int i = 0; i < 3 && m == null; i++) { // where jars keep it: first, or after META-INF/
                java.util.zip.ZipEntry e = z.getNextEntry();
                if (e == null) {
                    break;
                }
                if (e.getName().equalsIgnoreCase(java.util.jar.JarFile.MANIFEST_NAME)) {
                    byte[] bytes = z.readNBytes(MAX_JAR_MANIFEST + 1);
                    if (bytes.length > MAX_JAR_MANIFEST) {
                        throw invalid("the jar's " + java.util.jar.JarFile.MANIFEST_NAME + " inflates to more than " + MAX_JAR_MANIFEST
                                + " bytes");
                    }
                    m = new Manifest(new java.io.ByteArrayInputStream(bytes));
                }
            }
        } catch (IOException | SecurityException | IllegalArgumentException e) {
            throw invalid("not a jar: " + e.getMessage());
        }
        String name = m == null ? null : m.getMainAttributes().getValue("Bundle-SymbolicName");
        if (name == null || name.isBlank()) {
            throw invalid("not a bundle: the jar has no Bundle-SymbolicName");
        }
        String version = m.getMainAttributes().getValue("Bundle-Version");
        return new String[] {name.split(";")[0].strip(), version == null ? "0.0.0" : version.strip()};
    }

    /** The most a bundle's META-INF/MANIFEST.MF may inflate to. @since 1.3 */
    public static final int MAX_JAR_MANIFEST = 1 << 20;

    /** @return the SHA-256 of a file, lower-case hex */
    public static String sha256(Path file) throws IOException {
        MessageDigest d = digest();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[65536];
            for (int n; (n = in.read(buf)) > 0;) {
                d.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(d.digest());
    }

    /** @return a key's id: the first 16 hex digits of the SHA-256 of its encoded form */
    public static String keyId(PublicKey key) {
        return HexFormat.of().formatHex(digest().digest(key.getEncoded()), 0, 8);
    }

    /**
     * @param text a public key as {@code bin/sonde-release keygen} writes it: PEM, or its base64 alone
     * @return the Ed25519 key
     * @throws IllegalArgumentException saying why it is not one
     */
    public static PublicKey publicKey(String text) {
        String b64 = text.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        try {
            return KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(b64)));
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            throw new IllegalArgumentException("not an Ed25519 public key (" + e.getMessage() + ")");
        }
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    private static WireException invalid(String message) {
        return new WireException(WireException.Problem.INVALID, message);
    }
}
