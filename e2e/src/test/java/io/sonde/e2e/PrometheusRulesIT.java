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
 * traceroute targets and an uplink, so that every family has series); the Grafana dashboards in
 * {@code contrib/grafana/} likewise.
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

    /** @return the agent's and probes' metric names in a PromQL text (recording rules, {@code sonde:...}, left out) */
    static Set<String> metricNames(String promql) {
        Set<String> named = new TreeSet<>();
        Matcher m = Pattern.compile("(?<![:\\w$])((?:probe|sonde)_[a-z0-9_]+)(?![:\\w])").matcher(promql);
        while (m.find()) {
            named.add(m.group(1));
        }
        return named;
    }

    /** The metric names a real agent exports with tcp, icmp, https and traceroute targets and an uplink, read once. */
    private static Set<String> exported;

    static synchronized Set<String> exported() throws Exception {
        if (exported != null) {
            return exported;
        }
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
                        && x.contains("probe_traceroute_hops{") && x.contains("sonde_uplink_up") && x.contains("sonde_spool_dropped_total"));
                Set<String> names = new TreeSet<>();
                for (String line : metrics.split("\n")) {
                    if (line.startsWith("# TYPE ")) {
                        names.add(line.split(" ")[2]); // a family declared, its series to come (a counter by reason)
                    } else if (!line.isEmpty() && !line.startsWith("#")) {
                        names.add(line.split("[{ ]", 2)[0]);
                    }
                }
                exported = names;
                return names;
            } finally {
                agent.close();
            }
        }
    }

    @Test
    public void everyMetricTheRulesNameIsOneTheAgentExports() throws Exception {
        Set<String> named = metricNames(expressions(Files.readString(RULES)));
        assertTrue(named.toString(), named.size() > 10);
        Set<String> missing = new TreeSet<>(named);
        missing.removeAll(exported());
        assertEquals("named in " + RULES + " but not exported by the agent (exported: " + exported() + ")", Set.of(), missing);
    }

    static final Path DASHBOARDS = Path.of("../contrib/grafana").toAbsolutePath().normalize();

    /**
     * The dashboards in {@code contrib/grafana/}: each loads as a Grafana dashboard (uid, title,
     * panels placed on the grid, each query on the dashboard's data source variable), every query
     * parses as PromQL (promtool checks them as rules, Grafana's variables put in), names only
     * metrics the built agent exports and only recording rules that {@code contrib/prometheus} defines.
     */
    @Test
    public void theDashboardsLoadAndQueryOnlyWhatTheAgentExports() throws Exception {
        java.util.List<Path> files;
        try (java.util.stream.Stream<Path> list = Files.list(DASHBOARDS)) {
            files = list.filter(f -> f.toString().endsWith(".json")).sorted().toList();
        }
        assertEquals(files.toString(), 3, files.size());
        Set<String> uids = new TreeSet<>();
        Set<String> recorded = new TreeSet<>();
        Matcher r = Pattern.compile("record:\\s*(\\S+)").matcher(Files.readString(RULES));
        while (r.find()) {
            recorded.add(r.group(1));
        }
        StringBuilder rules = new StringBuilder("groups:\n  - name: grafana\n    rules:\n");
        Set<String> named = new TreeSet<>();
        int queries = 0;
        for (Path file : files) {
            com.google.gson.JsonObject d = com.google.gson.JsonParser.parseString(Files.readString(file)).getAsJsonObject();
            String uid = d.get("uid").getAsString();
            assertTrue(file + ": uid " + uid + " twice", uids.add(uid));
            assertTrue(file + ": title", d.get("title").getAsString().startsWith("Sonde / "));
            Set<String> variables = new TreeSet<>();
            for (com.google.gson.JsonElement v : d.getAsJsonObject("templating").getAsJsonArray("list")) {
                variables.add(v.getAsJsonObject().get("name").getAsString());
            }
            assertTrue(file + ": a datasource variable", variables.contains("datasource"));
            Set<Integer> ids = new TreeSet<>();
            for (com.google.gson.JsonElement pe : d.getAsJsonArray("panels")) {
                com.google.gson.JsonObject panel = pe.getAsJsonObject();
                String where = file.getFileName() + ": panel '" + panel.get("title").getAsString() + "'";
                assertTrue(where + ": id twice", ids.add(panel.get("id").getAsInt()));
                com.google.gson.JsonObject grid = panel.getAsJsonObject("gridPos");
                assertTrue(where + ": on the grid", grid.get("w").getAsInt() > 0 && grid.get("x").getAsInt() + grid.get("w").getAsInt() <= 24);
                assertEquals(where, "${datasource}", panel.getAsJsonObject("datasource").get("uid").getAsString());
                for (com.google.gson.JsonElement te : panel.getAsJsonArray("targets")) {
                    String expr = te.getAsJsonObject().get("expr").getAsString();
                    Matcher var = Pattern.compile("\\$(\\w+)").matcher(expr.replace("$__rate_interval", "").replace("$__range", ""));
                    while (var.find()) {
                        assertTrue(where + ": $" + var.group(1) + " is not a variable of the dashboard", variables.contains(var.group(1)));
                    }
                    named.addAll(metricNames(expr));
                    Matcher rec = Pattern.compile("sonde:[a-z0-9_:]+").matcher(expr);
                    while (rec.find()) {
                        assertTrue(where + ": recording rule " + rec.group() + " is not in " + RULES, recorded.contains(rec.group()));
                    }
                    String concrete = expr.replace("$__rate_interval", "5m").replace("$__range", "1h").replaceAll("\\$\\w+", "x");
                    rules.append("      - record: grafana:query:").append(queries++).append("\n        expr: ")
                            .append(new com.google.gson.Gson().toJson(concrete)).append('\n');
                }
            }
        }
        assertTrue("queries: " + queries, queries > 20);
        Path check = Files.createTempFile("grafana-queries", ".yml");
        try {
            Files.writeString(check, rules);
            String out = AgentProcess.output(0, "promtool", "check", "rules", check.toString());
            assertTrue(out, out.contains("SUCCESS: " + queries + " rules found"));
        } finally {
            Files.delete(check);
        }
        Set<String> missing = new TreeSet<>(named);
        missing.removeAll(exported());
        assertEquals("named in " + DASHBOARDS + " but not exported by the agent (exported: " + exported() + ")", Set.of(), missing);
    }
}
