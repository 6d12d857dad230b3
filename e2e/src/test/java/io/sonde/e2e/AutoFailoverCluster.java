package io.sonde.e2e;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.Assume;

/**
 * A PostgreSQL primary and a streaming standby managed by pg_auto_failover (Debian's
 * pg-auto-failover-cli and postgresql-15-auto-failover), with its monitor, all on loopback, as the
 * {@code postgres} user (pg_autoctl will not run as root, and the Debian build's socket directory
 * is the postgres user's): a formation an operator runs for a highly available database. Nodes
 * are killed as a machine dies: the keeper and every process under it, SIGKILL.
 */
final class AutoFailoverCluster implements AutoCloseable {

    static final String PG_AUTOCTL = "/usr/bin/pg_autoctl";
    static final String DATABASE = "sonde";
    static final String USER = "sonde";

    private final Path dir;
    private final Path bin;
    private final int monitorPort;
    final int[] ports;
    private final Process[] nodes = new Process[2];
    private Process monitor;

    private AutoFailoverCluster(Path dir, Path bin, int monitorPort, int[] ports) {
        this.dir = dir;
        this.bin = bin;
        this.monitorPort = monitorPort;
        this.ports = ports;
    }

    /** Starts the monitor, then the first node (the primary), then the second (its standby), and waits until both are so. */
    static AutoFailoverCluster start() throws Exception {
        Assume.assumeTrue("pg_auto_failover is not installed (pg-auto-failover-cli, postgresql-15-auto-failover); CI installs it",
                new File(PG_AUTOCTL).canExecute() || System.getenv("CI") != null);
        Path bin = Path.of("/usr/lib/postgresql/15/bin");
        Path dir = Files.createTempDirectory("sonde-pgaf-");
        for (String d : List.of("run", "config", "share")) {
            Files.createDirectories(dir.resolve(d));
        }
        AgentProcess.run("chown", "-R", "postgres:postgres", dir.toString());
        AgentProcess.run("chmod", "700", dir.toString(), dir.resolve("run").toString());
        AutoFailoverCluster c = new AutoFailoverCluster(dir, bin, AgentProcess.freePort(),
                new int[] {AgentProcess.freePort(), AgentProcess.freePort()});
        c.autoctl(120, "create", "monitor", "--pgdata", dir.resolve("monitor").toString(), "--pgport", String.valueOf(c.monitorPort),
                "--hostname", "127.0.0.1", "--listen", "127.0.0.1", "--auth", "trust", "--no-ssl");
        c.monitor = c.background("monitor", "run", "--pgdata", dir.resolve("monitor").toString());
        c.awaitState("the monitor", () -> c.state().contains("Name"));
        c.startNode(0);
        c.awaitState("node 1 a lone primary", () -> c.nodeState(1).matches(".*(single|wait_primary).*"));
        c.startNode(1);
        for (int i = 0; i < 600 && !c.nodeState(2).contains("secondary"); i++) {
            if (i % 20 == 19) {
                c.psql(0, "CHECKPOINT"); // the standby's base backup waits for a checkpoint: one now, not in minutes
            }
            Thread.sleep(100);
        }
        c.awaitState("node 1 primary, node 2 its standby", () -> c.nodeState(1).matches(".*primary\\s*\\|\\s*primary.*")
                && c.nodeState(2).matches(".*secondary\\s*\\|\\s*secondary.*"));
        return c;
    }

    private void startNode(int i) throws IOException {
        nodes[i] = background("n" + (i + 1), "create", "postgres", "--pgdata", dir.resolve("n" + (i + 1)).toString(),
                "--pgport", String.valueOf(ports[i]), "--hostname", "127.0.0.1", "--listen", "127.0.0.1", "--auth", "trust", "--no-ssl",
                "--pg-hba-lan", "--username", USER, "--dbname", DATABASE, "--name", "n" + (i + 1), "--monitor",
                "postgresql://autoctl_node@127.0.0.1:" + monitorPort + "/pg_auto_failover?sslmode=disable", "--run");
    }

