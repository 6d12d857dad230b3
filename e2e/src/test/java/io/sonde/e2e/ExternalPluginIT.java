package io.sonde.e2e;

import static io.sonde.e2e.AgentProcess.value;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static io.sonde.e2e.NewKindIT.await;
import static io.sonde.e2e.NewKindIT.ok;

import java.io.File;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.After;
import org.junit.Test;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

/**
 * The out-of-tree plugin of examples/smtp-plugin, built as its author builds it (its own pom.xml,
 * the probe contract's jar as shipped in the distribution's system/ as its only Sonde dependency,
 * its own tests against a real aiosmtpd), then dropped into a running agent connected to a
 * server: its kind is probed against a real SMTP server, stored, listed, counted in /metrics,
 * alerted on by one of its own values, and probed by sonde-cli; no setting touched anywhere.
 */
public class ExternalPluginIT {

    private static final Path EXAMPLE = Path.of("../examples/smtp-plugin").toAbsolutePath().normalize();

    private ServerProcess server;
    private AgentProcess agent;
    private Process smtp;
    private Path work;

    @After
    public void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        if (server != null) {
            server.close();
        }
        if (smtp != null) {
            smtp.destroy();
            smtp.waitFor(10, TimeUnit.SECONDS);
        }
        if (work != null) {
            AgentProcess.run("rm", "-rf", work.toString());
        }
    }

    @Test
    public void aPluginBuiltOutOfTheTreeIsAKindLikeAnyOther() throws Exception {
        work = Files.createTempDirectory("sonde-e2e-external");
        // the contract as its users get it: the jar the distribution ships, put in the Maven repository
        Path api;
        try (var jars = Files.list(AgentProcess.distribution().resolve("system"))) {
            api = jars.filter(p -> p.getFileName().toString().startsWith("io.sonde.api-")).findFirst().orElseThrow();
        }
        String released = api.getFileName().toString().replaceAll("^io\\.sonde\\.api-(.*)\\.jar$", "$1");
        assertEquals("the contract a distribution ships is a release", "2.3.0", released);
        mvn(EXAMPLE.getParent(), "install:install-file", "-Dfile=" + api, "-DgroupId=io.sonde", "-DartifactId=io.sonde.api",
                "-Dversion=" + released, "-Dpackaging=jar");
        AgentProcess.run("cp", "-a", EXAMPLE.toString(), work.resolve("smtp-plugin").toString());
        mvn(work.resolve("smtp-plugin"), "-o", "package");
        Path jar = work.resolve("smtp-plugin/target/sonde-smtp-probe-1.0.0.jar");
        assertTrue(jar + " built", Files.isRegularFile(jar));

        int port = AgentProcess.freePort();
        smtp = new ProcessBuilder("/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:" + port).redirectErrorStream(true)
                .redirectOutput(work.resolve("aiosmtpd.log").toFile()).start();
        await("aiosmtpd listening", 20, () -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return true;
            } catch (java.io.IOException e) {
                return false;
            }
        });

        server = ServerProcess.start("alert_eval_s = 2\n");
        ok(server.admin("PUT", "/api/v1/targets/mail", "{\"kind\": \"smtp\", \"host\": \"127.0.0.1\", \"port\": " + port
                + ", \"interval_ms\": 1000, \"agents\": \"*\"}"));
        ok(server.admin("PUT", "/api/v1/alert-rules/mail-greets", "{\"type\": \"value\", \"target\": \"mail\", \"value\": \"status_code\","
                + " \"threshold\": 200, \"for\": \"1s\"}"));
        String token = server.enrollmentToken("{}");
        agent = AgentProcess.start(Map.of("etc/io.sonde.agent.cfg", "agent_id = a1\n",
                "etc/io.sonde.uplink.cfg", server.uplinkConfig(token, "config_poll_s = 1\n")));
        agent.awaitLogLine("target 'mail' waits: no installed plugin provides kind 'smtp'");
        Path staged = agent.home.resolve("plugins/.smtp.part");
        Files.copy(jar, staged);
        Files.move(staged, agent.home.resolve("plugins/sonde-smtp-probe-1.0.0.jar"), StandardCopyOption.ATOMIC_MOVE);

        await("results of the external kind stored", 60, () -> server.results("a1", "mail").size() >= 3);
        JsonObject r = server.results("a1", "mail").get(0);
        assertTrue(r.toString(), r.get("success").getAsBoolean());
        assertEquals(220, r.getAsJsonObject("details").get("status_code").getAsInt());
        assertEquals(2, r.getAsJsonObject("details").get("extensions").getAsInt());
        JsonObject kind = null;
        for (JsonElement e : server.json(server.admin("GET", "/api/v1/kinds", null)).getAsJsonArray("items")) {
            if (e.getAsJsonObject().get("kind").getAsString().equals("smtp")) {
                kind = e.getAsJsonObject();
            }
        }
        assertTrue("smtp is listed", kind != null);
        assertTrue(kind.toString(), kind.getAsJsonObject("results").toString().contains("\"role\":\"STATUS_CODE\""));
        String m = agent.awaitMetrics(p -> value(p, "probe_smtp_status_code{target=\"mail\",kind=\"smtp\"}") == 220.0);
        assertEquals(0.0, value(m, "probe_smtp_starttls_offered{target=\"mail\",kind=\"smtp\"}"), 0);
        assertTrue(m, value(m, "probe_smtp_duration_seconds{target=\"mail\",kind=\"smtp\",phase=\"ehlo\"}") > 0);
        await("the value rule on the kind's own status code firing", 60, () -> {
            for (JsonElement e : server.json(server.admin("GET", "/api/v1/alerts", null)).getAsJsonArray("items")) {
                JsonObject a = e.getAsJsonObject();
                if (a.get("rule").getAsString().equals("mail-greets") && a.get("state").getAsString().equals("firing")) {
                    return true;
                }
            }
            return false;
        });
        CliIT.Run cli = CliIT.cli(agent.home, "probe", "smtp", "127.0.0.1", "--port", Integer.toString(port), "-c", "1");
        assertEquals(cli.out(), 0, cli.exit());
        assertTrue(cli.out(), cli.out().contains("status 220"));
    }

    private static void mvn(Path dir, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("mvn", "-B", "-q"));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        File log = Files.createTempFile("sonde-e2e-mvn", ".log").toFile();
        pb.redirectOutput(log);
        Process p = pb.start();
        boolean done = p.waitFor(10, TimeUnit.MINUTES);
        String out = Files.readString(log.toPath());
        Files.delete(log.toPath());
        if (!done) {
            p.destroyForcibly();
        }
        assertTrue("mvn " + String.join(" ", args) + " in " + dir + ":\n" + out, done && p.exitValue() == 0);
    }
}
