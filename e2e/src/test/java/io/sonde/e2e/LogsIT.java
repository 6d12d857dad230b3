package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;
import static org.junit.Assume.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.Test;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * The agent's log files as an operator meets them: rotated by size and count under load, JSON lines
 * with structured fields, levels changed live through etc/logging.properties, a full disk under
 * the log directory that costs log records but never probing; and the Latency Probe's environment
 * (TARGET_CONFIG, CONFIG_POLL_INTERVAL_SECONDS), its log_level key, and SIGHUP.
 */
public class LogsIT {

    private static final int LIMIT = 65_536;

    /** A logging.properties with the file handler at {@code file}, JSON lines, and Jetty at {@code jettyLevel}. */
    private static String logging(String file, int limit, int count, String jettyLevel) {
        return "handlers = java.util.logging.ConsoleHandler, io.sonde.launcher.LogFileHandler\n"
                + ".level = INFO\n"
                + "java.util.logging.ConsoleHandler.level = INFO\n"
                + "java.util.logging.ConsoleHandler.formatter = java.util.logging.SimpleFormatter\n"
                + "java.util.logging.SimpleFormatter.format = %1$tF %1$tT.%1$tL %4$-7s [%3$s] %5$s%6$s%n\n"
                + "io.sonde.launcher.LogFileHandler.file = " + file + "\n"
                + "io.sonde.launcher.LogFileHandler.limit = " + limit + "\n"
                + "io.sonde.launcher.LogFileHandler.count = " + count + "\n"
                + "io.sonde.launcher.LogFileHandler.formatter = io.sonde.launcher.JsonLineFormatter\n"
                + "org.eclipse.jetty.level = " + jettyLevel + "\n";
    }

    private static String closedTarget() throws Exception {
        return "name = closed\nkind = tcp\nhost = 127.0.0.1\nport = " + AgentProcess.freePort() + "\ninterval_ms = 200\ntimeout_ms = 200\n";
    }

