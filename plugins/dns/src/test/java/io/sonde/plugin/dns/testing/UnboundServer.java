package io.sonde.plugin.dns.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real DNS server speaking DNS over TLS and DNS over HTTPS (Unbound, Debian's {@code unbound})
 * for tests, on two loopback ports: it answers {@code www.enc.test A 198.18.0.20} from a local zone
 * and asks no one else. Its certificate, for 127.0.0.1 and {@code dot.test}, is signed by a CA made
 * with openssl in the test's directory ({@link #caPem}). Started in the foreground, stopped by the
 * PID kept here.
 */
public final class UnboundServer implements AutoCloseable {

    public static final String UNBOUND = "/usr/sbin/unbound";

    public final int dotPort;
    public final int dohPort;
    public final Path caPem;
    private final Path dir;
    private final Process process;

    private UnboundServer(Path dir, int dotPort, int dohPort, Process process) {
        this.dir = dir;
        this.dotPort = dotPort;
        this.dohPort = dohPort;
        this.caPem = dir.resolve("ca.pem");
        this.process = process;
    }

    public static UnboundServer start(Path dir) throws IOException, InterruptedException {
        if (!Files.isExecutable(Path.of(UNBOUND))) {
            throw new IllegalStateException(UNBOUND + " is not installed (Debian package unbound; .ci/run installs it)");
        }
        String d = dir.toString();
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                "/CN=Sonde DNS test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=keyCertSign",
                "-keyout", d + "/ca.key", "-out", d + "/ca.pem");
        Files.writeString(dir.resolve("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:dot.test\n");
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=dot.test",
                "-keyout", d + "/server.key", "-out", d + "/server.csr");
        openssl("x509", "-req", "-in", d + "/server.csr", "-CA", d + "/ca.pem", "-CAkey", d + "/ca.key", "-CAcreateserial", "-days",
                "2", "-extfile", d + "/server.ext", "-out", d + "/server.pem");
        int dot = freePort();
        int doh = freePort();
        Path conf = dir.resolve("unbound.conf");
        Files.writeString(conf, "server:\n  interface: 127.0.0.1@" + dot + "\n  interface: 127.0.0.1@" + doh + "\n"
                + "  tls-port: " + dot + "\n  https-port: " + doh + "\n  tls-service-key: \"" + d + "/server.key\"\n"
                + "  tls-service-pem: \"" + d + "/server.pem\"\n  http-endpoint: \"/dns-query\"\n  do-daemonize: no\n"
                + "  username: \"\"\n  chroot: \"\"\n  directory: \"" + d + "\"\n  pidfile: \"" + d + "/unbound.pid\"\n"
                + "  use-syslog: no\n  logfile: \"\"\n  verbosity: 1\n  do-ip6: no\n  access-control: 127.0.0.0/8 allow\n"
                + "  module-config: \"iterator\"\n  local-zone: \"enc.test.\" static\n"
                + "  local-data: \"www.enc.test. 300 IN A 198.18.0.20\"\n"
                + "remote-control:\n  control-enable: no\n");
        Process p = new ProcessBuilder(UNBOUND, "-d", "-c", conf.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("unbound.log").toFile()).start();
        UnboundServer server = new UnboundServer(dir, dot, doh, p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline && p.isAlive()) {
            if (listening(dot) && listening(doh)) {
                return server;
            }
            Thread.sleep(50);
        }
        String log = server.log();
        server.close();
        throw new IllegalStateException("unbound did not listen on " + dot + " and " + doh + " within 30 s:\n" + log);
    }

    private static boolean listening(int port) {
        try (java.net.Socket s = new java.net.Socket(InetAddress.getLoopbackAddress(), port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void openssl(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("openssl " + List.of(args) + " failed: " + out);
        }
    }

    public String log() throws IOException {
        Path log = dir.resolve("unbound.log");
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
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
