package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.Test;

/**
 * The README's five minutes, run as written: its shell blocks in order, from the repository's root, with a home of the
 * test's own as {@code ~}. A block that is only a start script ({@code .../bin/sonde}, {@code .../bin/sonde-server}) is
 * what the README runs in a terminal of its own: here in the background, waited for until it says it started. The others
 * are run with {@code bash -e -o pipefail} until they succeed (a user runs them again when the server was not up yet),
 * each within a bound; their output is checked for what the README says it shows. {@code mvn} lines are the build this
 * test runs in, which made {@code dist/target} already. Every other shell block of the README is one of the two commands
 * for developers: a new one must come under this test.
 */
public class ReadmeIT {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Pattern FENCE = Pattern.compile("(?ms)^```sh\\n(.*?)^```");
    private static final Pattern START_SCRIPT = Pattern.compile("\\S+/bin/sonde(-server)?");
    private static final long BLOCK_PATIENCE_MS = 90_000;

    /**
     * What each block that is not a start script shows once it works, as the README says: the install nothing, the
     * agent's metrics its self target up, the connection nothing, the server the agent online and its results.
     */
    private static final List<Pattern> EXPECTED = List.of(Pattern.compile("(?s).*"),
            Pattern.compile("(?m)^probe_success\\{[^}]*target=\"self\"[^}]*\\} 1(\\.0)?$"), Pattern.compile("(?s).*"),
            Pattern.compile("(?s)\"online\":true.*\"target\":\"self\"[^}]*\"success\":true"));

    @Test
    public void theFiveMinutesRunAsWritten() throws Exception {
        String readme = Files.readString(ROOT.resolve("README.md"));
        int from = readme.indexOf("\n## Five minutes");
        int to = readme.indexOf("\n## ", from + 1);
        assertTrue("the README has its five minutes", from > 0 && to > from);
        List<String> blocks = blocks(readme.substring(from, to));
        List<String> others = blocks(readme.substring(0, from) + readme.substring(to));
        assertEquals("the README's other shell blocks: the two commands for developers (a new one comes under this test)",
                List.of("mvn -B -q package -DskipTests && dist/target/sonde/bin/sonde", "mvn -B verify"), others);
        for (int port : new int[] {9100, 8443}) {
            assertTrue("port " + port + " is taken on this machine: the README's agent and server need 9100 and 8443", free(port));
        }

        Path home = Files.createTempDirectory("sonde-readme-");
        List<Process> started = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        try {
            for (String block : blocks) {
                String script = block.lines().filter(l -> !l.startsWith("mvn ")).reduce("", (a, l) -> a + l + "\n").strip();
                if (script.isEmpty()) {
                    continue;
                }
                if (START_SCRIPT.matcher(script).matches()) {
                    Path console = home.resolve("console-" + started.size() + ".log");
                    started.add(start(home, "exec " + script, console));
                    awaitLine(console, "Sonde ", " started in ");
                    continue;
                }
                assertTrue("a new block in the README's five minutes: say in EXPECTED what it shows\n" + script,
                        outputs.size() < EXPECTED.size());
                outputs.add(runUntilItWorks(home, script, EXPECTED.get(outputs.size())));
            }
            assertEquals("the blocks: the install, the agent's metrics, the connection, the server's agents and results",
                    4, outputs.size());

            // 4: the agent enrolled, its token removed, and the server has its results
            Path agent = home.resolve("sonde-try/sonde");
            String uplink = Files.readString(agent.resolve("etc/io.sonde.uplink.cfg"));
            assertTrue(uplink, uplink.contains("server_url = https://localhost:8443"));
            assertFalse("the enrollment token is used once, and removed:\n" + uplink, uplink.contains("enrollment_token"));
            String last = outputs.get(3);
            Matcher id = Pattern.compile("\"agent_id\":\"([^\"]+)\"").matcher(last);
            assertTrue(last, id.find());
            assertTrue("the agent says it enrolled", Files.readString(home.resolve("console-0.log"))
                    .contains("Enrolled with https://localhost:8443 as agent " + id.group(1)));
        } finally {
            for (Process p : started) {
                p.destroy(); // SIGTERM, as Ctrl-C would
            }
            for (Process p : started) {
                if (!p.waitFor(30, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
            AgentProcess.run("rm", "-rf", home.toString());
        }
    }

    /** The body of each ```sh block, in order. */
    private static List<String> blocks(String markdown) {
        List<String> out = new ArrayList<>();
        Matcher m = FENCE.matcher(markdown);
        while (m.find()) {
            out.add(m.group(1).strip());
        }
        return out;
    }

    private static boolean free(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static Process start(Path home, String script, Path output) throws IOException {
        ProcessBuilder b = new ProcessBuilder("bash", "-c", script).directory(ROOT.toFile())
                .redirectErrorStream(true).redirectOutput(output.toFile());
        b.environment().put("HOME", home.toString());
        return b.start();
    }

    /**
     * Runs {@code script} again (a second apart) until it exits 0 and shows what it should, for at most
     * {@link #BLOCK_PATIENCE_MS}; its output.
     */
    private static String runUntilItWorks(Path home, String script, Pattern shows) throws Exception {
        long deadline = System.currentTimeMillis() + BLOCK_PATIENCE_MS;
        String last = "";
        for (int attempt = 1; attempt <= 200; attempt++) {
            File out = Files.createTempFile(home, "block-", ".out").toFile();
            ProcessBuilder b = new ProcessBuilder("bash", "-e", "-o", "pipefail", "-c", script).directory(ROOT.toFile())
                    .redirectErrorStream(true).redirectOutput(out);
            b.environment().put("HOME", home.toString());
            Process p = b.start();
            boolean ended = p.waitFor(60, TimeUnit.SECONDS);
            if (!ended) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            last = Files.readString(out.toPath(), StandardCharsets.UTF_8);
            if (ended && p.exitValue() == 0 && shows.matcher(last).find()) {
                return last;
            }
            if (System.currentTimeMillis() > deadline) {
                break;
            }
            Thread.sleep(1000);
        }
        throw new AssertionError("the README's block did not work (exit 0, showing " + shows + ") in " + BLOCK_PATIENCE_MS / 1000
                + " s:\n" + script
                + "\nits last output:\n" + last);
    }

    private static void awaitLine(Path file, String... parts) throws Exception {
        long deadline = System.currentTimeMillis() + BLOCK_PATIENCE_MS;
        while (System.currentTimeMillis() < deadline) {
            if (Files.exists(file)) {
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    if (List.of(parts).stream().allMatch(line::contains)) {
                        return;
                    }
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no line with " + List.of(parts) + " in " + file + ":\n"
                + (Files.exists(file) ? Files.readString(file) : "(nothing)"));
    }
}
