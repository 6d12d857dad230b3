package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.Test;

import io.sonde.api.ProbeResult;
import io.sonde.api.Target;
import io.sonde.embed.Monitor;

/**
 * The embeddable library: a {@link Monitor} in this very JVM with the built distribution's bundles,
 * and examples/embedded compiled with javac and run as its own program.
 */
public class EmbeddedIT {

    private static final Path EXAMPLE = Path.of("../examples/embedded").toAbsolutePath().normalize();

    @Test
    public void aMonitorProbesWhatItIsGivenAndForgetsWhatIsRemoved() throws Exception {
        try (java.net.ServerSocket open = AgentProcess.acceptor()) {
            Path work = Files.createTempDirectory("sonde-embedded-");
            try (Monitor monitor = Monitor.start(AgentProcess.distribution(), work)) {
                assertTrue(monitor.awaitKind("tcp", java.time.Duration.ofSeconds(10)));
                assertTrue(monitor.kinds().toString(), monitor.kinds().containsAll(List.of("tcp", "icmp", "traceroute", "http", "udp", "dns")));
                List<ProbeResult> seen = new CopyOnWriteArrayList<>();
                AutoCloseable subscription = monitor.subscribe(seen::add);
                monitor.subscribe(r -> {
                    throw new IllegalStateException("a listener that fails harms no other");
                });
                Target t = monitor.add(Map.of("name", "web", "kind", "tcp", "host", "127.0.0.1", "port", open.getLocalPort(),
                        "interval_ms", 100));
                assertEquals("web", t.name());
                assertEquals(100, t.interval().toMillis());
                await(() -> seen.size() >= 5);
                assertTrue(seen.stream().allMatch(ProbeResult::isSuccessful));
                assertTrue(monitor.latest("web").isPresent());

                // the same name again replaces it
                int closed = AgentProcess.freePort();
                Target replaced = monitor.add(Map.of("name", "web", "kind", "tcp", "host", "127.0.0.1", "port", closed,
                        "interval_ms", 100, "backoff", "off"));
                assertEquals("add returns once the replacement is in force", closed, replaced.port());
                await(() -> monitor.latest("web").map(r -> !r.isSuccessful()).orElse(false));
                assertEquals(1, monitor.targets().size());
                assertFalse("targets are handed to the core, not written to a file", Files.exists(work.resolve("targets.json")));

                // the agent's rules, and its messages
                try {
                    monitor.add(Map.of("name", "bad", "kind", "tcp", "host", "127.0.0.1", "port", 70000));
                    fail();
                } catch (IllegalArgumentException e) {
                    assertTrue(e.getMessage(), e.getMessage().contains("key 'port': 70000 is not a port number"));
                }
                assertFalse(monitor.targets().containsKey("bad"));

                assertTrue(monitor.remove("web"));
                assertFalse(monitor.remove("web"));
                assertTrue(monitor.targets().isEmpty());
                assertFalse(monitor.latest("web").isPresent());
                subscription.close();
                int before = seen.size();
                Thread.sleep(300);
                assertEquals(before, seen.size());
            }
            assertTrue("a work directory given is kept", Files.isDirectory(work));
            AgentProcess.run("rm", "-rf", work.toString());
        }
    }

    @Test
    public void aJarInPluginsThatIsNoBundleLeavesTheOtherPluginsWorking() throws Exception {
        Path copy = Files.createTempDirectory("sonde-embedded-dist-");
        try (java.net.ServerSocket open = AgentProcess.acceptor()) {
            AgentProcess.run("cp", "-a", AgentProcess.distribution() + "/.", copy.toString());
            Files.writeString(copy.resolve("plugins/half-copied-1.0.jar"), "PK, and then nothing");
            try (Monitor monitor = Monitor.start(copy)) {
                assertTrue(monitor.kinds().toString(), monitor.kinds().containsAll(List.of("tcp", "icmp", "traceroute", "http", "udp", "dns")));
                monitor.add(Map.of("name", "web", "kind", "tcp", "host", "127.0.0.1", "port", open.getLocalPort(), "interval_ms", 100));
                await(() -> monitor.latest("web").map(ProbeResult::isSuccessful).orElse(false));
            }
        } finally {
            AgentProcess.run("rm", "-rf", copy.toString());
        }
    }

    @Test
    public void aDirectoryThatIsNoDistributionIsRefusedWithTheReason() throws Exception {
        Path empty = Files.createTempDirectory("sonde-not-a-distribution-");
        try {
            Monitor.start(empty).close();
            fail();
        } catch (java.io.IOException e) {
            assertEquals(empty.toAbsolutePath() + " is no Sonde agent distribution: it has no system/ directory", e.getMessage());
        } finally {
            Files.delete(empty);
        }
    }

    @Test
    public void theExampleProgramBuildsAndRunsInUnderFiftyLines() throws Exception {
        Path source = EXAMPLE.resolve("src/main/java/example/LatencyWatch.java");
        assertTrue(Files.readAllLines(source).size() < 50);
        Path dist = AgentProcess.distribution();
        String classpath = String.join(":", dist.resolve("lib/sonde-embed.jar").toString(), dist.resolve("system/boot/*").toString(),
                jar(dist.resolve("system"), "io.sonde.api-"), jar(dist.resolve("system"), "io.sonde.agent.spi-"),
                jar(dist.resolve("system"), "gson-"));
        Path classes = Files.createTempDirectory("sonde-example-");
        try (java.net.ServerSocket open = AgentProcess.acceptor()) {
            String javac = Path.of(System.getProperty("java.home"), "bin", "javac").toString();
            AgentProcess.output(0, javac, "-d", classes.toString(), "-cp", classpath, source.toString());
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process p = new ProcessBuilder(java, "-cp", classes + ":" + classpath, "example.LatencyWatch", dist.toString(),
                    "127.0.0.1", Integer.toString(open.getLocalPort())).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(out, p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(out, 0, p.exitValue());
            assertEquals(out, 5, out.lines().filter(l -> l.matches("service ok \\d+\\.\\d+ ms")).count());
            assertTrue(out, out.lines().anyMatch(l -> l.startsWith("latest: PT")));
        } finally {
            AgentProcess.run("rm", "-rf", classes.toString());
        }
    }

    private static String jar(Path dir, String prefix) throws Exception {
        List<Path> found = new ArrayList<>();
        try (var s = Files.list(dir)) {
            s.filter(p -> p.getFileName().toString().startsWith(prefix)).forEach(found::add);
        }
        assertEquals(found.toString(), 1, found.size());
        return found.get(0).toString();
    }

    private static void await(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + AgentProcess.PATIENCE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + AgentProcess.PATIENCE);
            }
            Thread.sleep(20);
        }
    }
}
