package io.sonde.server.core.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Prepares the server's TLS material and configures the HTTP Whiteboard's Jetty for HTTPS only on
 * {@code port} and {@code bind}; the Whiteboard waits for this configuration before it listens.
 */
@Component(configurationPid = ServerConfig.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL, service = {})
@Designate(ocd = ServerConfig.class)
public final class HttpsListener {

    private static final Logger LOG = LoggerFactory.getLogger(HttpsListener.class);
    /** The HTTP Whiteboard implementation's configuration PID. */
    static final String JETTY_PID = "org.apache.felix.http";
    /** Largest request the listener takes at all; the endpoints bound their bodies further. */
    static final long REQUEST_SIZE_LIMIT = 32L << 20;

    @Activate
    public HttpsListener(BundleContext context, ServerConfig config, Map<String, Object> properties,
            @Reference ConfigurationAdmin configurationAdmin, @Reference ListenerTuning tuning) throws IOException, GeneralSecurityException {
        // tuning: only that the factory which takes the listener over is there when Jetty starts on the configuration below
        Path home = io.sonde.base.Home.of(context::getProperty);
        String cert = config.tls__cert().strip();
        String key = config.tls__key().strip();
        Object source = properties.getOrDefault("felix.fileinstall.filename", ServerConfig.PID);
        if (cert.isEmpty() != key.isEmpty()) {
            LOG.error("Configuration error: {}: key '{}': tls_cert and tls_key go together; using the server's own CA",
                    source, cert.isEmpty() ? "tls_cert" : "tls_key");
            cert = "";
        }
        boolean[] refused = {false};
        ServerTls.Material tls = ServerTls.prepareOrOwn(home.resolve("data").resolve("tls"),
                cert.isEmpty() ? null : home.resolve(cert), cert.isEmpty() ? null : home.resolve(key),
                ServerTls.names(config.bind(), config.tls__names()), Instant.now(), problem -> {
                    refused[0] = true;
                    LOG.error("Configuration error: {}: key 'tls_cert': {}; using the server's own CA", source, problem);
                });
        if (refused[0]) {
            cert = "";
        }
        if (tls.ca() != null && !cert.isEmpty()) {
            LOG.info("TLS: certificate from {}; its CA's SHA-256 fingerprint is {}", cert, tls.fingerprint());
        } else if (cert.isEmpty()) {
            LOG.info("TLS: the server's own CA is {}; its SHA-256 fingerprint is {} (agents pin it as server_ca_sha256)",
                    home.resolve("data/tls/ca.pem"), tls.fingerprint());
            if (tls.made()) {
                LOG.info("TLS: made a server certificate for {}, valid until {}",
                        ServerTls.names(config.bind(), config.tls__names()), tls.leaf().getNotAfter().toInstant());
            }
        } else {
            LOG.info("TLS: certificate from {}; its SHA-256 fingerprint is {}", cert, tls.fingerprint());
        }
        Dictionary<String, Object> jetty = new Hashtable<>();
        jetty.put("org.apache.felix.http.enable", false);
        jetty.put("org.apache.felix.https.enable", true);
        jetty.put("org.osgi.service.http.port.secure", config.port());
        jetty.put("org.apache.felix.http.host", config.bind().strip());
        jetty.put("org.apache.felix.https.keystore", tls.keyStore().toString());
        jetty.put("org.apache.felix.https.keystore.type", "PKCS12");
        jetty.put("org.apache.felix.https.keystore.password", tls.password());
        jetty.put("org.apache.felix.https.keystore.key.password", tls.password());
        jetty.put("org.apache.felix.https.jetty.protocols.included", "TLSv1.3,TLSv1.2");
        jetty.put("org.apache.felix.http.jetty.sendServerHeader", false);
        jetty.put("org.apache.felix.http.jetty.requestSizeLimit", REQUEST_SIZE_LIMIT);
        Configuration c = configurationAdmin.getConfiguration(JETTY_PID, "?");
        c.updateIfDifferent(jetty);
        LOG.info("HTTPS on {}:{}", config.bind().strip(), config.port());
    }
}
