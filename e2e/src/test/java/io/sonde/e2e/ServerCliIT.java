package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/**
 * sonde-cli server against the built server with a built agent enrolled: agents, enrollment
 * tokens, definitions applied from YAML (diff first, twice the same, pruned), a signed bundle
 * uploaded and rolled out, silences and alerts; credentials from the environment or a file, the
 * server's own when run on its host; and what it says when the token, the trust or the file is wrong.
 */
public class ServerCliIT {

    private static ServerProcess server;
    private static AgentProcess agent;
    private static Path work;

    @BeforeClass
    public static void start() throws Exception {
        server = ServerProcess.start("");
        agent = AgentProcess.start(Map.of("etc/io.sonde.agent.cfg", "agent_id = cli-1\n",
                "etc/io.sonde.uplink.cfg", server.uplinkConfig(server.enrollmentToken("{\"tags\": [\"eu\"]}"), "config_poll_s = 1\n")));
        agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_up ") == 1);
        work = Files.createTempDirectory("sonde-server-cli-");
    }

    @AfterClass
    public static void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        if (server != null) {
            server.close();
        }
        if (work != null) {
            AgentProcess.run("rm", "-rf", work.toString());
        }
    }

    /** sonde-cli of the agent's distribution, pointed at the server by the environment, as from another host. */
    private static CliIT.Run cli(Map<String, String> env, String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(AgentProcess.distribution().resolve("bin/sonde-cli").toString());
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().remove("SONDE_HOME");
        pb.environment().put("SONDE_SERVER", server.url());
        pb.environment().put("SONDE_CA_FILE", server.home.resolve("data/tls/ca.pem").toString());
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("sonde-cli " + List.of(args) + " did not end: " + out);
        }
        return new CliIT.Run(p.exitValue(), out);
    }

    private static CliIT.Run admin(String... args) throws Exception {
        return cli(Map.of("SONDE_TOKEN", server.adminToken()), args);
    }

    @Test
    public void agentsAreListedShownAndRevoked() throws Exception {
        CliIT.Run list = admin("server", "agents");
        assertEquals(list.out(), 0, list.exit());
        assertTrue(list.out(), list.out().matches("(?s)agent_id +online +version +tags +last_seen +spool_records +refused +revoked\ncli-1 +true .* eu .*\n1 item\n"));
        CliIT.Run selected = admin("server", "agents", "list", "--selector", "NOT eu");
        assertTrue(selected.out(), selected.out().endsWith("0 items\n"));
        CliIT.Run badSelector = admin("server", "agents", "list", "--selector", "eu AND (");
        assertEquals(badSelector.out(), 1, badSelector.exit());
        assertTrue(badSelector.out(), badSelector.out().startsWith("GET /api/v1/agents?selector=eu%20AND%20%28: 400 selector: "));
        CliIT.Run show = admin("server", "--output", "json", "agents", "show", "cli-1");
        JsonObject o = JsonParser.parseString(show.out()).getAsJsonObject();
        assertEquals("cli-1", o.get("agent_id").getAsString());
        CliIT.Run missing = admin("server", "agents", "show", "nobody");
        assertEquals(missing.out(), 1, missing.exit());
        assertTrue(missing.out(), missing.out().startsWith("GET /api/v1/agents/nobody: 404 "));
    }

    @Test
    public void enrollmentTokensAreMadeShownOnceListedAndRevoked() throws Exception {
        CliIT.Run made = admin("server", "tokens", "create", "--tag", "lab", "--single-use");
        assertEquals(made.out(), 0, made.exit());
        String token = made.out().lines().filter(l -> l.startsWith("sonde_enroll_")).findFirst().orElseThrow(() -> new AssertionError(made.out()));
        assertTrue(made.out(), made.out().contains("shown once"));
        CliIT.Run list = admin("server", "tokens", "list");
        assertFalse("the secret is not listed", list.out().contains(token));
        String id = made.out().replaceAll("(?s).*Enrollment token (\\S+),.*", "$1");
        assertTrue(list.out(), list.out().matches("(?s).*\n *" + id + " +lab +\\S+ +true +false\n.*"));
        CliIT.Run revoked = admin("server", "tokens", "revoke", id);
        assertEquals(revoked.out(), 0, revoked.exit());
        assertFalse(admin("server", "tokens", "list").out().matches("(?s).*\n *" + id + " +lab .*"));
    }

    @Test
    public void definitionsAreDiffedAppliedIdempotentlyAndPruned() throws Exception {
        Path file = work.resolve("fleet.yaml");
        Files.writeString(file, """
                targets:
                  shop: {kind: tcp, host: 127.0.0.1, port: %d, interval_ms: 500, agents: eu}
                  dns: {kind: dns, host: 127.0.0.1, port: 53, query: localhost, agents: "*"}
                meshes:
                  eu: {members: eu, fanout: all, interval_ms: 30000, kinds: {icmp: {count: 3}}}
                alert_rules:
                  shop-down: {type: target_down, target: shop, for: 1m, severity: critical}
                """.formatted(agent.port));
        CliIT.Run diff = admin("server", "diff", file.toString());
        assertEquals(diff.out(), 3, diff.exit());
        assertEquals("+ alert-rules/shop-down\n+ meshes/eu\n+ targets/dns\n+ targets/shop\n", diff.out());
        CliIT.Run apply = admin("server", "apply", file.toString());
        assertEquals(apply.out(), 0, apply.exit());
        assertTrue(apply.out(), apply.out().endsWith("4 changes applied\n"));
        // the agent takes the target from the server
        agent.awaitMetrics(m -> AgentProcess.value(m, "probe_success{target=\"shop\",kind=\"tcp\"}") == 1);
        CliIT.Run again = admin("server", "apply", file.toString());
        assertEquals("Nothing to change\n", again.out());
        CliIT.Run same = admin("server", "diff", file.toString());
        assertEquals(same.out(), 0, same.exit());

        Files.writeString(file, Files.readString(file).replace("interval_ms: 500", "interval_ms: 700").replaceAll("(?m)^  dns:.*\n", ""));
        CliIT.Run changed = admin("server", "diff", "--prune", file.toString());
        assertEquals("= alert-rules/shop-down\n= meshes/eu\n~ targets/shop: interval_ms\n- targets/dns\n", changed.out());
        CliIT.Run pruned = admin("server", "apply", "--prune", file.toString());
        assertTrue(pruned.out(), pruned.out().contains("changed targets/shop\ndeleted targets/dns\n2 changes applied"));
        assertEquals(404, server.admin("GET", "/api/v1/targets/dns", null).statusCode());

        // a definition the server refuses: its reason, nothing else applied after it
        Path bad = work.resolve("bad.yaml");
        Files.writeString(bad, "targets:\n  broken: {kind: tcp, host: 127.0.0.1, port: 99999, agents: eu}\n");
        CliIT.Run refused = admin("server", "apply", bad.toString());
        assertEquals(refused.out(), 1, refused.exit());
        assertTrue(refused.out(), refused.out().contains("PUT /api/v1/targets/broken: 400 port: 99999 is not a port number (1-65535)"));
        // files that are not definitions: where and why
        Files.writeString(bad, "targets: [1, 2\n");
        CliIT.Run notYaml = admin("server", "diff", bad.toString());
        assertEquals(notYaml.out(), 1, notYaml.exit());
        assertTrue(notYaml.out(), notYaml.out().startsWith(bad + ": not YAML or JSON: "));
        Files.writeString(bad, "{\"checks\": {}}");
        CliIT.Run unknown = admin("server", "diff", bad.toString());
        assertTrue(unknown.out(), unknown.out().startsWith(bad + ": key 'checks': not one of targets, meshes, alert_rules"));
    }

    @Test
    public void definitionsTheAgentsRefuseAreReportedByApplyDiffAndTheServer() throws Exception {
        // a CA file the server cannot check (it is the agents'): taken by the server, refused by the agent that lacks it
        Path file = work.resolve("refused.yaml");
        Files.writeString(file, "targets:\n  secure: {kind: http, host: \"https://127.0.0.1:" + agent.port
                + "/\", ca_file: /nonexistent/ca.pem, agents: eu}\n");
        CliIT.Run apply = admin("server", "apply", "--wait", "60", file.toString());
        assertEquals(apply.out(), 4, apply.exit());
        assertTrue(apply.out(), apply.out().matches("(?s)created targets/secure\n1 change applied\nrefused: targets/secure by agent cli-1: .*"
                + "/nonexistent/ca\\.pem.*"));
        CliIT.Run diff = admin("server", "diff", file.toString());
        assertEquals(diff.out(), 0, diff.exit());
        assertTrue(diff.out(), diff.out().startsWith("= targets/secure\n  refused: targets/secure by agent cli-1: "));
        JsonObject health = server.json(server.admin("GET", "/api/v1/health/secure", null));
        assertEquals(health.toString(), "refused", health.get("state").getAsString());
        assertEquals(health.toString(), "cli-1", health.getAsJsonArray("agents").get(0).getAsJsonObject().get("agent_id").getAsString());
        CliIT.Run agents = admin("server", "agents");
        assertTrue(agents.out(), agents.out().matches("(?s).*\ncli-1 +true .* 1 +false\n.*"));
        // the health model from the command line: the list, and one target's word from each agent
        CliIT.Run refusedOnly = admin("server", "health", "--state", "refused");
        assertEquals(refusedOnly.out(), 0, refusedOnly.exit());
        assertTrue(refusedOnly.out(), refusedOnly.out().matches("(?s)target +kind +state +text +since\nsecure +http +refused +refused from 1 of 1 .*\n1 item\n"));
        CliIT.Run one = admin("server", "health", "secure");
        assertTrue(one.out(), one.out().startsWith("secure: refused from 1 of 1"));
        assertTrue(one.out(), one.out().matches("(?s).*\ncli-1 +refused .*/nonexistent/ca\\.pem.*"));
        CliIT.Run badState = admin("server", "health", "--state", "sideways");
        assertEquals(badState.out(), 1, badState.exit());
        assertTrue(badState.out(), badState.out().contains("'sideways' is not a state"));
        assertEquals(204, server.admin("DELETE", "/api/v1/targets/secure", null).statusCode());
    }

    @Test
    public void aSignedBundleIsUploadedAndRolledOut() throws Exception {
        try (Releases releases = new Releases(server)) {
            releases.trust("owner");
            Path jar = releases.plugin("0.1.1", Map.of());
            CliIT.Run signed = cli(Map.of(), "server", "bundles", "sign", "--key", releases.work.resolve("owner/release.key").toString(),
                    jar.toString());
            assertEquals(signed.out(), 0, signed.exit());
            assertTrue(Files.exists(jar.resolveSibling(jar.getFileName() + ".manifest.json")));
            CliIT.Run badKey = cli(Map.of(), "server", "bundles", "sign", "--key", releases.work.resolve("owner/release.pub").toString(),
                    "--pub", releases.work.resolve("owner/release.pub").toString(), jar.toString());
            assertEquals(badKey.out(), 1, badKey.exit());
            assertTrue(badKey.out(), badKey.out().startsWith("sign: " + releases.work.resolve("owner/release.pub") + " is not an Ed25519 private key"));
            CliIT.Run up = admin("server", "bundles", "upload", jar.toString());
            assertEquals(up.out(), 0, up.exit());
            assertTrue(up.out(), up.out().contains("io.sonde.plugin.tcp"));
            CliIT.Run list = admin("server", "bundles");
            assertTrue(list.out(), list.out().matches("(?s).*\nio\\.sonde\\.plugin\\.tcp +0\\.1\\.1 .*"));
            CliIT.Run unsigned = admin("server", "bundles", "upload", releases.plugin("0.1.2", Map.of()).toString());
            assertEquals(unsigned.out(), 1, unsigned.exit());
            assertTrue(unsigned.out(), unsigned.out().contains(".manifest.json does not exist or cannot be read"));

            CliIT.Run set = admin("server", "rollouts", "set", "tcp-next", "--bundle", "io.sonde.plugin.tcp", "--version", "0.1.1",
                    "--agents", "eu", "--percent", "50");
            assertEquals(set.out(), 0, set.exit());
            CliIT.Run status = admin("server", "--output", "json", "rollouts", "status", "tcp-next");
            JsonObject r = JsonParser.parseString(status.out()).getAsJsonObject();
            assertEquals("0.1.1", r.get("version").getAsString());
            assertEquals(50, r.get("percent").getAsInt());
            CliIT.Run noSuch = admin("server", "rollouts", "set", "x", "--bundle", "io.sonde.plugin.tcp", "--version", "9.9.9");
            assertEquals(noSuch.out(), 1, noSuch.exit());
            assertTrue(noSuch.out(), noSuch.out().startsWith("PUT /api/v1/rollouts/x: 400 "));
            assertEquals(0, admin("server", "rollouts", "delete", "tcp-next").exit());
        }
    }

    @Test
    public void silencesAreAddedListedAndDeletedAndAlertsListed() throws Exception {
        CliIT.Run add = admin("server", "silences", "add", "--match", "rule=web-*", "--duration", "1h", "--comment", "maintenance");
        assertEquals(add.out(), 0, add.exit());
        String id = add.out().replaceAll("(?s)^id: (\\S+)\n.*", "$1");
        CliIT.Run list = admin("server", "silences");
        assertTrue(list.out(), list.out().contains(id) && list.out().contains("maintenance"));
        assertEquals(0, admin("server", "silences", "delete", id).exit());
        assertFalse(admin("server", "silences").out().contains(id));
        CliIT.Run bad = admin("server", "silences", "add", "--match", "rule=x", "--duration", "forever");
        assertEquals(bad.out(), 1, bad.exit());
        assertTrue(bad.out(), bad.out().startsWith("POST /api/v1/silences: 400 "));
        CliIT.Run alerts = admin("server", "alerts");
        assertEquals(alerts.out(), 0, alerts.exit());
        assertTrue(alerts.out(), alerts.out().startsWith("rule "));
    }

    @Test
    public void receiversAreSetShownTestedAndDeletedWithoutShowingASecret() throws Exception {
        // a webhook receiver of the test's own (plain HTTP on loopback) takes the test; a Slack one at a closed port does not
        java.util.List<String> got = new java.util.concurrent.CopyOnWriteArrayList<>();
        com.sun.net.httpserver.HttpServer hook = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 10);
        hook.createContext("/", x -> {
            got.add(new String(x.getRequestBody().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            x.sendResponseHeaders(204, -1);
            x.close();
        });
        hook.start();
        Path dir = Files.createTempDirectory("sonde-cli-receivers-");
        try {
            Path hookFile = dir.resolve("hook.json");
            Files.writeString(hookFile, "{\"type\": \"webhook\", \"url\": \"http://127.0.0.1:" + hook.getAddress().getPort() + "/sonde\"}");
            CliIT.Run set = admin("server", "receivers", "set", "cli-hook", "--file", hookFile.toString());
            assertEquals(set.out(), 0, set.exit());
            CliIT.Run test = admin("server", "receivers", "test", "cli-hook");
            assertEquals(test.out(), 0, test.exit());
            assertTrue(test.out(), test.out().startsWith("Delivered a test to receiver cli-hook (webhook http://127.0.0.1:"));
            assertEquals(1, got.size());
            assertTrue(got.get(0), got.get(0).contains("\"summary\":\"A test of receiver cli-hook from Sonde: nothing is wrong\""));

            Path slackFile = dir.resolve("slack.json");
            String secret = "T0CLI/B0CLI/clisecret0123456789";
            Files.writeString(slackFile, "{\"type\": \"slack\", \"url\": \"https://127.0.0.1:" + AgentProcess.freePort() + "/services/" + secret + "\"}");
            assertEquals(0, admin("server", "receivers", "set", "cli-slack", "--file", slackFile.toString()).exit());
            CliIT.Run list = admin("server", "receivers");
            assertEquals(list.out(), 0, list.exit());
            assertTrue(list.out(), list.out().matches("(?s)name +type +secrets_set +updated_at\ncli-hook +webhook +20\\S+\ncli-slack +slack +url .*\n2 items\n"));
            CliIT.Run show = admin("server", "receivers", "show", "cli-slack");
            assertFalse("a secret shown: " + show.out(), show.out().contains(secret));
            assertTrue(show.out(), show.out().contains("secrets_set: url"));
            CliIT.Run failed = admin("server", "receivers", "test", "cli-slack");
            assertEquals(failed.out(), 1, failed.exit());
            assertTrue(failed.out(), failed.out().startsWith("receiver cli-slack (slack https://127.0.0.1:") && failed.out().contains("not delivered: "));
            CliIT.Run bad = admin("server", "receivers", "set", "cli-bad", "--file", hookFile.toString().replace("hook.json", "missing.json"));
            assertEquals(bad.out(), 1, bad.exit());
            Files.writeString(hookFile, "{\"type\": \"webhook\", \"url\": \"http://127.0.0.1:1/x\", \"title\": \"{{mood}}\"}");
            bad = admin("server", "receivers", "set", "cli-bad", "--file", hookFile.toString());
            assertEquals(bad.out(), 1, bad.exit());
            assertTrue(bad.out(), bad.out().startsWith("PUT /api/v1/receivers/cli-bad: 400 title: '{{mood}}' is not a field"));
            assertEquals(0, admin("server", "receivers", "delete", "cli-slack").exit());
            assertEquals(0, admin("server", "receivers", "delete", "cli-hook").exit());
            assertTrue(admin("server", "receivers").out().endsWith("0 items\n"));
        } finally {
            hook.stop(0);
            AgentProcess.run("rm", "-rf", dir.toString());
        }
    }

    @Test
    public void maintenanceWindowsAreSetListedAndDeleted() throws Exception {
        CliIT.Run set = admin("server", "maintenance", "set", "db-patching", "--weekly", "sat,sun@02:00-04:00", "--weekly", "wed@23:00-01:00",
                "--time-zone", "Europe/Berlin", "--targets", "db OR shop", "--comment", "patching");
        assertEquals(set.out(), 0, set.exit());
        assertTrue(set.out(), set.out().contains("time_zone: Europe/Berlin") && set.out().contains("targets: db OR shop"));
        JsonObject shown = server.json(server.admin("GET", "/api/v1/maintenance/db-patching", null));
        assertEquals("[{\"days\":[\"sat\",\"sun\"],\"from\":\"02:00\",\"to\":\"04:00\"},{\"days\":[\"wed\"],\"from\":\"23:00\",\"to\":\"01:00\"}]",
                shown.get("weekly").toString());
        CliIT.Run once = admin("server", "maintenance", "set", "move", "--from", "2026-12-12T20:00:00Z", "--to", "2026-12-13T02:00:00Z",
                "--agents", "fra1");
        assertEquals(once.out(), 0, once.exit());
        CliIT.Run list = admin("server", "maintenance", "list", "--target", "shop");
        assertEquals(list.out(), 0, list.exit());
        assertTrue(list.out(), list.out().contains("db-patching") && !list.out().contains("move") && list.out().endsWith("1 item\n"));
        CliIT.Run bad = admin("server", "maintenance", "set", "bad", "--weekly", "sat@2:00-04:00");
        assertEquals(bad.out(), 1, bad.exit());
        assertTrue(bad.out(), bad.out().startsWith("--weekly: 'sat@2:00-04:00' is not DAYS@HH:MM-HH:MM"));
        bad = admin("server", "maintenance", "set", "bad", "--weekly", "someday@02:00-04:00");
        assertEquals(bad.out(), 1, bad.exit());
        assertTrue(bad.out(), bad.out().startsWith("PUT /api/v1/maintenance/bad: 400 weekly[0].days: 'someday' is not a day"));
        assertEquals(0, admin("server", "maintenance", "delete", "db-patching").exit());
        assertEquals(0, admin("server", "maintenance", "delete", "move").exit());
        assertTrue(admin("server", "maintenance").out().endsWith("0 items\n"));
    }

    @Test
    public void credentialsComeFromTheEnvironmentOrAFileNeverTheCommandLine() throws Exception {
        Path tokenFile = work.resolve("token");
        Files.writeString(tokenFile, server.adminToken() + "\n");
        assertEquals(0, cli(Map.of("SONDE_TOKEN_FILE", tokenFile.toString()), "server", "agents").exit());
        assertEquals(0, cli(Map.of(), "server", "--token-file", tokenFile.toString(), "agents").exit());
        CliIT.Run onTheLine = cli(Map.of(), "server", "--token", server.adminToken(), "agents");
        assertEquals(onTheLine.out(), 2, onTheLine.exit());
        assertTrue(onTheLine.out(), onTheLine.out().startsWith("--token is not taken: a token on the command line is seen by every user"));
        assertFalse("the token is not echoed", onTheLine.out().contains(server.adminToken()));
        CliIT.Run none = cli(Map.of(), "server", "agents");
        assertEquals(none.out(), 1, none.exit());
        assertTrue(none.out(), none.out().startsWith("No credential: set SONDE_TOKEN"));
        CliIT.Run forged = cli(Map.of("SONDE_TOKEN", "sonde_admin_forged"), "server", "agents");
        assertEquals(forged.out(), 1, forged.exit());
        assertTrue(forged.out(), forged.out().startsWith("GET /api/v1/agents: 401 "));
        assertFalse("a token is never echoed", forged.out().contains("sonde_admin_forged"));
        CliIT.Run untrusted = cli(Map.of("SONDE_TOKEN", server.adminToken(), "SONDE_CA_FILE", "/etc/ssl/certs/ca-certificates.crt"),
                "server", "agents");
        assertEquals(untrusted.out(), 1, untrusted.exit());
        assertTrue(untrusted.out(), untrusted.out().contains("is not trusted"));
        CliIT.Run gone = cli(Map.of("SONDE_TOKEN", server.adminToken(), "SONDE_SERVER", "https://127.0.0.1:" + AgentProcess.freePort()),
                "server", "agents");
        assertEquals(gone.out(), 1, gone.exit());
        assertTrue(gone.out(), gone.out().startsWith("No server answers at https://127.0.0.1:"));

        // on the server's host: its own port, CA and admin token
        ProcessBuilder pb = new ProcessBuilder(server.home.resolve("bin/sonde-cli").toString(), "server", "agents").redirectErrorStream(true);
        pb.environment().remove("SONDE_HOME");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(out, 0, p.waitFor());
        assertTrue(out, out.contains("cli-1"));
    }
}
