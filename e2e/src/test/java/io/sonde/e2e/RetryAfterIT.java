package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

import org.junit.Test;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

/**
 * A busy server says when to come back: the agent's uplink waits for the Retry-After of a 429 and a
 * 503 before it sends again, and then delivers. The server here is the test's own (the JDK's HTTPS
 * server with a keytool certificate the agent pins), answering as a busy Sonde server would.
 */
public class RetryAfterIT {

    /** A server certificate made by keytool in {@code dir}: the TLS context that serves it, and its SHA-256 for the agent to pin. */
    private record Tls(SSLContext context, String pin) {
    }

    private static Tls tls(Path dir) throws Exception {
        Process kt = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-genkeypair",
                "-alias", "s", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=127.0.0.1", "-ext", "san=ip:127.0.0.1",
                "-validity", "2", "-keystore", "s.p12", "-storepass", "changeit", "-keypass", "changeit", "-storetype", "PKCS12")
                .directory(dir.toFile()).redirectErrorStream(true).start();
        kt.getInputStream().readAllBytes();
        assertTrue(kt.waitFor(60, TimeUnit.SECONDS) && kt.exitValue() == 0);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(dir.resolve("s.p12"))) {
            ks.load(in, "changeit".toCharArray());
        }
        String pin = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(((X509Certificate) ks.getCertificate("s")).getEncoded()));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "changeit".toCharArray());
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), null, null);
        return new Tls(ctx, pin);
    }

    @Test
    public void theUplinkWaitsAsLongAsTheServerAsks() throws Exception {
        Path dir = Files.createTempDirectory("sonde-retry-after-");
        Tls tls = tls(dir);
        SSLContext ctx = tls.context();
        String pin = tls.pin();
        List<Long> attempts = new CopyOnWriteArrayList<>();
        AtomicInteger answered = new AtomicInteger();
        HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 10);
        server.setHttpsConfigurator(new HttpsConfigurator(ctx));
        server.createContext("/api/v1/enroll", e -> answer(e, 200, "{\"schema\":1,\"agent_id\":\"e2e-busy\",\"credential\":\"c\",\"tags\":[]}", null));
        server.createContext("/api/v1/agents/e2e-busy/status", e -> answer(e, 204, null, null));
        java.util.concurrent.atomic.AtomicBoolean armed = new java.util.concurrent.atomic.AtomicBoolean();
        server.createContext("/api/v1/agents/e2e-busy/results", e -> {
            if (!armed.get()) { // until the uplink that enrolled has started again without the token it used
                answer(e, 200, "{\"schema\":1,\"accepted\":1,\"duplicates\":0}", null);
                return;
            }
            attempts.add(System.nanoTime());
            switch (answered.getAndIncrement()) {
                case 0 -> answer(e, 429, "{\"error\":\"busy\"}", "3");
                case 1 -> answer(e, 503, "{\"error\":\"the store is not available\"}", "2");
                default -> answer(e, 200, "{\"schema\":1,\"accepted\":1,\"duplicates\":0}", null);
            }
        });
        // the configuration document: a busy answer is no problem of the document (the agent would report it as one and
        // ask again at its next poll); it waits as told and asks again
        List<Long> configAsked = new CopyOnWriteArrayList<>();
        server.createContext("/api/v1/agents/e2e-busy/config", e -> {
            if (armed.get()) {
                configAsked.add(System.nanoTime());
            }
            if (armed.get() && configAsked.size() == 1) {
                answer(e, 429, "{\"error\":\"busy with documents\"}", "2");
            } else {
                answer(e, 404, "{\"error\":\"no document here\"}", null);
            }
        });
        server.start();
        try (AgentProcess agent = AgentProcess.start()) {
            agent.write("etc/io.sonde.agent.cfg", "agent_id = e2e-busy\n");
            agent.write("etc/io.sonde.uplink.cfg", "server_url = https://127.0.0.1:" + server.getAddress().getPort()
                    + "\nenrollment_token = t\nserver_ca_sha256 = " + pin + "\nconfig_poll_s = 1\n");
            // the token is used once: the uplink takes the file without it (a new uplink); then the server says it is busy
            agent.awaitLogLine("the enrollment token is used once");
            long deadline = System.nanoTime() + AgentProcess.PATIENCE.toNanos();
            while (agent.countLogLines("Uplink to https://127.0.0.1:" + server.getAddress().getPort() + " as agent e2e-busy") < 2
                    && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            armed.set(true);
            agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_acked_total ") >= 1 && attempts.size() >= 3);
            assertTrue(attempts.size() >= 3);
            double first = (attempts.get(1) - attempts.get(0)) / 1e9;
            double second = (attempts.get(2) - attempts.get(1)) / 1e9;
            // never sooner than asked (later is allowed: the machine is noisy)
            assertTrue("after the 429 it came back in " + first + " s", first >= 2.9);
            assertTrue("after the 503 it came back in " + second + " s", second >= 1.9);
            agent.awaitLogLine("results answered 429: busy");
            agent.awaitLogLine("configuration answered 429: busy with documents");
            long deadline2 = System.nanoTime() + AgentProcess.PATIENCE.toNanos();
            while (configAsked.size() < 2 && System.nanoTime() < deadline2) {
                Thread.sleep(100);
            }
            assertTrue("asked for its configuration again: " + configAsked.size(), configAsked.size() >= 2);
            double configAgain = (configAsked.get(1) - configAsked.get(0)) / 1e9;
            assertTrue("after the 429 it asked for its configuration again in " + configAgain + " s", configAgain >= 1.9);
            assertEquals("a busy server is no problem of the document", 0,
                    agent.countLogLines("the server answered 429 for this agent's configuration document"));
            assertEquals(1.0, AgentProcess.value(agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_up ") == 1), "sonde_uplink_up "), 0);
        } finally {
            server.stop(0);
            AgentProcess.run("rm", "-rf", dir.toString());
        }
    }

    /**
     * A busy server is not sent statuses to say the agent is alive: they would be turned away as
     * well, and add to the load. While every batch is answered 429, the agent — whose status
     * interval is 2 s, and which has results to send — sends no status; once batches are taken, a
     * quiet agent's statuses come again.
     */
    @Test
    public void anAgentTurnedAwayBusySendsNoStatusesToSayItIsAlive() throws Exception {
        Path dir = Files.createTempDirectory("sonde-retry-after-");
        Tls tls = tls(dir);
        List<Long> statuses = new CopyOnWriteArrayList<>();
        AtomicInteger batches = new AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean busy = new java.util.concurrent.atomic.AtomicBoolean(true);
        HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 10);
        server.setHttpsConfigurator(new HttpsConfigurator(tls.context()));
        server.createContext("/api/v1/enroll", e -> answer(e, 200, "{\"schema\":1,\"agent_id\":\"e2e-quiet-busy\",\"credential\":\"c\",\"tags\":[]}", null));
        server.createContext("/api/v1/agents/e2e-quiet-busy/status", e -> {
            statuses.add(System.nanoTime());
            answer(e, 204, null, null);
        });
        server.createContext("/api/v1/agents/e2e-quiet-busy/results", e -> {
            batches.incrementAndGet();
            if (busy.get()) {
                answer(e, 429, "{\"error\":\"busy\"}", "1");
            } else {
                answer(e, 200, "{\"schema\":1,\"accepted\":1,\"duplicates\":0}", null);
            }
        });
        server.createContext("/api/v1/agents/e2e-quiet-busy/config", e -> answer(e, 404, "{\"error\":\"no document here\"}", null));
        server.start();
        try (CountingListener target = new CountingListener(); AgentProcess agent = AgentProcess.start()) {
            agent.write("etc/io.sonde.agent.cfg", "agent_id = e2e-quiet-busy\n");
            agent.write("etc/io.sonde.target-t0.cfg", UplinkIT.targetCfg("t0", target.port(), 200));
            agent.write("etc/io.sonde.uplink.cfg", "server_url = https://127.0.0.1:" + server.getAddress().getPort()
                    + "\nenrollment_token = t\nserver_ca_sha256 = " + tls.pin() + "\nstatus_interval_s = 2\n");
            agent.awaitLogLine("results answered 429: busy");
            // the statuses of its start (its kinds as the plugins come) settle: a window of 8 s without one, at most five tries
            int quiet = -1;
            for (int tries = 0; tries < 5 && quiet < 0; tries++) {
                int s0 = statuses.size();
                int b0 = batches.get();
                Thread.sleep(8000);
                if (statuses.size() == s0) {
                    quiet = batches.get() - b0;
                }
            }
            assertTrue("8 s without a status while every batch is turned away busy: " + statuses.size() + " statuses", quiet >= 0);
            assertTrue("batches were sent (and turned away) meanwhile: " + quiet, quiet >= 3);
            assertEquals(0, agent.countLogLines("status answered"));

            busy.set(false);
            agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_acked_total ") >= 5);
            assertEquals(1.0, AgentProcess.value(agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_up ") == 1), "sonde_uplink_up "), 0);
        } finally {
            server.stop(0);
            AgentProcess.run("rm", "-rf", dir.toString());
        }
    }

    /**
     * A busy server reads a batch to its end to turn it away: an agent with a backlog would offer the
     * whole of it at every try. After a 429 the agent's batches are of at most 100 results, doubling
     * with each one taken; nothing is lost or sent twice (the listener's connections against the
     * results the server took).
     */
    @Test
    public void afterABusyAnswerTheBatchesAreSmallAndGrowAgain() throws Exception {
        try (FakeServer server = new FakeServer("busy-small"); CountingListener target = new CountingListener()) {
            try (AgentProcess agent = AgentProcess.start(java.util.Map.of(
                    "etc/io.sonde.agent.cfg", "agent_id = busy-small\n",
                    "etc/io.sonde.target-t0.cfg", UplinkIT.targetCfg("t0", target.port(), 50),
                    "etc/io.sonde.uplink.cfg", server.uplinkConfig("")))) {
                // the token is used once: the uplink starts again without it (a new one, its batches as large as it likes)
                agent.awaitLogLine("the enrollment token is used once");
                long deadline = System.nanoTime() + AgentProcess.PATIENCE.toNanos();
                while (agent.countLogLines("Uplink to " + server.url() + " as agent busy-small") < 2 && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_acked_total ") >= 1);
                int from = server.batches.size();
                long armed = target.accepted.get();
                int resultsFrom = server.results.size();
                server.busyFor.set(1_000_000);
                // turned away until 300 more results wait
                while (target.accepted.get() < armed + 300 && System.nanoTime() < deadline + AgentProcess.PATIENCE.toNanos()) {
                    Thread.sleep(100);
                }
                assertTrue("connections: " + target.accepted.get(), target.accepted.get() >= armed + 300);
                int refused = server.batches.size() - from;
                server.busyFor.set(0);
                agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_acked_total ") >= armed + 300);
                List<Integer> sizes = List.copyOf(server.batches.subList(from, server.batches.size()));
                int firstRefused = -1;
                int lastRefused = -1;
                for (int i = 0; i < sizes.size(); i++) {
                    if (sizes.get(i) < 0) {
                        firstRefused = firstRefused < 0 ? i : firstRefused;
                        lastRefused = i;
                    }
                }
                // (a batch on its way as the server turned busy may come first, taken)
                assertTrue("turned away: " + sizes + " (" + refused + ")", firstRefused >= 0 && lastRefused > firstRefused);
                List<Integer> taken = sizes.subList(lastRefused + 1, sizes.size());
                assertTrue("taken: " + taken, taken.size() >= 2);
                assertEquals("the first taken after a busy answer: " + sizes, 100, (int) taken.get(0));
                assertTrue("then larger: " + sizes, taken.get(1) > 100);
                for (int i = firstRefused + 1; i <= lastRefused; i++) {
                    assertTrue("each try after a busy answer is small: " + sizes, Math.abs(sizes.get(i)) <= 100);
                }

                long saw = target.accepted.get();
                deadline = System.nanoTime() + AgentProcess.PATIENCE.toNanos();
                while (new java.util.HashSet<>(server.results).size() < saw && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                java.util.Set<Long> distinct = new java.util.HashSet<>(server.results);
                assertTrue("every connection the target took reached the server: " + distinct.size() + " of " + saw, distinct.size() >= saw);
                // (a batch taken as the first uplink stopped may come again from the second: the server keeps it once)
                List<Long> since = List.copyOf(server.results.subList(resultsFrom, server.results.size()));
                assertEquals("none twice since the server turned busy", since.size(), new java.util.HashSet<>(since).size());
            }
        }
    }

    private static void answer(HttpExchange e, int status, String body, String retryAfter) throws IOException {
        e.getRequestBody().readAllBytes();
        if (retryAfter != null) {
            e.getResponseHeaders().add("Retry-After", retryAfter);
        }
        byte[] b = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        e.getResponseHeaders().add("Content-Type", "application/json");
        e.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
        if (b.length > 0) {
            e.getResponseBody().write(b);
        }
        e.close();
    }
}
