package io.sonde.plugin.tls.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

import io.sonde.api.FailureReason;
import io.sonde.api.MeasuredResult;
import io.sonde.api.Target;

/**
 * One probe of a {@code tls} target, on a thread of the prober's own: connect, speak the
 * protocol's STARTTLS dialogue when asked, shake hands, and read what the handshake showed. The
 * chain is always kept, also when it does not verify, so that a failed probe still says when its
 * certificates expire and who issued them.
 */
final class Handshake {

    /**
     * What the probe asked for.
     *
     * @param trust the trust manager of the target's CAs (its {@code ca_file}, else the JVM's), which verifies the chain
     */
    record Settings(String starttls, String serverName, X509ExtendedTrustManager trust, boolean insecure) {
    }

    private final Target target;
    private final Settings settings;
    private final AtomicReference<Socket> open;
    private final Map<String, Object> values = new LinkedHashMap<>();
    private final Map<String, Duration> phases = new LinkedHashMap<>();
    private final Instant startedAt = Instant.now();
    private final long start = System.nanoTime();
    private X509Certificate[] chain;
    private CertificateException verification;

    /** @param open where the socket is kept while it is open, so that a cancelled probe can close it */
    Handshake(Target target, Settings settings, AtomicReference<Socket> open) {
        this.target = target;
        this.settings = settings;
        this.open = open;
    }

    MeasuredResult run() {
        try {
            InetAddress address = resolve();
            Socket socket = io.sonde.sockets.Marking.socket(address);
            open.set(socket);
            try (socket) {
                io.sonde.sockets.Marking.apply(target, socket, address);
                long t = System.nanoTime();
                socket.connect(new InetSocketAddress(address, target.port()), (int) Math.max(1, left().toMillis()));
                phases.put("connect", since(t));
                values.put("address", address);
                values.put("port", target.port());
                socket.setSoTimeout((int) Math.max(1, left().toMillis()));
                if (!settings.starttls().equals("none")) {
                    t = System.nanoTime();
                    StartTls.negotiate(settings.starttls(), socket, serverName());
                    phases.put("starttls", since(t));
                }
                socket.setSoTimeout((int) Math.max(1, left().toMillis()));
                t = System.nanoTime();
                SSLSocket tls = (SSLSocket) context().getSocketFactory().createSocket(socket, serverName(), target.port(), false);
                SSLParameters p = tls.getSSLParameters();
                if (!io.sonde.sockets.Resolver.isLiteral(serverName())) {
                    p.setServerNames(List.of(new SNIHostName(serverName())));
                }
                p.setEndpointIdentificationAlgorithm("HTTPS"); // the chain must name the host
                tls.setSSLParameters(p);
                try {
                    tls.startHandshake();
                } catch (SSLException e) {
                    chainValues();
                    throw e;
                }
                phases.put("handshake", since(t));
                session(tls.getSession());
                tls.close();
            }
            return result(null, null);
        } catch (UnknownHostException e) {
            return result(FailureReason.DNS, "'" + target.host() + "' does not resolve" + (target.ipVersion() > 0
                    ? " to an IPv" + target.ipVersion() + " address" : ""));
        } catch (SocketTimeoutException e) {
            return result(FailureReason.TIMEOUT, "no answer within " + target.timeout().toMillis() + " ms"
                    + (phases.containsKey("connect") ? " after connecting" : ""));
        } catch (java.net.BindException e) {
            return result(FailureReason.ERROR, "the source address (source_address or source_interface) cannot be used: "
                    + e.getMessage());
        } catch (ConnectException e) {
            return result(left().isNegative() || left().isZero() ? FailureReason.TIMEOUT : FailureReason.REFUSED,
                    "connection to port " + target.port() + " refused or not answered: " + e.getMessage());
        } catch (NoRouteToHostException e) {
            return result(FailureReason.UNREACHABLE, e.getMessage());
        } catch (StartTls.Refused e) {
            return result(FailureReason.ERROR, e.getMessage());
        } catch (SSLException e) {
            String why = verification != null ? "the chain does not verify: " + rootCause(verification) : rootCause(e);
            return result(FailureReason.TLS, why);
        } catch (GeneralSecurityException e) {
            return result(FailureReason.TLS, e.getMessage());
        } catch (IOException e) {
            return result(Thread.currentThread().isInterrupted() ? FailureReason.TIMEOUT : FailureReason.ERROR, rootCause(e));
        } finally {
            open.set(null);
        }
    }

    private InetAddress resolve() throws UnknownHostException {
        String host = target.host().startsWith("[") && target.host().endsWith("]")
                ? target.host().substring(1, target.host().length() - 1) : target.host();
        for (InetAddress a : InetAddress.getAllByName(host)) {
            int family = a instanceof java.net.Inet4Address ? 4 : 6;
            if (target.ipVersion() == 0 || target.ipVersion() == family) {
                return a;
            }
        }
        throw new UnknownHostException(host);
    }

