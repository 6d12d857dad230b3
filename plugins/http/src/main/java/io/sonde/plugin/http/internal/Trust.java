package io.sonde.plugin.http.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The TLS settings of a target: the JVM's trust store by default (on Debian, the system's CA
 * certificates), the PEM certificates of {@code ca_file} instead, or no verification at all with
 * {@code insecure_skip_verify}. Contexts are built once per setting, a CA file's again when it has
 * changed (looked at every {@link #RECHECK_NANOS}).
 */
final class Trust {

    private record Key(String caFile, boolean insecure) {
    }

    private record Built(SSLSocketFactory factory, Object stamp, long checkedAt) {
    }

    /** How often a {@code ca_file} is looked at for changes: not at every probe. */
    static final long RECHECK_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final Map<Key, Built> contexts = new ConcurrentHashMap<>();

    /** @throws GeneralSecurityException or IOException when {@code ca_file} cannot be used; the message says why */
    SSLSocketFactory factory(String caFile, boolean insecure) throws GeneralSecurityException, IOException {
        Key key = new Key(insecure ? null : caFile, insecure);
        Built b = contexts.get(key);
        long now = System.nanoTime();
        if (b != null && (key.caFile() == null || now - b.checkedAt() < RECHECK_NANOS)) {
            return b.factory();
        }
        Object stamp = key.caFile() == null ? "" : stamp(Path.of(key.caFile()));
        b = b != null && b.stamp().equals(stamp) ? new Built(b.factory(), stamp, now)
                : new Built(build(key).getSocketFactory(), stamp, now);
        contexts.put(key, b);
        return b.factory();
    }

    private static Object stamp(Path file) throws IOException {
        return Files.getLastModifiedTime(file).toMillis() + "/" + Files.size(file);
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
        context.init(null, managers, null);
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