    /** Every line of the file, parsed; a line that is not one JSON object fails the test, naming it. */
    private static List<JsonObject> jsonLines(Path file) throws Exception {
        List<JsonObject> lines = new ArrayList<>();
        int n = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            n++;
            try {
                JsonObject o = JsonParser.parseString(line).getAsJsonObject();
                for (String key : List.of("time", "level", "logger", "message")) {
                    assertTrue(file + ":" + n + " has no " + key + ": " + line, o.has(key));
                }
                lines.add(o);
            } catch (RuntimeException e) {
                throw new AssertionError(file + ":" + n + " is not a JSON object: " + line, e);
            }
        }
        return lines;
    }

    private static boolean fromJetty(JsonObject o) {
        return o.get("logger").getAsString().startsWith("org.eclipse.jetty");
    }

    @Test
    public void filesRotateUnderLoadAsJsonLinesWithTargetFieldsAndLevelsChangeLive() throws Exception {
        try (AgentProcess agent = AgentProcess.start(Map.of(
                "etc/logging.properties", logging("log/sonde.log", LIMIT, 3, "WARNING"),
                "etc/io.sonde.target-closed.cfg", closedTarget()))) {
            Path log = agent.home.resolve("log/sonde.log");
            agent.awaitLogLine("Target closed failed 3 times in a row");
            JsonObject backoff = jsonLines(log).stream()
                    .filter(o -> o.get("message").getAsString().startsWith("Target closed failed 3 times in a row"))
                    .findFirst().orElseThrow(() -> new AssertionError("no backoff line in " + log));
            assertEquals("closed", backoff.get("target").getAsString());
            assertEquals("tcp", backoff.get("kind").getAsString());
            assertEquals("INFO", backoff.get("level").getAsString());
            assertTrue(backoff.get("time").getAsString().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"));
            assertFalse(jsonLines(log).stream().anyMatch(LogsIT::fromJetty));

            // Jetty's debug output for every scrape, switched on live: load enough for several rotations
            agent.write("etc/logging.properties", logging("log/sonde.log", LIMIT, 3, "FINE"));
            agent.awaitLogLine("Logging configuration re-read from");
            for (int i = 0; i < 2000 && !Files.exists(agent.home.resolve("log/sonde.log.2")); i++) {
                agent.metrics();
            }
            assertTrue("rotated twice", Files.exists(agent.home.resolve("log/sonde.log.2")));
            // as much again: the oldest file is dropped, not kept as a fourth
            String firstOfOldest = Files.readAllLines(agent.home.resolve("log/sonde.log.2")).get(0);
            for (int i = 0; i < 2000 && Files.readAllLines(agent.home.resolve("log/sonde.log.2")).get(0).equals(firstOfOldest); i++) {
                agent.metrics();
            }
            List<String> names;
            try (var s = Files.list(agent.home.resolve("log"))) {
                names = s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("sonde.log")).sorted().toList();
            }
            assertEquals(List.of("sonde.log", "sonde.log.1", "sonde.log.2"), names);
            for (String name : names) {
                Path f = agent.home.resolve("log").resolve(name);
                assertTrue(name + " holds " + Files.size(f) + " bytes", Files.size(f) <= LIMIT);
                List<JsonObject> lines = jsonLines(f);
                assertTrue(name, lines.stream().anyMatch(LogsIT::fromJetty));
            }

            // and off again, live: no more of Jetty's lines
            agent.write("etc/logging.properties", logging("log/sonde.log", LIMIT, 3, "WARNING"));
            long before = agent.countLogLines("Logging configuration re-read from");
            long deadline = System.nanoTime() + AgentProcess.PATIENCE.toNanos();
            while (agent.countLogLines("Logging configuration re-read from") == before && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            long size = Files.size(log);
            for (int i = 0; i < 50; i++) {
                agent.metrics();
            }
            byte[] all = Files.readAllBytes(log);
            String since = new String(all, (int) Math.min(size, all.length), all.length - (int) Math.min(size, all.length),
                    StandardCharsets.UTF_8);
            assertFalse(since, since.contains("\"logger\":\"org.eclipse.jetty"));
            assertTrue(agent.alive());
        }
    }

    @Test
    public void aFullDiskUnderTheLogsCostsLogRecordsNeverProbing() throws Exception {
        assumeTrue("mounting a tmpfs needs root", "root".equals(System.getProperty("user.name")) || System.getenv("CI") != null);
        try (AgentProcess agent = AgentProcess.start(Map.of(
                "etc/logging.properties", logging("logdisk/sonde.log", LIMIT, 5, "WARNING")))) {
            Path disk = agent.home.resolve("logdisk");
            Files.createDirectories(disk);
            AgentProcess.run("mount", "-t", "tmpfs", "-o", "size=128k", "sonde-e2e-logs", disk.toString());
            try {
                agent.awaitMetrics(m -> m.contains("probe_total"));
                agent.write("etc/logging.properties", logging("logdisk/sonde.log", LIMIT, 5, "FINE"));
                agent.awaitLogLine("Logging configuration re-read from");
                // Jetty's debug lines for every scrape fill the 128 KiB
                long free = Long.MAX_VALUE;
                for (int i = 0; i < 3000 && free >= 4096; i++) {
                    agent.metrics();
                    if (i % 50 == 49) {
                        free = Files.getFileStore(disk).getUsableSpace();
                    }
                }
                assertTrue("the disk is full: " + free + " bytes free", free < 4096);
                String m = agent.metrics();
                double probes = AgentProcess.value(m, "probe_total{target=\"self\",kind=\"tcp\"}");
                agent.awaitMetrics(x -> AgentProcess.value(x, "probe_total{target=\"self\",kind=\"tcp\"}") >= probes + 10);
                for (int i = 0; i < 200; i++) {
                    agent.metrics(); // more records dropped
                }
                assertTrue(agent.alive());

                AgentProcess.run("mount", "-o", "remount,size=8m", disk.toString());
                // the handler tries the file again 5 s after its last failure; then Jetty is quieted: the re-read's own
                // line is the next record, and carries the note, which no flood rotates away
                Thread.sleep(6000);
                agent.write("etc/logging.properties", logging("logdisk/sonde.log", LIMIT, 5, "WARNING"));
                long deadline = System.nanoTime() + AgentProcess.PATIENCE.toNanos();
                String text = "";
                while (System.nanoTime() < deadline && !text.contains("log records were dropped")) {
                    Thread.sleep(200);
                    StringBuilder all = new StringBuilder();
                    try (var files = Files.list(disk)) {
                        for (Path f : files.filter(f -> f.getFileName().toString().startsWith("sonde.log")).toList()) {
                            all.append(Files.readString(f, StandardCharsets.ISO_8859_1));
                        }
                    }
                    text = all.toString();
                }
                String said = text.lines().filter(l -> l.contains("log records were dropped")).findFirst().orElse("(no such line)");
                assertTrue("the log says what it lost: " + said, said.matches(
                        ".*\\d+ log records were dropped: the log file \\S+sonde.log cannot be written \\(No space left on device\\).*"));
            } finally {
                agent.terminate(java.time.Duration.ofSeconds(10));
                AgentProcess.run("umount", disk.toString());
            }
        }
    }

    @Test
    public void sighupRereadsTheTargetsFileThatTheLatencyProbesEnvironmentNames() throws Exception {
        int port;
        Path targets = Files.createTempFile("sonde-e2e-targets-", ".json");
        try (java.net.ServerSocket open = AgentProcess.acceptor()) {
            port = open.getLocalPort();
            String one = "{\"name\": \"one\", \"kind\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": " + port + ", \"interval_ms\": 300}";
            String two = "{\"name\": \"two\", \"kind\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": " + port + ", \"interval_ms\": 300}";
            Files.writeString(targets, "{\"log_level\": \"info\", \"targets\": [" + one + "]}");
            try (AgentProcess agent = AgentProcess.start(Map.of(), Map.of("TARGET_CONFIG", targets.toString(),
                    "CONFIG_POLL_INTERVAL_SECONDS", "3600"))) {
                agent.awaitMetrics(m -> AgentProcess.value(m, "probe_success{target=\"one\",kind=\"tcp\"}") == 1);
                agent.awaitLogLine("Sonde's loggers log at INFO (info from " + targets);

                Files.writeString(targets.resolveSibling(targets.getFileName() + ".tmp"),
                        "{\"log_level\": \"debug\", \"targets\": [" + one + ", " + two + "]}");
                Files.move(targets.resolveSibling(targets.getFileName() + ".tmp"), targets,
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                Thread.sleep(3000); // read once an hour: not yet
                assertFalse(agent.metrics().contains("target=\"two\""));

                AgentProcess.run("kill", "-HUP", Long.toString(agent.pid()));
                agent.awaitMetrics(m -> AgentProcess.value(m, "probe_success{target=\"two\",kind=\"tcp\"}") == 1);
                agent.awaitLogLine("SIGHUP: re-reading the configuration");
                agent.awaitLogLine("Sonde's loggers log at FINE (debug from " + targets);
                assertTrue(agent.alive());

                // a level that is none is a configuration error naming the file and key; the level stays
                Files.writeString(targets, "{\"log_level\": \"loud\", \"targets\": [" + one + "]}");
                AgentProcess.run("kill", "-HUP", Long.toString(agent.pid()));
                agent.awaitLogLine("Configuration error: " + targets + ": key 'log_level': 'loud' is no level");
                agent.awaitMetrics(m -> !m.contains("probe_success{target=\"two\""));
            }
        } finally {
            Files.deleteIfExists(targets);
        }
    }

    @Test
    public void sighupAppliesEtcAtOnceNewChangedAndDeletedFiles() throws Exception {
        try (java.net.ServerSocket open = AgentProcess.acceptor();
                // FileInstall reads etc/ when the agent starts and then every ten minutes: only SIGHUP is quicker
                AgentProcess agent = AgentProcess.start(Map.of(), Map.of("JAVA_OPTS", "-Dfelix.fileinstall.poll=600000"))) {
            agent.awaitMetrics(m -> m.contains("probe_success{target=\"self\""));
            agent.write("etc/io.sonde.target-extra.cfg", "kind = tcp\nhost = 127.0.0.1\nport = " + open.getLocalPort()
                    + "\ninterval_ms = 200\n");
            Thread.sleep(2500);
            assertFalse("not read before SIGHUP", agent.metrics().contains("target=\"extra\""));

            AgentProcess.run("kill", "-HUP", Long.toString(agent.pid()));
            agent.awaitMetrics(m -> AgentProcess.value(m, "probe_success{target=\"extra\",kind=\"tcp\"}") == 1);

            // changed: to a port nobody listens on
            agent.write("etc/io.sonde.target-extra.cfg", "kind = tcp\nhost = 127.0.0.1\nport = " + AgentProcess.freePort()
                    + "\ninterval_ms = 200\nbackoff = off\n");
            AgentProcess.run("kill", "-HUP", Long.toString(agent.pid()));
            agent.awaitMetrics(m -> AgentProcess.value(m, "probe_success{target=\"extra\",kind=\"tcp\"}") == 0);

            // deleted: its configuration goes, and the target with it
            Files.delete(agent.home.resolve("etc/io.sonde.target-extra.cfg"));
            AgentProcess.run("kill", "-HUP", Long.toString(agent.pid()));
            agent.awaitMetrics(m -> !m.contains("target=\"extra\""));
            assertTrue(agent.alive());
            assertFalse(agent.log(), agent.log().contains("Re-reading etc/:"));
        }
    }

    @Test
    public void sighupAppliesTheServersEtcToo() throws Exception {
        ServerProcess server = ServerProcess.prepared("");
        server.environment.put("JAVA_OPTS", "-Dfelix.fileinstall.poll=600000");
        try (server) {
            server.launch();
            int moved = AgentProcess.freePort();
            Files.writeString(server.home.resolve("etc/io.sonde.server.cfg"), "port = " + moved + "\nbind = 127.0.0.1\nstore = h2\n");
            java.net.http.HttpClient http = ServerProcess.client(server.home.resolve("data/tls/ca.pem"));
            java.net.URI health = java.net.URI.create("https://127.0.0.1:" + moved + "/healthz");
            Thread.sleep(2500);
            try {
                http.send(java.net.http.HttpRequest.newBuilder(health).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
                fail("the new port answers before SIGHUP");
            } catch (java.io.IOException e) {
                // not read yet: FileInstall looks again in ten minutes
            }
            AgentProcess.run("kill", "-HUP", Long.toString(server.pid()));
            long deadline = System.nanoTime() + AgentProcess.PATIENCE.toNanos();
            int status = 0;
            while (status != 200 && System.nanoTime() < deadline) {
                try {
                    status = http.send(java.net.http.HttpRequest.newBuilder(health).build(),
                            java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode();
                } catch (java.io.IOException e) {
                    Thread.sleep(100);
                }
            }
            assertEquals(server.log(), 200, status);
        }
    }
}
