package io.sonde.plugin.http.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The TLS settings of a target: the JVM's trust store by default (on Debian, the system's CA
 * certificates), the PEM certificates of {@code ca_file} instead, or no verification at all with
 * {@code insecure_skip_verify}; and the client certificate of {@code cert_file} and
 * {@code key_file} for a server that asks for one. Contexts are built once per setting, a CA file's again when it has
 * changed (looked at every {@link #RECHECK_NANOS}).
 */
final class Trust {

    private record Key(String caFile, boolean insecure, String certFile, String keyFile) {
    }

    private record Built(SSLSocketFactory factory, Object stamp, long checkedAt) {
    }

    /** How often a {@code ca_file} is looked at for changes: not at every probe. */
    static final long RECHECK_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final Map<Key, Built> contexts = new ConcurrentHashMap<>();

    /**
     * @param certFile the client certificate's PEM file, or null for none (then {@code keyFile} is null too)
     * @throws GeneralSecurityException or IOException when a file cannot be used; the message names it and says why
     */
    SSLSocketFactory factory(String caFile, boolean insecure, String certFile, String keyFile)
            throws GeneralSecurityException, IOException {
        Key key = new Key(insecure ? null : caFile, insecure, certFile, keyFile);
        Built b = contexts.get(key);
        long now = System.nanoTime();
        if (b != null && (key.caFile() == null && certFile == null || now - b.checkedAt() < RECHECK_NANOS)) {
            return b.factory();
        }
        Object stamp = stamp(key.caFile()) + "|" + stamp(certFile) + "|" + stamp(keyFile);
        b = b != null && b.stamp().equals(stamp) ? new Built(b.factory(), stamp, now)
                : new Built(build(key).getSocketFactory(), stamp, now);
        contexts.put(key, b);
        return b.factory();
    }

    private static String stamp(String file) throws IOException {
        if (file == null) {
            return "";
        }
        Path p = Path.of(file);
        return Files.getLastModifiedTime(p).toMillis() + "/" + Files.size(p);
    }

    /**
     * @return what makes {@code certFile} and {@code keyFile} unusable as a client certificate, starting
     *         with the key's name ({@code cert_file ...}, {@code key_file ...}), or null
     */
    static String clientKeyProblem(String certFile, String keyFile) {
        try {
            clientKeys(certFile, keyFile);
            return null;
        } catch (GeneralSecurityException | IOException e) {
            return e.getMessage();
        }
    }

    /** The key manager of a client certificate: the chain of {@code certFile} and the PKCS #8 key of {@code keyFile}. */
    private static KeyManager[] clientKeys(String certFile, String keyFile) throws GeneralSecurityException, IOException {
        List<Certificate> chain = new ArrayList<>();
        try (InputStream in = Files.newInputStream(Path.of(certFile))) {
            chain.addAll(CertificateFactory.getInstance("X.509").generateCertificates(in));
        } catch (CertificateException e) {
            throw new GeneralSecurityException("cert_file " + certFile + " holds no PEM certificate (" + e.getMessage() + ")");
        }
        if (chain.isEmpty()) {
            throw new GeneralSecurityException("cert_file " + certFile + " holds no PEM certificate");
        }
        String pem = Files.readString(Path.of(keyFile), StandardCharsets.US_ASCII);
        if (pem.contains("ENCRYPTED PRIVATE KEY")) {
            throw new GeneralSecurityException("key_file " + keyFile + " is encrypted; a probe cannot ask for its pass phrase"
                    + " (openssl pkcs8 -topk8 -nocrypt writes it unencrypted)");
        }
        int begin = pem.indexOf("-----BEGIN PRIVATE KEY-----");
        int end = pem.indexOf("-----END PRIVATE KEY-----");
        if (begin < 0 || end < begin) {
            throw new GeneralSecurityException("key_file " + keyFile + " holds no PKCS #8 key (BEGIN PRIVATE KEY)"
                    + (pem.contains("RSA PRIVATE KEY") || pem.contains("EC PRIVATE KEY")
                            ? "; openssl pkcs8 -topk8 -nocrypt converts this one" : ""));
        }
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(pem.substring(begin + "-----BEGIN PRIVATE KEY-----".length(), end));
        } catch (IllegalArgumentException e) {
            throw new GeneralSecurityException("key_file " + keyFile + ": the key is not base64: " + e.getMessage());
        }
        PublicKey certified = chain.get(0).getPublicKey();
        PrivateKey key;
        try {
            key = KeyFactory.getInstance(certified.getAlgorithm()).generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (GeneralSecurityException e) {
            throw new GeneralSecurityException("key_file " + keyFile + " holds no key of the algorithm of cert_file's certificate ("
                    + certified.getAlgorithm() + "): " + e.getMessage());
        }
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        char[] none = new char[0];
        store.setKeyEntry("client", key, none, chain.toArray(Certificate[]::new));
        KeyManagerFactory f = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        f.init(store, none);
        return f.getKeyManagers();
    }

    private static SSLContext build(Key key) throws GeneralSecurityException, IOException {
        SSLContext context = SSLContext.getInstance("TLS");
        TrustManager[] managers;
        if (key.insecure()) {
            managers = new TrustManager[] {new TrustAll()};
        } else {
            KeyStore store = null;
            if (key.caFile() != null) {
                store = KeyStore.getInstance(KeyStore.getDefaultType());
                store.load(null, null);
                try (InputStream in = Files.newInputStream(Path.of(key.caFile()))) {
                    int i = 0;
                    for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                        store.setCertificateEntry("ca-" + i++, c);
                    }
                    if (i == 0) {
                        throw new GeneralSecurityException("ca_file " + key.caFile() + " holds no PEM certificate");
                    }
                }
            }
            TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            f.init(store);
            managers = f.getTrustManagers();
        }
        context.init(key.certFile() == null ? null : clientKeys(key.certFile(), key.keyFile()), managers, null);
        return context;
    }

    /** Accepts any certificate: for test servers with self-signed ones, when the target says so. */
    private static final class TrustAll extends X509ExtendedTrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
