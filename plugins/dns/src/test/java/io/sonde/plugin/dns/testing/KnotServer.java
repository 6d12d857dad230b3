package io.sonde.plugin.dns.testing;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real authoritative DNS server (Knot DNS, Debian's {@code knot}) for tests, on a loopback port:
 * zones written by the test, some signed by Knot itself as it loads them (ECDSA P-256, one key per
 * zone), their DS records read with {@code keymgr}. Started in the foreground, stopped by the PID
 * kept here; everything under a directory the test gives.
 */
public final class KnotServer implements AutoCloseable {

    public static final String KNOTD = "/usr/sbin/knotd";
    public static final String KEYMGR = "/usr/sbin/keymgr";

    private final Path dir;
    private final int port;
    private final Process process;

    private KnotServer(Path dir, int port, Process process) {
        this.dir = dir;
        this.port = port;
        this.process = process;
    }

    /**
     * Serves a zone for each of {@code signed} (signed) and {@code unsigned}: an SOA, an NS and
     * {@code www A 198.18.0.10}.
     */
    public static KnotServer start(Path dir, List<String> signed, List<String> unsigned) throws IOException, InterruptedException {
        if (!Files.isExecutable(Path.of(KNOTD))) {
            throw new IllegalStateException(KNOTD + " is not installed (Debian package knot; .ci/run installs it)");
        }
        int port;
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            port = s.getLocalPort();
        }
        for (String d : List.of("zones", "db", "run")) {
            Files.createDirectories(dir.resolve(d));
        }
        StringBuilder zones = new StringBuilder("zone:\n");
        List<String> all = new ArrayList<>(signed);
        all.addAll(unsigned);
        for (String zone : all) {
            Files.writeString(dir.resolve("zones/" + zone + ".zone"), "$ORIGIN " + zone + ".\n$TTL 300\n@ SOA ns admin 1 3600 600 86400 60\n"
                    + "@ NS ns\nns A 127.0.0.1\nwww A 198.18.0.10\n");
            zones.append("  - domain: ").append(zone).append('\n');
            if (signed.contains(zone)) {
                zones.append("    dnssec-signing: on\n    dnssec-policy: test\n");
            }
        }
        Path conf = dir.resolve("knot.conf");
        Files.writeString(conf, "server:\n    rundir: \"" + dir.resolve("run") + "\"\n    listen: 127.0.0.1@" + port + "\n"
                + "database:\n    storage: \"" + dir.resolve("db") + "\"\n"
                + "log:\n  - target: stderr\n    any: info\n"
                + "policy:\n  - id: test\n    algorithm: ecdsap256sha256\n    single-type-signing: on\n    ksk-lifetime: 0\n"
                + "    zsk-lifetime: 0\n"
                + "template:\n  - id: default\n    storage: \"" + dir.resolve("zones") + "\"\n    file: \"%s.zone\"\n"
                + "    zonefile-sync: -1\n    journal-content: none\n" + zones);
        Process p = new ProcessBuilder(KNOTD, "-c", conf.toString()).redirectErrorStream(true)
                .redirectOutput(dir.resolve("knotd.log").toFile()).start();
        KnotServer server = new KnotServer(dir, port, p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline && p.isAlive()) {
            String log = server.log();
            if (log.contains("server started") && all.stream().allMatch(z -> log.contains("[" + z + ".] loaded"))) {
                return server;
            }
            Thread.sleep(50);
        }
        String log = server.log();
        server.close();
        throw new IllegalStateException("knotd did not serve " + all + " within 30 s:\n" + log);
    }

    public int port() {
        return port;
    }

    public String log() throws IOException {
        Path log = dir.resolve("knotd.log");
        return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    }

    /** @return the DS records of a signed zone, in zone-file form, as keymgr writes them */
    public String ds(String zone) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(KEYMGR, "-c", dir.resolve("knot.conf").toString(), zone, "ds").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0 || !out.contains(" DS ")) {
            throw new IOException("keymgr " + zone + " ds: " + out);
        }
        return out;
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
