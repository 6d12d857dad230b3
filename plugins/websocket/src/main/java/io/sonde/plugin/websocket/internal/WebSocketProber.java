package io.sonde.plugin.websocket.internal;

import static io.sonde.api.ResultSchema.Family.labelled;
import static io.sonde.api.ResultSchema.Family.of;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

import org.osgi.service.component.annotations.Component;

import io.sonde.api.FailureReason;
import io.sonde.api.HostForm;
import io.sonde.api.MeasuredResult;
import io.sonde.api.ProbeKind;
import io.sonde.api.Prober;
import io.sonde.api.ResultSchema;
import io.sonde.api.ResultSchema.Role;
import io.sonde.api.ResultSchema.Sample;
import io.sonde.api.ResultSchema.Type;
import io.sonde.api.ResultSchema.Value;
import io.sonde.api.Target;
import io.sonde.api.TargetOption;
import io.sonde.api.TargetProblem;
import io.sonde.api.TargetSchema;

/**
 * {@code kind=websocket}: opens a WebSocket ({@code ws://} or {@code wss://} URL in {@code host}),
 * sends a text message and waits for the answer, with the JDK's own WebSocket client: the time
 * to connect and upgrade, and the echo's round trip. Success is an upgrade and, unless
 * {@code echo = false}, an answer that is the message sent (or matches {@code expect}).
 *
 * <p>Keys: {@code message} (default: a fresh nonce each probe), {@code expect} (a regular
 * expression the answer must contain; default: the answer is the message), {@code echo},
 * {@code subprotocol}, {@code header.NAME}, {@code ca_file}, {@code insecure_skip_verify}.
 */
@Component(service = Prober.class)
@ProbeKind(type = "websocket", async = true, cost = 10)
public final class WebSocketProber implements Prober {

    /** The most of an answer read: a larger one fails the probe. */
    static final int MAX_REPLY = 1 << 20;

    static final TargetOption MESSAGE = TargetOption.text("message", "", "The text sent once the socket is open (default: a fresh nonce)");
    static final TargetOption EXPECT = TargetOption.pattern("expect",
            "A regular expression the answer must contain (default: the answer is the message sent)");
    static final TargetOption ECHO = TargetOption.bool("echo", true, "Send the message and wait for the answer; false: the upgrade only");
    static final TargetOption SUBPROTOCOL = TargetOption.text("subprotocol", "", "The subprotocol asked for (Sec-WebSocket-Protocol)");
    static final TargetOption HEADER = TargetOption.text("header.*", null, "A header of the upgrade request: header.NAME = value");
    static final TargetOption CA_FILE = TargetOption.file("ca_file", "PEM file of the CAs a wss server's chain must verify against");
    static final TargetOption INSECURE = TargetOption.bool("insecure_skip_verify", false, "Accept any certificate of a wss server");

    static final TargetSchema SCHEMA = new TargetSchema(HostForm.OTHER, false,
            List.of(MESSAGE, EXPECT, ECHO, SUBPROTOCOL, HEADER, CA_FILE, INSECURE));

    static final ResultSchema RESULTS = new ResultSchema("1", List.of(
            Value.of("phases", Type.DURATION_MAP, "seconds", Role.PHASES,
                    "open (connect, TLS and the HTTP upgrade) and echo (the message's round trip)"),
            Value.of("subprotocol", Type.TEXT, "", Role.NONE, "the subprotocol the server chose"),
            Value.of("reply_bytes", Type.NUMBER, "bytes", Role.NONE, "bytes of the answer"),
            Value.of("status_code", Type.NUMBER, "", Role.STATUS_CODE, "the HTTP status of a refused upgrade")),
            List.of(labelled("probe_websocket_duration_seconds", Sample.GAUGE, "Each phase of the last probe", "phase",
                    "open", "phases.open", "echo", "phases.echo"),
                    of("probe_websocket_reply_bytes", Sample.GAUGE, "Bytes of the last answer", "reply_bytes")),
            List.of(labelled("probe_websocket_duration_seconds", Sample.GAUGE, "Each phase of the probe", "phase",
                    "open", "phases.open", "echo", "phases.echo"),
                    of("probe_websocket_reply_bytes", Sample.GAUGE, "Bytes of the answer", "reply_bytes")));

    private record Clients(String caFile, boolean insecure) {
    }

    private final Map<Clients, HttpClient> clients = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();

    @Override
    public TargetSchema schema() {
        return SCHEMA;
    }

    @Override
    public ResultSchema resultSchema() {
        return RESULTS;
    }

    @Override
    public List<TargetProblem> check(Target target) {
        String problem = urlProblem(target.host());
        return problem == null ? List.of() : List.of(new TargetProblem("host", problem));
    }

