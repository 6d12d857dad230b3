package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Instant;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import com.google.gson.JsonParser;

import io.sonde.wire.WireCodec;

/**
 * The server faces the network: an agent refuses a server it has not pinned and says why; the
 * server refuses unknown, expired, used-up and revoked credentials, and an agent writing for
 * another.
 */
public class SecurityIT {

    private static ServerProcess server;

    @BeforeClass
    public static void start() throws Exception {
        server = ServerProcess.start("");
    }

    @AfterClass
    public static void stop() throws Exception {
        server.close();
    }

    /** Enrolls {@code id} through the API as an agent would; returns its credential. */
    static String enroll(ServerProcess server, String id) throws Exception {
        String token = server.enrollmentToken("{\"single_use\": true}");
        HttpResponse<String> r = server.post("/api/v1/enroll", null, ("{\"schema\":1,\"enrollment_token\":\"" + token
                + "\",\"agent_id\":\"" + id + "\",\"version\":\"test\"}").getBytes(StandardCharsets.UTF_8));
        assertEquals(r.body(), 200, r.statusCode());
        return JsonParser.parseString(r.body()).getAsJsonObject().get("credential").getAsString();
    }

    @Test
    public void anAgentRefusesAServerWhoseCaItHasNotPinned() throws Exception {
        try (AgentProcess agent = AgentProcess.start()) {
            agent.write("etc/io.sonde.agent.cfg", "agent_id = sec-pin\n");
            String token = server.enrollmentToken("{}");
            String wrong = "AB:".repeat(31) + "AB";
            agent.write("etc/io.sonde.uplink.cfg", "server_url = " + server.url() + "\nenrollment_token = " + token
                    + "\nserver_ca_sha256 = " + wrong + "\n");
            String line = agent.awaitLogLine("TLS refused", "server CA fingerprint mismatch: pinned " + wrong);
            assertTrue(line, line.contains("the server's chain ends in " + server.fingerprint()));
            agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_up ") == 0);
            assertNull(server.agent("sec-pin"));

            // the right pin, but a host name the certificate does not carry (other.sonde.test is 127.0.0.1 for the agent)
            agent.write("etc/io.sonde.uplink.cfg", "server_url = https://other.sonde.test:" + server.port + "\nenrollment_token = "
                    + token + "\nserver_ca_sha256 = " + server.fingerprint() + "\n");
            agent.awaitLogLine("TLS refused", "other.sonde.test");
            assertNull(server.agent("sec-pin"));
            // a configuration that cannot work is an error that names the key, and the agent goes on
            agent.write("etc/io.sonde.uplink.cfg", "server_url = http://127.0.0.1:" + server.port + "\nserver_ca_sha256 = "
                    + server.fingerprint() + "\n");
            agent.awaitLogLine("Configuration error", "key 'server_url'", "is not an https:// URL");
            agent.write("etc/io.sonde.uplink.cfg", "server_url = " + server.url() + "\nserver_ca_sha256 = 12345\n");
            agent.awaitLogLine("Configuration error", "key 'server_ca_sha256'", "is not a SHA-256 fingerprint");
            assertTrue(agent.alive());
        }
    }

    @Test
    public void badExpiredAndUsedTokensAreRefused() throws Exception {
        try (AgentProcess agent = AgentProcess.start()) {
            agent.write("etc/io.sonde.uplink.cfg", server.uplinkConfig("sonde_enroll_not-a-token", ""));
            agent.awaitLogLine("enrollment refused (401: the enrollment token is not known)");
        }
        String soon = Instant.now().plusSeconds(2).toString();
        String expiring = server.enrollmentToken("{\"expires_at\": \"" + soon + "\"}");
        Thread.sleep(2500);
        HttpResponse<String> r = server.post("/api/v1/enroll", null, ("{\"schema\":1,\"enrollment_token\":\"" + expiring
                + "\",\"agent_id\":\"late\"}").getBytes(StandardCharsets.UTF_8));
        assertEquals(401, r.statusCode());
        assertTrue(r.body(), r.body().contains("the enrollment token expired at"));

        String once = server.enrollmentToken("{\"single_use\": true}");
        byte[] body = ("{\"schema\":1,\"enrollment_token\":\"" + once + "\",\"agent_id\":\"once\"}").getBytes(StandardCharsets.UTF_8);
        assertEquals(200, server.post("/api/v1/enroll", null, body).statusCode());
        r = server.post("/api/v1/enroll", null, body);
        assertEquals(401, r.statusCode());
        assertTrue(r.body(), r.body().contains("was for one use and has been used"));

        r = server.admin("POST", "/api/v1/enrollment-tokens", "{\"expires_at\": \"2001-01-01T00:00:00Z\"}");
        assertEquals(400, r.statusCode());
        assertTrue(r.body(), r.body().contains("expires_at: 2001-01-01T00:00:00Z has passed"));
        r = server.admin("POST", "/api/v1/enrollment-tokens", "{\"tags\": [\"ok\", \"no spaces\"]}");
        assertEquals(400, r.statusCode());
        assertTrue(r.body(), r.body().contains("tags[1]: 'no spaces' is not a tag"));
        r = server.post("/api/v1/enroll", null, "{\"schema\":1,\"enrollment_token\":\"x\",\"agent_id\":\"../etc\"}".getBytes());
        assertEquals(400, r.statusCode());
        assertTrue(r.body(), r.body().contains("agent_id: '../etc' is not an agent id"));
    }

