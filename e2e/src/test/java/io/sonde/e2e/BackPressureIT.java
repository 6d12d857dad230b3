package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLSocket;

import org.junit.After;
import org.junit.Test;

/**
 * Back-pressure that costs no connection: a server with every ingest slot taken answers a batch
 * 429 with Retry-After after reading its body, and keeps the connection, so that the agent's next
 * request goes on the same TLS session instead of a new key exchange (closing it fed the overload
 * it was meant to relieve). A body beyond the batch bound is not read to its end: that answer
 * closes the connection, saying so.
 */
public class BackPressureIT {

    private ServerProcess server;

    @After
    public void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    @Test
    public void aBusyServerKeepsTheConnectionOfABatchItRead() throws Exception {
        // a fleet of one batch a second: a turned-away agent is told to come back when the fleet's round brings its turn again
        server = ServerProcess.start("max_in_flight = 1\nmax_batch_bytes = 65536\nfleet_batch_rate = 1\n");
        String token = server.enrollmentToken("{}");
        String credential = AttackIT.credential(AttackIT.enrollOn(server, token, "bp-1"));
        byte[] batch = ("{\"schema\":1,\"epoch\":\"e\",\"results\":[]}" + " ".repeat(2000)).getBytes(StandardCharsets.US_ASCII);
        String other = AttackIT.credential(AttackIT.enrollOn(server, server.enrollmentToken("{}"), "bp-2"));
        try (SSLSocket s = socket()) { // another agent of the fleet, heard
            Answer a = send(s, "POST", "/api/v1/agents/bp-2/results", other,
                    ("{\"schema\":1,\"agent_id\":\"bp-2\",\"epoch\":\"e\",\"results\":[{\"seq\":1,\"target\":\"t\",\"kind\":\"tcp\","
                            + "\"started_at\":\"" + java.time.Instant.now() + "\",\"success\":true,\"response_time_seconds\":0.001,"
                            + "\"details\":{\"address\":\"127.0.0.1\"}}]}").getBytes(StandardCharsets.US_ASCII));
            assertEquals(a.toString(), 200, a.status());
        }
        Thread.sleep(5_500); // the agents sending are counted again every 5 s, at a batch: bp-1's next one counts both
        try (SSLSocket holder = halfSentBatch("bp-1", credential)) { // the one slot, held

            SSLSocket agent = null;
            try {
                Answer busy = null;
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (busy == null && System.nanoTime() < end) { // until the holder's request has the slot
                    if (agent == null) {
                        agent = socket();
                    }
                    Answer a = send(agent, "POST", "/api/v1/agents/bp-1/results", credential, batch);
                    if (a.status() == 429) {
                        busy = a;
                    } else {
                        // taken before the holder had the slot (and refused as a batch): a new connection for the next try
                        agent.close();
                        agent = null;
                        Thread.sleep(100);
                    }
                }
                assertTrue("answered 429 while the slot was held", busy != null);
                assertEquals(busy.toString(), "2", busy.header("retry-after")); // two agents sending, one batch a second
                assertTrue(busy.body(), busy.body().contains("batches in hand; send again after Retry-After"));
                assertEquals("no Connection: close", null, busy.header("connection"));
                // the same connection carries the next requests
                Answer next = send(agent, "POST", "/api/v1/agents/bp-1/results", credential, batch);
                assertEquals(next.toString(), 429, next.status());
                assertEquals(null, next.header("connection"));
                Answer health = send(agent, "GET", "/healthz", null, null);
                assertEquals(health.toString(), 200, health.status());
            } finally {
                if (agent != null) {
                    agent.close();
                }
            }

            // a body beyond the bound is not read to its end: that answer ends the connection, and says so
            try (SSLSocket big = socket()) {
                Answer a = send(big, "POST", "/api/v1/agents/bp-1/results", credential, new byte[200_000]);
                assertEquals(a.toString(), 429, a.status());
                assertEquals("close", a.header("connection"));
            }
        }
        String metrics = server.get("/metrics").body();
        assertTrue(metrics, AgentProcess.value(metrics, "sonde_server_rejected_batches_total{reason=\"busy\",}") >= 3);
        assertEquals(metrics, 2.0, AgentProcess.value(metrics, "sonde_server_agents_sending"), 0.0);
    }

