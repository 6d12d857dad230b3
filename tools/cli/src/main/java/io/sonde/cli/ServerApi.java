package io.sonde.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.UUID;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * The server's REST API for {@code sonde-cli server}: its address, the CA it is trusted by, and
 * the bearer credential, each from an option, the environment or the server's own files; the
 * credential never from the command line, where other users see it.
 */
final class ServerApi {

    /** An answer that is not a success: its status and the server's {@code error}. */
    static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;
        final int status;

        Refused(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    private final URI base;
    private final String token;
    private final HttpClient http;

    ServerApi(URI base, String token, HttpClient http) {
        this.base = base;
        this.token = token;
        this.http = http;
    }

    /**
     * From the options, else SONDE_SERVER, SONDE_TOKEN or SONDE_TOKEN_FILE, SONDE_CA_FILE, else (on
     * the server's host) its etc/io.sonde.server.cfg port, data/admin.token and data/tls/ca.pem.
     */
    static ServerApi of(URI server, Path tokenFile, Path caFile) throws IOException {
        Path home = SondeCli.home();
        URI base = server != null ? server : env("SONDE_SERVER") != null ? URI.create(env("SONDE_SERVER"))
                : URI.create("https://127.0.0.1:" + localPort(home));
        String token;
        if (tokenFile != null) {
            token = read(tokenFile, "--token-file");
        } else if (env("SONDE_TOKEN") != null) {
            token = env("SONDE_TOKEN").strip();
        } else if (env("SONDE_TOKEN_FILE") != null) {
            token = read(Path.of(env("SONDE_TOKEN_FILE")), "SONDE_TOKEN_FILE");
        } else if (Files.isReadable(home.resolve("data/admin.token"))) {
            token = read(home.resolve("data/admin.token"), "the server's data/admin.token");
        } else {
            throw new IOException("No credential: set SONDE_TOKEN (or SONDE_TOKEN_FILE, or --token-file) to an admin or API"
                    + " token; on the server's host its data/admin.token is used");
        }
        Path ca = caFile != null ? caFile : env("SONDE_CA_FILE") != null ? Path.of(env("SONDE_CA_FILE"))
                : Files.isReadable(home.resolve("data/tls/ca.pem")) ? home.resolve("data/tls/ca.pem") : null;
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        if (ca != null) {
            b.sslContext(trusting(ca));
        }
        return new ServerApi(base, token, b.build());
    }

    private static String env(String name) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? null : v;
    }

    private static String read(Path file, String what) throws IOException {
        try {
            String t = Files.readString(file, StandardCharsets.UTF_8).strip();
            if (t.isEmpty()) {
                throw new IOException(what + " (" + file + ") is empty");
            }
            return t;
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IOException(what + ": " + file + " does not exist");
        }
    }

    private static int localPort(Path home) {
        Path cfg = home.resolve("etc/io.sonde.server.cfg");
        try {
            String port = Files.exists(cfg) ? ValidateCommand.properties(cfg).get("port") : null;
            return port == null ? 8443 : Integer.parseInt(port.strip());
        } catch (IOException | NumberFormatException e) {
            return 8443;
        }
    }

    /** TLS trusting the CA certificates of a PEM file (the server's data/tls/ca.pem). */
    static SSLContext trusting(Path pem) throws IOException {
        try (InputStream in = Files.newInputStream(pem)) {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                ks.setCertificateEntry("ca" + i++, c);
            }
            if (i == 0) {
                throw new IOException(pem + " holds no certificate");
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException(pem + " is not a PEM certificate file: " + e.getMessage(), e);
        }
    }

    static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    JsonElement get(String path) throws IOException, InterruptedException, Refused {
        return send("GET", path, null, null);
    }

    /** The most pages {@link #all} follows: a server that never ends a list ends it here. */
    static final int MAX_PAGES = 10_000;

    /**
     * @return every page of a paged list ({@code items}, {@code next}) as one {@code {"items": [...]}},
     *         following {@code next} as {@code after}
     */
    JsonObject all(String path) throws IOException, InterruptedException, Refused {
        com.google.gson.JsonArray items = new com.google.gson.JsonArray();
        String after = null;
        for (int page = 0; page < MAX_PAGES; page++) {
            JsonObject body = get(path + (after == null ? "" : (path.indexOf('?') >= 0 ? "&" : "?") + "after=" + encode(after)))
                    .getAsJsonObject();
            items.addAll(body.getAsJsonArray("items"));
            JsonElement next = body.get("next");
            if (next == null || next.isJsonNull()) {
                JsonObject out = new JsonObject();
                out.add("items", items);
                return out;
            }
            after = next.getAsString();
        }
        throw new IOException(path + ": the list did not end within " + MAX_PAGES + " pages");
    }

    /** GET that answers {@code null} for 404. */
    JsonElement find(String path) throws IOException, InterruptedException, Refused {
        try {
            return get(path);
        } catch (Refused e) {
            if (e.status == 404) {
                return null;
            }
            throw e;
        }
    }

    JsonElement send(String method, String path, String json) throws IOException, InterruptedException, Refused {
        return send(method, path, json == null ? null : json.getBytes(StandardCharsets.UTF_8), "application/json");
    }

    /** A multipart/form-data POST of files (name, file name, bytes). */
    JsonElement upload(String path, String[][] parts, byte[][] contents) throws IOException, InterruptedException, Refused {
        String boundary = "sonde-" + UUID.randomUUID();
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (int i = 0; i < parts.length; i++) {
            body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + parts[i][0] + "\"; filename=\""
                    + parts[i][1] + "\"\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            body.write(contents[i]);
            body.write("\r\n".getBytes(StandardCharsets.UTF_8));
        }
        body.write(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return send("POST", path, body.toByteArray(), "multipart/form-data; boundary=" + boundary);
    }

    /** @return the text a GET answers (a CSV export), refused as {@link #get} is */
    String text(String path) throws IOException, InterruptedException, Refused {
        return exchange("GET", path, null, null).body();
    }

    private JsonElement send(String method, String path, byte[] body, String type) throws IOException, InterruptedException, Refused {
        HttpResponse<String> r = exchange(method, path, body, type);
        return r.body().isBlank() ? null : parsed(r.body());
    }

    private static JsonElement parsed(String body) {
        try {
            return JsonParser.parseString(body);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private HttpResponse<String> exchange(String method, String path, byte[] body, String type) throws IOException, InterruptedException, Refused {
        URI uri = base.resolve(path);
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60)).header("Authorization", "Bearer " + token)
                .header("Accept", "application/json");
        if (body != null) {
            b.header("Content-Type", type).method(method, HttpRequest.BodyPublishers.ofByteArray(body));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpResponse<String> r;
        try {
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (javax.net.ssl.SSLHandshakeException e) {
            throw new IOException(base + " is not trusted (" + e.getMessage() + "): give its CA with SONDE_CA_FILE or --ca-file", e);
        } catch (java.net.ConnectException e) {
            throw new IOException("No server answers at " + base + ": set SONDE_SERVER or --server", e);
        }
        if (r.statusCode() >= 400) {
            JsonElement json = parsed(r.body());
            String error = json != null && json.isJsonObject() && json.getAsJsonObject().has("error")
                    ? json.getAsJsonObject().get("error").getAsString() : r.body().strip();
            throw new Refused(r.statusCode(), method + " " + path + ": " + r.statusCode() + " " + error);
        }
        return r;
    }
}
