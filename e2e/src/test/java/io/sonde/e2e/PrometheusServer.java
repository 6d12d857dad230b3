package io.sonde.e2e;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.Assume;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * A real Prometheus (Debian's prometheus, 2.42) with its remote-write receiver on, scraping
 * nothing: what Sonde's server forwards is all it holds. Stopped and started again on the same
 * port and data, as a receiver that goes away and comes back.
 */
final class PrometheusServer implements AutoCloseable {

    static final String PROMETHEUS = "/usr/bin/prometheus";

    final int port;
    private final Path dir;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private Process process;

    private PrometheusServer(Path dir, int port) {
        this.dir = dir;
        this.port = port;
    }

    /** A Prometheus on {@code port}, not started. Fails under CI when it is not installed. */
    static PrometheusServer on(int port) throws IOException {
        Assume.assumeTrue("prometheus is not installed (Debian package prometheus); CI installs it",
                new File(PROMETHEUS).canExecute() || System.getenv("CI") != null);
        Path dir = Files.createTempDirectory("sonde-prometheus-");
        Files.writeString(dir.resolve("prometheus.yml"), "global:\n  scrape_interval: 1m\nscrape_configs: []\n");
        return new PrometheusServer(dir, port);
    }

    String writeUrl() {
        return "http://127.0.0.1:" + port + "/api/v1/write";
    }

    /** Starts it and waits until it is ready. */
    PrometheusServer start() throws Exception {
        process = new ProcessBuilder(PROMETHEUS, "--config.file=" + dir.resolve("prometheus.yml"), "--storage.tsdb.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port, "--web.enable-remote-write-receiver")
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("prometheus.log").toFile()))
                .start();
        for (int i = 0; i < 300; i++) {
            if (!process.isAlive()) {
                throw new AssertionError("prometheus exited with " + process.exitValue() + ": " + log());
            }
            try {
                if (http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/-/ready")).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode() == 200) {
                    return this;
                }
            } catch (IOException notYet) {
                // starting
            }
            Thread.sleep(100);
        }
        throw new AssertionError("prometheus was not ready within 30 s: " + log());
    }

    /** SIGTERM, and wait: it writes its head to disk and is gone. */
    void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** @return the value of an instant query's single result, or 0 when it has none */
    double scalar(String promql) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/query?query="
                + URLEncoder.encode(promql, StandardCharsets.UTF_8))).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new AssertionError(promql + ": " + r.statusCode() + " " + r.body());
        }
        JsonArray result = JsonParser.parseString(r.body()).getAsJsonObject().getAsJsonObject("data").getAsJsonArray("result");
        if (result.isEmpty()) {
            return 0;
        }
        if (result.size() > 1) {
            throw new AssertionError(promql + ": more than one series: " + result);
        }
        JsonObject first = result.get(0).getAsJsonObject();
        return Double.parseDouble(first.getAsJsonArray("value").get(1).getAsString());
    }

    String log() throws IOException {
        Path p = dir.resolve("prometheus.log");
        return Files.exists(p) ? Files.readString(p) : "";
    }

    @Override
    public void close() throws Exception {
        if (process != null && process.isAlive()) {
            stop();
        }
        AgentProcess.run("rm", "-rf", dir.toString());
    }
}
