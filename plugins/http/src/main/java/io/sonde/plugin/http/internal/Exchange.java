package io.sonde.plugin.http.internal;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.Certificate;
import java.security.cert.CertificateExpiredException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

import io.sonde.api.FailureReason;
import io.sonde.api.HostForm;
import io.sonde.api.Target;
import io.sonde.sockets.Resolver;

// Over 500 lines: one HTTP/1.1 exchange framed by hand so each phase is timed at its event (the JDK clients do not report them); HTTP/2 is Http2's.
/**
 * One HTTP(S) probe: a fresh connection per request (as blackbox_exporter and curl make them),
 * HTTP/1.1 or HTTP/2 ({@link Http2}; by ALPN over TLS, {@code http_version}), redirects followed on new connections, through an HTTP proxy when the target names one
 * (HTTPS by a CONNECT tunnel, timed in {@code connect}). Each phase is timed at the event that ends it:
 * {@code dns} when the name is resolved, {@code connect} when the TCP handshake is done, {@code tls}
 * when the TLS handshake is, {@code processing} from the request's last byte written to the
 * response's first byte read, {@code transfer} from there to the body's last byte. Over redirects
 * the phases add up.
 *
 * <p>The JDK's HTTP clients do not report these events, so the request is framed here on a plain
 * or {@link SSLSocket}; TLS itself is the JDK's.
 */
final class Exchange {

    /** Body bytes kept for {@code body_regex} and the assertions; the rest is counted, not kept. */
    static final int MATCH_LIMIT = 1 << 20;
    /** Header lines of a response at most. */
    static final int MAX_HEADERS = 500;

    private final Target target;
    private final Request request;
    private final Resolver resolver;
    private final Trust trust;
    private final Instant startedAt = Instant.now();
    private final long start = System.nanoTime();
    private final long deadline;
    private final long[] phases = new long[5]; // dns, connect, tls, processing, transfer
    private volatile Socket socket;
    private volatile boolean aborted;

    private int status;
    private String version;
    private String tlsVersion;
    private Instant earliest;
    private Instant leaf;
    private long bodySize;
    private boolean bodyMatched;
    private byte[] kept;
    /** The final response's headers by lower-case name. */
    private final Map<String, List<String>> responseHeaders = new HashMap<>();

    Exchange(Target target, Request request, Resolver resolver, Trust trust) {
        this.target = target;
        this.request = request;
        this.resolver = resolver;
        this.trust = trust;
        this.deadline = start + target.timeout().toNanos();
    }

    /** Ends the exchange from another thread: the socket is closed, a blocked read ends. */
    void abort() {
        aborted = true;
        Socket s = socket;
        if (s != null) {
            try {
                s.close();
            } catch (IOException e) {
                // closing
            }
        }
    }

    HttpGetResult run() {
        URI url = request.url();
        String method = request.method();
        byte[] body;
        String authorization;
        try {
            body = request.bodyBytes();
            authorization = request.authorization();
        } catch (IOException e) {
            return result(FailureReason.ERROR, e.getMessage());
        }
        try {
            for (int hop = 0; ; hop++) {
                String location = once(url, method, body, authorization);
                if (location == null || hop >= request.maxRedirects()) {
                    break;
                }
                URI next = url.resolve(location);
                if (status == 303 && !method.equals("HEAD") || (status == 301 || status == 302) && method.equals("POST")) {
                    method = "GET"; // as browsers and Go's client do; 307 and 308 keep the method and the body
                    body = new byte[0];
                }
                if (authorization != null && !sameOrigin(url, next)) {
                    authorization = null; // credentials go to the host they were written for, not where it sends them
                }
                url = next;
            }
        } catch (Failure f) {
            return result(f.reason, f.getMessage());
        }
        if (!request.expect().matches(status)) {
            return result(FailureReason.STATUS, "status " + status + " from " + url + " is not one of "
                    + request.expect().text());
        }
        if (request.bodyRegex() != null && !bodyMatched) {
            return result(FailureReason.BODY_MISMATCH, "the body of " + url + " does not match /"
                    + request.bodyRegex().pattern() + "/", true);
        }
        Assertions.Verdict v = request.assertions().check(new Assertions.Response(responseHeaders, kept, bodySize, tlsVersion,
                earliest, version), Instant.now());
        return v == null ? result(null, null) : result(v.reason(), v.message(), v.regex());
    }

