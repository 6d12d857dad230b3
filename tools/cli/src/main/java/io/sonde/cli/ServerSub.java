package io.sonde.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** A command of {@code sonde-cli server}: runs against the API, prints, maps refusals to exit code 1. */
abstract class ServerSub implements Callable<Integer> {

    static final Gson PRETTY = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls().create();

    @ParentCommand
    Object parent;

    @Spec
    CommandSpec spec;

    ServerCommand root() {
        Object p = parent;
        while (!(p instanceof ServerCommand)) {
            p = ((ServerSub) p).parent;
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
