package io.sonde.server.store.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * {@code bin/sonde-server-store backup | restore <file.zip> | copy-to-postgres}: the store's
 * commands beside the server, on its home ({@code sonde.home}).
 */
public final class StoreCommand {

    static final String USAGE = "usage: sonde-server-store backup | restore <backup.zip> | copy-to-postgres";

    private StoreCommand() {
    }

    public static void main(String[] args) {
        Path home = io.sonde.base.Home.ofProcess();
        String command = args.length == 0 ? "" : args[0];
        try {
            String said = switch (command) {
                case "backup" -> args.length == 1 ? backup(home) : null;
                case "restore" -> args.length == 2 ? RestoreStore.restore(Path.of(args[1]).toAbsolutePath(), home.resolve("data/store")) : null;
                case "copy-to-postgres" -> args.length == 1 ? CopyStore.copy(home) : null;
                default -> null;
            };
            if (said == null) {
                System.err.println(USAGE);
                System.exit(2);
            }
            System.out.println(said);
        } catch (IOException | SQLException | IllegalStateException | java.security.GeneralSecurityException e) {
            System.err.println("sonde-server-store " + command + ": " + e.getMessage());
            System.exit(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            System.exit(1);
        }
    }

    /** Asks the running server of this home for an online backup, with its admin token, trusting its CA. */
    static String backup(Path home) throws IOException, InterruptedException, java.security.GeneralSecurityException {
        Properties cfg = new Properties();
        try (InputStream in = Files.newInputStream(home.resolve("etc/io.sonde.server.cfg"))) {
            cfg.load(in);
        }
        String bind = cfg.getProperty("bind", "0.0.0.0").strip();
        String host = bind.isEmpty() || bind.equals("0.0.0.0") || bind.equals("::") ? "127.0.0.1" : bind;
        URI uri = URI.create("https://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + cfg.getProperty("port", "8443").strip()
                + "/api/v1/admin/backup");
        Path token = home.resolve("data/admin.token");
        if (!Files.isReadable(token)) {
            throw new IllegalStateException("cannot read the admin token " + token);
        }
        HttpClient.Builder client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        Path ca = home.resolve("data/tls/ca.pem");
        if (Files.exists(ca) && cfg.getProperty("tls_cert", "").isBlank()) { // the server's own CA; else the JDK's trust
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            try (InputStream in = Files.newInputStream(ca)) {
                ks.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(null, tmf.getTrustManagers(), null);
            client.sslContext(tls);
        }
        HttpResponse<String> r;
        try {
            r = client.build().send(HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(30))
                    .header("Authorization", "Bearer " + Files.readString(token, StandardCharsets.US_ASCII).strip())
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException("cannot reach the server at " + uri + " (" + e.getMessage() + "); is it running?");
        }
        if (r.statusCode() != 201) {
            throw new IllegalStateException("the server answered " + r.statusCode() + ": " + r.body());
        }
        return "Backup written: " + r.body();
    }
}
