package io.sonde.plugin.dns.internal;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

import org.xbill.DNS.EDNSOption;
import org.xbill.DNS.Message;
import org.xbill.DNS.TSIG;

/**
 * DNS over TLS (RFC 7858: the TCP framing, a 2-byte length before each message, in a TLS session on
 * a fresh connection per query) and DNS over HTTPS (RFC 8484: a POST of the message as
 * {@code application/dns-message}, on the JDK's HTTP client, whose connection is kept between
 * queries as a DoH client keeps it). Trust is the system's or the PEM certificates of
 * {@code ca_file} (read again when it changes); the name checked is {@code server_name} for TLS,
 * the URL's host for HTTPS. A
 * dnsjava {@link org.xbill.DNS.Resolver}, so the DNSSEC validator runs over it as over UDP.
 */
final class EncryptedResolver implements org.xbill.DNS.Resolver {

    /** Largest DNS message: what the 2-byte length allows. */
    static final int MAX_MESSAGE = 65_535;

    private static final Map<String, SSLContext> CONTEXTS = new ConcurrentHashMap<>();
    private static final Map<String, HttpClient> CLIENTS = new ConcurrentHashMap<>();

    private final InetSocketAddress server;
    /** The target, for its source and mark (DNS over TLS), or null. */
    private final io.sonde.api.Target target;
    private final String serverName;
    private final URI url;
    private final String caFile;
    private Duration timeout = Duration.ofSeconds(5);

    private EncryptedResolver(InetSocketAddress server, io.sonde.api.Target target, String serverName, URI url, String caFile) {
        this.server = server;
        this.target = target;
        this.serverName = serverName;
        this.url = url;
        this.caFile = caFile;
    }

    /**
     * DNS over TLS to {@code server} from the target's source, marked with its {@code dscp}, the
     * certificate checked for {@code serverName}.
     */
    static EncryptedResolver tls(InetSocketAddress server, io.sonde.api.Target target, String serverName, String caFile) {
        return new EncryptedResolver(server, target, serverName, null, caFile);
    }

    /** DNS over HTTPS: POSTs to {@code url}. */
    static EncryptedResolver https(URI url, String caFile) {
        return new EncryptedResolver(null, null, null, url, caFile);
    }

    @Override
    public CompletionStage<Message> sendAsync(Message query, Executor executor) {
        if (url != null) {
            return https(query);
        }
        return CompletableFuture.supplyAsync(() -> {
            try {
                return tls(query);
            } catch (IOException | GeneralSecurityException e) {
                throw new CompletionException(e);
            }
        }, executor);
    }

    private Message tls(Message query) throws IOException, GeneralSecurityException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Socket plain = io.sonde.sockets.Marking.socket(server.getAddress())) {
            io.sonde.sockets.Marking.apply(target, plain, server.getAddress());
            plain.connect(server, millisLeft(deadline));
            SSLSocket s = (SSLSocket) context(caFile).getSocketFactory().createSocket(plain, serverName, server.getPort(), true);
            try (s) {
                SSLParameters p = s.getSSLParameters();
                p.setEndpointIdentificationAlgorithm("HTTPS"); // the name in the certificate, as for HTTPS
                s.setSSLParameters(p);
                s.setSoTimeout(millisLeft(deadline));
                s.startHandshake();
                byte[] wire = query.toWire(MAX_MESSAGE);
                OutputStream out = s.getOutputStream();
                out.write(new byte[] {(byte) (wire.length >>> 8), (byte) wire.length});
                out.write(wire);
                out.flush();
                s.setSoTimeout(millisLeft(deadline));
                DataInputStream in = new DataInputStream(s.getInputStream());
                int length = in.readUnsignedShort();
                byte[] answer = new byte[length];
                in.readFully(answer);
                return new Message(answer);
            }
        }
    }

    private CompletionStage<Message> https(Message query) {
        HttpClient client;
        try {
            client = client(caFile);
        } catch (IOException | GeneralSecurityException e) {
            return CompletableFuture.failedFuture(e);
        }
        HttpRequest request = HttpRequest.newBuilder(url).timeout(timeout).header("Content-Type", "application/dns-message")
                .header("Accept", "application/dns-message").POST(HttpRequest.BodyPublishers.ofByteArray(query.toWire(MAX_MESSAGE)))
                .build();
        return client.sendAsync(request, HttpResponse.BodyHandlers.ofInputStream()).thenApply(r -> {
            try (InputStream body = r.body()) {
                byte[] bytes = body.readNBytes(MAX_MESSAGE + 1);
                if (r.statusCode() != 200) {
                    throw new IOException(url + " answered HTTP " + r.statusCode());
                }
                if (bytes.length > MAX_MESSAGE) {
                    throw new IOException(url + " answered more than a DNS message can be");
                }
                return new Message(bytes);
            } catch (IOException e) {
                throw new CompletionException(e);
            }
        });
    }

    private static HttpClient client(String caFile) throws IOException, GeneralSecurityException {
        String key = stamp(caFile);
        HttpClient c = CLIENTS.get(key);
        if (c == null) {
            c = HttpClient.newBuilder().sslContext(context(caFile)).followRedirects(HttpClient.Redirect.NEVER)
                    .connectTimeout(Duration.ofSeconds(10)).build();
            CLIENTS.putIfAbsent(key, c);
            c = CLIENTS.get(key);
        }
        return c;
    }

    /** The system's trust, or only the certificates of {@code caFile}; built once per file. */
    static SSLContext context(String caFile) throws IOException, GeneralSecurityException {
        String key = stamp(caFile);
        SSLContext c = CONTEXTS.get(key);
        if (c != null) {
            return c;
        }
        KeyStore store = null;
        if (caFile != null) {
            store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            try (InputStream in = Files.newInputStream(Path.of(caFile))) {
                for (Certificate cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    store.setCertificateEntry("ca-" + i++, cert);
                }
            }
            if (i == 0) {
                throw new GeneralSecurityException("ca_file " + caFile + " holds no PEM certificate");
            }
        }
        TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        f.init(store);
        c = SSLContext.getInstance("TLS");
        c.init(null, f.getTrustManagers(), null);
        CONTEXTS.put(key, c);
        return c;
    }

    /** The file and its state: a changed file makes a new context (and client). */
    private static String stamp(String caFile) throws IOException {
        if (caFile == null) {
            return "";
        }
        try {
            Path p = Path.of(caFile);
            return caFile + "@" + Files.getLastModifiedTime(p).toMillis() + "/" + Files.size(p);
        } catch (IOException e) {
            throw new IOException("ca_file " + caFile + " cannot be read: " + e.getClass().getSimpleName());
        }
    }

    private static int millisLeft(long deadline) throws java.net.SocketTimeoutException {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new java.net.SocketTimeoutException("the timeout has passed");
        }
        return (int) Math.max(1, left / 1_000_000);
    }

    @Override
    public void setTimeout(Duration timeout) {
        this.timeout = timeout;
    }

    @Override
    public Duration getTimeout() {
        return timeout;
    }

    @Override
    public void setPort(int port) {
        throw new UnsupportedOperationException("the port is the target's");
    }

    @Override
    public void setTCP(boolean flag) {
        // always a stream
    }

    @Override
    public void setIgnoreTruncation(boolean flag) {
        // a stream's answer is never truncated
    }

    @Override
    public void setEDNS(int version, int payloadSize, int flags, List<EDNSOption> options) {
        // the query carries its own OPT record (the validator's or the DO bit's)
    }

    @Override
    public void setTSIGKey(TSIG key) {
        throw new UnsupportedOperationException("TSIG is not used by the probe");
    }
}
