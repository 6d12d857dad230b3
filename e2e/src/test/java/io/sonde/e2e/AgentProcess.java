package io.sonde.e2e;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A copy of the built distribution in a temporary directory, started with {@code bin/sonde} as a
 * real process, its exporter on a free loopback port, its output in {@code log/console.log}.
 */
final class AgentProcess implements AutoCloseable {

    static final Duration PATIENCE = Duration.ofSeconds(30);

    final Path home;
    final int port;
    private Process process;
    private final Path console;
    /** The network namespace the agent runs in, or null for this one. */
    private final String namespace;
    private final String capabilities;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final List<ServerSocket> listeners = new ArrayList<>();
    /** Environment variables the agent starts with, besides this process's. */
    private final java.util.Map<String, String> environment = new java.util.HashMap<>();

    private AgentProcess(Path home, int port, Path console, String namespace, String capabilities) {
        this.home = home;
        this.port = port;
        this.console = console;
        this.namespace = namespace;
        this.capabilities = capabilities;
    }

    static Path distribution() {
        return Path.of(System.getProperty("sonde.distribution", "../dist/target/sonde")).toAbsolutePath();
    }

    /** Copies the distribution, points its exporter and self target at a free port, starts it. */
    static AgentProcess start() throws IOException, InterruptedException {
        return start((String) null, null);
    }

    /**
     * As {@link #start()}, but in network namespace {@code namespace} (or this one if null) and as
     * the unprivileged user nobody with {@code capabilities} (as {@code setpriv --ambient-caps} takes
     * them, e.g. {@code +net_raw}; none if null) when {@code namespace} is given. Needs root.
     */
    static AgentProcess start(String namespace, String capabilities) throws IOException, InterruptedException {
        return start(namespace, capabilities, java.util.Map.of());
    }

    /** As {@link #start()}, with {@code files} (path under the home, content) written before it starts. */
    static AgentProcess start(java.util.Map<String, String> files) throws IOException, InterruptedException {
        return start(null, null, files);
    }

    /** As {@link #start(java.util.Map)}, started with the environment variables {@code env} too. */
    static AgentProcess start(java.util.Map<String, String> files, java.util.Map<String, String> env)
            throws IOException, InterruptedException {
        return start(null, null, files, env);
    }

    private static AgentProcess start(String namespace, String capabilities, java.util.Map<String, String> files)
            throws IOException, InterruptedException {
        return start(namespace, capabilities, files, java.util.Map.of());
    }

    /** Starts an agent whose home lacks the distribution's files {@code removed} (for example a plugin to deploy later). */
    static AgentProcess startWithout(java.util.Map<String, String> files, String... removed) throws IOException, InterruptedException {
        return start(null, null, files, java.util.Map.of(), List.of(removed));
    }

    private static AgentProcess start(String namespace, String capabilities, java.util.Map<String, String> files,
            java.util.Map<String, String> env) throws IOException, InterruptedException {
        return start(namespace, capabilities, files, env, List.of());
    }

    private static AgentProcess start(String namespace, String capabilities, java.util.Map<String, String> files,
            java.util.Map<String, String> env, List<String> removed) throws IOException, InterruptedException {
        Path home = Files.createTempDirectory("sonde-e2e-");
        run("cp", "-a", distribution() + "/.", home.toString());
        for (String r : removed) {
            Files.delete(home.resolve(r));
        }
        int port = freePort();
        Files.writeString(home.resolve("etc/io.sonde.exporter.cfg"), "port = " + port + "\nbind = 127.0.0.1\n");
        Path self = home.resolve("etc/io.sonde.target-self.cfg");
        Files.writeString(self, Files.readString(self).replace("port = 9100", "port = " + port)
                .replace("interval_ms = 5000", "interval_ms = 500").replace("timeout_ms = 1000", "timeout_ms = 400"));
        Files.createDirectories(home.resolve("log"));
        for (java.util.Map.Entry<String, String> f : files.entrySet()) {
            Files.writeString(home.resolve(f.getKey()), f.getValue());
        }
        AgentProcess agent = new AgentProcess(home, port, home.resolve("log/console.log"), namespace, capabilities);
        if (namespace != null) {
            run("chown", "-R", "65534:65534", home.toString());
        }
        agent.environment.putAll(env);
        agent.launch();
        return agent;
    }

