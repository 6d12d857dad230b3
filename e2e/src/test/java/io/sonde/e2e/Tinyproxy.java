package io.sonde.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real HTTP proxy (Debian's tinyproxy) on loopback for the test: CONNECT for HTTPS, absolute
 * requests for HTTP, a {@code Via} header on what it forwards. Started in the foreground, stopped
 * by the PID kept here.
 */
final class Tinyproxy implements AutoCloseable {

    static final String BINARY = "/usr/bin/tinyproxy";

    final int port;
    private final Process process;
    private final Path log;

    private Tinyproxy(int port, Process process, Path log) {
        this.port = port;
        this.process = process;
        this.log = log;
    }

    /** Starts one on {@code port}, its configuration and log in {@code dir}; returns once it accepts connections. */
    static Tinyproxy start(Path dir, int port) throws IOException, InterruptedException {
        if (!Files.isExecutable(Path.of(BINARY))) {
            throw new IllegalStateException(BINARY + " is not installed (Debian package tinyproxy; .ci/run installs it)");
        }
        Path conf = dir.resolve("tinyproxy.conf");
        boolean root = "root".equals(System.getProperty("user.name"));
        Files.writeString(conf, (root ? "User nobody\nGroup nogroup\n" : "") + "Port " + port + "\nListen 127.0.0.1\nTimeout 30\n"
                + "LogLevel Connect\nMaxClients 100\nAllow 127.0.0.1\n");
        Path log = dir.resolve("tinyproxy.log");
        Process p = new ProcessBuilder(BINARY, "-d", "-c", conf.toString()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        Tinyproxy proxy = new Tinyproxy(port, p, log);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline && p.isAlive()) {
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                return proxy;
            } catch (IOException e) {
                Thread.sleep(50);
            }
        }
        proxy.close();
        throw new IllegalStateException("tinyproxy did not listen on " + port + ":\n" + proxy.log());
    }

    /** @return what it logged so far: one CONNECT line per tunnel it opened */
    String log() throws IOException {
        return Files.readString(log, StandardCharsets.UTF_8);
    }

    /** @return the tunnels it opened to {@code hostPort} so far */
    long tunnelsTo(String hostPort) throws IOException {
        return log().lines().filter(l -> l.contains("Request (file descriptor") && l.endsWith("CONNECT " + hostPort + " HTTP/1.1"))
                .count();
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
