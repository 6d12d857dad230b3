package io.sonde.e2e;

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
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * A copy of the built server distribution in a temporary directory, started with
 * {@code bin/sonde-server} as a real process on a free loopback port; asked over HTTPS trusting
 * only the CA it made.
 */
final class ServerProcess implements AutoCloseable {

    static final Duration PATIENCE = Duration.ofSeconds(40);

    final Path home;
    final int port;
    private final Path console;
    private Process process;
    /** Set before {@link #launch()}: added to the server's environment (JAVA_OPTS, say). */
    final java.util.Map<String, String> environment = new java.util.HashMap<>();
    private HttpClient http;
    private String fingerprint;

    private ServerProcess(Path home, int port) {
        this.home = home;
        this.port = port;
        this.console = home.resolve("log/console.log");
    }

    static Path distribution() {
        return Path.of(System.getProperty("sonde.server.distribution", "../dist/target/sonde-server")).toAbsolutePath();
    }

    /** Copies the distribution, sets its port and extra settings ({@code key = value} lines), starts it. */
    static ServerProcess start(String extraConfig) throws Exception {
        return start(extraConfig, home -> { });
    }

    /**
     * Starts another instance of {@code first}'s server: its own home and port, the same settings
     * ({@code extraConfig}, which names the shared database), and {@code first}'s CA, certificate
     * and admin token, as an operator copies them to each instance.
     */
    static ServerProcess startBeside(ServerProcess first, String extraConfig) throws Exception {
        return start(extraConfig, home -> {
            Files.createDirectories(home.resolve("data"));
            AgentProcess.run("cp", "-a", first.home.resolve("data/tls").toString(), first.home.resolve("data/admin.token").toString(),
                    first.home.resolve("data/alerts").toString(),
                    home.resolve("data").toString());
        });
    }

    /** A fresh server home with {@code backup} restored into it by bin/sonde-server-store, started. */
    static ServerProcess restored(Path backup) throws Exception {
        return start("", home -> {
            String said = AgentProcess.output(0, home.resolve("bin/sonde-server-store").toString(), "restore", backup.toString());
            if (!said.startsWith("Restored ")) {
                throw new AssertionError(said);
            }
        });
    }

    /** A new home configured as {@link #start(String)} does, not started: set {@link #environment}, then {@link #launch()}. */
    static ServerProcess prepared(String extraConfig) throws Exception {
        return create(extraConfig, home -> { });
    }

    long pid() {
        return process.pid();
    }

    /** Like {@link #start(String)}, but returns once the process runs, healthy or not. */
    static ServerProcess startUnwaited(String extraConfig) throws Exception {
        ServerProcess s = create(extraConfig, home -> { });
        s.launchUnwaited();
        return s;
    }

    private static int configure(Path home, String extraConfig) throws IOException {
        int port = AgentProcess.freePort();
        Files.writeString(home.resolve("etc/io.sonde.server.cfg"),
                "port = " + port + "\nbind = 127.0.0.1\nstore = h2\n" + extraConfig);
        Files.createDirectories(home.resolve("log"));
        return port;
    }

    /** What is done to a new home before its server starts. */
    private interface Preparation {
        void into(Path home) throws Exception;
    }

    private static ServerProcess start(String extraConfig, Preparation prepare) throws Exception {
        ServerProcess s = create(extraConfig, prepare);
        try {
            s.launch();
        } catch (Exception | AssertionError e) {
            s.close(); // nobody else holds it: a server left running would outlive the test
            throw e;
        }
        return s;
    }

    /** A new home: the distribution copied, prepared, configured on a free port; not started. */
    private static ServerProcess create(String extraConfig, Preparation prepare) throws Exception {
        Path home = Files.createTempDirectory("sonde-server-e2e-");
        AgentProcess.run("cp", "-a", distribution() + "/.", home.toString());
        prepare.into(home);
        return new ServerProcess(home, configure(home, extraConfig));
    }

    /** Starts the server (again) on its home and waits until it answers /healthz. */
    void launch() throws Exception {
        launchUnwaited();
        awaitHealthy();
    }