    private String serverName() {
        String n = settings.serverName();
        if (n != null && !n.isBlank()) {
            return n.strip();
        }
        String h = target.host();
        return h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
    }

    private Duration left() {
        return target.timeout().minusNanos(System.nanoTime() - start);
    }

    private static Duration since(long t) {
        return Duration.ofNanos(System.nanoTime() - t);
    }

    private void session(SSLSession s) {
        values.put("protocol", s.getProtocol());
        values.put("cipher", s.getCipherSuite());
        String p = s.getProtocol();
        values.put("protocol_go", p.startsWith("TLSv") ? "TLS " + p.substring(4) : p);
        chainValues();
        values.put("verified", verification == null);
        values.put("ocsp_stapled", s instanceof ExtendedSSLSession e && !e.getStatusResponses().isEmpty());
    }

    /** What the chain the server sent says, verified or not. */
    private void chainValues() {
        X509Certificate[] c = chain;
        if (c == null || c.length == 0) {
            return;
        }
        Instant earliest = null;
        for (X509Certificate x : c) {
            Instant end = x.getNotAfter().toInstant();
            earliest = earliest == null || end.isBefore(earliest) ? end : earliest;
        }
        values.put("cert_expiry", earliest);
        values.put("leaf_cert_expiry", c[0].getNotAfter().toInstant());
        values.put("leaf_subject", c[0].getSubjectX500Principal().getName());
        values.put("leaf_issuer", c[0].getIssuerX500Principal().getName());
        values.put("chain_certificates", c.length);
        values.put("verified_chain_expiry", verification == null ? earliest : TlsResults.GO_ZERO_TIME);
    }

    private MeasuredResult result(FailureReason reason, String message) {
        if (!phases.isEmpty()) {
            values.put("phases", java.util.Collections.unmodifiableMap(new LinkedHashMap<>(phases)));
        }
        Duration elapsed = since(start);
        return reason == null ? MeasuredResult.success(target, startedAt, elapsed, TlsResults.SCHEMA, values)
                : MeasuredResult.failure(target, startedAt, elapsed, reason, message, TlsResults.SCHEMA, values);
    }

    private static String rootCause(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage();
        return m == null ? t.getClass().getSimpleName() : m;
    }

    /** A context whose trust manager keeps the chain it is shown, and verifies it with the target's. */
    private SSLContext context() throws GeneralSecurityException {
        SSLContext c = SSLContext.getInstance("TLS");
        c.init(null, new TrustManager[] {new Keeping(settings.trust())}, null);
        return c;
    }

    /** @return the trust manager of the CAs of a PEM file, or of the JVM's trust store for null */
    static X509ExtendedTrustManager trust(Path caFile) throws GeneralSecurityException, IOException {
        KeyStore store = null;
        if (caFile != null) {
            store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            try (InputStream in = Files.newInputStream(caFile)) {
                int i = 0;
                for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    store.setCertificateEntry("ca-" + i++, c);
                }
                if (i == 0) {
                    throw new GeneralSecurityException("ca_file " + caFile + " holds no PEM certificate");
                }
            }
        }
        TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        f.init(store);
        for (TrustManager m : f.getTrustManagers()) {
            if (m instanceof X509ExtendedTrustManager x) {
                return x;
            }
        }
        throw new GeneralSecurityException("no X.509 trust manager");
    }

    /** Keeps the server's chain and whether it verified; refuses it only when verification is asked. */
    private final class Keeping extends X509ExtendedTrustManager {
        private final X509ExtendedTrustManager real;

        Keeping(X509ExtendedTrustManager real) {
            this.real = real;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] c, String authType, Socket socket) throws CertificateException {
            chain = c.clone();
            try {
                real.checkServerTrusted(c, authType, socket);
                // a certificate that is itself a trust anchor is not checked for its dates by PKIX: every one is, here
                for (X509Certificate x : c) {
                    x.checkValidity();
                }
            } catch (CertificateException e) {
                verification = e;
                if (!settings.insecure()) {
                    throw e;
                }
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] c, String authType, SSLEngine engine) throws CertificateException {
            throw new CertificateException("only sockets are used");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] c, String authType) throws CertificateException {
            throw new CertificateException("only sockets are used");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] c, String authType, Socket socket) throws CertificateException {
            throw new CertificateException("a client of no one");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] c, String authType, SSLEngine engine) throws CertificateException {
            throw new CertificateException("a client of no one");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] c, String authType) throws CertificateException {
            throw new CertificateException("a client of no one");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return real.getAcceptedIssuers();
        }
    }
}