    static String urlProblem(String host) {
        try {
            URI u = new URI(host);
            String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("ws") && !scheme.equals("wss")) {
                return "'" + host + "' is not a ws:// or wss:// URL";
            }
            if (u.getHost() == null || u.getHost().isEmpty()) {
                return "'" + host + "' has no host";
            }
            return null;
        } catch (URISyntaxException e) {
            return "'" + host + "' is not a URL: " + e.getReason();
        }
    }

    @Override
    public CompletionStage<MeasuredResult> probe(Target target) {
        Instant startedAt = Instant.now();
        long start = System.nanoTime();
        Map<String, Object> values = new LinkedHashMap<>();
        Map<String, Duration> phases = new LinkedHashMap<>();
        CompletableFuture<MeasuredResult> result = new CompletableFuture<>();
        HttpClient client;
        WebSocket.Builder builder;
        try {
            client = client(CA_FILE.value(target), INSECURE.booleanValue(target));
            builder = client.newWebSocketBuilder().connectTimeout(target.timeout());
            for (Map.Entry<String, String> o : target.options().entrySet()) {
                if (o.getKey().startsWith("header.")) {
                    builder.header(o.getKey().substring("header.".length()), o.getValue());
                }
            }
            String sub = SUBPROTOCOL.value(target);
            if (!sub.isBlank()) {
                builder.subprotocols(sub.strip());
            }
        } catch (GeneralSecurityException | IOException e) {
            return CompletableFuture.completedFuture(done(target, startedAt, start, FailureReason.TLS,
                    "ca_file " + CA_FILE.value(target) + " cannot be used: " + e.getMessage(), values, phases));
        } catch (IllegalArgumentException e) { // a header the client sets itself (Upgrade, Sec-WebSocket-Key, ...)
            return CompletableFuture.completedFuture(done(target, startedAt, start, FailureReason.ERROR,
                    "a header the upgrade cannot carry: " + e.getMessage(), values, phases));
        }
        String message = MESSAGE.value(target).isEmpty() ? "sonde " + String.format("%016x", random.nextLong()) : MESSAGE.value(target);
        Pattern expect = EXPECT.value(target) == null || EXPECT.value(target).isEmpty() ? null : Pattern.compile(EXPECT.value(target));
        boolean echo = ECHO.booleanValue(target);
        Reader reader = new Reader();
        long[] sentAt = new long[1];
        CompletableFuture<WebSocket> open = builder.buildAsync(URI.create(target.host()), reader);
        result.whenComplete((r, e) -> { // done or cancelled by the scheduler: let go of the socket, now or once it opens
            open.whenComplete((ws, f) -> {
                if (ws != null) {
                    ws.abort();
                }
            });
        });
        open.whenComplete((ws, e) -> { // the builder's connect timeout bounds the opening handshake: no socket is left behind
            if (result.isDone()) {
                return; // cancelled by the scheduler meanwhile
            }
            if (e != null) {
                result.complete(failed(target, startedAt, start, e, values, phases));
                return;
            }
            phases.put("open", Duration.ofNanos(System.nanoTime() - start));
            if (!ws.getSubprotocol().isEmpty()) {
                values.put("subprotocol", ws.getSubprotocol());
            }
            if (!echo) {
                ws.sendClose(WebSocket.NORMAL_CLOSURE, "").whenComplete((x, y) -> ws.abort());
                result.complete(done(target, startedAt, start, null, null, values, phases));
                return;
            }
            sentAt[0] = System.nanoTime();
            Duration left = target.timeout().minusNanos(System.nanoTime() - start);
            ws.sendText(message, true).thenCompose(x -> reader.reply)
                    .orTimeout(Math.max(1, left.toNanos()), TimeUnit.NANOSECONDS)
                    .whenComplete((reply, f) -> {
                        ws.abort();
                        if (f != null) {
                            result.complete(failed(target, startedAt, start, f, values, phases));
                            return;
                        }
                        phases.put("echo", Duration.ofNanos(System.nanoTime() - sentAt[0]));
                        values.put("reply_bytes", reply.getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
                        boolean ok = expect == null ? reply.equals(message) : expect.matcher(reply).find();
                        result.complete(ok ? done(target, startedAt, start, null, null, values, phases)
                                : done(target, startedAt, start, FailureReason.BODY_MISMATCH, "the answer '" + shorten(reply) + "' "
                                        + (expect == null ? "is not the message sent" : "does not match '" + expect.pattern() + "'"),
                                        values, phases));
                    });
        });
        return result;
    }

    /** Reads one text answer, in parts, at most {@value #MAX_REPLY} bytes' worth. */
    private static final class Reader implements WebSocket.Listener {
        final CompletableFuture<String> reply = new CompletableFuture<>();
        private final StringBuilder text = new StringBuilder();

        @Override
        public void onOpen(WebSocket ws) {
            ws.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            if (text.length() + data.length() > MAX_REPLY) {
                reply.completeExceptionally(new IOException("an answer longer than " + MAX_REPLY + " characters"));
                return null;
            }
            text.append(data);
            if (last) {
                reply.complete(text.toString());
            } else {
                ws.request(1);
            }
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, java.nio.ByteBuffer data, boolean last) {
            reply.completeExceptionally(new IOException("a binary answer to a text message"));
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
            reply.completeExceptionally(new IOException("the server closed the socket (" + status + (reason.isEmpty() ? "" : " " + reason)
                    + ") without an answer"));
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            reply.completeExceptionally(error);
        }
    }

    private static MeasuredResult failed(Target target, Instant startedAt, long start, Throwable e, Map<String, Object> values,
            Map<String, Duration> phases) {
        Throwable t = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        if (t instanceof WebSocketHandshakeException h) {
            values.put("status_code", h.getResponse().statusCode());
            return done(target, startedAt, start, FailureReason.STATUS, "the upgrade was answered " + h.getResponse().statusCode(), values,
                    phases);
        }
        if (t instanceof HttpConnectTimeoutException || t instanceof HttpTimeoutException || t instanceof java.util.concurrent.TimeoutException) {
            return done(target, startedAt, start, FailureReason.TIMEOUT, "no " + (phases.containsKey("open") ? "answer" : "upgrade")
                    + " within " + target.timeout().toMillis() + " ms", values, phases);
        }
        if (t instanceof IllegalArgumentException) { // a header the client sets itself (Upgrade, Sec-WebSocket-Key, ...)
            return done(target, startedAt, start, FailureReason.ERROR, "a header the upgrade cannot carry: " + t.getMessage(), values, phases);
        }
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root instanceof ConnectException || t instanceof ConnectException) {
            return done(target, startedAt, start, FailureReason.REFUSED, "connection refused: " + target.host(), values, phases);
        }
        if (root instanceof java.net.UnknownHostException) {
            return done(target, startedAt, start, FailureReason.DNS, "'" + URI.create(target.host()).getHost() + "' does not resolve", values,
                    phases);
        }
        if (t instanceof SSLException || root instanceof SSLException || root instanceof java.security.cert.CertificateException) {
            return done(target, startedAt, start, FailureReason.TLS, String.valueOf(root.getMessage()), values, phases);
        }
        return done(target, startedAt, start, FailureReason.ERROR, String.valueOf(root.getMessage() == null ? root : root.getMessage()),
                values, phases);
    }

    private static MeasuredResult done(Target target, Instant startedAt, long start, FailureReason reason, String message,
            Map<String, Object> values, Map<String, Duration> phases) {
        if (!phases.isEmpty()) {
            values.put("phases", new LinkedHashMap<>(phases));
        }
        return new MeasuredResult(target, startedAt, Duration.ofNanos(System.nanoTime() - start), reason, message, RESULTS, values);
    }

    private static String shorten(String s) {
        String t = s.length() > 200 ? s.substring(0, 200) + "..." : s;
        StringBuilder b = new StringBuilder(t.length());
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            b.append(Character.isISOControl(c) ? '?' : c);
        }
        return b.toString();
    }

    /** One HTTP client per trust setting: each has a selector thread of its own. */
    private HttpClient client(String caFile, boolean insecure) throws GeneralSecurityException, IOException {
        Clients key = new Clients(insecure ? null : caFile, insecure);
        HttpClient c = clients.get(key);
        if (c == null) {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {insecure ? new TrustAll() : trust(key.caFile())}, null);
            c = HttpClient.newBuilder().sslContext(context).build();
            HttpClient before = clients.putIfAbsent(key, c);
            c = before != null ? before : c;
        }
        return c;
    }

    private static X509ExtendedTrustManager trust(String caFile) throws GeneralSecurityException, IOException {
        KeyStore store = null;
        if (caFile != null && !caFile.isBlank()) {
            store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            List<Certificate> certs = new ArrayList<>();
            try (InputStream in = Files.newInputStream(Path.of(caFile))) {
                certs.addAll(CertificateFactory.getInstance("X.509").generateCertificates(in));
            }
            if (certs.isEmpty()) {
                throw new GeneralSecurityException("it holds no PEM certificate");
            }
            for (int i = 0; i < certs.size(); i++) {
                store.setCertificateEntry("ca-" + i, certs.get(i));
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

    /** Accepts any certificate, when the target says so: for test servers with self-signed ones. */
    private static final class TrustAll extends X509ExtendedTrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, java.net.Socket socket) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, java.net.Socket socket) {
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
