package io.sonde.server.store.internal;

import static org.junit.Assert.assertNull;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.Assume;

/**
 * A throw-away PostgreSQL cluster for tests: {@code initdb} in a temporary directory, {@code pg_ctl}
 * on a free loopback port, password authentication (SCRAM) for the user {@code sonde}. As root the
 * cluster runs as {@code nobody} (PostgreSQL refuses root). Without the binaries the test is skipped,
 * except in CI, where it fails.
 */
public final class PostgresCluster implements AutoCloseable {

    public static final String USER = "sonde";
    public static final String PASSWORD = "pw-" + Long.toHexString(System.nanoTime());

    private final Path bin;
    private final Path dir;
    private final int port;
    private final boolean root;
    private int databases;

    private PostgresCluster(Path bin, Path dir, int port, boolean root) {
        this.bin = bin;
        this.dir = dir;
        this.port = port;
        this.root = root;
    }

    /** @return the directory of initdb and pg_ctl, or null */
    public static Path binaries() {
        for (String v : List.of("17", "16", "15")) {
            Path p = Path.of("/usr/lib/postgresql", v, "bin");
            if (Files.isExecutable(p.resolve("initdb"))) {
                return p;
            }
        }
        return null;
    }

    /** Starts a new cluster, or skips the test (fails it in CI) if PostgreSQL is not installed. */
    public static PostgresCluster start() throws Exception {
        Path bin = binaries();
        if (bin == null) {
            assertNull("PostgreSQL is not installed (Debian package postgresql), and CI needs it", System.getenv("CI"));
            Assume.assumeTrue("PostgreSQL is not installed", false);
        }
        boolean root = "root".equals(System.getProperty("user.name"));
        Path dir = Files.createTempDirectory("sonde-pg");
        Files.writeString(dir.resolve("pwfile"), PASSWORD + "\n");
        PostgresCluster c = new PostgresCluster(bin, ownedByTheServer(dir, root), freePort(), root);
        c.pg(List.of(bin.resolve("initdb").toString(), "-D", dir.resolve("data").toString(), "-U", USER, "-E", "UTF8",
                "--locale=C", "--auth=scram-sha-256", "--pwfile=" + dir.resolve("pwfile"), "--no-sync"));
        c.startServer();
        return c;
    }

    /**
     * A streaming standby of this cluster: {@code pg_basebackup} of the running cluster into a new directory (its standby
     * settings written with it), started on a free port of its own. It follows the primary until it is closed.
     */
    public PostgresCluster standby() throws Exception {
        Path standbyDir = ownedByTheServer(Files.createTempDirectory("sonde-pg-standby"), root);
        PostgresCluster c = new PostgresCluster(bin, standbyDir, freePort(), root);
        c.pg(List.of(bin.resolve("pg_basebackup").toString(), "-d", "host=127.0.0.1 port=" + port + " user=" + USER + " password="
                + PASSWORD, "-D", standbyDir.resolve("data").toString(), "--write-recovery-conf", "--wal-method=stream",
                "--checkpoint=fast", "--no-sync"));
        c.startServer();
        return c;
    }

    /** Stops (true) or resumes (false) the replay of the primary's changes on this standby: it answers from where it stopped. */
    public void pauseReplay(boolean pause) throws SQLException {
        sql(url("postgres"), pause ? "SELECT pg_wal_replay_pause()" : "SELECT pg_wal_replay_resume()");
    }

    /** @return {@code dir}, given to the user the server runs as where that is not root (PostgreSQL refuses root) */
    private static Path ownedByTheServer(Path dir, boolean root) throws IOException, InterruptedException {
        if (root) {
            run(List.of("chown", "-R", "nobody:nogroup", dir.toString()), false);
        }
        return dir;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Starts (again) the stopped server. */
    public void startServer() throws IOException, InterruptedException {
        pg(List.of(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-l", dir.resolve("log").toString(),
                "-w", "-t", "60", "-o", "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off"
                        + " -c max_connections=60", "start"));
    }

    /** Stops the server: {@code fast} (clients cut off, clean) or {@code immediate} (as a crash). */
    public void stopServer(String mode) throws IOException, InterruptedException {
        pg(List.of(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-m", mode, "-w", "-t", "60", "stop"));
    }

    /** @return the URL of a new empty database */
    public String newDatabase() throws SQLException {
        String name = "t" + (++databases);
        try (Connection c = DriverManager.getConnection(url("postgres"), USER, PASSWORD); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        return url(name);
    }

    public String url(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    /** @return a data source of the database at {@code url}, as the cluster's user */
    public org.postgresql.ds.PGSimpleDataSource dataSource(String url) {
        org.postgresql.ds.PGSimpleDataSource ds = new org.postgresql.ds.PGSimpleDataSource();
        ds.setURL(url);
        ds.setUser(USER);
        ds.setPassword(PASSWORD);
        return ds;
    }

    public Path passwordFile() {
        return dir.resolve("pwfile");
    }

    /** {@code pg_dump --format=custom} of a database (a consistent snapshot, the database serving meanwhile) into {@code file}. */
    public void dump(String database, Path file) throws IOException, InterruptedException {
        tool("pg_dump", "--format=custom", "--file=" + file, database);
    }

    /** {@code pg_restore} of a dump into a new database; @return the new database's URL */
    public String restore(Path dump) throws IOException, InterruptedException, SQLException {
        String url = newDatabase();
        tool("pg_restore", "--exit-on-error", "--dbname=" + url.substring(url.lastIndexOf('/') + 1), dump.toString());
        return url;
    }

    /** Runs a client tool of the cluster's as its user, with the password from the environment. */
    private void tool(String name, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(bin.resolve(name).toString(), "-h", "127.0.0.1", "-p", String.valueOf(port),
                "-U", USER));
        command.addAll(Arrays.asList(args));
        File out = File.createTempFile("sonde-pg", ".out");
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out);
            pb.environment().put("PGPASSWORD", PASSWORD);
            Process p = pb.start();
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + " failed: " + Files.readString(out.toPath(), StandardCharsets.UTF_8));
            }
        } finally {
            out.delete();
        }
    }

    /** Runs one statement on a database. */
    public void sql(String url, String statement) throws SQLException {
        try (Connection c = DriverManager.getConnection(url, USER, PASSWORD); Statement s = c.createStatement()) {
            s.execute(statement);
        }
    }

    private void pg(List<String> command) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>();
        if (root) {
            full.addAll(Arrays.asList("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"));
        }
        full.addAll(command);
        run(full, true);
    }

    private static void run(List<String> command, boolean quiet) throws IOException, InterruptedException {
        File out = File.createTempFile("sonde-pg", ".out");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(command.get(0) + " did not finish in 120 s");
            }
            if (p.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed (" + p.exitValue() + "): "
                        + Files.readString(out.toPath(), StandardCharsets.UTF_8));
            }
        } finally {
            out.delete();
        }
    }

    @Override
    public void close() throws Exception {
        try {
            stopServer("immediate");
        } catch (IOException e) {
            // already stopped
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
