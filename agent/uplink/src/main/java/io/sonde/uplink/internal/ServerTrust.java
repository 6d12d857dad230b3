package io.sonde.uplink.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Whom the agent trusts as its server: the CA whose certificate has a pinned SHA-256 fingerprint,
 * or the CAs of a file, and nobody else (not the system's CAs). The chain is then checked as usual
 * (signatures, validity dates, the host name of the URL), so a refusal says why.
 */
final class ServerTrust extends X509ExtendedTrustManager {

    private final byte[] pin;
    private final X509ExtendedTrustManager fromFile;
    private volatile X509ExtendedTrustManager pinned;
    private volatile X509Certificate pinnedCa;

    private ServerTrust(byte[] pin, X509ExtendedTrustManager fromFile) {
        this.pin = pin;
        this.fromFile = fromFile;
    }

    /**
     * @param fingerprint the pinned fingerprint, hex with or without colons, or empty
     * @param caFile      a PEM file of CA certificates, or null
     * @return an SSL context trusting only what is given
     * @throws IllegalArgumentException when neither or a malformed one is given (message names the key)
     */
    static SSLContext context(String fingerprint, Path caFile) throws IOException, GeneralSecurityException {
        ServerTrust trust;
        if (!fingerprint.isBlank()) {
            trust = new ServerTrust(parseFingerprint(fingerprint), null);
        } else if (caFile != null) {
            List<X509Certificate> cas = new ArrayList<>();
            try (InputStream in = Files.newInputStream(caFile)) {
                for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    cas.add((X509Certificate) c);
                }
            } catch (CertificateException e) {
                throw new IllegalArgumentException("key 'server_ca_file': " + caFile + " holds no PEM certificate: " + e.getMessage());
            }
            if (cas.isEmpty()) {
                throw new IllegalArgumentException("key 'server_ca_file': " + caFile + " holds no certificate");
            }
            trust = new ServerTrust(null, anchored(cas));
        } else {
            throw new IllegalArgumentException("set 'server_ca_sha256' (the fingerprint the server logs at its first start) or 'server_ca_file'");
        }
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[] {trust}, null);
        return ctx;
    }

    static byte[] parseFingerprint(String text) {
        return io.sonde.wire.UplinkSettings.fingerprint(text);
    }

    /** @return the fingerprint as the server logs it: upper-case hex pairs joined by colons */
    static String format(byte[] sha256) {
        return HexFormat.ofDelimiter(":").withUpperCase().formatHex(sha256);
    }

    static byte[] sha256(X509Certificate c) throws CertificateException {
        try {
            return MessageDigest.getInstance("SHA-256").digest(c.getEncoded());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new CertificateException(e);
        }
    }

    private static X509ExtendedTrustManager anchored(List<X509Certificate> cas) throws GeneralSecurityException, IOException {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        for (int i = 0; i < cas.size(); i++) {
            ks.setCertificateEntry("ca" + i, cas.get(i));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        for (TrustManager tm : tmf.getTrustManagers()) {
            if (tm instanceof X509ExtendedTrustManager x) {
                return x;
            }
        }
        throw new GeneralSecurityException("no X.509 trust manager");
    }

    private X509ExtendedTrustManager delegate(X509Certificate[] chain) throws CertificateException {
        if (fromFile != null) {
            return fromFile;
        }
        X509Certificate ca = null;
        for (X509Certificate c : chain) {
            if (MessageDigest.isEqual(pin, sha256(c))) {
                ca = c;
                break;
            }
        }
        if (ca == null) {
            String presented = chain.length == 0 ? "nothing" : format(sha256(chain[chain.length - 1]));
            throw new CertificateException("server CA fingerprint mismatch: pinned " + format(pin)
                    + ", the server's chain ends in " + presented);
        }
        if (!ca.equals(pinnedCa)) {
            try {
                pinned = anchored(List.of(ca));
                pinnedCa = ca;
            } catch (GeneralSecurityException | IOException e) {
                throw new CertificateException(e);
            }
        }
        return pinned;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        delegate(chain).checkServerTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        delegate(chain).checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        delegate(chain).checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        throw new CertificateException("the agent does not accept clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        throw new CertificateException("the agent does not accept clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("the agent does not accept clients");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }
}