    /** The server's JDBC URL: both nodes, the one that takes writes chosen at each connection. */
    String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + ports[0] + ",127.0.0.1:" + ports[1] + "/" + DATABASE + "?targetServerType=primary";
    }

    /** @return a URL of both nodes that takes a standby where one is up, else the primary: for the API's reads */
    String readJdbcUrl() {
        return jdbcUrl().replace("targetServerType=primary", "targetServerType=preferSecondary");
    }

    /** What {@code pg_autoctl show state} says. */
    String state() {
        try {
            return autoctl(60, "show", "state", "--pgdata", dir.resolve("monitor").toString());
        } catch (IOException | InterruptedException e) {
            return e.toString();
        }
    }

    /** The state line of node {@code n} (1 or 2): reported and assigned state. */
    String nodeState(int n) {
        for (String line : state().split("\n")) {
            if (line.strip().startsWith("n" + n + " ")) {
                return line;
            }
        }
        return "";
    }

    /** SIGKILL to node {@code n}'s keeper and every process under it, its PostgreSQL among them. */
    void kill(int n) throws InterruptedException {
        Process p = nodes[n - 1];
        List<ProcessHandle> all = new ArrayList<>(p.descendants().toList());
        p.destroyForcibly();
        for (ProcessHandle h : all) {
            h.destroyForcibly();
        }
        p.waitFor(10, TimeUnit.SECONDS);
    }

    interface Condition {
        boolean holds() throws Exception;
    }

    void awaitState(String what, Condition c) throws Exception {
        for (int i = 0; i < 1800; i++) {
            if (c.holds()) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(what + ": not so within 3 minutes; pg_autoctl show state:\n" + state() + "\n" + logs());
    }

    private String logs() throws IOException {
        StringBuilder out = new StringBuilder();
        for (String n : List.of("monitor", "n1", "n2")) {
            Path log = dir.resolve(n + ".log");
            if (Files.exists(log)) {
                List<String> lines = Files.readAllLines(log);
                out.append("--- ").append(n).append(" (last lines)\n")
                        .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()))).append('\n');
            }
        }
        return out.toString();
    }

    void psql(int node, String sql) throws IOException, InterruptedException {
        run(30, List.of(bin.resolve("psql").toString(), "-h", "127.0.0.1", "-p", String.valueOf(ports[node]), "-U", USER, "-d", DATABASE,
                "-qc", sql));
    }

    private List<String> asPostgres(List<String> command) {
        List<String> full = new ArrayList<>(List.of("setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups", "--", "env",
                "HOME=" + dir, "XDG_CONFIG_HOME=" + dir.resolve("config"), "XDG_DATA_HOME=" + dir.resolve("share"),
                "XDG_RUNTIME_DIR=" + dir.resolve("run"), "PATH=" + bin + ":/usr/bin:/bin", "PG_CONFIG=" + bin.resolve("pg_config")));
        full.addAll(command);
        return full;
    }

    private String autoctl(int seconds, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(PG_AUTOCTL));
        command.addAll(List.of(args));
        return run(seconds, command);
    }

    private String run(int seconds, List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(asPostgres(command)).directory(dir.toFile()).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(command + " did not finish in " + seconds + " s");
        }
        String said = new String(out, java.nio.charset.StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException(command + " failed (" + p.exitValue() + "): " + said);
        }
        return said;
    }

    private Process background(String name, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(PG_AUTOCTL));
        command.addAll(List.of(args));
        return new ProcessBuilder(asPostgres(command)).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve(name + ".log").toFile()).start();
    }

    @Override
    public void close() throws Exception {
        for (int n = 1; n <= 2; n++) {
            if (nodes[n - 1] != null) {
                kill(n);
            }
        }
        if (monitor != null) {
            List<ProcessHandle> all = new ArrayList<>(monitor.descendants().toList());
            monitor.destroy(); // the monitor stops its PostgreSQL on SIGTERM
            if (!monitor.waitFor(20, TimeUnit.SECONDS)) {
                monitor.destroyForcibly();
            }
            for (ProcessHandle h : all) {
                h.destroyForcibly();
            }
        }
        AgentProcess.run("rm", "-rf", dir.toString());
    }
}
