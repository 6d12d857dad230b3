package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.Test;

/**
 * The rules in {@code contrib/prometheus/} for those who scrape the agents: valid for
 * {@code promtool check rules}, passing their own {@code promtool test rules}, and naming only
 * metrics the built agent really exports (read from its /metrics with tcp, icmp, https and
 * traceroute targets and an uplink, so that every family has series).
 */
public class PrometheusRulesIT {

    static final Path RULES = Path.of("../contrib/prometheus/sonde.rules.yml").toAbsolutePath().normalize();

    @Test
    public void theRulesAreValidAndPassTheirTests() throws Exception {
        String check = AgentProcess.output(0, "promtool", "check", "rules", RULES.toString());
        assertTrue(check, check.contains("SUCCESS"));
        String test = AgentProcess.output(0, "sh", "-c", "cd " + RULES.getParent() + " && promtool test rules tests/sonde.rules.test.yml");
        assertTrue(test, test.contains("SUCCESS"));
    }

    /** @return the rules' {@code expr:} values, one-line or block, without the annotations around them */
    static String expressions(String yaml) {
        StringBuilder out = new StringBuilder();
        int exprIndent = -1;
        for (String line : yaml.split("\n")) {
            int indent = line.length() - line.stripLeading().length();
            if (line.stripLeading().startsWith("expr:")) {
                exprIndent = indent;
                out.append(line.stripLeading().substring(5)).append('\n');
            } else if (exprIndent >= 0 && indent > exprIndent && !line.isBlank()) {
                out.append(line).append('\n');
            } else {
                exprIndent = -1;
            }
        }
        return out.toString();
    }

    @Test
    public void everyMetricTheRulesNameIsOneTheAgentExports() throws Exception {
        Set<String> named = new TreeSet<>();
        Matcher m = Pattern.compile("(?<![:\\w])((?:probe|sonde)_[a-z0-9_]+)(?![:\\w])").matcher(expressions(Files.readString(RULES)));
        while (m.find()) {
            named.add(m.group(1));
        }
        assertTrue(named.toString(), named.size() > 10);
        try (FakeServer server = new FakeServer("rules")) {
            server.answer = FakeServer.Answer.json(200, "{\"schema\":1,\"agent_id\":\"rules\",\"version\":\"v1\",\"targets\":[],\"meshes\":[]}");
            AgentProcess agent = AgentProcess.start(Map.of(
                    "etc/io.sonde.agent.cfg", "agent_id = rules\n",
                    "etc/io.sonde.uplink.cfg", server.uplinkConfig("config_poll_s = 1\n")));
            try {
                int open = agent.openPort();
                agent.write("etc/io.sonde.target-web.cfg", "kind = tcp\nhost = 127.0.0.1\nport = " + open + "\ninterval_ms = 500\n");
                agent.write("etc/io.sonde.target-gw.cfg", "kind = icmp\nhost = 127.0.0.1\ncount = 2\ninterval_ms = 1000\n");
                agent.write("etc/io.sonde.target-site.cfg", "kind = http\nhost = " + server.url() + "/\ninsecure_skip_verify = true\n"
                        + "expect_status = 404\ninterval_ms = 1000\n");
                agent.write("etc/io.sonde.target-path.cfg", "kind = traceroute\nhost = 127.0.0.1\ninterval_ms = 2000\n");
                String metrics = agent.awaitMetrics(x -> x.contains("probe_packets_sent_total{")
                        && x.contains("probe_tls_cert_expiry_timestamp_seconds{") && x.contains("probe_latency_seconds_bucket{")
                        && x.contains("sonde_uplink_up") && x.contains("sonde_spool_dropped_total"));
                Set<String> exported = new TreeSet<>();
                for (String line : metrics.split("\n")) {
                    if (line.startsWith("# TYPE ")) {
                        exported.add(line.split(" ")[2]); // a family declared, its series to come (a counter by reason)
                    } else if (!line.isEmpty() && !line.startsWith("#")) {
                        exported.add(line.split("[{ ]", 2)[0]);
                    }
                }
                Set<String> missing = new TreeSet<>(named);
                missing.removeAll(exported);
                assertEquals("named in " + RULES + " but not exported by the agent (exported: " + exported + ")", Set.of(), missing);
            } finally {
                agent.close();
            }
        }
    }
}
