package io.sonde.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code sonde-cli server diff} and {@code apply}: definitions (targets, meshes, alert rules) kept in YAML or JSON files,
 * compared with the server and applied to it.
 */
final class DefinitionCommands {

    private DefinitionCommands() {
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
    static final class Diff extends ServerSub {
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
    static final class Apply extends ServerSub {
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
}
