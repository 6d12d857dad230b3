package io.sonde.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * What is down and who hears of it: {@code sonde-cli server health}, {@code alerts}, {@code silences}, {@code receivers} and
 * {@code maintenance}.
 */
final class AlertCommands {

    private AlertCommands() {
    }

    @Command(name = "health", mixinStandardHelpOptions = true,
            description = {"What is down, since when, from where: every target by the health model, worst first;"
                    + " with a TARGET, each agent's word on it.",
                    "States: down, backoff (down, probed less often), degraded, refused, no_prober, unknown, up."},
            footer = {"", "Examples:", "  sonde-cli server health --state down", "  sonde-cli server health web"})
    static final class Health extends ServerSub {
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
    static final class Alerts extends ServerSub {
        @Override
        void run(ServerApi api, PrintWriter out) throws Exception {
            list(api.get("/api/v1/alerts"), out, "rule", "subject", "state", "severity", "since", "value");
        }
    }

    @Command(name = "silences", mixinStandardHelpOptions = true, description = "Silences: list, add, delete",
            subcommands = {Silences.List.class, Silences.Add.class, Silences.Delete.class})
    static final class Silences extends ServerSub {
        static final String[] COLUMNS = {"id", "matchers", "starts_at", "ends_at", "comment"};

        @Override
        void run(ServerApi api, PrintWriter out) throws Exception {
            list(api.get("/api/v1/silences"), out, COLUMNS);
        }

        @Command(name = "list", mixinStandardHelpOptions = true, description = "Silences in force or to come")
        static final class List extends ServerSub {
            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                list(api.get("/api/v1/silences"), out, COLUMNS);
            }
        }

        @Command(name = "add", mixinStandardHelpOptions = true, description = "Holds back the alerts the matchers take")
        static final class Add extends ServerSub {
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
        static final class Delete extends ServerSub {
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
    static final class Receivers extends ServerSub {
        static final String[] COLUMNS = {"name", "type", "secrets_set", "updated_at"};

        @Override
        void run(ServerApi api, PrintWriter out) throws Exception {
            list(api.get("/api/v1/receivers"), out, COLUMNS);
        }

        @Command(name = "list", mixinStandardHelpOptions = true, description = "Every receiver")
        static final class List extends ServerSub {
            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                list(api.get("/api/v1/receivers"), out, COLUMNS);
            }
        }

        @Command(name = "show", mixinStandardHelpOptions = true, description = "One receiver (its secrets named, not shown)")
        static final class Show extends ServerSub {
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
        static final class Set extends ServerSub {
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
        static final class Test extends ServerSub {
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
        static final class Delete extends ServerSub {
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
    static final class Maintenance extends ServerSub {
        static final String[] COLUMNS = {"name", "active", "next_starts_at", "next_ends_at", "targets", "agents", "rules", "comment"};

        @Override
        void run(ServerApi api, PrintWriter out) throws Exception {
            list(api.get("/api/v1/maintenance"), out, COLUMNS);
        }

        @Command(name = "list", mixinStandardHelpOptions = true, description = "Every window, open now or not")
        static final class List extends ServerSub {
            @Option(names = "--target", paramLabel = "NAME", description = "Only the windows that take this target")
            String target;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                list(api.get("/api/v1/maintenance" + (target == null ? "" : "?target=" + ServerApi.encode(target))), out, COLUMNS);
            }
        }

        @Command(name = "set", mixinStandardHelpOptions = true,
                description = "Defines or replaces a window: once (--from and --to) or weekly (--weekly, repeatable)")
        static final class Set extends ServerSub {
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
        static final class Delete extends ServerSub {
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