    @Test
    public void credentialsAreCheckedOnEveryRequest() throws Exception {
        String a = enroll(server, "sec-a");
        String b = enroll(server, "sec-b");
        byte[] batch = WireCodec.gzip(("{\"schema\":1,\"agent_id\":\"sec-b\",\"epoch\":\"e\",\"results\":[{\"seq\":1,\"target\":\"t\","
                + "\"kind\":\"tcp\",\"started_at\":\"" + Instant.now() + "\",\"success\":true,\"response_time_seconds\":0.001}]}")
                .getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> r = server.post("/api/v1/agents/sec-b/results", a, batch, "Content-Encoding", "gzip");
        assertEquals("a cannot write for b", 403, r.statusCode());
        assertTrue(r.body(), r.body().contains("may not write for agent 'sec-b'"));
        assertEquals(200, server.post("/api/v1/agents/sec-b/results", b, batch, "Content-Encoding", "gzip").statusCode());
        double kept = AgentProcess.value(server.get("/metrics").body(), "sonde_server_agent_credential_checks_total{by=\"kept\",} ");
        assertEquals("sent again: the check kept", 200, server.post("/api/v1/agents/sec-b/results", b, batch, "Content-Encoding", "gzip")
                .statusCode());
        assertEquals(kept + 1, AgentProcess.value(server.get("/metrics").body(), "sonde_server_agent_credential_checks_total{by=\"kept\",} "),
                0);
        assertEquals(401, server.post("/api/v1/agents/sec-b/results", null, batch, "Content-Encoding", "gzip").statusCode());
        assertEquals(401, server.post("/api/v1/agents/sec-b/results", "sonde_agent_forged", batch, "Content-Encoding", "gzip").statusCode());
        assertEquals("an agent is no admin", 403, server.post("/api/v1/enrollment-tokens", a, "{}".getBytes()).statusCode());
        assertEquals(401, server.get("/api/v1/agents").statusCode());

        assertEquals(204, server.admin("DELETE", "/api/v1/agents/sec-b", null).statusCode());
        r = server.post("/api/v1/agents/sec-b/results", b, batch, "Content-Encoding", "gzip");
        assertEquals("revoked: the kept check goes at once", 401, r.statusCode());
        assertTrue(r.body(), r.body().contains("agent 'sec-b' was revoked"));
        assertEquals(404, server.admin("DELETE", "/api/v1/agents/nobody", null).statusCode());
        assertTrue(server.agent("sec-b").get("revoked").getAsBoolean());
        String metrics = server.get("/metrics").body();
        assertTrue(metrics, AgentProcess.value(metrics, "sonde_server_auth_failures_total ") >= 4);
    }

    @Test
    public void aRevokedAgentKeepsProbingAndSpoolsAndSaysWhy() throws Exception {
        try (AgentProcess agent = AgentProcess.start()) {
            agent.write("etc/io.sonde.agent.cfg", "agent_id = sec-revoked\n");
            agent.write("etc/io.sonde.uplink.cfg", server.uplinkConfig(server.enrollmentToken("{}"), ""));
            agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_acked_total ") >= 1);
            assertEquals(204, server.admin("DELETE", "/api/v1/agents/sec-revoked", null).statusCode());
            agent.awaitLogLine("the server refuses this agent's credential (401: agent 'sec-revoked' was revoked", "Results stay in the spool");
            agent.awaitMetrics(m -> AgentProcess.value(m, "sonde_uplink_up ") == 0 && AgentProcess.value(m, "sonde_spool_records ") >= 2);
            assertTrue(Files.exists(agent.home.resolve("data/spool/epoch")));
        }
    }
}
