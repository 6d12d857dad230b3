package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.Test;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * The agent's /metrics and /probe behind an exporter-toolkit web configuration, the same file
 * handed to a real blackbox_exporter ({@code --web.config.file}): HTTPS with the operator's
 * certificate, basic auth with bcrypt hashes, and /probe limited to the networks it may reach.
 * Asked with curl, as Prometheus' scrapes would.
 */
public class WebConfigIT {

    static String curl(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--max-time", "10"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }

    static String code(String curlOut) {
        return curlOut.substring(curlOut.lastIndexOf('\n') + 1).strip();
    }

    static Path tlsFiles(Path dir) throws Exception {
        AgentProcess.output(0, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", dir.resolve("key.pem").toString(),
                "-out", dir.resolve("cert.pem").toString());
        return dir.resolve("cert.pem");
    }

    @Test
    public void oneWebConfigurationServesTheAgentAndBlackboxExporterAlike() throws Exception {
        Path dir = Files.createTempDirectory("sonde-web-");
        Path cert = tlsFiles(dir);
        String hash = BCrypt.hashpw("scrape secret", BCrypt.gensalt(10)).replaceFirst("^\\$2a\\$", "\\$2y\\$"); // as htpasswd -B writes
        String web = "tls_server_config:\n  cert_file: " + dir.resolve("cert.pem") + "\n  key_file: " + dir.resolve("key.pem")
                + "\nbasic_auth_users:\n  prometheus: " + hash + "\n";
        Files.writeString(dir.resolve("web.yml"), web);
        int port = AgentProcess.freePort();
        try (CountingListener target = new CountingListener();
                AgentProcess agent = AgentProcess.start(Map.of("etc/web.yml", web))) {
            agent.write("etc/io.sonde.exporter.cfg", "port = " + port + "\nbind = 127.0.0.1\nweb_config_file = etc/web.yml\n"
                    + "probe_allow = 127.0.0.0/8, ::1/128\n");
            agent.awaitLogLine("Web configuration", "HTTPS (NoClientCert), basic auth");
            String base = "https://127.0.0.1:" + port;
            String ok = "";
            for (int i = 0; i < 100 && !code(ok).equals("200"); i++) {
                Thread.sleep(100);
                ok = curl("--cacert", cert.toString(), "-u", "prometheus:scrape secret", base + "/metrics");
            }
            assertEquals(ok, "200", code(ok));
            assertTrue(ok, ok.contains("sonde_results_total"));
            assertEquals("401", code(curl("--cacert", cert.toString(), base + "/metrics")));
            assertEquals("401", code(curl("--cacert", cert.toString(), "-u", "prometheus:wrong", base + "/metrics")));
            assertEquals("401", code(curl("--cacert", cert.toString(), "-u", "nobody:scrape secret", base + "/metrics")));
            assertEquals("no plain HTTP beside it", "000", code(curl("http://127.0.0.1:" + port + "/metrics")));

            String probe = curl("--cacert", cert.toString(), "-u", "prometheus:scrape secret",
                    base + "/probe?module=tcp_connect&target=127.0.0.1:" + target.port());
            assertEquals(probe, "200", code(probe));
            assertTrue(probe, probe.contains("probe_success 1"));
            assertEquals(1, target.accepted.get());
            // outside the allowed networks: refused before any packet leaves
            String denied = curl("--cacert", cert.toString(), "-u", "prometheus:scrape secret",
                    base + "/probe?module=tcp_connect&target=v4only.sonde.test:80");
            assertEquals(denied, "403", code(denied));
            assertTrue(denied, denied.contains("v4only.sonde.test (198.18.0.77) is not in probe_allow (127.0.0.0/8, ::1/128)"));

            // a real blackbox_exporter takes the very same file
            int bbPort = AgentProcess.freePort();
            Files.writeString(dir.resolve("blackbox.yml"), "modules:\n  tcp_connect:\n    prober: tcp\n");
            Process bb = new ProcessBuilder("/usr/bin/prometheus-blackbox-exporter", "--config.file=" + dir.resolve("blackbox.yml"),
                    "--web.listen-address=127.0.0.1:" + bbPort, "--web.config.file=" + dir.resolve("web.yml"))
                    .redirectErrorStream(true).redirectOutput(dir.resolve("blackbox.log").toFile()).start();
            try {
                String bbOk = "";
                for (int i = 0; i < 100 && !code(bbOk).equals("200"); i++) {
                    Thread.sleep(100);
                    bbOk = curl("--cacert", cert.toString(), "-u", "prometheus:scrape secret", "https://127.0.0.1:" + bbPort + "/metrics");
                }
                assertEquals(bbOk + Files.readString(dir.resolve("blackbox.log")), "200", code(bbOk));
                assertEquals("401", code(curl("--cacert", cert.toString(), "https://127.0.0.1:" + bbPort + "/metrics")));
            } finally {
                bb.destroy();
                bb.waitFor();
            }

            // a user added to the file is taken without a restart; a broken file closes the listener, never opens it
            String second = BCrypt.hashpw("second secret", BCrypt.gensalt(10));
            agent.write("etc/web.yml", web + "  grafana: " + second + "\n");
            String added = "";
            for (int i = 0; i < 150 && !code(added).equals("200"); i++) {
                Thread.sleep(100);
                added = curl("--cacert", cert.toString(), "-u", "grafana:second secret", base + "/metrics");
            }
            assertEquals(added, "200", code(added));
            agent.write("etc/web.yml", web + "tls_client_config: {}\n");
            agent.awaitLogLine("key 'web_config_file'", "key 'tls_client_config' is not one of", "serves nothing over HTTP until it is mended");
            String closed = curl("--cacert", cert.toString(), "-u", "prometheus:scrape secret", base + "/metrics");
            assertEquals(closed, "000", code(closed));
        }
    }
}
