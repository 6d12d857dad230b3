package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.Test;

/**
 * bin/sonde-cli of the built agent distribution, run as a process the way an operator runs it:
 * validate against a corpus of broken files, probe with its table, --watch in a real terminal
 * (tmux) read off the screen, log-level on a running agent, help and completion.
 */
public class CliIT {

    /** Exit code and output (stdout and stderr together) of one run. */
    record Run(int exit, String out) {
    }

    static Run cli(Path home, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(home.resolve("bin/sonde-cli").toString());
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().remove("SONDE_HOME");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("sonde-cli " + List.of(args) + " did not end: " + out);
        }
        return new Run(p.exitValue(), out);
    }

    private static Path copy() throws Exception {
        Path home = Files.createTempDirectory("sonde-cli-");
        AgentProcess.run("cp", "-a", AgentProcess.distribution() + "/.", home.toString());
        return home;
    }

    /**
     * Started from a build tree (a path with target/ in it), both start scripts say that mvn clean deletes the home
     * with its state; started from elsewhere they say nothing of it. A Java that is not there ends each at once.
     */
    @Test
    public void startScriptsWarnWhenTheirHomeIsInABuildTree() throws Exception {
        Path tree = Files.createTempDirectory("sonde-tree-");
        try {
            Path agent = Files.createDirectories(tree.resolve("dist/target/sonde"));
            AgentProcess.run("cp", "-a", AgentProcess.distribution() + "/.", agent.toString());
            Path server = Files.createDirectories(tree.resolve("dist/target/sonde-server"));
            AgentProcess.run("cp", "-a", ServerProcess.distribution() + "/.", server.toString());
            Path elsewhere = Files.createDirectories(tree.resolve("opt/sonde"));
            AgentProcess.run("cp", "-a", AgentProcess.distribution() + "/.", elsewhere.toString());
            for (Path script : List.of(agent.resolve("bin/sonde"), server.resolve("bin/sonde-server"), elsewhere.resolve("bin/sonde"))) {
                ProcessBuilder pb = new ProcessBuilder(script.toString()).redirectErrorStream(true);
                pb.environment().remove("SONDE_HOME");
                pb.environment().remove("SONDE_SERVER_HOME");
                pb.environment().put("JAVA_HOME", tree.resolve("no-java").toString());
                Process p = pb.start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(script + " did not end", p.waitFor(60, TimeUnit.SECONDS));
                assertTrue(out, p.exitValue() != 0);
                boolean inTree = script.toString().contains("/target/");
                assertEquals(script + ": " + out, inTree, out.contains("is inside a build tree: 'mvn clean' deletes it with the"));
            }
        } finally {
            AgentProcess.run("rm", "-rf", tree.toString());
        }
    }

    @Test
    public void validatePassesTheShippedFilesAndNamesFileKeyAndReasonOfEveryBrokenOne() throws Exception {
        Path home = copy();
        try {
            Run shipped = cli(home, "validate");
            assertEquals(shipped.out(), 0, shipped.exit());
            assertTrue(shipped.out(), shipped.out().contains("files checked, no problems"));

            Path bad = home.resolve("bad");
            Files.createDirectories(bad);
            Files.writeString(bad.resolve("io.sonde.agent.cfg"), "probe_interval_ms = fast\ntargts_file = x\nbackoff = maybe\n"
                    + "default_timeout_ms = 0\n");
            Files.writeString(bad.resolve("io.sonde.uplnk.cfg"), "server_url = https://127.0.0.1:8443\n");
            Files.writeString(bad.resolve("io.sonde.target-web.cfg"), "kind = tcp\nhost = 127.0.0.1\nport = 70000\n");
            Files.writeString(bad.resolve("io.sonde.target-nohost.cfg"), "kind = icmp\n");
            Files.write(bad.resolve("io.sonde.exporter.cfg"), new byte[] {'p', 'o', 'r', 't', '=', (byte) 0xff, '\n'});
            Files.writeString(bad.resolve("targets.json"), """
                    {"log_level": "loud", "targets": [
                      {"name": "a", "kind": "tcp", "host": "127.0.0.1", "port": 80},
                      {"name": "a", "kind": "tcp", "host": "127.0.0.1", "port": 81},
                      {"name": "b", "kind": "warp", "host": "127.0.0.1"},
                      {"name": "c", "kind": "icmp", "host": "127.0.0.1", "count": -1},
                      {"name": "d", "kind": "tcp", "host": "127.0.0.1", "port": 22, "colour": "red"},
                      7
                    ]}
                    """);
            Files.writeString(bad.resolve("cut.json"), "{\"targets\": [");
            Files.writeString(bad.resolve("array.json"), "[1, 2]");
            Files.write(bad.resolve("latin1.json"), new byte[] {'{', '"', (byte) 0xe9, '"', ':', '1', '}'});
            Files.createDirectories(bad.resolve("io.sonde.responder.cfg"));
            Files.createSymbolicLink(bad.resolve("io.sonde.updater.cfg"), bad.resolve("moved-away.cfg"));
            Run r = cli(home, "validate", bad.toString());
            assertEquals(r.out(), 1, r.exit());
            String b = bad.toString();
            for (String expected : List.of(
                    b + "/io.sonde.agent.cfg: key 'probe_interval_ms': 'fast' is not a whole number",
                    b + "/io.sonde.agent.cfg: key 'targts_file': unknown to io.sonde.agent; did you mean 'targets_file'?",
                    b + "/io.sonde.agent.cfg: key 'backoff': 'maybe' is not one of on, off",
                    b + "/io.sonde.agent.cfg: key 'default_timeout_ms': '0' is below the least value, 1",
                    b + "/io.sonde.uplnk.cfg: no component of the agent reads PID io.sonde.uplnk; did you mean io.sonde.uplink?",
                    b + "/io.sonde.target-web.cfg: key 'port': 70000 is not a port number (1-65535)",
                    b + "/io.sonde.target-nohost.cfg: key 'host'",
                    b + "/io.sonde.exporter.cfg: cannot be read: not UTF-8 text",
                    b + "/targets.json: key 'log_level': 'loud' is no level",
                    b + "/targets.json targets[1] \"a\": key 'name': 'a' is already used by " + b + "/targets.json targets[0] \"a\"",
                    b + "/targets.json targets[2] \"b\": key 'kind': no installed plugin registers probe.type=warp",
                    b + "/targets.json targets[3] \"c\": key 'count': -1 is out of range",
                    b + "/targets.json targets[4] \"d\": key 'colour'",
                    b + "/targets.json targets[5]",
                    b + "/cut.json: is not valid JSON",
                    b + "/array.json: must hold a JSON object",
                    b + "/latin1.json: cannot be read: not UTF-8 text",
                    b + "/io.sonde.responder.cfg: cannot be read: is a directory, not a file",
                    b + "/io.sonde.updater.cfg: cannot be read: a link to " + b + "/moved-away.cfg, which does not exist")) {
                assertTrue("missing: " + expected + "\nin:\n" + r.out(), r.out().contains(expected));
            }
            assertTrue(r.out(), r.out().contains("11 files checked, 19 problems"));

            Run one = cli(home, "validate", bad.resolve("io.sonde.target-web.cfg").toString());
            assertEquals(one.out(), 1, one.exit());
            assertEquals(2, one.out().strip().lines().count());
            Run none = cli(home, "validate", home.resolve("nowhere").toString());
            assertEquals(none.out(), 2, none.exit());
            assertTrue(none.out(), none.out().contains("nowhere: no such file or directory"));
        } finally {
            AgentProcess.run("rm", "-rf", home.toString());
        }
    }

    @Test
    public void probePrintsEachResultAndATableWithoutARunningAgent() throws Exception {
        Path home = copy();
        try (java.net.ServerSocket open = AgentProcess.acceptor()) {
            Run ok = cli(home, "probe", "tcp", "127.0.0.1", "--port", Integer.toString(open.getLocalPort()), "--count", "4",
                    "--interval", "100");
            assertEquals(ok.out(), 0, ok.exit());
            assertEquals(ok.out(), 4, ok.out().lines().filter(l -> l.matches("\\d\\s+\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\s+ok\\s+.*")).count());
            assertTrue(ok.out(), ok.out().matches("(?s).*Host\\s+Loss%\\s+Sent\\s+Last\\s+Avg\\s+Best\\s+Worst\\s+StDev\\s*\n"
                    + "127\\.0\\.0\\.1:" + open.getLocalPort() + "\\s+0\\.0%\\s+4\\s.*"));

            Run refused = cli(home, "probe", "tcp", "127.0.0.1", "--port", Integer.toString(AgentProcess.freePort()), "-c", "2",
                    "-i", "100");
            assertEquals(refused.out(), 1, refused.exit());
            assertTrue(refused.out(), refused.out().contains("refused"));
            assertTrue(refused.out(), refused.out().contains("100.0%"));

            Run icmp = cli(home, "probe", "icmp", "127.0.0.1", "--set", "count=3", "--set", "packet_interval_ms=10", "-c", "2",
                    "-i", "200");
            assertEquals(icmp.out(), 0, icmp.exit());
            assertTrue(icmp.out(), icmp.out().contains("3/3 replies from 127.0.0.1"));
            assertTrue(icmp.out(), icmp.out().matches("(?s).*127\\.0\\.0\\.1\\s+0\\.0%\\s+6\\s.*"));

            Run noKind = cli(home, "probe", "warp", "127.0.0.1");
            assertEquals(noKind.out(), 2, noKind.exit());
            // the kinds the plugins in plugins/ register, in name order (this test names only those it probes)
            assertTrue(noKind.out(), noKind.out().matches("(?s)No installed plugin probes kind 'warp'; installed: ([a-z0-9_.-]+, )*icmp, ([a-z0-9_.-]+, )*tcp"
                    + "(, [a-z0-9_.-]+)* \\(plugins from .*"));
            Run badKey = cli(home, "probe", "tcp", "127.0.0.1", "--port", "0");
            assertEquals(badKey.out(), 2, badKey.exit());
            assertTrue(badKey.out(), badKey.out().contains("key 'port'"));

            // hops with their AS: from --asn, else from the agent's own table (etc/io.sonde.asn.cfg)
            Path table = Files.writeString(home.resolve("etc/loop.tsv"), "127.0.0.0\t127.255.255.255\t64512\tZZ\tLOOPBACK-NET\n");
            Run asn = cli(home, "probe", "traceroute", "127.0.0.1", "--set", "max_hops=3", "-c", "1", "--asn", table.toString());
            assertEquals(asn.out(), 0, asn.exit());
            assertTrue(asn.out(), asn.out().matches("(?s).*Host\\s+AS\\s+Loss%.*\n 1\\. 127\\.0\\.0\\.1\\s+AS64512 LOOPBACK-NET\\s+0\\.0%.*"));
            Files.writeString(home.resolve("etc/io.sonde.asn.cfg"), "file = etc/loop.tsv\n");
            Run configured = cli(home, "probe", "traceroute", "127.0.0.1", "--set", "max_hops=3", "-c", "1");
            assertTrue(configured.out(), configured.out().contains("AS64512 LOOPBACK-NET"));
            Files.writeString(table, "127.0.0.0\t127.255.255.255\tnot-a-number\tZZ\tX\n");
            Run broken = cli(home, "probe", "traceroute", "127.0.0.1", "-c", "1");
            assertEquals(broken.out(), 2, broken.exit());
            assertTrue(broken.out(), broken.out().startsWith("The IP-to-AS table cannot be read: " + table));
        } finally {
            AgentProcess.run("rm", "-rf", home.toString());
        }
    }

    @Test
    public void watchKeepsALiveTableInTheTerminalAndQuitsOnQ() throws Exception {
        assumeTrue("tmux is not installed; CI installs it", new File("/usr/bin/tmux").canExecute() || System.getenv("CI") != null);
        Path home = copy();
        String session = "sonde-cli-" + ProcessHandle.current().pid();
        try {
            Path marker = home.resolve("exit");
            AgentProcess.run("tmux", "new-session", "-d", "-s", session, "-x", "110", "-y", "30",
                    home.resolve("bin/sonde-cli") + " probe traceroute 127.0.0.1 --interval 300 --set max_hops=3 --watch; echo $? > "
                            + marker + "; sleep 60");
            String screen = awaitScreen(session, s -> s.matches("(?s).*\\b([5-9]|\\d\\d) results.*"));
            assertTrue(screen, screen.contains("sonde-cli probe traceroute 127.0.0.1   every 300 ms"));
            assertTrue(screen, screen.matches("(?s).*Host\\s+Loss%\\s+Sent\\s+Last\\s+Avg\\s+Best\\s+Worst\\s+StDev.*"));
            assertTrue(screen, screen.matches("(?s).*\\s1\\. 127\\.0\\.0\\.1\\s+0\\.0%\\s+\\d+\\s.*"));
            // refreshed in place: the table is there once, and its count moves on
            assertEquals(screen, 1, screen.split("Loss%", -1).length - 1);
            String later = awaitScreen(session, s -> !s.equals(screen) && s.contains("results"));
            assertEquals(later, 1, later.split("Loss%", -1).length - 1);
            AgentProcess.run("tmux", "send-keys", "-t", session, "q");
            long deadline = System.nanoTime() + AgentProcess.PATIENCE.toNanos();
            while (!Files.exists(marker) && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertEquals("0", Files.readString(marker).strip());
            String after = AgentProcess.output(0, "tmux", "capture-pane", "-p", "-t", session);
            assertTrue("the last table stays: " + after, after.contains("1. 127.0.0.1"));
        } finally {
            ShellIT.end(session);
            AgentProcess.run("rm", "-rf", home.toString());
        }
    }

    private static String awaitScreen(String session, java.util.function.Predicate<String> ok) throws Exception {
        long deadline = System.nanoTime() + AgentProcess.PATIENCE.toNanos();
        String screen = "";
        while (System.nanoTime() < deadline) {
            screen = AgentProcess.output(0, "tmux", "capture-pane", "-p", "-t", session);
            if (ok.test(screen)) {
                return screen;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the screen never showed what was expected:\n" + screen);
    }

    @Test
    public void logLevelChangesARunningAgentsLevel() throws Exception {
        try (AgentProcess agent = AgentProcess.start(Map.of())) {
            agent.awaitMetrics(m -> m.contains("probe_total"));
            ProcessBuilder pb = new ProcessBuilder(agent.home.resolve("bin/sonde-cli").toString(), "log-level", "io.sonde.core", "FINE")
                    .redirectErrorStream(true);
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(out, 0, p.waitFor());
            assertTrue(out, out.contains("Set io.sonde.core.level = FINE in " + agent.home.resolve("etc/logging.properties")));
            agent.awaitLogLine("Logging configuration re-read from");
            // a change of targets is now told at FINE by the core
            agent.write("etc/io.sonde.target-extra.cfg", "kind = tcp\nhost = 127.0.0.1\nport = " + agent.port + "\n");
            agent.awaitLogLine("FINE", "Checked", "changed target entries");
            Run bad = cli(agent.home, "log-level", "io.sonde.core", "LOUD");
            assertEquals(bad.out(), 2, bad.exit());
            assertTrue(bad.out(), bad.out().contains("'LOUD' is no level"));
        }
    }

    /**
     * docs/kinds.md is the reference the plugins declare: written by sonde-cli kinds --markdown
     * from the built distribution's plugins, so a key added, renamed or described anew without
     * writing it again fails here.
     */
    @Test
    public void theKindsReferenceIsWhatThePluginsDeclare() throws Exception {
        Path home = AgentProcess.distribution();
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/sonde-cli").toString(), "kinds", "--markdown")
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().remove("SONDE_HOME");
        Process p = pb.start();
        String markdown = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue());
        Path doc = Path.of("../docs/kinds.md").toAbsolutePath().normalize();
        assertEquals(doc + " is not what the plugins declare; write it again with: dist/target/sonde/bin/sonde-cli kinds"
                + " --markdown > docs/kinds.md", Files.readString(doc), markdown);
        for (String kind : List.of("dns", "http", "icmp", "tcp", "tls", "traceroute", "udp")) {
            assertTrue(kind, markdown.contains("\n## " + kind + "\n"));
        }
        Run http = cli(home, "kinds", "http");
        assertEquals(http.out(), 0, http.exit());
        assertTrue(http.out(), http.out().startsWith("http (host: an http:// or https:// URL)"));
        assertTrue(http.out(), http.out().contains("expect_json"));
        Run none = cli(home, "kinds", "gopher");
        assertEquals(none.out(), 1, none.exit());
        assertTrue(none.out(), none.out().contains("No installed plugin probes kind 'gopher'; installed: dns, grpc, http, icmp,"));
    }

    @Test
    public void everyCommandHasHelpAWrongCommandLineSaysWhatAndCompletionLoads() throws Exception {
        Path home = AgentProcess.distribution();
        for (String command : List.of("probe", "kinds", "validate", "status", "log-level", "server")) {
            Run help = cli(home, command, "--help");
            assertEquals(help.out(), 0, help.exit());
            assertTrue(help.out(), help.out().startsWith("Usage: sonde-cli " + command));
            assertTrue(help.out(), help.out().contains("Examples:"));
        }
        Run top = cli(home, "--help");
        assertEquals(0, top.exit());
        for (String command : List.of("probe", "kinds", "validate", "status", "log-level", "server", "generate-completion")) {
            assertTrue(top.out(), top.out().contains("  " + command));
        }
        Run wrong = cli(home, "probe", "tcp", "127.0.0.1", "--colour", "red");
        assertEquals(wrong.out(), 2, wrong.exit());
        assertTrue(wrong.out(), wrong.out().contains("Unknown options: '--colour'"));
        Run unknown = cli(home, "probs");
        assertEquals(unknown.out(), 2, unknown.exit());
        assertTrue(unknown.out(), unknown.out().contains("Did you mean: sonde-cli probe"));

        Run completion = cli(home, "generate-completion");
        assertEquals(completion.out(), 0, completion.exit());
        Path script = Files.createTempFile("sonde-cli-completion", ".bash");
        try {
            Files.writeString(script, completion.out());
            String registered = AgentProcess.output(0, "bash", "-c", "source " + script + " && complete -p sonde-cli");
            assertTrue(registered, registered.contains("sonde-cli"));
        } finally {
            Files.delete(script);
        }
    }
}
