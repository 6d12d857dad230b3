package io.sonde.cli;

import java.io.PrintWriter;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code sonde-cli server report} (uptime, objectives) and {@code sonde-cli server objectives} (list, set, delete). */
final class ReportCommands {

    private ReportCommands() {
    }

    @Command(name = "report", mixinStandardHelpOptions = true,
            description = {"Uptime over whole UTC days from the health model: availability (up or degraded over the minutes known),"
                    + " downtime, unknown minutes apart, outages, the longest and the mean time to recover.",
                "Per target (default), per agent (--by agent) or per tag (--by tag); --csv for a spreadsheet."},
            subcommands = {Report.Objectives.class})
    static final class Report extends ServerSub {
        @Option(names = "--from", paramLabel = "DATE", description = "The first day, 2026-11-01 (default: --days before --to)")
        String from;

        @Option(names = "--to", paramLabel = "DATE", description = "The day after the last (default: tomorrow, so today is in)")
        String to;

        @Option(names = "--days", paramLabel = "N", description = "The last N days to --to (default 30)")
        Integer days;

        @Option(names = "--by", paramLabel = "target|agent|tag", defaultValue = "target", description = "One row per target, agent or tag")
        String by;

        @Option(names = "--target", paramLabel = "PART", description = "Only targets whose name holds this")
        String target;

        @Option(names = "--tag", paramLabel = "TAG", description = "Only targets whose definition carries this tag")
        String tag;

        @Option(names = "--csv", description = "The report as CSV (RFC 4180) on standard output")
        boolean csv;

        @Override
        void run(ServerApi api, PrintWriter out) throws Exception {
            StringBuilder q = new StringBuilder("?by=").append(ServerApi.encode(by));
            for (String[] kv : new String[][] {{"from", from}, {"to", to}, {"days", days == null ? null : days.toString()}, {"target", target},
                {"tag", tag}}) {
                if (kv[1] != null) {
                    q.append('&').append(kv[0]).append('=').append(ServerApi.encode(kv[1]));
                }
            }
            if (csv) {
                out.print(api.text("/api/v1/reports/uptime" + q + "&format=csv"));
                return;
            }
            JsonElement answer = api.get("/api/v1/reports/uptime" + q);
            if (!json()) {
                JsonObject o = answer.getAsJsonObject();
                out.println("From " + text(o.get("from")) + " to " + text(o.get("to")) + ", counted through " + text(o.get("counted_through")));
            }
            switch (by) {
                case "agent" -> list(answer, out, "agent", "targets", "availability_percent", "up_minutes", "degraded_minutes", "down_minutes",
                        "unknown_minutes");
                case "tag" -> list(answer, out, "tag", "targets", "availability_percent", "down_minutes", "unknown_minutes", "outages",
                        "longest_outage_minutes", "mttr_minutes");
                default -> list(answer, out, "target", "availability_percent", "down_minutes", "degraded_minutes", "unknown_minutes", "outages",
                        "longest_outage_minutes", "mttr_minutes", "ongoing");
            }
        }

        @Command(name = "objectives", mixinStandardHelpOptions = true,
                description = "Each objective over its window: availability, error budget left, burn rate over the last day")
        static final class Objectives extends ServerSub {
            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                list(api.get("/api/v1/reports/objectives"), out, "name", "percent", "days", "targets", "availability_percent", "down_minutes",
                        "budget_minutes", "budget_left_percent", "burn_rate_1d", "met");
            }
        }
    }

    @Command(name = "objectives", mixinStandardHelpOptions = true,
            description = "Service level objectives: the availability a group of targets is to keep over a number of days. List, set, delete.",
            subcommands = {Objectives.List.class, Objectives.Set.class, Objectives.Delete.class})
    static final class Objectives extends ServerSub {
        static final String[] COLUMNS = {"name", "targets", "tag", "percent", "days", "comment"};

        @Override
        void run(ServerApi api, PrintWriter out) throws Exception {
            list(api.get("/api/v1/objectives"), out, COLUMNS);
        }

        @Command(name = "list", mixinStandardHelpOptions = true, description = "Every objective")
        static final class List extends ServerSub {
            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                list(api.get("/api/v1/objectives"), out, COLUMNS);
            }
        }

        @Command(name = "set", mixinStandardHelpOptions = true, description = "Defines or replaces an objective")
        static final class Set extends ServerSub {
            @Parameters(paramLabel = "NAME")
            String name;

            @Option(names = "--percent", required = true, paramLabel = "P", description = "The availability to keep: 99.9")
            double percent;

            @Option(names = "--days", paramLabel = "N", description = "Over the last N days (default 30)")
            Integer days;

            @Option(names = "--targets", paramLabel = "PATTERN", description = "Target names, with * (default *)")
            String targets;

            @Option(names = "--tag", description = "Only targets whose definition carries this tag")
            String tag;

            @Option(names = "--comment", description = "What it is for")
            String comment;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                JsonObject body = new JsonObject();
                body.addProperty("percent", percent);
                if (days != null) {
                    body.addProperty("days", days);
                }
                for (String[] kv : new String[][] {{"targets", targets}, {"tag", tag}, {"comment", comment}}) {
                    if (kv[1] != null) {
                        body.addProperty(kv[0], kv[1]);
                    }
                }
                show(api.send("PUT", "/api/v1/objectives/" + ServerApi.encode(name), body.toString()), out);
            }
        }

        @Command(name = "delete", mixinStandardHelpOptions = true, description = "Deletes an objective")
        static final class Delete extends ServerSub {
            @Parameters(paramLabel = "NAME")
            String name;

            @Override
            void run(ServerApi api, PrintWriter out) throws Exception {
                api.send("DELETE", "/api/v1/objectives/" + ServerApi.encode(name), null);
                out.println("Deleted objective " + name);
            }
        }
    }
}
