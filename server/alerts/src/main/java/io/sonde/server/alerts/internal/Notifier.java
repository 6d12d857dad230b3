package io.sonde.server.alerts.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

import com.google.gson.JsonObject;

import io.sonde.server.spi.AlertState;

/**
 * Delivers notifications: the outbox's document read into a {@link Message}, rendered by the
 * receiver's templates and sent by its {@link Channel}; and the channels' transport — HTTP with a
 * 10 s timeout, no redirects followed, the CAs of {@code alert_ca_file} trusted beside the JDK's —
 * and the webhook signing key. Delivered means answered 2xx (or the mail taken by the SMTP server).
 */
final class Notifier implements Channel.Transport {

    /** The header with the signature: {@code sha256=} and the hex HMAC of {@code timestamp + "." + body}. */
    static final String SIGNATURE = "X-Sonde-Signature";
    /** The header with the signing time, seconds since the epoch: a receiver refuses old ones (replays). */
    static final String TIMESTAMP = "X-Sonde-Timestamp";
    /** The header with the delivery's id: the same on a retry, so a receiver can drop a duplicate. */
    static final String DELIVERY = "X-Sonde-Delivery";
    static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final HttpClient client;
    private final byte[] key;
    private final SSLContext tls;
    private final String publicUrl;

    /**
     * @param key       the webhook signing key
     * @param tls       the TLS context of HTTPS and SMTP receivers
     * @param publicUrl the server's address as people reach it, for the links in messages, or empty
     */
    Notifier(byte[] key, SSLContext tls, String publicUrl) {
        this.key = key.clone();
        this.tls = tls;
        this.publicUrl = publicUrl == null ? "" : publicUrl.strip();
        this.client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).followRedirects(HttpClient.Redirect.NEVER).sslContext(tls).build();
    }

    /**
     * @return a TLS context trusting the JDK's CAs and those of a PEM file (none when {@code caFile} is null)
     * @throws IOException naming the file when it cannot be read or holds no certificate
     */
    static SSLContext tls(Path caFile) throws IOException {
        try {
            TrustManagerFactory jdk = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            jdk.init((KeyStore) null);
            if (caFile == null) {
                SSLContext c = SSLContext.getInstance("TLS");
                c.init(null, jdk.getTrustManagers(), null);
                return c;
            }
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            for (TrustManager tm : jdk.getTrustManagers()) {
                if (tm instanceof X509TrustManager x) {
                    int i = 0;
                    for (X509Certificate c : x.getAcceptedIssuers()) {
                        ks.setCertificateEntry("jdk-" + i++, c);
                    }
                }
            }
            int n = 0;
            try (InputStream in = Files.newInputStream(caFile)) {
                for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    ks.setCertificateEntry("alert-ca-" + n++, c);
                }
            }
            if (n == 0) {
                throw new IOException(caFile + ": no PEM certificate in it (alert_ca_file)");
            }
            TrustManagerFactory both = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            both.init(ks);
            SSLContext c = SSLContext.getInstance("TLS");
            c.init(null, both.getTrustManagers(), null);
            return c;
        } catch (GeneralSecurityException e) {
            throw new IOException((caFile == null ? "the JDK's CAs" : caFile + " (alert_ca_file)") + ": " + e.getMessage(), e);
        }
    }

    /** @return the document that tells of an alert, as a webhook gets it and as the outbox keeps it */
    static JsonObject payload(AlertRule rule, AlertState s, StateMachine.Event event, String summary) {
        return payload(rule, s, event, summary, Map.of());
    }

    /** @param labels the subject's labels (a target's), added as {@code labels} when it has any */
    static JsonObject payload(AlertRule rule, AlertState s, StateMachine.Event event, String summary, Map<String, String> labels) {
        JsonObject o = new JsonObject();
        o.addProperty("version", 1);
        boolean resolved = event == StateMachine.Event.RESOLVED;
        o.addProperty("status", resolved ? "resolved" : "firing");
        o.addProperty("repeat", event == StateMachine.Event.REPEAT);
        o.addProperty("rule", rule.name());
        o.addProperty("type", rule.type().id);
        o.addProperty("severity", rule.severity());
        o.addProperty(rule.type().aboutTargets ? "target" : "agent", s.subject());
        o.addProperty("value", Double.isFinite(s.value()) ? s.value() : null);
        o.addProperty("threshold", Double.isFinite(rule.threshold()) ? rule.threshold() : null);
        o.addProperty("unit", rule.type().takesThreshold() && rule.type() != AlertRule.Type.VALUE ? rule.type().unit : null);
        o.addProperty("summary", summary);
        o.addProperty("detail", s.detail());
        Instant started = resolved ? null : s.firedAt();
        o.addProperty("starts_at", started == null ? null : started.toString());
        o.addProperty("ends_at", resolved ? s.resolvedAt().toString() : null);
        o.addProperty("fired_at", s.firedAt() == null ? null : s.firedAt().toString());
        if (!labels.isEmpty()) {
            JsonObject l = new JsonObject();
            new java.util.TreeMap<>(labels).forEach(l::addProperty);
            o.add("labels", l);
        }
        return o;
    }

    /** @return the HMAC-SHA256 signature header's value for a body signed at {@code timestamp} */
    static String sign(byte[] key, long timestamp, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update((timestamp + ".").getBytes(StandardCharsets.US_ASCII));
            return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    @Override
    public String signature(long timestamp, byte[] body) {
        return sign(key, timestamp, body);
    }

    @Override
    public SSLContext tls() {
        return tls;
    }

    @Override
    public HttpResponse<String> post(URI uri, String contentType, byte[] body, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(TIMEOUT).header("Content-Type", contentType).header("User-Agent", "sonde-server");
        for (int i = 0; i + 1 < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        try {
            return client.send(b.POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IllegalArgumentException e) {
            throw new IOException("not a request that can be sent: " + e.getMessage(), e);
        } catch (javax.net.ssl.SSLException e) {
            throw new IOException("TLS: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new IOException(uri.getScheme() + "://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort()) + ": " + describe(e), e);
        }
    }

    /** @return what went wrong in words: the exception's kind and the first message along its causes (the JDK's client often has none) */
    static String describe(Throwable e) {
        String kind = e instanceof java.net.ConnectException ? "could not connect (ConnectException)" : e.getClass().getSimpleName();
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c.getMessage() != null && !c.getMessage().isBlank()) {
                return kind + ": " + c.getMessage().strip();
            }
        }
        return kind;
    }

    /**
     * Sends one message to one receiver.
     *
     * @param payload  the outbox's document
     * @param delivery its id in the outbox
     * @throws IOException saying why it was not delivered
     */
    void send(NamedReceiver receiver, String payload, long delivery) throws IOException, InterruptedException {
        Message m = Message.of(payload, publicUrl, delivery);
        receiver.channel().send(receiver.config(), m, receiver.title().render(m.fields()), receiver.text().render(m.fields()), this);
    }
}
