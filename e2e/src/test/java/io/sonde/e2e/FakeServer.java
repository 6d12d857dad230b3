package io.sonde.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.GZIPInputStream;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

/**
 * A Sonde server of the test's own, to answer an agent badly on purpose: the JDK's HTTPS server with
 * a self-signed certificate the agent trusts through {@code server_ca_file}. It enrolls the agent
 * {@code agentId}, takes its results (their sequence numbers in {@link #results}) and statuses (kept in
 * {@link #statuses}, answered with {@link #statusAnswer}), serves {@link #answer}
 * for its configuration document, and what {@link #files} maps a path to for anything else.
 */
final class FakeServer implements AutoCloseable {

    /** An answer: status, body, headers (name, value in turn). */
    record Answer(int status, byte[] body, String... headers) {

        static Answer json(int status, String body, String... headers) {
            return new Answer(status, body.getBytes(StandardCharsets.UTF_8), headers);
        }
    }

    final Path dir;
    final String agentId;
    private final HttpsServer server;
    private final java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(8);
    /** What the configuration document request is answered with now. */
    volatile Answer answer = Answer.json(404, "{\"error\":\"no document yet\"}");
    /** Other paths and their answers. */
    final Map<String, Answer> files = new ConcurrentHashMap<>();
    /** Paths answered by a handler of the test's own (before {@link #files}). */
    final Map<String, com.sun.net.httpserver.HttpHandler> handlers = new ConcurrentHashMap<>();
    /** Every path asked for, in order. */
    final List<String> requests = new CopyOnWriteArrayList<>();
    final List<JsonObject> statuses = new CopyOnWriteArrayList<>();
    /** What a status is answered with now (null: taken, 204). */
    volatile Answer statusAnswer;
    /** Whether a batch's answer asks for a status ({@code status_wanted}), as a server holding none of the agent does. */
    volatile boolean statusWanted;
    /** The pace a batch's answer tells (batch_interval_ms), or 0 for none. */
    volatile long batchIntervalMs;
    /** Batches still to be turned away busy (429, Retry-After: 1), each counted down. */
    final java.util.concurrent.atomic.AtomicInteger busyFor = new java.util.concurrent.atomic.AtomicInteger();
    /** Each batch's count of results, turned away or taken, in order; turned away ones negative. */
    final List<Integer> batches = new CopyOnWriteArrayList<>();
    /** The failed results taken. */
    final java.util.concurrent.atomic.AtomicInteger failures = new java.util.concurrent.atomic.AtomicInteger();
    /** The sequence numbers of the results taken, each as often as it came (a result sent twice is there twice). */
    final List<Long> results = new CopyOnWriteArrayList<>();

    FakeServer(String agentId) throws Exception {
        this.agentId = agentId;
        dir = Files.createTempDirectory("sonde-fake-server-");
        Path ks = dir.resolve("server.p12");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        AgentProcess.output(0, keytool, "-genkeypair", "-keystore", ks.toString(), "-storetype", "PKCS12", "-storepass", "changeit",
                "-alias", "s", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=fake sonde server", "-ext", "san=ip:127.0.0.1",
                "-validity", "2");
        AgentProcess.output(0, keytool, "-exportcert", "-rfc", "-alias", "s", "-keystore", ks.toString(), "-storepass", "changeit",
                "-file", dir.resolve("ca.pem").toString());
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(ks)) {
            store.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, "changeit".toCharArray());
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(kmf.getKeyManagers(), null, null);
        server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
        server.setHttpsConfigurator(new HttpsConfigurator(tls));
        server.createContext("/", this::handle);
        server.setExecutor(threads); // a handler that stalls on purpose holds up no other request
        server.start();
    }

    /** @return the server's base URL */
    String url() {
        return "https://127.0.0.1:" + server.getAddress().getPort();
    }

    /** @return the uplink's configuration for this server, with {@code extra} lines */
    String uplinkConfig(String extra) {
        return "server_url = " + url() + "\nenrollment_token = t\n"
                + "server_ca_file = " + dir.resolve("ca.pem") + "\n" + extra;
    }

    @Override
    public void close() throws Exception {
        server.stop(0);
        threads.shutdownNow();
        AgentProcess.run("rm", "-rf", dir.toString());
    }

    private void handle(HttpExchange x) throws IOException {
        try (x) {
            String path = x.getRequestURI().getPath();
            requests.add(path);
            byte[] body = x.getRequestBody().readAllBytes();
            String agent = "/api/v1/agents/" + agentId;
            if (path.equals("/api/v1/enroll")) {
                reply(x, Answer.json(200, "{\"schema\":1,\"agent_id\":\"" + agentId + "\",\"credential\":\"c-123\",\"tags\":[]}"));
            } else if (path.equals(agent + "/status")) {
                statuses.add(JsonParser.parseString(new String(body, StandardCharsets.UTF_8)).getAsJsonObject());
                Answer a = statusAnswer;
                if (a == null) {
                    x.sendResponseHeaders(204, -1);
                } else {
                    reply(x, a);
                }
            } else if (path.equals(agent + "/results")) {
                JsonObject batch = JsonParser.parseString(new String(new GZIPInputStream(new java.io.ByteArrayInputStream(body))
                        .readAllBytes(), StandardCharsets.UTF_8)).getAsJsonObject();
                int size = batch.getAsJsonArray("results").size();
                if (busyFor.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                    batches.add(-size);
                    reply(x, Answer.json(429, "{\"error\":\"busy\"}", "Retry-After", "1"));
                    return;
                }
                batches.add(size);
                batch.getAsJsonArray("results").forEach(r -> {
                    if (!r.getAsJsonObject().get("success").getAsBoolean()) {
                        failures.incrementAndGet();
                    }
                    results.add(r.getAsJsonObject().get("seq").getAsLong());
                });
                reply(x, Answer.json(200, "{\"schema\":1,\"accepted\":" + batch.getAsJsonArray("results").size() + ",\"duplicates\":0"
                        + (statusWanted ? ",\"status_wanted\":true" : "")
                        + (batchIntervalMs > 0 ? ",\"batch_interval_ms\":" + batchIntervalMs : "") + "}"));
            } else if (path.equals(agent + "/config")) {
                reply(x, answer);
            } else if (handlers.containsKey(path)) {
                handlers.get(path).handle(x);
            } else {
                reply(x, files.getOrDefault(path, Answer.json(404, "{\"error\":\"no such resource\"}")));
            }
        }
    }

    private static void reply(HttpExchange x, Answer a) throws IOException {
        for (int i = 0; i + 1 < a.headers().length; i += 2) {
            x.getResponseHeaders().add(a.headers()[i], a.headers()[i + 1]);
        }
        if (!x.getResponseHeaders().containsKey("Content-Type")) {
            x.getResponseHeaders().add("Content-Type", "application/json");
        }
        x.sendResponseHeaders(a.status(), a.body().length == 0 ? -1 : a.body().length);
        if (a.body().length > 0) {
            x.getResponseBody().write(a.body());
        }
    }
}