    /** Starts the server (again) on its home without waiting for it to be healthy. */
    void launchUnwaited() throws Exception {
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/sonde-server").toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(console.toFile()));
        pb.environment().remove("SONDE_SERVER_HOME");
        pb.environment().putAll(environment);
        process = pb.start();
    }

    /** Waits until the server answers /healthz with 200. */
    void awaitHealthy() throws Exception {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("the server exited with " + process.exitValue() + "; its log:\n" + log());
            }
            if (http == null && Files.exists(home.resolve("data/tls/ca.pem")) && Files.exists(home.resolve("data/admin.token"))) {
                http = client(home.resolve("data/tls/ca.pem"));
            }
            if (http != null) {
                try {
                    if (get("/healthz").statusCode() == 200) {
                        Matcher m = Pattern.compile("fingerprint is ([0-9A-F:]{95})").matcher(log());
                        if (m.find()) {
                            fingerprint = m.group(1);
                            return;
                        }
                    }
                } catch (IOException e) {
                    // not listening yet
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the server did not become healthy within " + PATIENCE + "; log:\n" + log());
    }

    /** @return the client the requests of this class go through, trusting the server's CA: for a request they do not make */
    HttpClient client() {
        return http;
    }

    static HttpClient client(Path caPem) throws Exception {
        return HttpClient.newBuilder().sslContext(sslContext(caPem)).connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** A TLS context that trusts this CA only. */
    static SSLContext sslContext(Path caPem) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        try (InputStream in = Files.newInputStream(caPem)) {
            ks.setCertificateEntry("ca", (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    /**
     * One HTTP/1.1 request sent from a given loopback source address (127.0.0.2 is another host to
     * the server): {@code [status, body]}.
     */
    String[] requestFrom(String source, String method, String path, String contentType, String body, String... headers) throws Exception {
        javax.net.ssl.SSLSocketFactory f = sslContext(home.resolve("data/tls/ca.pem")).getSocketFactory();
        byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        try (javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) f.createSocket(java.net.InetAddress.getByName("127.0.0.1"), port,
                java.net.InetAddress.getByName(source), 0)) {
            s.setSoTimeout(30_000);
            StringBuilder req = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n");
            if (contentType != null) {
                req.append("Content-Type: ").append(contentType).append("\r\n");
            }
            for (int i = 0; i + 1 < headers.length; i += 2) {
                req.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
            }
            req.append("Content-Length: ").append(bytes.length).append("\r\n\r\n");
            s.getOutputStream().write(req.toString().getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().write(bytes);
            s.getOutputStream().flush();
            String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            String status = all.substring(9, 12);
            int start = all.indexOf("\r\n\r\n");
            String head = start < 0 ? all : all.substring(0, start);
            String answer = start < 0 ? "" : all.substring(start + 4);
            if (head.toLowerCase(java.util.Locale.ROOT).contains("transfer-encoding: chunked")) {
                StringBuilder b = new StringBuilder();
                int at = 0;
                while (at < answer.length()) {
                    int nl = answer.indexOf("\r\n", at);
                    int size = Integer.parseInt(answer.substring(at, nl).split(";")[0].strip(), 16);
                    if (size == 0) {
                        break;
                    }
                    b.append(answer, nl + 2, nl + 2 + size);
                    at = nl + 2 + size + 2;
                }
                answer = b.toString();
            }
            return new String[] {status, new String(answer.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8)};
        }
    }

    String url() {
        return "https://127.0.0.1:" + port;
    }

    /** @return the CA fingerprint the server logged */
    String fingerprint() {
        return fingerprint;
    }

    String adminToken() throws IOException {
        return Files.readString(home.resolve("data/admin.token")).strip();
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(url() + path)).GET(), null);
    }

    /** A request with the admin token. */
    HttpResponse<String> admin(String method, String path, String json) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(url() + path))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json))
                .header("Content-Type", "application/json"), adminToken());
    }

    /** A POST with any bearer token (or none) and a raw body. */
    HttpResponse<String> post(String path, String bearer, byte[] body, String... headers) throws IOException, InterruptedException {
        return request("POST", path, bearer, body, headers);
    }

    /** Any request with any bearer token (or none), a raw body (or none) and headers, name and value in turn. */
    HttpResponse<String> request(String method, String path, String bearer, byte[] body, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        for (int i = 0; i + 1 < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return send(b, bearer);
    }

    private HttpResponse<String> send(HttpRequest.Builder b, String bearer) throws IOException, InterruptedException {
        if (bearer != null) {
            b.header("Authorization", "Bearer " + bearer);
        }
        return http.send(b.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    JsonObject json(HttpResponse<String> r) {
        return JsonParser.parseString(r.body()).getAsJsonObject();
    }

    /** Makes an enrollment token with {@code body} and returns its secret. */
    String enrollmentToken(String body) throws Exception {
        HttpResponse<String> r = admin("POST", "/api/v1/enrollment-tokens", body);
        if (r.statusCode() != 201) {
            throw new AssertionError("token: " + r.statusCode() + " " + r.body());
        }
        return json(r).get("token").getAsString();
    }

    /** The io.sonde.server.store.cfg lines of a server on the PostgreSQL database {@code jdbcUrl} of the throw-away {@code cluster}. */
    static String postgres(io.sonde.server.store.internal.PostgresCluster cluster, String jdbcUrl) {
        return "store = postgres\njdbc_url = " + jdbcUrl + "\nuser = " + io.sonde.server.store.internal.PostgresCluster.USER
                + "\npassword_file = " + cluster.passwordFile() + "\n";
    }

    /** The io.sonde.uplink.cfg that connects an agent to this server with {@code token}. */
    String uplinkConfig(String token, String extra) {
        return "server_url = " + url() + "\nenrollment_token = " + token + "\nserver_ca_sha256 = " + fingerprint + "\n"
                + "status_interval_s = 2\n" + extra;
    }

    /** Every stored result of {@code agent}, paged through the API, oldest first. */
    List<JsonObject> results(String agent, String target) throws Exception {
        List<JsonObject> out = new java.util.ArrayList<>();
        String after = null;
        for (int page = 0; page < 10_000; page++) {
            String q = "/api/v1/results?limit=10000&from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z"
                    + (agent == null ? "" : "&agent=" + agent) + (target == null ? "" : "&target=" + target)
                    + (after == null ? "" : "&after=" + after);
            HttpResponse<String> r = admin("GET", q, null);
            if (r.statusCode() != 200) {
                throw new AssertionError("results: " + r.statusCode() + " " + r.body());
            }
            JsonObject body = json(r);
            for (JsonElement e : body.getAsJsonArray("items")) {
                out.add(e.getAsJsonObject());
            }
            if (body.get("next").isJsonNull()) {
                return out;
            }
            after = body.get("next").getAsString();
        }
        throw new AssertionError("too many pages");
    }

    /** The agent as {@code GET /api/v1/agents} lists it, or null. */
    JsonObject agent(String id) throws Exception {
        for (JsonElement e : json(admin("GET", "/api/v1/agents", null)).getAsJsonArray("items")) {
            if (e.getAsJsonObject().get("agent_id").getAsString().equals(id)) {
                return e.getAsJsonObject();
            }
        }
        return null;
    }

    String log() throws IOException {
        return Files.exists(console) ? Files.readString(console, StandardCharsets.UTF_8) : "";
    }

    /** Waits (at most {@link #PATIENCE}) for a log line holding every one of {@code parts}. */
    void awaitLogLine(String... parts) throws Exception {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (System.nanoTime() < deadline) {
            if (log().lines().anyMatch(l -> java.util.Arrays.stream(parts).allMatch(l::contains))) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no log line with " + java.util.List.of(parts) + "; log:\n" + log());
    }

    boolean alive() {
        return process != null && process.isAlive();
    }

    /** SIGKILL, as a crash would. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGTERM, and wait. */
    void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() throws Exception {
        if (process != null && process.isAlive()) {
            stop();
        }
        AgentProcess.run("rm", "-rf", home.toString());
    }
}
