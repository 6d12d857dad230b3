package io.sonde.cli;

import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code sonde-cli status}: what a running agent does, from its {@code GET /status}.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Shows what a running agent does: its targets with their state and last result, its configuration"
                + " sources, the uplink to the server with the spool, and the updater. Asks the agent's GET /status"
                + " (answered on loopback only, unless the agent sets status_remote).",
                "Exit code 0: the agent answered; 1: it did not (the reason is printed)."},
        footer = {"", "Examples:", "  sonde-cli status", "  sonde-cli status --agent http://127.0.0.1:9101 --output json"})
final class StatusCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = {"-a", "--agent"}, paramLabel = "URL",
            description = "The agent's exporter (default: http://127.0.0.1 at the port of the agent's etc/io.sonde.exporter.cfg, else 9100)")
    URI agent;

    @Option(names = {"-o", "--output"}, defaultValue = "table", description = "table (default) or json")
    Output output;

    enum Output { table, json }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        URI base = agent;
        Path home = SondeCli.home().toAbsolutePath().normalize();
        if (base == null) {
            // the agent of this home says where it listens, or why it does not
            JsonObject state = listenerState(home);
            if (state != null && !bool(state, "listening")) {
                err.println("The agent of " + home + " (process " + text(state, "pid") + ") serves no /status: " + text(state, "error")
                        + ". Set 'port' or 'bind' in its etc/io.sonde.exporter.cfg.");
                return 1;
            }
            base = state != null ? URI.create(text(state, "url")) : URI.create("http://127.0.0.1:" + localPort());
        }
        URI uri = base.resolve("/status");
        HttpResponse<String> r;
        try {
            r = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build().send(
                    HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException e) {
            err.println("No agent answers at " + uri + " (" + (e.getMessage() == null ? e : e.getMessage()) + ");"
                    + " is it running, and is that its exporter's port? (--agent URL)");
            return 1;
        }
        if (r.statusCode() != 200) {
            err.println(uri + " answered " + r.statusCode() + ": " + r.body().strip());
            return 1;
        }
        JsonObject doc;
        try {
            doc = JsonParser.parseString(r.body()).getAsJsonObject();
        } catch (RuntimeException e) {
            err.println(uri + " answered what is not a status document: " + e.getMessage());
            return 1;
        }
        String answeringHome = text(obj(doc, "agent"), "home");
        if (agent == null && !answeringHome.equals("-") && !Path.of(answeringHome).equals(home)) {
            err.println("The agent answering at " + base + " is the one of " + answeringHome + ", not of " + home
                    + ": this home's agent is not running, or does not listen there (--agent URL to ask another)");
            return 1;
        }
        if (output == Output.json) {
            out.print(r.body());
            out.flush();
            return 0;
        }
        out.print(render(doc, Instant.now()));
        out.flush();
        return 0;
    }

    /**
     * @return what the running agent of {@code home} wrote of its listener (data/state/exporter.json),
     *         or null when there is none or its process is gone
     */
    static JsonObject listenerState(Path home) {
        Path file = home.resolve("data/state/exporter.json");
        try {
            if (!Files.isRegularFile(file)) {
                return null;
            }
            JsonObject state = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
            long pid = state.get("pid").getAsLong();
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) ? state : null;
        } catch (java.io.IOException | RuntimeException e) {
            return null; // unreadable: ask the configured port
        }
    }

    /** The port in the agent's etc/io.sonde.exporter.cfg, or 9100. */
    private static int localPort() {
        Path cfg = SondeCli.home().resolve("etc/io.sonde.exporter.cfg");
        try {
            if (Files.exists(cfg)) {
                String port = ValidateCommand.properties(cfg).get("port");
                if (port != null) {
                    return Integer.parseInt(port.strip());
                }
            }
        } catch (java.io.IOException | NumberFormatException e) {
            // the default, then
        }
        return 9100;
    }

    /** The status document as an operator reads it: a few lines per section, then the targets' table. */
    static String render(JsonObject doc, Instant now) {
        StringBuilder b = new StringBuilder();
        JsonObject agent = obj(doc, "agent");
        JsonObject config = obj(doc, "config");
        b.append("Agent    ").append(text(config, "agent_id")).append("  version ").append(text(agent, "version"))
                .append(", up ").append(duration(num(agent, "uptime_seconds"))).append(tags(config)).append('\n');
        List<String> sources = new ArrayList<>();
        if (bool(config, "etc_targets")) {
            sources.add("etc/");
        }
        if (!text(config, "targets_file").equals("-")) {
            sources.add("targets file " + text(config, "targets_file"));
        }
        JsonObject serverDoc = obj(config, "server_document");
        if (serverDoc.size() > 0) {
            sources.add("server document " + text(serverDoc, "version") + " (" + text(serverDoc, "origin") + ")");
        }
        b.append("Config   ").append(sources.isEmpty() ? "no targets configured" : String.join(", ", sources))
                .append("; ").append((long) num(config, "config_errors_total")).append(" config errors since start");
        long invalid = (long) num(config, "entries_invalid");
        long noProber = (long) num(config, "entries_no_prober");
        if (invalid + noProber > 0) {
            b.append("; ").append(invalid).append(" invalid entries, ").append(noProber).append(" without a plugin");
        }
        b.append('\n');
        JsonObject uplink = obj(doc, "uplink");
        if (uplink.size() == 0 || (uplink.has("running") && !bool(uplink, "running"))) {
            b.append("Uplink   none (stand-alone: no etc/io.sonde.uplink.cfg)\n");
        } else {
            JsonObject spool = obj(uplink, "spool");
            b.append("Uplink   ").append(text(uplink, "server")).append(bool(uplink, "up") ? " up" : " DOWN")
                    .append(bool(uplink, "enrolled") ? ", enrolled" : ", not enrolled");
            if (!text(uplink, "last_delivery").equals("-")) {
                b.append(", last delivery ").append(ago(text(uplink, "last_delivery"), now));
            }
            b.append("; spool ").append((long) num(spool, "records")).append(" results, ").append((long) num(spool, "bytes"))
                    .append(" bytes");
            if (!text(spool, "oldest").equals("-")) {
                b.append(", oldest ").append(ago(text(spool, "oldest"), now));
            }
            b.append('\n');
            if (!bool(uplink, "up") && !text(uplink, "last_problem").equals("-")) {
                b.append("         ").append(text(uplink, "last_problem")).append('\n');
            }
        }
        JsonObject updater = obj(doc, "updater");
        if (updater.size() > 0) {
            b.append("Updater  ").append(bool(updater, "public_key_pinned") ? "release key pinned" : "no release key pinned");
            JsonObject watching = obj(updater, "watching");
            if (watching.size() > 0) {
                b.append("; watching ").append(text(watching, "bundle")).append(' ').append(text(watching, "version"));
            }
            JsonObject failed = obj(updater, "failed_versions");
            if (failed.size() > 0) {
                b.append("; failed here: ").append(failed.entrySet().stream().map(e -> e.getKey() + " " + e.getValue().getAsString())
                        .reduce((x, y) -> x + ", " + y).orElse(""));
            }
            b.append('\n');
        }
        b.append('\n');
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"Target", "Kind", "Host", "State", "Last result", "Time ms", "Probes", "Source"});
        JsonObject results = obj(doc, "results");
        JsonElement targets = config.get("targets");
        if (targets != null && targets.isJsonArray()) {
            for (JsonElement e : targets.getAsJsonArray()) {
                JsonObject t = e.getAsJsonObject();
                String name = text(t, "name");
                JsonObject last = obj(results, name);
                long port = (long) num(t, "port");
                String result = last.size() == 0 ? "none yet"
                        : (bool(last, "success") ? "ok" : text(last, "reason")) + " " + ago(text(last, "at"), now);
                rows.add(new String[] {name, text(t, "kind"), text(t, "host") + (port > 0 ? ":" + port : ""),
                        last.size() == 0 || !last.has("health") || last.get("health").isJsonNull() ? "unknown" : text(last, "health"), result,
                        last.size() == 0 || last.get("seconds").isJsonNull() ? "-" : String.format("%.2f", num(last, "seconds") * 1000),
                        last.size() == 0 ? "0" : Long.toString((long) num(last, "probes")), text(t, "source")});
            }
        }
        b.append(Stats.render(rows));
        return b.toString();
    }

    private static String tags(JsonObject config) {
        JsonElement t = config.get("tags");
        if (t == null || !t.isJsonArray() || t.getAsJsonArray().isEmpty()) {
            return "";
        }
        List<String> tags = new ArrayList<>();
        t.getAsJsonArray().forEach(x -> tags.add(x.getAsString()));
        return ", tags " + String.join(",", tags);
    }

    private static JsonObject obj(JsonObject o, String key) {
        JsonElement e = o == null ? null : o.get(key);
        return e != null && e.isJsonObject() ? e.getAsJsonObject() : new JsonObject();
    }

    private static String text(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e == null || e.isJsonNull() ? "-" : e.isJsonPrimitive() ? e.getAsString() : e.toString();
    }

    private static double num(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e == null || e.isJsonNull() || !e.isJsonPrimitive() ? 0 : e.getAsDouble();
    }

    private static boolean bool(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e != null && e.isJsonPrimitive() && e.getAsBoolean();
    }

    private static String ago(String instant, Instant now) {
        try {
            return duration(Math.max(0, Duration.between(Instant.parse(instant), now).toSeconds())) + " ago";
        } catch (java.time.format.DateTimeParseException e) {
            return instant;
        }
    }

    static String duration(double seconds) {
        long s = (long) seconds;
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return s / 60 + "m" + (s % 60 == 0 ? "" : " " + s % 60 + "s");
        }
        if (s < 86400) {
            return s / 3600 + "h" + (s % 3600 / 60 == 0 ? "" : " " + s % 3600 / 60 + "m");
        }
        return s / 86400 + "d" + (s % 86400 / 3600 == 0 ? "" : " " + s % 86400 / 3600 + "h");
    }
}