    private boolean sameOrigin(URI a, URI b) {
        return a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost()) && request.port(a) == request.port(b)
                && request.tls(a) == request.tls(b);
    }

    /** One request on a new connection (through the proxy, if there is one for the host); returns the redirect location, if the answer is one. */
    private String once(URI url, String method, byte[] body, String authorization) throws Failure {
        String targetHost = HostForm.URL.lookupName(url.toString());
        int targetPort = request.port(url);
        boolean proxied = request.proxied(targetHost);
        String host = proxied ? request.proxy().getHost() : targetHost;
        int port = proxied ? (request.proxy().getPort() > 0 ? request.proxy().getPort() : 80) : targetPort;
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        long t0 = System.nanoTime();
        InetAddress address;
        try {
            address = resolver.resolve(host, request.ipVersion()).get(left(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            throw new Failure(FailureReason.DNS, (proxied ? "proxy_url: " : "") + e.getCause().getMessage());
        } catch (TimeoutException e) {
            throw new Failure(FailureReason.TIMEOUT, "resolving '" + host + "' took longer than the timeout");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure(FailureReason.ERROR, "interrupted");
        }
        long t1 = System.nanoTime();
        phases[0] += t1 - t0;
        InetSocketAddress where = new InetSocketAddress(address, port);
        Socket s;
        try {
            s = io.sonde.sockets.Marking.socket(address);
        } catch (IOException e) {
            throw new Failure(FailureReason.ERROR, "opening a socket: " + e.getMessage());
        }
        socket = s;
        try (s) {
            if (aborted) {
                throw new Failure(FailureReason.TIMEOUT, "aborted");
            }
            s.setTcpNoDelay(true);
            io.sonde.sockets.Marking.apply(target, s, address);
            s.connect(where, millisLeft());
            if (proxied && request.tls(url)) {
                tunnel(s, targetHost, targetPort, where);
            }
            long t2 = System.nanoTime();
            phases[1] += t2 - t1;
            Socket io = s;
            if (request.tls(url)) {
                io = handshake(s, request.serverName() != null ? request.serverName() : targetHost, targetPort);
                phases[2] += System.nanoTime() - t2;
            }
            boolean h2 = request.tls(url) ? "h2".equals(((SSLSocket) io).getApplicationProtocol()) : "2".equals(request.httpVersion());
            if (request.tls(url) && "2".equals(request.httpVersion()) && !h2) {
                String p = ((SSLSocket) io).getApplicationProtocol();
                throw new Failure(FailureReason.ERROR, "http_version 2: " + url.getHost() + ":" + targetPort
                        + " did not agree to HTTP/2 in the TLS handshake (ALPN: " + (p == null || p.isEmpty() ? "none" : "'" + p + "'") + ")");
            }
            OutputStream out = io.getOutputStream();
            boolean absolute = proxied && !request.tls(url);
            String location;
            if (h2) {
                Http2 stream = new Http2(io.getInputStream(), out, url.toString(), request.keepsBody() ? MATCH_LIMIT : 0);
                Map<String, String> headers = requestHeaders(url, method, targetHost, targetPort, body.length, authorization);
                String authority = headers.remove("Host");
                headers.remove("Content-Length"); // HTTP/2 carries it from the request's length
                io.setSoTimeout(millisLeft()); // a body larger than the peer's window waits on its updates
                stream.send(method, url.getScheme().toLowerCase(Locale.ROOT), authority, pathQuery(url), headers, body);
                long t3 = System.nanoTime();
                io.setSoTimeout(millisLeft());
                Http2.Head head = stream.head();
                long t4 = System.nanoTime();
                phases[3] += t4 - t3;
                version = "HTTP/2.0";
                status = head.status();
                responseHeaders.clear();
                responseHeaders.putAll(head.headers());
                bodySize = stream.body();
                keep(stream.kept());
                phases[4] += System.nanoTime() - t4;
                List<String> l = responseHeaders.get("location");
                location = redirect(status) && l != null ? l.get(0) : null;
            } else {
                out.write(requestHead(url, method, targetHost, targetPort, body.length, authorization, absolute)
                        .getBytes(StandardCharsets.ISO_8859_1));
                out.write(body);
                out.flush();
                long t3 = System.nanoTime();
                io.setSoTimeout(millisLeft());
                InputStream in = new BufferedInputStream(io.getInputStream(), 16384);
                int first = in.read();
                if (first < 0) {
                    throw new Failure(FailureReason.ERROR, where + " closed the connection without answering");
                }
                long t4 = System.nanoTime();
                phases[3] += t4 - t3;
                location = response(in, first, method, url);
                phases[4] += System.nanoTime() - t4;
            }
            return location;
        } catch (Failure f) {
            throw f;
        } catch (SocketTimeoutException e) {
            throw new Failure(FailureReason.TIMEOUT, "no answer from " + url + " within " + target.timeout().toMillis() + " ms");
        } catch (java.net.BindException e) {
            throw new Failure(FailureReason.ERROR, "the source address (source_address or source_interface) cannot be used: "
                    + e.getMessage());
        } catch (ConnectException e) {
            throw new Failure(FailureReason.REFUSED, "connecting to " + (proxied ? "the proxy " : "") + where + ": " + e.getMessage());
        } catch (NoRouteToHostException e) {
            throw new Failure(FailureReason.UNREACHABLE, "connecting to " + (proxied ? "the proxy " : "") + where + ": "
                    + e.getMessage());
        } catch (SSLException e) {
            throw new Failure(FailureReason.TLS, "TLS with " + url.getHost() + ":" + targetPort + " failed: " + tlsReason(e)
                    + ("1.1".equals(request.httpVersion()) ? " (http_version 1.1: only http/1.1 was offered by ALPN)" : ""));
        } catch (IOException e) {
            if (aborted) {
                throw new Failure(FailureReason.TIMEOUT, "no answer from " + url + " within " + target.timeout().toMillis() + " ms");
            }
            throw new Failure(FailureReason.ERROR, url + ": " + e);
        } finally {
            socket = null;
        }
    }

    /**
     * Asks the proxy on {@code s} for a tunnel to {@code host:port} (HTTP CONNECT); the TLS handshake
     * then goes through it to the target.
     */
    private void tunnel(Socket s, String host, int port, InetSocketAddress proxy) throws IOException, Failure {
        String authority = (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
        OutputStream out = s.getOutputStream();
        out.write(("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\nUser-Agent: Sonde\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        s.setSoTimeout(millisLeft());
        InputStream in = s.getInputStream(); // unbuffered: nothing past the proxy's answer may be read here
        String statusLine = line(in);
        for (String h = line(in); !h.isEmpty(); h = line(in)) {
            // the proxy's headers say nothing the probe needs
        }
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[1].equals("200")) {
            throw new Failure(FailureReason.ERROR, "the proxy " + proxy + " did not open a tunnel to " + authority + ": '"
                    + statusLine.substring(0, Math.min(80, statusLine.length())) + "'");
        }
    }

    private SSLSocket handshake(Socket s, String host, int port) throws IOException, Failure {
        SSLSocket tls;
        try {
            tls = (SSLSocket) trust.factory(request.caFile(), request.insecure(), request.certFile(), request.keyFile())
                    .createSocket(s, host, port, true);
        } catch (GeneralSecurityException | IOException e) { // a file removed or spoilt since validation
            String m = String.valueOf(e.getMessage());
            throw new Failure(FailureReason.TLS, m.startsWith("cert_file") || m.startsWith("key_file") || m.startsWith("ca_file") ? m
                    : (request.certFile() != null ? "ca_file, cert_file or key_file" : "ca_file " + request.caFile())
                            + " cannot be used: " + e);
        }
        socket = tls;
        SSLParameters p = tls.getSSLParameters();
        p.setApplicationProtocols(switch (request.httpVersion()) {
            case "1.1" -> new String[] {"http/1.1"};
            case "2" -> new String[] {"h2"};
            default -> new String[] {"h2", "http/1.1"};
        });
        if (!request.insecure()) {
            p.setEndpointIdentificationAlgorithm("HTTPS");
        }
        tls.setSSLParameters(p);
        tls.setSoTimeout(millisLeft());
        tls.startHandshake();
        tlsVersion = tls.getSession().getProtocol();
        Certificate[] chain = tls.getSession().getPeerCertificates();
        for (int i = 0; i < chain.length; i++) {
            if (chain[i] instanceof X509Certificate x) {
                Instant notAfter = x.getNotAfter().toInstant();
                if (i == 0) {
                    leaf = notAfter;
                }
                if (earliest == null || notAfter.isBefore(earliest)) {
                    earliest = notAfter;
                }
            }
        }
        return tls;
    }

    /** The request's head; in absolute form ({@code GET http://host/path}) for a proxy. */
    private String requestHead(URI url, String method, String host, int port, int bodyLength, String authorization,
            boolean absolute) {
        String path = pathQuery(url);
        Map<String, String> headers = requestHeaders(url, method, host, port, bodyLength, authorization);
        if (absolute) {
            path = url.getScheme().toLowerCase(Locale.ROOT) + "://" + authority(url, host, port) + path;
        }
        StringBuilder b = new StringBuilder(256).append(method).append(' ').append(path).append(" HTTP/1.1\r\n");
        headers.put("Connection", "close");
        headers.forEach((k, v) -> b.append(k).append(": ").append(v).append("\r\n"));
        return b.append("\r\n").toString();
    }

    private static String pathQuery(URI url) {
        String path = url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath();
        return url.getRawQuery() != null ? path + "?" + url.getRawQuery() : path;
    }

    /** {@code host[:port]}, the port left out where it is the scheme's. */
    private String authority(URI url, String host, int port) {
        boolean defaultPort = port == (request.tls(url) ? 443 : 80);
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + (defaultPort ? "" : ":" + port);
    }

    /** The request's headers, {@code Host} first (the target's own, if it sets one), in both protocols. */
    private Map<String, String> requestHeaders(URI url, String method, String host, int port, int bodyLength, String authorization) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Host", authority(url, host, port));
        headers.put("User-Agent", "Sonde");
        headers.put("Accept", "*/*");
        for (Map.Entry<String, String> h : request.headers().entrySet()) {
            String name = h.getKey().equalsIgnoreCase("Host") ? "Host" : h.getKey();
            headers.keySet().removeIf(k -> k.equalsIgnoreCase(name));
            headers.put(name, h.getValue());
        }
        if (authorization != null) {
            headers.put("Authorization", authorization);
        }
        if (bodyLength > 0 || method.equals("POST") || method.equals("PUT") || method.equals("PATCH")) {
            headers.keySet().removeIf(k -> k.equalsIgnoreCase("Content-Length") || k.equalsIgnoreCase("Transfer-Encoding"));
            headers.put("Content-Length", Integer.toString(bodyLength));
        }
        return headers;
    }

    /** Reads status, headers and body; returns the Location of a redirect, else null. */
    private String response(InputStream in, int first, String method, URI url) throws IOException, Failure {
        String location;
        long contentLength;
        boolean chunked;
        do { // 1xx answers come before the real one
            String statusLine = (first >= 0 ? (char) first : "") + line(in);
            first = -1;
            String[] parts = statusLine.split(" ", 3);
            if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
                throw new Failure(FailureReason.ERROR, url + " answered with no HTTP status line: '"
                        + statusLine.substring(0, Math.min(80, statusLine.length())) + "'");
            }
            version = parts[0];
            try {
                status = Integer.parseInt(parts[1]);
            } catch (NumberFormatException e) {
                throw new Failure(FailureReason.ERROR, url + " answered with status '" + parts[1] + "'");
            }
            location = null;
            contentLength = -1;
            chunked = false;
            responseHeaders.clear();
            int count = 0;
            for (String h = line(in); !h.isEmpty(); h = line(in)) {
                int colon = h.indexOf(':');
                if (colon <= 0) {
                    continue;
                }
                if (++count > MAX_HEADERS) {
                    throw new Failure(FailureReason.ERROR, url + " answered with more than " + MAX_HEADERS + " headers");
                }
                String name = h.substring(0, colon).strip().toLowerCase(Locale.ROOT);
                String value = h.substring(colon + 1).strip();
                responseHeaders.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
                switch (name) {
                    case "location" -> location = value;
                    case "content-length" -> contentLength = Long.parseLong(value);
                    case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
                    default -> { }
                }
            }
        } while (status >= 100 && status < 200 && status != 101);

        ByteArrayOutputStream kept = request.keepsBody() ? new ByteArrayOutputStream() : null;
        bodySize = 0;
        boolean noBody = method.equals("HEAD") || status == 204 || status == 304;
        if (!noBody) {
            if (chunked) {
                for (long size = chunkSize(in); size > 0; size = chunkSize(in)) {
                    copy(in, size, kept);
                    line(in);
                }
                while (!line(in).isEmpty()) {
                    // trailers
                }
            } else if (contentLength >= 0) {
                copy(in, contentLength, kept);
            } else {
                copy(in, Long.MAX_VALUE, kept);
            }
        }
        keep(kept);
        return redirect(status) ? location : null;
    }

    private static boolean redirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    /** Keeps the body's first bytes for the assertions and matches {@code body_regex}. */
    private void keep(ByteArrayOutputStream kept) {
        if (kept != null) {
            this.kept = kept.toByteArray();
            bodyMatched = request.bodyRegex() != null && request.bodyRegex().matcher(kept.toString(StandardCharsets.UTF_8)).find();
        }
    }

    private void copy(InputStream in, long n, ByteArrayOutputStream kept) throws IOException {
        byte[] buffer = new byte[8192];
        long left = n;
        while (left > 0) {
            int r = in.read(buffer, 0, (int) Math.min(buffer.length, left));
            if (r < 0) {
                if (n == Long.MAX_VALUE) {
                    return; // the body ends with the connection
                }
                throw new EOFException("the body ended after " + bodySize + " bytes");
            }
            bodySize += r;
            left -= r;
            if (kept != null && kept.size() < MATCH_LIMIT) {
                kept.write(buffer, 0, Math.min(r, MATCH_LIMIT - kept.size()));
            }
        }
    }

    private static long chunkSize(InputStream in) throws IOException {
        String l = line(in);
        int semi = l.indexOf(';');
        try {
            return Long.parseLong((semi >= 0 ? l.substring(0, semi) : l).strip(), 16);
        } catch (NumberFormatException e) {
            throw new IOException("bad chunk size '" + l + "'");
        }
    }

    /** A header line without its CRLF; at most 64 KiB. */
    private static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder(64);
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new EOFException("the connection ended inside the response head");
            }
            if (c != '\r') {
                b.append((char) c);
            }
            if (b.length() > 65536) {
                throw new IOException("a response header line longer than 64 KiB");
            }
        }
        return b.toString();
    }

    private static String tlsReason(SSLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) { // the most telling cause first
            if (t instanceof CertificateExpiredException || String.valueOf(t.getMessage()).contains("validity check failed")) {
                return "the certificate has expired or is not yet valid (" + t.getMessage() + ")";
            }
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = String.valueOf(t.getMessage());
            if (m.contains("No subject alternative") || m.contains("No name matching")) {
                return "the certificate does not name the host (" + m + ")";
            }
            if (m.contains("PKIX path")) {
                return "the certificate is not trusted (" + m + ")";
            }
        }
        return e.getMessage();
    }

    private long left() throws Failure {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new Failure(FailureReason.TIMEOUT, "no answer within " + target.timeout().toMillis() + " ms");
        }
        return left;
    }

    private int millisLeft() throws Failure {
        return (int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(left()));
    }

    private HttpGetResult result(FailureReason reason, String message) {
        return result(reason, message, false);
    }

    private HttpGetResult result(FailureReason reason, String message, boolean regex) {
        Map<String, Duration> p = new LinkedHashMap<>();
        String[] names = {"dns", "connect", "tls", "processing", "transfer"};
        for (int i = 0; i < names.length; i++) {
            p.put(names[i], Duration.ofNanos(phases[i]));
        }
        return new HttpGetResult(target, startedAt, Duration.ofNanos(System.nanoTime() - start), reason, message,
                status, p, bodySize, version, tlsVersion, earliest, leaf, regex);
    }

    /** Ends the probe with a reason. */
    static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;
        final transient FailureReason reason;

        Failure(FailureReason reason, String message) {
            super(message, null, false, false);
            this.reason = reason;
        }
    }
}
