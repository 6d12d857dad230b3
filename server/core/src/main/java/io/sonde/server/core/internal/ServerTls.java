package io.sonde.server.core.internal;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import io.sonde.server.spi.Secrets;

/**
 * The server's TLS material: the operator's PEM certificate and key, or else a CA of the server's
 * own (made once, under {@code data/tls/}) and a server certificate it signs, renewed from that CA
 * when it nears its end. Either way the result is a PKCS#12 key store for the HTTPS listener.
 */
final class ServerTls {

    static final Duration CA_VALIDITY = Duration.ofDays(3650);
    static final Duration CERT_VALIDITY = Duration.ofDays(397);
    static final Duration RENEW_BEFORE = Duration.ofDays(30);

    /** The key store and what to tell the operator about it. */
    record Material(Path keyStore, String password, X509Certificate ca, X509Certificate leaf, boolean made) {

        /** @return SHA-256 of the CA certificate (or of the leaf, without CA), as {@code AB:CD:...} */
        String fingerprint() throws GeneralSecurityException {
            X509Certificate c = ca != null ? ca : leaf;
            return HexFormat.ofDelimiter(":").withUpperCase().formatHex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()));
        }
    }

    private ServerTls() {
    }

    /**
     * As {@link #prepare(Path, Path, Path, Set, Instant)}, but operator material that cannot be used
     * (missing, not PEM, a key that is not the certificate's) is reported to {@code problem} and the
     * server's own CA is used instead, so the server still listens and says why.
     */
    static Material prepareOrOwn(Path dir, Path certFile, Path keyFile, Set<String> names, Instant now,
            java.util.function.Consumer<String> problem) throws IOException, GeneralSecurityException {
        if (certFile != null) {
            try {
                return prepare(dir, certFile, keyFile, names, now);
            } catch (IOException | GeneralSecurityException | RuntimeException e) {
                problem.accept(certFile + " and " + keyFile + " cannot be used ("
                        + (e instanceof java.nio.file.NoSuchFileException ? "no such file: " : "") + e.getMessage() + ")");
            }
        }
        return prepare(dir, null, null, names, now);
    }

    /**
     * @param dir      {@code data/tls/}
     * @param certFile the operator's chain, or null
     * @param keyFile  the operator's key, or null
     * @param names    host names and addresses the made certificate carries
     */
    static Material prepare(Path dir, Path certFile, Path keyFile, Set<String> names, Instant now)
            throws IOException, GeneralSecurityException {
        Files.createDirectories(dir);
        String password = keyStorePassword(dir);
        Path p12 = dir.resolve("server.p12");
        if (certFile != null) {
            List<X509Certificate> chain = readCertificates(certFile);
            PrivateKey key = readKey(keyFile);
            checkPair(key, chain.get(0), keyFile);
            writeKeyStore(p12, password, key, chain);
            X509Certificate last = chain.get(chain.size() - 1);
            return new Material(p12, password, chain.size() > 1 ? last : null, chain.get(0), false);
        }
        Path caCert = dir.resolve("ca.pem");
        Path caKey = dir.resolve("ca.key");
        X509Certificate ca;
        PrivateKey caPrivate;
        if (Files.exists(caCert) && Files.exists(caKey)) {
            ca = readCertificates(caCert).get(0);
            caPrivate = readKey(caKey);
        } else {
            KeyPair kp = ecKeyPair();
            X500Name name = new X500Name("CN=Sonde server CA " + HexFormat.of().formatHex(randomSerial().toByteArray(), 0, 4)
                    + ",O=Sonde");
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, randomSerial(),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(CA_VALIDITY)), name, kp.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            b.addExtension(Extension.subjectKeyIdentifier, false, new JcaX509ExtensionUtils().createSubjectKeyIdentifier(kp.getPublic()));
            ca = sign(b, kp.getPrivate());
            caPrivate = kp.getPrivate();
            Secrets.writePrivate(caKey, pem(caPrivate));
            Files.write(caCert, pem(ca));
        }
        Path serverCert = dir.resolve("server.pem");
        Path serverKey = dir.resolve("server.key");
        X509Certificate leaf = null;
        if (Files.exists(serverCert) && Files.exists(serverKey) && Files.exists(p12)) {
            leaf = readCertificates(serverCert).get(0);
            boolean fresh = leaf.getNotAfter().toInstant().isAfter(now.plus(RENEW_BEFORE));
            if (fresh && coversNames(leaf, names) && signedBy(leaf, ca)) {
                return new Material(p12, password, ca, leaf, false);
            }
        }
        KeyPair kp = ecKeyPair();
        X500Name subject = new X500Name("CN=" + names.iterator().next() + ",O=Sonde");
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca, randomSerial(),
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(CERT_VALIDITY)), subject, kp.getPublic());
        List<GeneralName> sans = new ArrayList<>();
        for (String n : names) {
            sans.add(new GeneralName(isAddress(n) ? GeneralName.iPAddress : GeneralName.dNSName, n));
        }
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(sans.toArray(new GeneralName[0])));
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
        b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
        b.addExtension(Extension.authorityKeyIdentifier, false, new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(ca));
        leaf = sign(b, caPrivate);
        Secrets.writePrivate(serverKey, pem(kp.getPrivate()));
        Files.write(serverCert, pem(leaf));
        writeKeyStore(p12, password, kp.getPrivate(), List.of(leaf, ca));
        return new Material(p12, password, ca, leaf, true);
    }

    /** The host names and addresses the made certificate covers: loopback, this host, and what the operator adds. */
    static Set<String> names(String bind, String extra) {
        Set<String> names = new LinkedHashSet<>();
        names.add("localhost");
        try {
            String host = Files.readAllLines(Path.of("/proc/sys/kernel/hostname")).get(0).strip();
            if (!host.isEmpty()) {
                names.add(host);
            }
        } catch (IOException | RuntimeException e) {
            // no host name: loopback only
        }
        names.add("127.0.0.1");
        names.add("::1");
        if (!bind.isBlank() && !bind.equals("0.0.0.0") && !bind.equals("::")) {
            names.add(bind.strip());
        }
        for (String n : extra.split(",")) {
            if (!n.isBlank()) {
                names.add(n.strip());
            }
        }
        return names;
    }

    /** Refuses a key that is not the certificate's: Jetty would only fail at the first handshake. */
    private static void checkPair(PrivateKey key, X509Certificate leaf, Path keyFile) throws GeneralSecurityException {
        String alg = "EC".equals(key.getAlgorithm()) ? "SHA256withECDSA" : "SHA256with" + key.getAlgorithm();
        byte[] probe = "sonde".getBytes(StandardCharsets.US_ASCII);
        java.security.Signature sign = java.security.Signature.getInstance(alg);
        sign.initSign(key);
        sign.update(probe);
        byte[] signature = sign.sign();
        java.security.Signature verify = java.security.Signature.getInstance(alg);
        verify.initVerify(leaf.getPublicKey());
        verify.update(probe);
        if (!verify.verify(signature)) {
            throw new GeneralSecurityException(keyFile + " is not the key of the first certificate");
        }
    }

    static boolean isAddress(String name) {
        return name.matches("[0-9.]+") || name.contains(":");
    }

    private static boolean coversNames(X509Certificate leaf, Set<String> names) throws GeneralSecurityException {
        Set<String> have = new LinkedHashSet<>();
        if (leaf.getSubjectAlternativeNames() != null) {
            for (List<?> san : leaf.getSubjectAlternativeNames()) {
                String v = String.valueOf(san.get(1));
                have.add(isAddress(v) ? normalizeAddress(v) : v);
            }
        }
        for (String n : names) {
            if (!have.contains(isAddress(n) ? normalizeAddress(n) : n)) {
                return false;
            }
        }
        return true;
    }

    private static String normalizeAddress(String a) {
        try {
            return InetAddress.getByName(a).getHostAddress(); // a literal: nothing is looked up
        } catch (IOException e) {
            return a;
        }
    }

    private static boolean signedBy(X509Certificate leaf, X509Certificate ca) {
        try {
            leaf.verify(ca.getPublicKey());
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static String keyStorePassword(Path dir) throws IOException {
        Path file = dir.resolve("keystore.password");
        if (Files.exists(file)) {
            return Files.readString(file, StandardCharsets.US_ASCII).strip();
        }
        String password = Secrets.token("");
        Secrets.writePrivate(file, password.getBytes(StandardCharsets.US_ASCII));
        return password;
    }

    private static void writeKeyStore(Path p12, String password, PrivateKey key, List<X509Certificate> chain)
            throws IOException, GeneralSecurityException {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("server", key, password.toCharArray(), chain.toArray(new X509Certificate[0]));
        io.sonde.base.AtomicFiles.write(p12, out -> {
            try {
                ks.store(out, password.toCharArray());
            } catch (GeneralSecurityException e) {
                throw new IOException("cannot write the key store " + p12 + ": " + e.getMessage(), e);
            }
        }, io.sonde.base.AtomicFiles.OWNER_ONLY);
    }

    private static KeyPair ecKeyPair() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(256);
        return g.generateKeyPair();
    }

    private static BigInteger randomSerial() {
        return new BigInteger(64, new SecureRandom()).abs().add(BigInteger.ONE);
    }

    private static X509Certificate sign(JcaX509v3CertificateBuilder b, PrivateKey key) throws GeneralSecurityException {
        try {
            ContentSigner signer = new JcaContentSignerBuilder("SHA256withECDSA").build(key);
            return new JcaX509CertificateConverter().getCertificate(b.build(signer));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static byte[] pem(Object o) throws IOException {
        StringWriter s = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(s)) {
            // keys as PKCS#8 (BEGIN PRIVATE KEY), which every tool and our own reader take
            w.writeObject(o instanceof PrivateKey k ? new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(k, null) : o);
        }
        return s.toString().getBytes(StandardCharsets.US_ASCII);
    }

    static List<X509Certificate> readCertificates(Path file) throws IOException, GeneralSecurityException {
        List<X509Certificate> out = new ArrayList<>();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser p = new PEMParser(r)) {
            Object o;
            while ((o = p.readObject()) != null) {
                if (o instanceof X509CertificateHolder h) {
                    out.add(new JcaX509CertificateConverter().getCertificate(h));
                }
            }
        }
        if (out.isEmpty()) {
            throw new GeneralSecurityException(file + " holds no PEM certificate");
        }
        return out;
    }

    static PrivateKey readKey(Path file) throws IOException, GeneralSecurityException {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser p = new PEMParser(r)) {
            Object o = p.readObject();
            JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
            if (o instanceof PEMKeyPair kp) {
                return conv.getKeyPair(kp).getPrivate();
            }
            if (o instanceof PrivateKeyInfo info) {
                return conv.getPrivateKey(info);
            }
            throw new GeneralSecurityException(file + " holds no unencrypted PEM private key");
        }
    }
}