    /**
     * Admission: with max_agent_exchanges exchanges being served, an agent's status or configuration
     * request is answered 429 at once (before its credential is looked up), with Retry-After and its
     * connection kept; an admin's request is served all the same; once the exchange that held the
     * place ends, the same connection is served again.
     */
    @Test
    public void anExchangeBeyondTheAdmissionLimitIsTurnedAwayAtOnceOnItsConnection() throws Exception {
        server = ServerProcess.start("max_agent_exchanges = 1\nmax_batch_bytes = 65536\n");
        String token = server.enrollmentToken("{}");
        String credential = AttackIT.credential(AttackIT.enrollOn(server, token, "adm-1"));
        byte[] status = "{\"schema\":1,\"version\":\"e2e\",\"spool_records\":0}".getBytes(StandardCharsets.US_ASCII);
        SSLSocket agent = socket();
        try {
            Answer before = send(agent, "GET", "/api/v1/agents/adm-1/config", credential, null);
            assertEquals("served while nothing else is: " + before, 200, before.status());
            awaitInFlight(0); // the configuration's place comes free a moment after its answer
            try (SSLSocket holder = halfSentBatch("adm-1", credential)) { // the one place, held
                // nothing else is in flight, so the batch is admitted: wait until the server counts it (its metrics are no
                // exchange), then ask — asking while it arrives could take the place from it
                awaitInFlight(1);
                Answer busy = send(agent, "POST", "/api/v1/agents/adm-1/status", credential, status);
                assertEquals("a status while the batch holds the one place: " + busy, 429, busy.status());
                assertEquals("the connection stays: " + busy, null, busy.header("connection"));
                assertEquals(busy.toString(), "1", busy.header("retry-after"));
                assertTrue(busy.body(), busy.body().contains("serving 1 agents' exchanges at once (max_agent_exchanges)"));
                assertEquals("every answer carries the security headers", "max-age=31536000", busy.header("strict-transport-security"));
                // the same connection: the configuration is turned away too, an unknown credential as well (no look-up
                // before admission), and an admin is served
                Answer config = send(agent, "GET", "/api/v1/agents/adm-1/config", credential, null);
                assertEquals(config.toString(), 429, config.status());
                assertEquals(null, config.header("connection"));
                Answer stranger = send(agent, "POST", "/api/v1/agents/adm-1/status", "not-a-credential", status);
                assertEquals(stranger.toString(), 429, stranger.status());
                Answer admin = send(agent, "GET", "/api/v1/agents", server.adminToken(), null);
                assertEquals(admin.toString(), 200, admin.status());
                assertTrue(admin.body(), admin.body().contains("\"adm-1\""));
                String metrics = server.get("/metrics").body();
                assertEquals(metrics, 1.0, AgentProcess.value(metrics, "sonde_server_agent_exchanges_in_flight "), 0);

                // the holder's body ends (its batch is refused: it is no JSON), and its place is free again
                holder.getOutputStream().write(new byte[HELD_LENGTH - HELD_START.length()]);
                holder.getOutputStream().flush();
                String answer = line(holder.getInputStream(), "\r\n");
                assertTrue(answer, answer.startsWith("HTTP/1.1 400"));
            }
            Answer after = null;
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while ((after == null || after.status() == 429) && System.nanoTime() < end) {
                if (after != null) {
                    Thread.sleep(20);
                }
                after = send(agent, "POST", "/api/v1/agents/adm-1/status", credential, status);
            }
            assertTrue("served again on the same connection: " + after, after.status() == 200 || after.status() == 204);
        } finally {
            agent.close();
        }
        String metrics = server.get("/metrics").body();
        // two while the batch held the place; the batch's place comes free a moment after its answer: maybe more
        assertTrue(metrics, AgentProcess.value(metrics, "sonde_server_agent_exchanges_refused_total{exchange=\"status\",}") >= 2);
        assertEquals(metrics, 1.0, AgentProcess.value(metrics, "sonde_server_agent_exchanges_refused_total{exchange=\"config\",}"), 0);
        assertEquals(metrics, 0.0, AgentProcess.value(metrics, "sonde_server_agent_exchanges_in_flight "), 0);
    }

