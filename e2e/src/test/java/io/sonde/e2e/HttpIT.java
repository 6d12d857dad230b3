package io.sonde.e2e;

import static io.sonde.e2e.AgentProcess.value;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import com.sun.net.httpserver.HttpServer;

/** The HTTP plugin in the built agent against a real server on loopback. */
public class HttpIT {

    private static AgentProcess agent;
    private static HttpServer server;

    @BeforeClass
    public static void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
        server.createContext("/", x -> {
            byte[] body = "ok".getBytes(StandardCharsets.UTF_8);
            int status = x.getRequestURI().getPath().equals("/down") ? 503 : 200;
            x.sendResponseHeaders(status, body.length);
            try (OutputStream out = x.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        agent = AgentProcess.start();
    }

    @AfterClass
    public static void stop() throws Exception {
        agent.close();
        server.stop(0);
    }

    @Test
    public void phasesStatusAndFailuresOnMetrics() throws Exception {
        int port = server.getAddress().getPort();
        agent.write("etc/io.sonde.target-web.cfg", "kind = http\nhost = http://127.0.0.1:" + port
                + "/health\ninterval_ms = 500\ntimeout_ms = 400\nbody_regex = ^ok$\n");
        agent.write("etc/io.sonde.target-down.cfg", "kind = http\nhost = http://127.0.0.1:" + port
                + "/down\ninterval_ms = 500\ntimeout_ms = 400\n");
        String m = agent.awaitMetrics(p -> value(p, "probe_success{target=\"web\",kind=\"http\"}") == 1.0
                && value(p, "probe_failure_total{target=\"down\",kind=\"http\",reason=\"status\"}") >= 1);
        assertEquals(200, value(m, "probe_http_status_code{target=\"web\",kind=\"http\"}"), 0);
        assertEquals(503, value(m, "probe_http_status_code{target=\"down\",kind=\"http\"}"), 0);
        assertTrue(m, value(m, "probe_http_duration_seconds{target=\"web\",kind=\"http\",phase=\"connect\"}") > 0);
        assertTrue(m, m.contains("probe_http_duration_seconds{target=\"web\",kind=\"http\",phase=\"processing\"}"));
        for (String name : new String[] {"web", "down"}) {
            Files.delete(agent.home.resolve("etc/io.sonde.target-" + name + ".cfg"));
        }
    }
}
