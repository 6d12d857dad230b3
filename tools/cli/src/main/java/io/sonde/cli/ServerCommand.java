package io.sonde.cli;

import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code sonde-cli server ...}: the server's REST API from the terminal. The credential comes from
 * SONDE_TOKEN, SONDE_TOKEN_FILE or --token-file (on the server's host: its data/admin.token), never
 * from the command line.
 */
@Command(name = "server", mixinStandardHelpOptions = true,
        description = {"The Sonde server's API: agents, enrollment tokens, definitions (targets, meshes, alert rules) applied"
                + " from files, bundles and rollouts, alerts and silences.",
                "Server: --server or SONDE_SERVER (default https://127.0.0.1 at the port of etc/io.sonde.server.cfg). Trust:"
                        + " --ca-file or SONDE_CA_FILE (default data/tls/ca.pem here). Credential: SONDE_TOKEN, SONDE_TOKEN_FILE"
                        + " or --token-file (default data/admin.token here).",
                "Exit code 0: done; 1: the server refused (its reason is printed) or is unreachable; 2: a wrong command line."},
        footer = {"", "Examples:", "  export SONDE_SERVER=https://sonde.example.internal:8443 SONDE_CA_FILE=ca.pem SONDE_TOKEN_FILE=~/.sonde-token",
                "  sonde-cli server agents list --selector 'eu AND NOT edge'", "  sonde-cli server tokens create --tag eu --single-use",
                "  sonde-cli server diff fleet.yaml && sonde-cli server apply fleet.yaml",
                "  sonde-cli server bundles sign --key ~/sonde-release/release.key my-plugin-1.2.0.jar",
                "  sonde-cli server bundles upload my-plugin-1.2.0.jar",
                "  sonde-cli server rollouts set my-plugin --bundle my.plugin --version 1.2.0 --percent 10",
                "  sonde-cli server silences add --match rule=web-* --duration 2h --comment maintenance",
                "  sonde-cli server receivers set ops-slack --file ops-slack.json && sonde-cli server receivers test ops-slack",
                "  sonde-cli server maintenance set db-patching --weekly sat,sun@02:00-04:00 --time-zone Europe/Berlin --targets db",
                "  sonde-cli server report --days 7 --by tag && sonde-cli server report --from 2026-11-01 --to 2026-12-01 --csv > november.csv",
                "  sonde-cli server objectives set shop --targets 'shop-*' --percent 99.9 --days 30 && sonde-cli server report objectives"},
        subcommands = {ServerCommand.Agents.class, ServerCommand.Tokens.class, ServerCommand.Apply.class, ServerCommand.Diff.class,
                ServerCommand.Bundles.class, ServerCommand.Rollouts.class, ServerCommand.Health.class, ServerCommand.Alerts.class,
                ServerCommand.Silences.class, ServerCommand.Maintenance.class, ServerCommand.Receivers.class, ReportCommands.Report.class,
                ReportCommands.Objectives.class})
final class ServerCommand {

    @Option(names = "--server", paramLabel = "URL", scope = ScopeType.INHERIT, description = "The server, https://host:port")
    URI server;

    @Option(names = "--token-file", paramLabel = "FILE", scope = ScopeType.INHERIT, description = "A file holding the admin or API token")
    Path tokenFile;

    @Option(names = "--ca-file", paramLabel = "PEM", scope = ScopeType.INHERIT, description = "The CA the server's certificate is trusted by")
    Path caFile;

    @Option(names = {"-o", "--output"}, defaultValue = "table", scope = ScopeType.INHERIT, description = "table (default) or json")
    StatusCommand.Output output;

    static final Gson PRETTY = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls().create();

    /** Refused whatever it holds, and never echoed: a token on the command line is in every user's ps. */
    @Option(names = "--token", hidden = true, scope = ScopeType.INHERIT)
    String tokenOnTheLine;

    ServerApi api() throws java.io.IOException {
        return ServerApi.of(server, tokenFile, caFile);
    }

    /** A command of the group: runs against the API, prints, maps refusals to exit code 1. */
    abstract static class Sub implements Callable<Integer> {
        @ParentCommand
        Object parent;

        @Spec
        CommandSpec spec;

        ServerCommand root() {
            Object p = parent;
            while (!(p instanceof ServerCommand)) {
                p = ((Sub) p).parent;
            }
            return (ServerCommand) p;
        }

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            if (root().tokenOnTheLine != null) {
                spec.commandLine().getErr().println("--token is not taken: a token on the command line is seen by every user of"
                        + " this host. Use SONDE_TOKEN, SONDE_TOKEN_FILE or --token-file.");
                return 2;
            }
            try {
                run(root().api(), out);
                out.flush();
                return 0;
            } catch (ServerApi.Refused e) {
                spec.commandLine().getErr().println(e.getMessage());
                return 1;
            } catch (java.io.IOException e) {
                spec.commandLine().getErr().println(e.getMessage());
                return 1;
            }
        }

        abstract void run(ServerApi api, PrintWriter out) throws Exception;

        boolean json() {
            return root().output == StatusCommand.Output.json;
        }

        /** A list answer ({@code items}) as a table of {@code columns}, or as JSON. */
        void list(JsonElement answer, PrintWriter out, String... columns) {
            if (json()) {
                out.println(PRETTY.toJson(answer));
                return;
            }
            JsonArray items = answer != null && answer.isJsonObject() && answer.getAsJsonObject().has("items")
                    ? answer.getAsJsonObject().getAsJsonArray("items") : new JsonArray();
            List<String[]> rows = new ArrayList<>();
            rows.add(columns);
            for (JsonElement e : items) {
                JsonObject o = e.getAsJsonObject();
                String[] row = new String[columns.length];
                for (int i = 0; i < columns.length; i++) {
                    row[i] = text(o.get(columns[i]));
                }
                rows.add(row);
            }
            out.print(Stats.render(rows));
            out.println(items.size() + (items.size() == 1 ? " item" : " items"));
        }

        /** One object, as {@code key: value} lines or as JSON. */
        void show(JsonElement answer, PrintWriter out) {
            if (json() || answer == null || !answer.isJsonObject()) {
                out.println(PRETTY.toJson(answer));
                return;
            }
            for (Map.Entry<String, JsonElement> e : answer.getAsJsonObject().entrySet()) {
                out.println(e.getKey() + ": " + text(e.getValue()));
            }
        }

        static String text(JsonElement e) {
            if (e == null || e.isJsonNull()) {
                return "-";
            }
            if (e.isJsonArray()) {
                List<String> parts = new ArrayList<>();
                e.getAsJsonArray().forEach(x -> parts.add(text(x)));
                return String.join(",", parts);
            }
            return e.isJsonPrimitive() ? e.getAsString() : e.toString();
        }
    }

    @Command(name = "agents", mixinStandardHelpOptions = true, description = "Enrolled agents: list, show one, reset or revoke one",
            subcommands = {Agents.List.class, Agents.Show.class, Agents.Reset.class, Agents.Revoke.class})
    static final class Agents extends Sub {
        @Override
        void run(ServerApi api, PrintWriter out) throws Exception {
            list(api.all("/api/v1/agents"), out, LIST_COLUMNS);
        }

        static final String[] LIST_COLUMNS = {"agent_id", "online", "version", "tags", "last_seen", "spool_records", "refused", "revoked"};

        @Command(name = "list", mixinStandardHelpOptions = true, description = "Every agent, or those a selector takes")
        static final class List extends Sub {
            @Option(names = "--selector", paramLabel = "SELECTOR", description = "Tags: eu AND NOT edge")
            String selector;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                list(api.all("/api/v1/agents" + (selector == null ? "" : "?selector=" + ServerApi.encode(selector))), out, LIST_COLUMNS);
            }
        }

        @Command(name = "show", mixinStandardHelpOptions = true, description = "One agent")
        static final class Show extends Sub {
            @Parameters(paramLabel = "AGENT_ID")
            String id;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                show(api.get("/api/v1/agents/" + ServerApi.encode(id)), out);
            }
        }

        @Command(name = "reset", mixinStandardHelpOptions = true, description = "Ends the agent's credential now; it enrolls again under"
                + " its id with an enrollment token, keeping its spool (a lost or stolen credential, a host rebuilt)")
        static final class Reset extends Sub {
            @Parameters(paramLabel = "AGENT_ID")
            String id;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                api.send("POST", "/api/v1/agents/" + ServerApi.encode(id) + "/reset", "{}");
                out.println("Reset agent " + id + ": its credential no longer works; give it an enrollment token (enrollment_token in its"
                        + " etc/io.sonde.uplink.cfg) and it enrolls again, keeping its spool");
            }
        }

        @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Refuses the agent's requests from now on")
        static final class Revoke extends Sub {
            @Parameters(paramLabel = "AGENT_ID")
            String id;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                api.send("DELETE", "/api/v1/agents/" + ServerApi.encode(id), null);
                out.println("Revoked agent " + id);
            }
        }
    }

    @Command(name = "tokens", mixinStandardHelpOptions = true, description = "Enrollment tokens: create, list, revoke",
            subcommands = {Tokens.Create.class, Tokens.List.class, Tokens.Revoke.class})
    static final class Tokens extends Sub {
        static final String[] LIST_COLUMNS = {"id", "tags", "expires_at", "single_use", "agent_tags"};

        @Override
        void run(ServerApi api, PrintWriter out) throws Exception {
            list(api.get("/api/v1/enrollment-tokens"), out, LIST_COLUMNS);
        }

        @Command(name = "create", mixinStandardHelpOptions = true,
                description = "Makes a token for agents to enroll with; it is shown once, here")
        static final class Create extends Sub {
            @Option(names = "--tag", paramLabel = "TAG", description = "A tag the agents enrolled with it get (repeatable)")
            java.util.List<String> tags = new ArrayList<>();

            @Option(names = "--expires", paramLabel = "RFC3339", description = "When it expires (default: the server's)")
            String expires;

            @Option(names = "--single-use", description = "Good for one enrollment only")
            boolean singleUse;

            @Option(names = "--agent-tags", description = "Agents enrolling with it may add tags of their own (their tags key);"
                    + " without it an agent asking for tags the token does not give is refused")
            boolean agentTags;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("tags", tags);
                if (expires != null) {
                    body.put("expires_at", expires);
                }
                body.put("single_use", singleUse);
                body.put("agent_tags", agentTags);
                JsonElement r = api.send("POST", "/api/v1/enrollment-tokens", new Gson().toJson(body));
                if (json()) {
                    out.println(PRETTY.toJson(r));
                } else {
                    JsonObject o = r.getAsJsonObject();
                    out.println(o.get("token").getAsString());
                    spec.commandLine().getErr().println("Enrollment token " + text(o.get("id")) + ", tags " + text(o.get("tags"))
                            + ", expires " + text(o.get("expires_at")) + ": shown once; put it in the agents' etc/io.sonde.uplink.cfg"
                            + " as enrollment_token");
                }
            }
        }

        @Command(name = "list", mixinStandardHelpOptions = true, description = "The tokens not expired or revoked")
        static final class List extends Sub {
            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                list(api.get("/api/v1/enrollment-tokens"), out, LIST_COLUMNS);
            }
        }

        @Command(name = "revoke", mixinStandardHelpOptions = true, description = "No agent enrolls with it any more")
        static final class Revoke extends Sub {
            @Parameters(paramLabel = "ID")
            String id;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                api.send("DELETE", "/api/v1/enrollment-tokens/" + ServerApi.encode(id), null);
                out.println("Revoked enrollment token " + id);
            }
        }
    }

    /** The kinds of definitions a file may hold: its key, and the API's collection. */
    static final Map<String, String> COLLECTIONS = Map.of("targets", "targets", "meshes", "meshes", "alert_rules", "alert-rules");

    /**
     * The definitions of YAML or JSON files: {@code targets:}, {@code meshes:}, {@code alert_rules:},
     * each a map of names to bodies as the API takes them. A file that is not that says where.
     */
    static Map<String, Map<String, JsonObject>> definitions(java.util.List<Path> files) throws java.io.IOException {
        Map<String, Map<String, JsonObject>> all = new TreeMap<>();
        Gson gson = new Gson();
        for (Path f : files) {
            Object doc;
            try {
                String text = Files.readString(f, StandardCharsets.UTF_8);
                doc = new org.yaml.snakeyaml.Yaml(new org.yaml.snakeyaml.constructor.SafeConstructor(
                        new org.yaml.snakeyaml.LoaderOptions())).load(text); // JSON is YAML too
            } catch (org.yaml.snakeyaml.error.YAMLException e) {
                throw new java.io.IOException(f + ": not YAML or JSON: " + e.getMessage().replace('\n', ' '));
            }
            if (!(doc instanceof Map<?, ?> map)) {
                throw new java.io.IOException(f + ": must hold a map with targets:, meshes: or alert_rules:");
            }
            for (Map.Entry<?, ?> section : map.entrySet()) {
                String key = String.valueOf(section.getKey());
                if (!COLLECTIONS.containsKey(key)) {
                    throw new java.io.IOException(f + ": key '" + key + "': not one of targets, meshes, alert_rules");
                }
                if (!(section.getValue() instanceof Map<?, ?> named)) {
                    throw new java.io.IOException(f + ": " + key + ": must map names to definitions");
                }
                for (Map.Entry<?, ?> d : named.entrySet()) {
                    if (!(d.getValue() instanceof Map<?, ?>)) {
                        throw new java.io.IOException(f + ": " + key + "." + d.getKey() + ": must be a map of the definition's keys");
                    }
                    JsonObject body = gson.toJsonTree(d.getValue()).getAsJsonObject();
                    Map<String, JsonObject> into = all.computeIfAbsent(key, k -> new TreeMap<>());
                    if (into.put(String.valueOf(d.getKey()), body) != null) {
                        throw new java.io.IOException(f + ": " + key + "." + d.getKey() + ": defined twice");
                    }
                }
            }
        }
        return all;
    }

    /** What applying would change: one line per definition, +, ~ (with the keys), - (with --prune), = unchanged. */
    static java.util.List<String[]> plan(ServerApi api, Map<String, Map<String, JsonObject>> wanted, boolean prune) throws Exception {
        java.util.List<String[]> plan = new ArrayList<>();
        for (Map.Entry<String, Map<String, JsonObject>> section : wanted.entrySet()) {
            String collection = COLLECTIONS.get(section.getKey());
            for (Map.Entry<String, JsonObject> d : section.getValue().entrySet()) {
                JsonElement now = api.find("/api/v1/" + collection + "/" + ServerApi.encode(d.getKey()));
                if (now == null) {
                    plan.add(new String[] {"+", collection, d.getKey(), ""});
                    continue;
                }
                java.util.List<String> changed = new ArrayList<>();
                JsonObject current = now.getAsJsonObject();
                for (String k : d.getValue().keySet()) {
                    if (!covers(d.getValue().get(k), current.get(k))) {
                        changed.add(k);
                    }
                }
                plan.add(new String[] {changed.isEmpty() ? "=" : "~", collection, d.getKey(), String.join(", ", changed)});
            }
            if (prune) {
                JsonElement all = api.get("/api/v1/" + collection);
                for (JsonElement e : all.getAsJsonObject().getAsJsonArray("items")) {
                    String name = e.getAsJsonObject().get("name").getAsString();
                    if (!section.getValue().containsKey(name)) {
                        plan.add(new String[] {"-", collection, name, ""});
                    }
                }
            }
        }
        return plan;
    }

    /**
     * Whether the server's value is what the file gives: numbers by value (1 and 1.0 alike), objects
     * by the keys the file gives (the server fills the others with its defaults), lists item by item.
     */
    static boolean covers(JsonElement file, JsonElement server) {
        if (file == null || server == null || file.isJsonNull() || server.isJsonNull()) {
            return (file == null || file.isJsonNull()) == (server == null || server.isJsonNull());
        }
        if (file.isJsonPrimitive() && server.isJsonPrimitive() && file.getAsJsonPrimitive().isNumber()
                && server.getAsJsonPrimitive().isNumber()) {
            return file.getAsBigDecimal().compareTo(server.getAsBigDecimal()) == 0;
        }
        if (file.isJsonObject() && server.isJsonObject()) {
            for (Map.Entry<String, JsonElement> e : file.getAsJsonObject().entrySet()) {
                if (!covers(e.getValue(), server.getAsJsonObject().get(e.getKey()))) {
                    return false;
                }
            }
            return true;
        }
        if (file.isJsonArray() && server.isJsonArray() && file.getAsJsonArray().size() == server.getAsJsonArray().size()) {
            for (int i = 0; i < file.getAsJsonArray().size(); i++) {
                if (!covers(file.getAsJsonArray().get(i), server.getAsJsonArray().get(i))) {
                    return false;
                }
            }
            return true;
        }
        return file.equals(server);
    }

    @Command(name = "diff", mixinStandardHelpOptions = true,
            description = {"Shows what apply would change: + new, ~ changed (and which keys), - deleted (with --prune), = the same.",
                    "Exit code 0: nothing would change; 3: something would; 1: refused or unreachable."})
    static final class Diff extends Sub {
        @Parameters(paramLabel = "FILE", arity = "1..*", description = "YAML or JSON files with targets:, meshes:, alert_rules:")
        java.util.List<Path> files;

        @Option(names = "--prune", description = "Also list definitions on the server that the files do not have")
        boolean prune;

        private boolean changes;

        @Override
        void run(ServerApi api, PrintWriter out) throws Exception {
            java.util.List<String[]> plan = plan(api, definitions(files), prune);
            changes = plan.stream().anyMatch(p -> !p[0].equals("="));
            for (String[] p : plan) {
                out.println(p[0] + " " + p[1] + "/" + p[2] + (p[3].isEmpty() ? "" : ": " + p[3]));
                if (p[1].equals("targets") && !p[0].equals("+")) {
                    for (String line : refusals(api, p[2])) {
                        out.println("  " + line + " (as the server has it now)");
                    }
                }
            }
        }

        @Override
        public Integer call() throws Exception {
            int exit = super.call();
            return exit == 0 && changes ? 3 : exit;
        }
    }

    @Command(name = "apply", mixinStandardHelpOptions = true,
            description = {"Makes the server's definitions what the files say: new and changed ones are put, unchanged ones"
                    + " left alone (applying twice changes nothing), and with --prune the others of their kinds deleted.",
                    "Then waits (--wait, 10 s) until the online agents apply the new configuration and reports the targets they refuse.",
                    "Exit code 0: applied; 1: refused by the server or unreachable; 4: applied, and agents refuse some of it."})
    static final class Apply extends Sub {
        @Parameters(paramLabel = "FILE", arity = "1..*", description = "YAML or JSON files with targets:, meshes:, alert_rules:")
        java.util.List<Path> files;

        @Option(names = "--prune", description = "Delete definitions of the files' kinds that the files do not have")
        boolean prune;

        @Option(names = "--wait", paramLabel = "SECONDS", defaultValue = "10",
                description = "How long to wait for the agents to take the new definitions before reporting what they refuse (0: do not wait)")
        int waitSeconds;

        private boolean refusedByAgents;

        @Override
        void run(ServerApi api, PrintWriter out) throws Exception {
            Map<String, Map<String, JsonObject>> wanted = definitions(files);
            Map<String, String> before = waitSeconds > 0 ? documents(api) : Map.of();
            int changed = 0;
            java.util.List<String> targets = new ArrayList<>();
            for (String[] p : plan(api, wanted, prune)) {
                String path = "/api/v1/" + p[1] + "/" + ServerApi.encode(p[2]);
                switch (p[0]) {
                    case "+", "~" -> {
                        String section = COLLECTIONS.entrySet().stream().filter(e -> e.getValue().equals(p[1])).findFirst().orElseThrow().getKey();
                        JsonElement answer = api.send("PUT", path, wanted.get(section).get(p[2]).toString());
                        out.println((p[0].equals("+") ? "created " : "changed ") + p[1] + "/" + p[2]);
                        if (answer != null && answer.isJsonObject() && answer.getAsJsonObject().has("warning")) {
                            out.println("  warning: " + answer.getAsJsonObject().get("warning").getAsString());
                        }
                        if (p[1].equals("targets")) {
                            targets.add(p[2]);
                        }
                        changed++;
                    }
                    case "-" -> {
                        api.send("DELETE", path, null);
                        out.println("deleted " + p[1] + "/" + p[2]);
                        changed++;
                    }
                    default -> {
                        // the same already
                    }
                }
            }
            out.println(changed == 0 ? "Nothing to change" : changed + (changed == 1 ? " change" : " changes") + " applied");
            if (!targets.isEmpty() && waitSeconds > 0) {
                out.flush();
                awaitAgents(api, waitSeconds, before);
            }
            for (String t : targets) {
                for (String line : refusals(api, t)) {
                    out.println(line);
                    refusedByAgents = true;
                }
            }
        }

        @Override
        public Integer call() throws Exception {
            int exit = super.call();
            return exit == 0 && refusedByAgents ? 4 : exit;
        }
    }

    /** @return the server's document version for each agent now */
    static Map<String, String> documents(ServerApi api) throws Exception {
        Map<String, String> out = new java.util.HashMap<>();
        for (JsonElement e : api.all("/api/v1/agents").getAsJsonArray("items")) {
            JsonObject a = e.getAsJsonObject();
            JsonElement config = a.get("config");
            JsonElement current = config != null && config.isJsonObject() ? config.getAsJsonObject().get("current") : null;
            out.put(a.get("agent_id").getAsString(), current == null || current.isJsonNull() ? "" : current.getAsString());
        }
        return out;
    }

    /** How long the server may take to make the agents' new documents after a change. */
    static final long DOCUMENTS_MS = 3000;

    /**
     * Waits, {@code seconds} at most, until the server has made the new documents (some agent's
     * document differs from {@code before}, or {@link #DOCUMENTS_MS} passed: a change no agent
     * takes changes none) and no online agent is stale (each applies its newest document).
     */
    static void awaitAgents(ServerApi api, int seconds, Map<String, String> before) throws Exception {
        long start = System.nanoTime();
        long end = start + seconds * 1_000_000_000L;
        for (int i = 0; i < seconds * 4 + 1; i++) {
            boolean stale = false;
            boolean made = System.nanoTime() - start > DOCUMENTS_MS * 1_000_000L;
            for (JsonElement e : api.all("/api/v1/agents").getAsJsonArray("items")) {
                JsonObject a = e.getAsJsonObject();
                JsonElement config = a.get("config");
                if (config == null || !config.isJsonObject()) {
                    continue;
                }
                JsonElement current = config.getAsJsonObject().get("current");
                if (current != null && !current.isJsonNull() && !current.getAsString().equals(before.get(a.get("agent_id").getAsString()))) {
                    made = true;
                }
                if (a.get("online").getAsBoolean() && config.getAsJsonObject().get("stale").getAsBoolean()) {
                    stale = true;
                }
            }
            if (made && !stale || System.nanoTime() > end) {
                return;
            }
            Thread.sleep(250);
        }
    }

    /** @return a line per agent that refuses the target definition {@code name}: who and why */
    static java.util.List<String> refusals(ServerApi api, String name) throws Exception {
        java.util.List<String> out = new ArrayList<>();
        JsonElement d = api.find("/api/v1/targets/" + ServerApi.encode(name));
        if (d != null && d.isJsonObject() && d.getAsJsonObject().has("refused_by")) {
            for (JsonElement r : d.getAsJsonObject().getAsJsonArray("refused_by")) {
                JsonObject o = r.getAsJsonObject();
                out.add("refused: targets/" + name + " by agent " + o.get("agent_id").getAsString() + ": " + o.get("reason").getAsString());
            }
        }
        return out;
    }

    @Command(name = "bundles", mixinStandardHelpOptions = true,
            description = "Signed bundle releases: sign (on the release key's machine), upload, list",
            subcommands = {Bundles.List.class, Bundles.Sign.class, Bundles.Upload.class})
    static final class Bundles extends Sub {
        static final String[] COLUMNS = {"symbolic_name", "version", "size", "sha256", "uploaded_at"};

        @Override
        void run(ServerApi api, PrintWriter out) throws Exception {
            list(api.get("/api/v1/bundles"), out, COLUMNS);
        }

        @Command(name = "list", mixinStandardHelpOptions = true, description = "The releases the server holds")
        static final class List extends Sub {
            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                list(api.get("/api/v1/bundles"), out, COLUMNS);
            }
        }

        @Command(name = "sign", mixinStandardHelpOptions = true,
                description = "Signs a bundle jar with the release key (as bin/sonde-release sign): writes JAR.manifest.json."
                        + " Needs no server; keep the key off the servers.")
        static final class Sign implements Callable<Integer> {
            @Spec
            CommandSpec spec;

            @Option(names = "--key", required = true, paramLabel = "release.key")
            Path key;

            @Option(names = "--pub", paramLabel = "release.pub", description = "Default: release.pub beside the key")
            Path pub;

            @Parameters(paramLabel = "JAR")
            Path jar;

            @Override
            public Integer call() {
                try {
                    spec.commandLine().getOut().println(io.sonde.wire.internal.ReleaseCommand.sign(key, pub, jar));
                    spec.commandLine().getOut().flush();
                    return 0;
                } catch (java.io.IOException | java.security.GeneralSecurityException | io.sonde.wire.WireException
                        | IllegalArgumentException e) {
                    spec.commandLine().getErr().println("sign: " + e.getMessage());
                    return 1;
                }
            }
        }

        @Command(name = "upload", mixinStandardHelpOptions = true,
                description = "Uploads a signed release: the jar and its manifest (default: JAR.manifest.json, as sonde-release writes it)")
        static final class Upload extends Sub {
            @Parameters(paramLabel = "JAR")
            Path jar;

            @Option(names = "--manifest", paramLabel = "FILE")
            Path manifest;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                Path m = manifest != null ? manifest : jar.resolveSibling(jar.getFileName() + ".manifest.json");
                for (Path p : new Path[] {jar, m}) {
                    if (!Files.isReadable(p)) {
                        throw new java.io.IOException(p + " does not exist or cannot be read");
                    }
                }
                JsonElement r = api.upload("/api/v1/bundles", new String[][] {{"manifest", m.getFileName().toString()},
                        {"jar", jar.getFileName().toString()}}, new byte[][] {Files.readAllBytes(m), Files.readAllBytes(jar)});
                show(r, out);
            }
        }
    }

    @Command(name = "rollouts", mixinStandardHelpOptions = true,
            description = "Which version of a bundle which agents run: list, set, status, delete",
            subcommands = {Rollouts.List.class, Rollouts.Set.class, Rollouts.Status.class, Rollouts.Delete.class})
    static final class Rollouts extends Sub {
        static final String[] COLUMNS = {"name", "bundle", "version", "agents", "percent", "state"};

        @Override
        void run(ServerApi api, PrintWriter out) throws Exception {
            list(api.get("/api/v1/rollouts"), out, COLUMNS);
        }

        @Command(name = "list", mixinStandardHelpOptions = true, description = "Every rollout")
        static final class List extends Sub {
            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                list(api.get("/api/v1/rollouts"), out, COLUMNS);
            }
        }

        @Command(name = "set", mixinStandardHelpOptions = true, description = "Creates or changes a rollout")
        static final class Set extends Sub {
            @Parameters(paramLabel = "NAME")
            String name;

            @Option(names = "--bundle", required = true, paramLabel = "SYMBOLIC_NAME")
            String bundle;

            @Option(names = "--version", required = true, paramLabel = "VERSION")
            String version;

            @Option(names = "--agents", defaultValue = "*", paramLabel = "SELECTOR", description = "Default: every agent")
            String agents;

            @Option(names = "--percent", defaultValue = "100", description = "The canary share of those agents (default 100)")
            int percent;

            @Option(names = "--max-failed-percent", paramLabel = "P", description = "Pause when this share of agents failed")
            Integer maxFailed;

            @Option(names = "--state", paramLabel = "STATE", description = "active or paused")
            String state;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("bundle", bundle);
                body.put("version", version);
                body.put("agents", agents);
                body.put("percent", percent);
                if (maxFailed != null) {
                    body.put("max_failed_percent", maxFailed);
                }
                if (state != null) {
                    body.put("state", state);
                }
                show(api.send("PUT", "/api/v1/rollouts/" + ServerApi.encode(name), new Gson().toJson(body)), out);
            }
        }

        @Command(name = "status", mixinStandardHelpOptions = true, description = "A rollout and each agent's state in it")
        static final class Status extends Sub {
            @Parameters(paramLabel = "NAME")
            String name;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                show(api.get("/api/v1/rollouts/" + ServerApi.encode(name)), out);
            }
        }

        @Command(name = "delete", mixinStandardHelpOptions = true, description = "Ends a rollout (agents keep what they run)")
        static final class Delete extends Sub {
            @Parameters(paramLabel = "NAME")
            String name;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                api.send("DELETE", "/api/v1/rollouts/" + ServerApi.encode(name), null);
                out.println("Deleted rollout " + name);
            }
        }
    }

    @Command(name = "health", mixinStandardHelpOptions = true,
            description = {"What is down, since when, from where: every target by the health model, worst first;"
                    + " with a TARGET, each agent's word on it.",
                    "States: down, backoff (down, probed less often), degraded, refused, no_prober, unknown, up."},
            footer = {"", "Examples:", "  sonde-cli server health --state down", "  sonde-cli server health web"})
    static final class Health extends Sub {
        @Parameters(paramLabel = "TARGET", arity = "0..1", description = "One target: its state from each agent")
        String target;

        @Option(names = "--state", paramLabel = "STATES", description = "Only targets in these states (a comma list; down takes backoff)")
        String state;

        @Option(names = "--tag", paramLabel = "TAG", description = "Only targets whose definition has this tag")
        String tag;

        @Override
        void run(ServerApi api, PrintWriter out) throws Exception {
            if (target != null) {
                JsonElement one = api.get("/api/v1/health/" + ServerApi.encode(target));
                if (json()) {
                    out.println(PRETTY.toJson(one));
                    return;
                }
                JsonObject t = one.getAsJsonObject();
                out.println(t.get("target").getAsString() + ": " + t.get("text").getAsString() + (t.get("since").isJsonNull() ? ""
                        : " since " + t.get("since").getAsString()));
                JsonElement f = t.get("last_failure");
                if (f != null && f.isJsonObject()) {
                    out.println("last failure " + text(f.getAsJsonObject().get("at")) + ": " + text(f.getAsJsonObject().get("reason")) + " "
                            + text(f.getAsJsonObject().get("error")));
                }
                JsonObject rows = new JsonObject();
                rows.add("items", t.get("agents"));
                list(rows, out, "agent_id", "state", "since", "reason", "next_probe");
                return;
            }
            StringBuilder q = new StringBuilder("/api/v1/health?limit=50000&per_agent=false");
            if (state != null) {
                q.append("&state=").append(ServerApi.encode(state));
            }
            if (tag != null) {
                q.append("&tag=").append(ServerApi.encode(tag));
            }
            list(api.get(q.toString()), out, "target", "kind", "state", "text", "since");
        }
    }

    @Command(name = "alerts", mixinStandardHelpOptions = true, description = "Alerts: pending, firing, resolving, nodata, and resolved in the last day")
    static final class Alerts extends Sub {
        @Override
        void run(ServerApi api, PrintWriter out) throws Exception {
            list(api.get("/api/v1/alerts"), out, "rule", "subject", "state", "severity", "since", "value");
        }
    }

    @Command(name = "silences", mixinStandardHelpOptions = true, description = "Silences: list, add, delete",
            subcommands = {Silences.List.class, Silences.Add.class, Silences.Delete.class})
    static final class Silences extends Sub {
        static final String[] COLUMNS = {"id", "matchers", "starts_at", "ends_at", "comment"};

        @Override
        void run(ServerApi api, PrintWriter out) throws Exception {
            list(api.get("/api/v1/silences"), out, COLUMNS);
        }

        @Command(name = "list", mixinStandardHelpOptions = true, description = "Silences in force or to come")
        static final class List extends Sub {
            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                list(api.get("/api/v1/silences"), out, COLUMNS);
            }
        }

        @Command(name = "add", mixinStandardHelpOptions = true, description = "Holds back the alerts the matchers take")
        static final class Add extends Sub {
            @Option(names = "--match", required = true, paramLabel = "KEY=PATTERN", description = "rule=web-*, subject=..., severity=... (repeatable)")
            Map<String, String> matchers;

            @Option(names = "--duration", defaultValue = "2h", description = "How long (default 2h): 30m, 2h, 1d")
            String duration;

            @Option(names = "--comment", defaultValue = "", description = "Why")
            String comment;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("matchers", matchers);
                body.put("duration", duration);
                body.put("comment", comment);
                show(api.send("POST", "/api/v1/silences", new Gson().toJson(body)), out);
            }
        }

        @Command(name = "delete", mixinStandardHelpOptions = true, description = "Ends a silence")
        static final class Delete extends Sub {
            @Parameters(paramLabel = "ID")
            String id;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                api.send("DELETE", "/api/v1/silences/" + ServerApi.encode(id), null);
                out.println("Deleted silence " + id);
            }
        }
    }

    @Command(name = "receivers", mixinStandardHelpOptions = true,
            description = "Notification receivers (Slack, Teams, Discord, PagerDuty, Opsgenie, Telegram, email, webhook, Alertmanager):"
                    + " list, show, set, test, delete. Their secrets are never shown.",
            subcommands = {Receivers.List.class, Receivers.Show.class, Receivers.Set.class, Receivers.Test.class, Receivers.Delete.class})
    static final class Receivers extends Sub {
        static final String[] COLUMNS = {"name", "type", "secrets_set", "updated_at"};

        @Override
        void run(ServerApi api, PrintWriter out) throws Exception {
            list(api.get("/api/v1/receivers"), out, COLUMNS);
        }

        @Command(name = "list", mixinStandardHelpOptions = true, description = "Every receiver")
        static final class List extends Sub {
            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                list(api.get("/api/v1/receivers"), out, COLUMNS);
            }
        }

        @Command(name = "show", mixinStandardHelpOptions = true, description = "One receiver (its secrets named, not shown)")
        static final class Show extends Sub {
            @Parameters(paramLabel = "NAME")
            String name;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                show(api.get("/api/v1/receivers/" + ServerApi.encode(name)), out);
            }
        }

        @Command(name = "set", mixinStandardHelpOptions = true,
                description = "Defines or changes a receiver from a JSON file ({\"type\": \"slack\", \"url\": ...}); a secret the file"
                        + " leaves out is kept. Keep the file as private as the secret it holds.")
        static final class Set extends Sub {
            @Parameters(paramLabel = "NAME")
            String name;

            @Option(names = "--file", required = true, paramLabel = "JSON", description = "The receiver's definition ('-': standard input)")
            Path file;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                String body = file.toString().equals("-") ? new String(System.in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
                        : java.nio.file.Files.readString(file);
                show(api.send("PUT", "/api/v1/receivers/" + ServerApi.encode(name), body), out);
            }
        }

        @Command(name = "test", mixinStandardHelpOptions = true,
                description = "Sends a test message to the receiver now; exit code 1 when it was not delivered, with the receiver's answer")
        static final class Test extends Sub {
            @Parameters(paramLabel = "NAME")
            String name;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                JsonElement r = api.send("POST", "/api/v1/receivers/" + ServerApi.encode(name) + "/test", null);
                JsonObject o = r.getAsJsonObject();
                if (!o.get("sent").getAsBoolean()) {
                    throw new ServerApi.Refused(200, "receiver " + name + " (" + text(o.get("where")) + "): not delivered: " + text(o.get("error")));
                }
                if (json()) {
                    out.println(PRETTY.toJson(r));
                } else {
                    out.println("Delivered a test to receiver " + name + " (" + text(o.get("where")) + ")");
                }
            }
        }

        @Command(name = "delete", mixinStandardHelpOptions = true, description = "Deletes a receiver no alert rule names")
        static final class Delete extends Sub {
            @Parameters(paramLabel = "NAME")
            String name;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                api.send("DELETE", "/api/v1/receivers/" + ServerApi.encode(name), null);
                out.println("Deleted receiver " + name);
            }
        }
    }

    @Command(name = "maintenance", mixinStandardHelpOptions = true,
            description = "Maintenance windows: the alerts they cover notify no one while they are open. List, set, delete.",
            subcommands = {Maintenance.List.class, Maintenance.Set.class, Maintenance.Delete.class})
    static final class Maintenance extends Sub {
        static final String[] COLUMNS = {"name", "active", "next_starts_at", "next_ends_at", "targets", "agents", "rules", "comment"};

        @Override
        void run(ServerApi api, PrintWriter out) throws Exception {
            list(api.get("/api/v1/maintenance"), out, COLUMNS);
        }

        @Command(name = "list", mixinStandardHelpOptions = true, description = "Every window, open now or not")
        static final class List extends Sub {
            @Option(names = "--target", paramLabel = "NAME", description = "Only the windows that take this target")
            String target;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                list(api.get("/api/v1/maintenance" + (target == null ? "" : "?target=" + ServerApi.encode(target))), out, COLUMNS);
            }
        }

        @Command(name = "set", mixinStandardHelpOptions = true,
                description = "Defines or replaces a window: once (--from and --to) or weekly (--weekly, repeatable)")
        static final class Set extends Sub {
            @Parameters(paramLabel = "NAME")
            String name;

            @Option(names = "--weekly", paramLabel = "DAYS@HH:MM-HH:MM", description = "Days and times, e.g. sat,sun@02:00-04:00 (repeatable)")
            java.util.List<String> weekly;

            @Option(names = "--time-zone", paramLabel = "ZONE", description = "The zone of --weekly (default UTC): Europe/Berlin")
            String zone;

            @Option(names = "--from", paramLabel = "TIME", description = "A one-off window's start, RFC 3339: 2026-12-12T20:00:00Z")
            String from;

            @Option(names = "--to", paramLabel = "TIME", description = "A one-off window's end")
            String to;

            @Option(names = "--targets", paramLabel = "SELECTOR", description = "Targets by tags and names: 'db OR shop'")
            String targets;

            @Option(names = "--agents", paramLabel = "SELECTOR", description = "Agents by tags and ids")
            String agents;

            @Option(names = "--rules", paramLabel = "PATTERN", description = "Rule names, with * (default *)")
            String rules;

            @Option(names = "--comment", description = "Why")
            String comment;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                JsonObject body = new JsonObject();
                if (weekly != null) {
                    JsonArray a = new JsonArray();
                    for (String w : weekly) {
                        java.util.regex.Matcher m = java.util.regex.Pattern.compile("([a-z,]+)@(\\d\\d:\\d\\d)-(\\d\\d:\\d\\d)").matcher(w.strip());
                        if (!m.matches()) {
                            throw new ServerApi.Refused(0, "--weekly: '" + w + "' is not DAYS@HH:MM-HH:MM (sat,sun@02:00-04:00)");
                        }
                        JsonObject o = new JsonObject();
                        JsonArray days = new JsonArray();
                        for (String d : m.group(1).split(",")) {
                            days.add(d);
                        }
                        o.add("days", days);
                        o.addProperty("from", m.group(2));
                        o.addProperty("to", m.group(3));
                        a.add(o);
                    }
                    body.add("weekly", a);
                }
                for (String[] kv : new String[][] {{"time_zone", zone}, {"starts_at", from}, {"ends_at", to}, {"targets", targets},
                    {"agents", agents}, {"rules", rules}, {"comment", comment}}) {
                    if (kv[1] != null) {
                        body.addProperty(kv[0], kv[1]);
                    }
                }
                show(api.send("PUT", "/api/v1/maintenance/" + ServerApi.encode(name), body.toString()), out);
            }
        }

        @Command(name = "delete", mixinStandardHelpOptions = true, description = "Deletes a window (its held alerts are sent if they still fire)")
        static final class Delete extends Sub {
            @Parameters(paramLabel = "NAME")
            String name;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                api.send("DELETE", "/api/v1/maintenance/" + ServerApi.encode(name), null);
                out.println("Deleted maintenance window " + name);
            }
        }
    }
}
