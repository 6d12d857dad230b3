package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.io.File;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Predicate;

import org.junit.Test;

/**
 * The Gogo shell in the built agent and server, started as an operator does (SONDE_SHELL=true, in a
 * terminal held by tmux): sonde:targets and sonde:status read off the screen; without SONDE_SHELL
 * there is no shell at all.
 */
public class ShellIT {

    /**
     * Ends a tmux session and what runs in it: the agent and the server take SIGHUP (which closing a
     * terminal sends) as "re-read the configuration", so they are stopped by their process id first.
     */
    static void end(String session) throws Exception {
        String pane = "";
        try {
            pane = AgentProcess.output(0, "tmux", "display-message", "-p", "-t", session, "#{pane_pid}").strip();
        } catch (AssertionError gone) {
            return;
        }
        if (pane.matches("\\d+")) {
            java.util.List<ProcessHandle> running = ProcessHandle.of(Long.parseLong(pane))
                    .map(p -> p.descendants().toList()).orElse(java.util.List.of());
            running.forEach(ProcessHandle::destroy);
            for (ProcessHandle p : running) {
                p.onExit().get(20, java.util.concurrent.TimeUnit.SECONDS);
            }
        }
        AgentProcess.exitCode("tmux", "kill-session", "-t", session);
    }

    /** A tmux session ended on close (resources close in reverse: this one before the home it runs in). */
    private record Session(String name) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            end(name);
        }
    }

    private static String screen(String session) throws Exception {
        return AgentProcess.output(0, "tmux", "capture-pane", "-p", "-J", "-S", "-200", "-t", session);
    }

    private static String await(String session, Predicate<String> ok) throws Exception {
        long deadline = System.nanoTime() + ServerProcess.PATIENCE.toNanos();
        String s = "";
        while (System.nanoTime() < deadline) {
            s = screen(session);
            if (ok.test(s)) {
                return s;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("not on the screen in time:\n" + s);
    }

    /**
     * Types a command at the g! prompt and returns the screen once its output is followed by the next
     * prompt (log lines may follow that prompt: the console is the shell's and the log's).
     */
    private static String command(String session, String command) throws Exception {
        int before = screen(session).split("g! ", -1).length;
        AgentProcess.run("tmux", "send-keys", "-t", session, command, "Enter");
        return await(session, s -> s.split("g! ", -1).length > before);
    }

    @Test
    public void theAgentsShellShowsItsTargetsAndStatus() throws Exception {
        assumeTrue("tmux is not installed; CI installs it", new File("/usr/bin/tmux").canExecute() || System.getenv("CI") != null);
        String session = "sonde-shell-" + ProcessHandle.current().pid();
        // resources close in reverse order: the session (and what runs in it) ends before the home is deleted
        try (AgentProcess agent = AgentProcess.start(Map.of("etc/io.sonde.target-closed.cfg", "kind = tcp\nhost = 127.0.0.1\nport = "
                + AgentProcess.freePort() + "\ninterval_ms = 200\ntimeout_ms = 200\n")); Session ended = new Session(session)) {
            agent.awaitMetrics(m -> m.contains("sonde_targets{state=\"backoff\",} 1.0"));
            assertFalse("no shell unless asked for", agent.log().contains("Welcome to Apache Felix Gogo"));
            assertTrue(agent.terminate(java.time.Duration.ofSeconds(15)));
            Path home = agent.home;
            AgentProcess.run("tmux", "new-session", "-d", "-s", session, "-x", "250", "-y", "50",
                    "cd " + home + " && SONDE_SHELL=true bin/sonde; sleep 30");
            await(session, s -> s.contains("Welcome to Apache Felix Gogo") && s.contains("Serving /metrics"));
            Thread.sleep(1500); // a few probes
            String targets = command(session, "sonde:targets");
            assertTrue(targets, targets.matches("(?s).*\nname +kind +host +port +interval_ms +source .*"));
            assertTrue(targets, targets.matches("(?s).*\nclosed +tcp +127\\.0\\.0\\.1 +\\d+ +200 +\\S+io\\.sonde\\.target-closed\\.cfg .*backoff.*"));
            assertTrue(targets, targets.matches("(?s).*\nself +tcp +127\\.0\\.0\\.1 +" + agent.port + " .*active.*"));
            String status = command(session, "sonde:status");
            for (String line : new String[] {"config\n", "  etc_targets: true\n", "  targets: 2 entries\n", "scheduler\n", "updater\n",
                    "  public_key_pinned: false\n", "results\n"}) {
                assertTrue(line + " in:\n" + status, status.contains(line));
            }
        }
    }

    @Test
    public void theServersShellShowsItsTargetDefinitionsAndAgents() throws Exception {
        assumeTrue("tmux is not installed; CI installs it", new File("/usr/bin/tmux").canExecute() || System.getenv("CI") != null);
        String session = "sonde-server-shell-" + ProcessHandle.current().pid();
        try (ServerProcess server = ServerProcess.start(""); Session ended = new Session(session)) {
            HttpResponse<String> put = server.admin("PUT", "/api/v1/targets/web",
                    "{\"kind\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": 8080, \"agents\": \"eu\"}");
            assertEquals(put.body(), 201, put.statusCode());
            server.stop();
            AgentProcess.run("tmux", "new-session", "-d", "-s", session, "-x", "250", "-y", "50",
                    "cd " + server.home + " && SONDE_SHELL=true bin/sonde-server; sleep 30");
            // the last of the components that log at start (the rest come before it or 15 s later): the console is quiet
            await(session, s -> s.contains("Welcome to Apache Felix Gogo") && s.contains("Sonde server started")
                    && s.contains("Bundle repository: "));
            Thread.sleep(1000);
            String targets = command(session, "sonde:targets");
            assertTrue(targets, targets.matches("(?s).*\nname +kind +host +port +interval_ms +agents\\s*\nweb +tcp +127\\.0\\.0\\.1 +8080 +- +eu\\s*\n.*"));
            String status = command(session, "sonde:status");
            assertTrue(status, status.contains("server\n  version: "));
            assertTrue(status, status.contains("  store: ok\n"));
            assertTrue(status, status.contains("  agents: 0\n"));
        }
    }
}
