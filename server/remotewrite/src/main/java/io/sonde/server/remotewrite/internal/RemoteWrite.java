package io.sonde.server.remotewrite.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.prometheus.client.Collector;
import io.sonde.server.spi.KindRoles;
import io.sonde.server.spi.ResultListener;
import io.sonde.server.spi.Store;
import io.sonde.spool.Spool;
import io.sonde.wire.WireResult;

/**
 * Forwards every result the server stores to a Prometheus remote-write receiver. Each batch's
 * results go into a durable queue on disk ({@code data/remote-write/}, the agent's spool) before
 * the agent is answered, and one sender drains it in order: a receiver that is away gets a backlog
 * bounded in bytes and age (the oldest go first, counted), sent when it is back; a request the
 * receiver refuses as wrong (4xx) is split in halves until the results it refuses are found, and
 * only those are dropped, counted. Results of a series not newer than what was queued for it (a
 * batch sent again) are not queued twice: a receiver refuses out-of-order samples.
 *
 * <p>Each instance over one database forwards what it stored itself.
 */
@Component(service = {ResultListener.class, Collector.class}, immediate = true, configurationPid = RemoteWriteConfig.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = RemoteWriteConfig.class)
public final class RemoteWrite extends Collector implements ResultListener {

    private static final Logger LOG = LoggerFactory.getLogger(RemoteWrite.class);

    private final Forwarder forwarder;

    @Activate
    public RemoteWrite(BundleContext context, RemoteWriteConfig config, @Reference Store store) {
        this.forwarder = forwarder(context, config, store);
    }

    /** The forwarder's metrics, served at the server's /metrics (a Collector service, by DS); none while remote write is off. */
    @Override
    public List<MetricFamilySamples> collect() {
        return forwarder == null ? List.of() : forwarder.collect();
    }

    /**
     * @return the forwarder the settings describe, started; null when they are wrong: that is
     *         logged naming the file and the key, and the server goes on without remote write (its
     *         health does not hang on it) until the file is put right
     */
    private static Forwarder forwarder(BundleContext context, RemoteWriteConfig config, Store store) {
        String where = "etc/" + RemoteWriteConfig.PID + ".cfg";
        try {
            URI url = url(config.url(), where);
            Samples samples = new Samples(labels(config.labels(), where));
            Path home = io.sonde.base.Home.of(context::getProperty);
            String authorization = authorization(home, config, where);
            HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).followRedirects(HttpClient.Redirect.NEVER);
            if (!config.ca__file().isBlank()) {
                b.sslContext(trusting(home.resolve(config.ca__file().strip()), where));
            }
            Spool spool = Spool.open(home.resolve("data").resolve("remote-write"), Math.max(64 * 1024, config.max__backlog__bytes()),
                    Math.max(60, config.max__age__s()) * 1000L, System::currentTimeMillis);
            Forwarder f = new Forwarder(url, authorization, b.build(), spool, samples, new KindRoles(store::announcedKinds),
                    Duration.ofSeconds(Math.max(1, config.timeout__s())), config.max__results__per__send()).start();
            LOG.info("Remote write to {}: {} results waiting in the queue", url, f.waiting());
            return f;
        } catch (IllegalArgumentException | IOException | GeneralSecurityException e) {
            LOG.error("Remote write is off: {}", e.getMessage() == null ? e.toString() : e.getMessage());
            return null;
        }
    }

    @Deactivate
    void deactivate() throws InterruptedException {
        if (forwarder != null) {
            forwarder.close();
        }
    }

    @Override
    public void stored(String agentId, List<WireResult> results) {
        if (forwarder != null) {
            forwarder.stored(agentId, results);
        }
    }

    private static URI url(String value, String where) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(where + ": url: is not set (the receiver's, for example http://prometheus:9090/api/v1/write)");
        }
        URI u;
        try {
            u = URI.create(value.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": url: '" + value + "' is not a URL: " + e.getMessage());
        }
        if (!("http".equals(u.getScheme()) || "https".equals(u.getScheme())) || u.getHost() == null) {
            throw new IllegalArgumentException(where + ": url: '" + value + "' is not an http:// or https:// URL with a host");
        }
        return u;
    }

    private static Map<String, String> labels(String value, String where) {
        try {
            return Samples.parseLabels(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage());
        }
    }

    static String authorization(Path home, RemoteWriteConfig config, String where) throws IOException {
        if (!config.bearer__token__file().isBlank()) {
            return "Bearer " + secret(home, config.bearer__token__file(), where + ": bearer_token_file");
        }
        if (!config.basic__auth__user().isBlank()) {
            String password = config.basic__auth__password__file().isBlank() ? ""
                    : secret(home, config.basic__auth__password__file(), where + ": basic_auth_password_file");
            return "Basic " + Base64.getEncoder().encodeToString((config.basic__auth__user() + ":" + password).getBytes(StandardCharsets.UTF_8));
        }
        return null;
    }

    private static String secret(Path home, String file, String what) throws IOException {
        Path p = home.resolve(file.strip());
        try {
            String s = Files.readString(p, StandardCharsets.UTF_8).strip();
            if (s.isEmpty()) {
                throw new IllegalArgumentException(what + ": " + p + " is empty");
            }
            return s;
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalArgumentException(what + ": " + p + " does not exist");
        }
    }

    static SSLContext trusting(Path pem, String where) throws IOException, GeneralSecurityException {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        int i = 0;
        try (InputStream in = Files.newInputStream(pem)) {
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                trust.setCertificateEntry("ca" + i++, c);
            }
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IllegalArgumentException(where + ": ca_file: " + pem + " does not exist");
        } catch (java.security.cert.CertificateException e) {
            throw new IllegalArgumentException(where + ": ca_file: " + pem + " is not PEM certificates: " + e.getMessage());
        }
        if (i == 0) {
            throw new IllegalArgumentException(where + ": ca_file: " + pem + " holds no PEM certificate");
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }
}
