package io.sonde.wire.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;

import io.sonde.wire.ReleaseManifest;
import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

/**
 * {@code bin/sonde-release keygen <dir>} makes a release key pair ({@code release.key}, 0600, and
 * {@code release.pub}); {@code bin/sonde-release sign --key <release.key> <jar>} writes
 * {@code <jar>.manifest.json}, the jar's signed release manifest. Plain Java, no framework.
 * Exit code 0 when done, 1 with the reason, 2 for a wrong command line.
 */
public final class ReleaseCommand {

    static final String USAGE = "usage: sonde-release keygen <dir>\n"
            + "       sonde-release sign --key <release.key> [--pub <release.pub>] <bundle.jar>";

    private ReleaseCommand() {
    }

    public static void main(String[] args) {
        try {
            String said = run(args);
            if (said == null) {
                System.err.println(USAGE);
                System.exit(2);
            }
            System.out.println(said);
        } catch (IOException | GeneralSecurityException | WireException | IllegalArgumentException e) {
            System.err.println("sonde-release " + (args.length > 0 ? args[0] : "") + ": " + e.getMessage());
            System.exit(1);
        }
    }

    /** @return what was done, or null for a wrong command line */
    static String run(String[] args) throws IOException, GeneralSecurityException, WireException {
        if (args.length == 2 && args[0].equals("keygen")) {
            return keygen(Path.of(args[1]));
        }
        if (args.length >= 4 && args[0].equals("sign")) {
            Path key = null;
            Path pub = null;
            Path jar = null;
            for (int i = 1; i < args.length; i++) {
                if (args[i].equals("--key") && i + 1 < args.length) {
                    key = Path.of(args[++i]);
                } else if (args[i].equals("--pub") && i + 1 < args.length) {
                    pub = Path.of(args[++i]);
                } else if (!args[i].startsWith("--") && jar == null) {
                    jar = Path.of(args[i]);
                } else {
                    return null;
                }
            }
            if (key == null || jar == null) {
                return null;
            }
            return sign(key, pub, jar);
        }
        return null;
    }

    static String keygen(Path dir) throws IOException, GeneralSecurityException {
        Files.createDirectories(dir);
        Path key = dir.resolve("release.key");
        Path pub = dir.resolve("release.pub");
        if (Files.exists(key) || Files.exists(pub)) {
            throw new FileAlreadyExistsException(key + " or " + pub + " exists: a release key is never overwritten");
        }
        KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        Path tmp = dir.resolve(".release.key.tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
        Files.move(tmp, key, StandardCopyOption.ATOMIC_MOVE);
        Files.writeString(pub, pem("PUBLIC KEY", pair.getPublic().getEncoded()));
        String b64 = Base64.getEncoder().encodeToString(pair.getPublic().getEncoded());
        return "Release key " + ReleaseManifest.keyId(pair.getPublic()) + ": private " + key + " (0600, keep it off the servers),"
                + " public " + pub + "\nTrust it on the server, in etc/io.sonde.server.repository.cfg:\n  trusted_keys = " + b64
                + "\nand pin it on each agent, in etc/io.sonde.updater.cfg:\n  public_key = " + b64;
    }

    /**
     * Signs {@code jar} with the private key of {@code keyFile} (its public key from {@code pubFile}, or when
     * that is null from the {@code .pub} file beside the key), writing
     * {@code <jar>.manifest.json}; for bin/sonde-release and sonde-cli, which have this jar on their class path.
     *
     * @return what was done
     */
    public static String sign(Path keyFile, Path pubFile, Path jar) throws IOException, GeneralSecurityException, WireException {
        if (pubFile == null) {
            String name = keyFile.getFileName().toString();
            pubFile = keyFile.resolveSibling((name.endsWith(".key") ? name.substring(0, name.length() - 4) : name) + ".pub");
        }
        PrivateKey key;
        try {
            key = KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(
                    Base64.getDecoder().decode(Files.readString(keyFile).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", ""))));
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            throw new IllegalArgumentException(keyFile + " is not an Ed25519 private key (" + e.getMessage() + ")");
        }
        PublicKey pub;
        try {
            pub = ReleaseManifest.publicKey(Files.readString(pubFile));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(pubFile + ": " + e.getMessage());
        }
        ReleaseManifest m = ReleaseManifest.sign(jar, key, pub);
        // the pair belongs together: a manifest the public key does not verify is never written
        m.verify(java.util.List.of(pub));
        Path out = jar.resolveSibling(jar.getFileName() + ".manifest.json");
        Files.write(out, WireCodec.json(m));
        return "Signed " + m.symbolicName() + " " + m.version() + " (" + m.size() + " bytes, SHA-256 " + m.sha256() + ") with key "
                + m.keyId() + ": " + out;
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
