package io.sonde.e2e;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.Assume;

/**
 * A real HAProxy (Debian's haproxy) in front of server instances, as an operator runs it: TCP
 * mode, so TLS goes through to the instances and the agents pin the instances' shared CA as
 * before; each instance checked by its own {@code /healthz} over TLS every 500 ms and taken out
 * after two failures; a connection refused by a dead instance tried again on another
 * ({@code option redispatch}).
 */
final class LoadBalancer implements AutoCloseable {

    static final String HAPROXY = "/usr/sbin/haproxy";

    final int port;
    private final Path dir;
    private final Process process;

    private LoadBalancer(Path dir, int port, Process process) {
        this.dir = dir;
        this.port = port;
        this.process = process;
    }

    /** Starts HAProxy on a free loopback port in front of {@code servers}; fails under CI if it is missing. */
    static LoadBalancer start(List<ServerProcess> servers) throws Exception {
        Assume.assumeTrue("haproxy is not installed; CI installs it", new File(HAPROXY).canExecute() || System.getenv("CI") != null);
        Path dir = Files.createTempDirectory("sonde-haproxy-");
        int port = AgentProcess.freePort();
        StringBuilder cfg = new StringBuilder()
                .append("global\n    maxconn 4096\n    log stdout format raw local0 info\n")
                .append("defaults\n    mode tcp\n    log global\n    option tcplog\n    timeout connect 1s\n")
                .append("    timeout client 120s\n    timeout server 120s\n    retries 3\n    option redispatch\n")
                .append("frontend sonde\n    bind 127.0.0.1:").append(port).append("\n    default_backend instances\n")
                .append("backend instances\n    balance roundrobin\n    option httpchk GET /healthz\n")
                .append("    http-check expect status 200\n")
                .append("    default-server check check-ssl verify none inter 500ms fall 2 rise 2\n");
        for (int i = 0; i < servers.size(); i++) {
            cfg.append("    server s").append(i).append(' ').append(servers.get(i).url().substring("https://".length())).append('\n');
        }
        return start(dir, port, cfg.toString());
    }

    /** Starts HAProxy with a configuration of one's own that listens on {@code port} (a free loopback port). */
    static LoadBalancer start(int port, String config) throws Exception {
        Assume.assumeTrue("haproxy is not installed; CI installs it", new File(HAPROXY).canExecute() || System.getenv("CI") != null);
        return start(Files.createTempDirectory("sonde-haproxy-"), port, config);
    }

    private static LoadBalancer start(Path dir, int port, String config) throws Exception {
        Path file = dir.resolve("haproxy.cfg");
        Files.writeString(file, config);
        Process p = new ProcessBuilder(HAPROXY, "-db", "-f", file.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("haproxy.log").toFile())
                .start();
        LoadBalancer lb = new LoadBalancer(dir, port, p);
        lb.awaitListening();
        return lb;
    }

    private void awaitListening() throws Exception {
        for (int i = 0; i < 100; i++) {
            if (!process.isAlive()) {
                throw new AssertionError("haproxy exited with " + process.exitValue() + ": " + log());
            }
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        throw new AssertionError("haproxy did not listen on " + port + " within 10 s: " + log());
    }

    String url() {
        return "https://127.0.0.1:" + port;
    }

    /** What HAProxy logged: one line per connection it carried, and each instance going down or up. */
    String log() throws IOException {
        return Files.readString(dir.resolve("haproxy.log"));
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        AgentProcess.run("rm", "-rf", dir.toString());
    }
}