    /** Starts the agent (again) on its home, appending to its console log. */
    void launch() throws IOException {
        List<String> command = new ArrayList<>();
        if (namespace != null) {
            command.addAll(List.of("ip", "netns", "exec", namespace, "setpriv", "--reuid=65534", "--regid=65534",
                    "--clear-groups"));
            if (capabilities != null) {
                command.addAll(List.of("--inh-caps=" + capabilities, "--ambient-caps=" + capabilities));
            }
        }
        command.add(home.resolve("bin/sonde").toString());
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(console.toFile()));
        pb.environment().remove("SONDE_HOME");
        // names come from a hosts file of the test's own: no name server is ever asked
        Path hosts = home.resolve("etc/hosts.e2e");
        Files.writeString(hosts, "127.0.0.1 localhost\n::1 localhost\n198.18.0.77 v4only.sonde.test\n127.0.0.1 other.sonde.test\n");
        pb.environment().putAll(environment);
        // a test's own JAVA_OPTS come after the hosts file, which every agent here gets
        pb.environment().put("JAVA_OPTS", ("-Djdk.net.hosts.file=" + hosts + " " + environment.getOrDefault("JAVA_OPTS", "")).strip());
        process = pb.start();
    }

    /** Kills the agent with SIGKILL, as a crash would, and waits for it to be gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    /** Sends SIGTERM and waits up to {@code wait} for the process to end; returns whether it did. */
    boolean terminate(Duration wait) throws InterruptedException {
        process.destroy();
        return process.waitFor(wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    int exitValue() {
        return process.exitValue();
    }

    @Override
    public void close() throws Exception {
        if (process.isAlive() && !terminate(Duration.ofSeconds(10))) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        for (ServerSocket s : listeners) {
            s.close();
        }
        run("rm", "-rf", home.toString());
    }

    String log() throws IOException {
        return Files.readString(console, StandardCharsets.UTF_8);
    }

    /** @return the agent's GET /status, as it answers loopback */
    String status() throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/status"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("/status answered " + r.statusCode() + ": " + r.body());
        }
        return r.body();
    }

    String metrics() throws IOException, InterruptedException {
        if (namespace != null) { // its loopback is not ours: ask from inside
            Process p = new ProcessBuilder("ip", "netns", "exec", namespace, "curl", "-sf", "--max-time", "10",
                    "http://127.0.0.1:" + port + "/metrics").start();
            String body = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(15, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IOException("/metrics not answered in " + namespace);
            }
            return body;
        }
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("/metrics answered " + r.statusCode());
        }
        return r.body();
    }

    String awaitMetrics(Predicate<String> condition) throws Exception {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        String last = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("the agent exited with " + process.exitValue() + "; its log:\n" + log());
            }
            try {
                last = metrics();
                if (condition.test(last)) {
                    return last;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(50);
        }
        // the warnings first and Sonde's own series only: a CI report keeps the head of a long message
        String log = log();
        String warnings = log.lines().filter(l -> l.contains(" WARNING ") || l.contains(" SEVERE ") || l.contains("Exception"))
                .collect(java.util.stream.Collectors.joining("\n"));
        String own = last == null ? null : last.lines().filter(l -> l.startsWith("sonde_") || l.startsWith("probe_"))
                .collect(java.util.stream.Collectors.joining("\n"));
        throw new AssertionError("condition not met within " + PATIENCE + "; warnings in the log:\n" + warnings
                + "\nlast /metrics, sonde_ and probe_ series:\n" + own + "\nlog:\n" + log);
    }

    /** Waits for the tcp target {@code target} to be probed {@code rounds} times more, the last with success. */
    void awaitProbing(String target, int rounds) throws Exception {
        String total = "probe_total{target=\"" + target + "\",kind=\"tcp\"}";
        double seen = value(metrics(), total);
        double before = Double.isNaN(seen) ? 0 : seen; // no series yet (a framework just restarted, nothing probed): from none
        awaitMetrics(m -> value(m, total) > before + rounds - 1 && value(m, "probe_success{target=\"" + target + "\",kind=\"tcp\"}") == 1);
    }

    /** Waits for a log line containing every one of {@code parts}; returns it. */
    String awaitLogLine(String... parts) throws Exception {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (System.nanoTime() < deadline) {
            for (String line : log().split("\n")) {
                boolean all = true;
                for (String p : parts) {
                    all &= line.contains(p);
                }
                if (all) {
                    return line;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no log line with " + List.of(parts) + "; log:\n" + log());
    }

    long countLogLines(String... parts) throws IOException {
        return log().lines().filter(l -> {
            for (String p : parts) {
                if (!l.contains(p)) {
                    return false;
                }
            }
            return true;
        }).count();
    }

    /** Writes a file under the agent's home atomically (temporary name, then rename), as an operator should. */
    void write(String relative, String content) throws IOException {
        Path target = home.resolve(relative);
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
        Files.writeString(tmp, content);
        Files.move(tmp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /** A loopback listener that accepts and closes connections until the agent is closed. */
    int openPort() throws IOException {
        ServerSocket s = acceptor();
        listeners.add(s);
        return s.getLocalPort();
    }

    /** A loopback listener that accepts and closes connections until it is closed: a TCP target that answers. */
    static ServerSocket acceptor() throws IOException {
        ServerSocket s = new ServerSocket();
        s.bind(new InetSocketAddress("127.0.0.1", 0), 200);
        Thread t = new Thread(() -> {
            try {
                while (!s.isClosed()) {
                    s.accept().close();
                }
            } catch (IOException e) {
                // closed
            }
        }, "e2e-acceptor");
        t.setDaemon(true);
        t.start();
        return s;
    }

    /**
     * A loopback port nothing listens on, for a process the test starts next. It is taken below the
     * kernel's ephemeral range: a port the kernel hands out (bind to 0) is also the next source port
     * of some outgoing connection, and a keep-alive connection of another agent to the server held
     * one for the whole of a test (CanaryIT, in CI). Each port is handed out once per test JVM.
     */
    static int freePort() throws IOException {
        for (int i = 0; i < PORTS_BELOW_EPHEMERAL; i++) {
            int port = FIRST_PORT + Math.floorMod(NEXT_PORT.getAndIncrement(), PORTS_BELOW_EPHEMERAL);
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress("127.0.0.1", port));
                return port;
            } catch (java.net.BindException taken) {
                // someone else's: the next one
            }
        }
        throw new IOException("no free loopback port between " + FIRST_PORT + " and "
                + (FIRST_PORT + PORTS_BELOW_EPHEMERAL));
    }

    private static final int FIRST_PORT = 10000;
    private static final int PORTS_BELOW_EPHEMERAL = firstEphemeralPort() - FIRST_PORT;
    private static final java.util.concurrent.atomic.AtomicInteger NEXT_PORT =
            new java.util.concurrent.atomic.AtomicInteger((int) (ProcessHandle.current().pid() * 97 % 1000) * 10);

    /** The low end of {@code net.ipv4.ip_local_port_range}; Linux's default when it cannot be read. */
    private static int firstEphemeralPort() {
        try {
            int low = Integer.parseInt(Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))
                    .trim().split("\\s+")[0]);
            if (low > FIRST_PORT + 1000) {
                return low;
            }
        } catch (IOException | RuntimeException unreadable) {
            // the default below
        }
        return 32768;
    }

    static double value(String metrics, String prefix) {
        for (String line : metrics.split("\n")) {
            if (line.startsWith(prefix)) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return Double.NaN;
    }

    /** Checks an exposition with promtool (Debian package prometheus; .ci/run installs it). */
    static void promtool(String exposition) throws Exception {
        java.io.File promtool = new java.io.File("/usr/bin/promtool");
        if (!promtool.canExecute()) {
            // required in CI (.ci/run installs it): there a missing promtool fails, elsewhere it is skipped
            org.junit.Assert.assertNull("promtool is not installed (Debian package prometheus), and CI needs it", System.getenv("CI"));
            org.junit.Assume.assumeTrue("promtool is not installed (Debian package prometheus); CI installs it", false);
        }
        Process p = new ProcessBuilder(promtool.getPath(), "check", "metrics").redirectErrorStream(true).start();
        p.getOutputStream().write(exposition.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String verdict = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError("promtool check metrics: " + verdict + "\n" + exposition);
        }
    }

    /** Runs a command to its end (a minute at most) and returns what it wrote, failing if it did not exit with {@code exit}. */
    static String output(int exit, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != exit) {
            throw new AssertionError(List.of(command) + " did not exit with " + exit + ": " + out);
        }
        return out;
    }

    /** @return the exit code of a command run to its end (a minute at most) */
    static int exitCode(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(List.of(command) + " did not end in a minute");
        }
        return p.exitValue();
    }

    static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).inheritIO().start();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("failed: " + List.of(command));
        }
    }
}