    /** Waits until the server counts this many agents' exchanges in flight (its /metrics are none), or fails. */
    private void awaitInFlight(int n) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String metrics = server.get("/metrics").body();
        while (AgentProcess.value(metrics, "sonde_server_agent_exchanges_in_flight ") != n && System.nanoTime() < end) {
            Thread.sleep(50);
            metrics = server.get("/metrics").body();
        }
        assertEquals(n + " in flight\n" + metrics, n, AgentProcess.value(metrics, "sonde_server_agent_exchanges_in_flight "), 0);
    }

    /** What a held batch says of its length, and what of it is sent. */
    private static final int HELD_LENGTH = 60000;
    private static final String HELD_START = "{\"schema\":1,";

    /** A connection whose batch for the agent has not all come: the request holds its place on the server until the rest is sent. */
    private SSLSocket halfSentBatch(String agentId, String credential) throws Exception {
        SSLSocket holder = socket();
        String head = "POST /api/v1/agents/" + agentId + "/results HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + credential
                + "\r\nContent-Type: application/json\r\nContent-Length: " + HELD_LENGTH + "\r\n\r\n";
        holder.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
        holder.getOutputStream().write(HELD_START.getBytes(StandardCharsets.US_ASCII));
        holder.getOutputStream().flush();
        return holder;
    }

    private SSLSocket socket() throws Exception {
        SSLSocket s = (SSLSocket) ServerProcess.sslContext(server.home.resolve("data/tls/ca.pem")).getSocketFactory()
                .createSocket(InetAddress.getByName("127.0.0.1"), port());
        s.setSoTimeout(30_000);
        return s;
    }

    private int port() {
        return Integer.parseInt(server.url().replaceAll(".*:(\\d+)/?$", "$1"));
    }

    record Answer(int status, String head, String body) {
        String header(String name) {
            for (String line : head.split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).strip().toLowerCase(Locale.ROOT).equals(name)) {
                    return line.substring(colon + 1).strip();
                }
            }
            return null;
        }

        boolean closes() {
            return "close".equalsIgnoreCase(header("connection"));
        }
    }

    /** One HTTP/1.1 request on a connection kept open, and its answer read to its end (by length or chunks). */
    private static Answer send(SSLSocket s, String method, String path, String bearer, byte[] body) throws IOException {
        StringBuilder req = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        if (bearer != null) {
            req.append("Authorization: Bearer ").append(bearer).append("\r\n");
        }
        if (body != null) {
            req.append("Content-Type: application/json\r\nContent-Length: ").append(body.length).append("\r\n");
        }
        req.append("\r\n");
        OutputStream out = s.getOutputStream();
        out.write(req.toString().getBytes(StandardCharsets.US_ASCII));
        if (body != null) {
            try {
                out.write(body);
            } catch (IOException e) {
                // the server answered and closed before the whole body went: its answer is still there to read
            }
        }
        out.flush();
        InputStream in = s.getInputStream();
        String head = line(in, "\r\n\r\n");
        Answer a = new Answer(Integer.parseInt(head.substring(9, 12)), head, "");
        String length = a.header("content-length");
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        if (length != null) {
            b.write(in.readNBytes(Integer.parseInt(length)));
        } else if ("chunked".equalsIgnoreCase(a.header("transfer-encoding"))) {
            for (int size; (size = Integer.parseInt(line(in, "\r\n").split(";")[0].strip(), 16)) > 0;) {
                b.write(in.readNBytes(size));
                line(in, "\r\n");
            }
            line(in, "\r\n");
        }
        return new Answer(a.status(), head, b.toString(StandardCharsets.UTF_8));
    }

    private static String line(InputStream in, String end) throws IOException {
        StringBuilder b = new StringBuilder();
        while (!b.toString().endsWith(end)) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("the connection ended after: " + b);
            }
            b.append((char) c);
            if (b.length() > 65536) {
                throw new IOException("no end of line in 64 KiB");
            }
        }
        return b.substring(0, b.length() - end.length());
    }
}
