package io.sonde.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import io.sonde.api.HostForm;
import io.sonde.api.ResultSchema;
import io.sonde.api.TargetOption;
import io.sonde.api.TargetSchema;
import io.sonde.embed.Monitor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sonde-cli kinds}: the probe kinds the installed plugins serve, each with the keys its
 * targets take and what its results hold, as the plugins declare them; {@code --markdown} writes
 * the reference of {@code docs/kinds.md}, so the documentation is the plugins' own declaration.
 */
@Command(name = "kinds", mixinStandardHelpOptions = true,
        description = {"Lists the probe kinds of the installed plugins (SONDE_HOME's plugins/), each with its keys (type, default,"
                + " values, what it does) and its results (values and metric families), as the plugins declare them.",
                "Exit code 0; 1: a KIND asked for is not installed."},
        footer = {"", "Examples:", "  sonde-cli kinds", "  sonde-cli kinds http", "  sonde-cli kinds --markdown > docs/kinds.md"})
final class KindsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "KIND", arity = "0..*", description = "Only these kinds (default: all)")
    List<String> only = new ArrayList<>();

    @Option(names = "--markdown", description = "The reference in Markdown (docs/kinds.md)")
    boolean markdown;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<Monitor.KindSchema> kinds;
        try (Monitor monitor = Monitor.start(SondeCli.home())) {
            kinds = monitor.schemas();
        }
        List<Monitor.KindSchema> shown = new ArrayList<>();
        for (Monitor.KindSchema k : kinds) {
            if (only.isEmpty() || only.contains(k.name())) {
                shown.add(k);
            }
        }
        for (String k : only) {
            if (kinds.stream().noneMatch(s -> s.name().equals(k))) {
                err.println("No installed plugin probes kind '" + k + "'; installed: "
                        + String.join(", ", kinds.stream().map(Monitor.KindSchema::name).toList()));
                return 1;
            }
        }
        out.print(markdown ? markdown(shown) : text(shown));
        out.flush();
        return 0;
    }

    /** The reference: one section per kind, its keys and its results in tables. */
    static String markdown(List<Monitor.KindSchema> kinds) {
        StringBuilder b = new StringBuilder();
        b.append("# Probe kinds\n\n");
        b.append("Written by `bin/sonde-cli kinds --markdown` from what each installed plugin declares (its target schema and"
                + " result schema): the agent checks every target against the same declarations, so this page cannot say"
                + " otherwise than the agent does. Every kind also takes the keys all targets share (`name`, `kind`, `host`,"
                + " `port`, `interval_ms`, `timeout_ms`, `tags`, `labels`, `ip_version`, `backoff`, ...; see the README's"
                + " \"Targets\").\n\n");
        for (Monitor.KindSchema k : kinds) {
            b.append("- [").append(k.name()).append("](#").append(k.name().toLowerCase(Locale.ROOT)).append(")\n");
        }
        for (Monitor.KindSchema k : kinds) {
            b.append("\n## ").append(k.name()).append("\n\n");
            TargetSchema s = k.options();
            if (s == null) {
                b.append("The plugin declares no keys: its targets' own keys are passed to it unchecked.\n");
            } else {
                b.append("Host: ").append(host(s.host())).append("; port: ").append(s.portRequired() ? "required" : "optional")
                        .append(".\n\n");
                if (s.options().isEmpty()) {
                    b.append("No keys of its own.\n");
                } else {
                    b.append("| Key | Type | Default | Values | What it does |\n|---|---|---|---|---|\n");
                    for (TargetOption o : s.options()) {
                        b.append("| `").append(cell(o.name().replace("*", "NAME"))).append("` | ").append(type(o))
                                .append(" | ").append(o.defaultValue() == null ? "" : "`" + cell(o.defaultValue()) + "`")
                                .append(" | ").append(cell(values(o))).append(" | ").append(cell(o.description())).append(" |\n");
                    }
                }
            }
            ResultSchema r = k.results();
            if (r != null && !r.values().isEmpty()) {
                b.append("\nResults (schema ").append(r.version()).append("), beside the success, time and failure every result has:\n\n");
                b.append("| Value | Type | Unit | What it holds |\n|---|---|---|---|\n");
                for (ResultSchema.Value v : r.values()) {
                    b.append("| `").append(cell(v.name())).append("` | ").append(v.type().name().toLowerCase(Locale.ROOT))
                            .append(v.local() ? " (agent only)" : "").append(" | ").append(cell(v.unit())).append(" | ")
                            .append(cell(v.help())).append(" |\n");
                }
            }
            families(b, "On `/metrics`", r == null ? List.of() : r.metrics());
            families(b, "On `/probe`, in blackbox_exporter's names", r == null ? List.of() : r.probeMetrics());
        }
        return b.toString();
    }

    private static void families(StringBuilder b, String where, List<ResultSchema.Family> families) {
        if (families.isEmpty()) {
            return;
        }
        b.append("\n").append(where).append(":\n\n");
        for (ResultSchema.Family f : families) {
            b.append("- `").append(f.name()).append(f.label() == null || f.label().isEmpty() ? "" : "{" + f.label() + "}")
                    .append("` (").append(f.type().name().toLowerCase(Locale.ROOT)).append("): ").append(f.help()).append('\n');
        }
    }

    /** A plain listing for the terminal. */
    static String text(List<Monitor.KindSchema> kinds) {
        StringBuilder b = new StringBuilder();
        for (Monitor.KindSchema k : kinds) {
            b.append(k.name());
            TargetSchema s = k.options();
            if (s != null) {
                b.append(" (host: ").append(host(s.host())).append(s.portRequired() ? ", port required" : "").append(")\n");
                List<String[]> rows = new ArrayList<>();
                rows.add(new String[] {"Key", "Type", "Default", "Values"});
                for (TargetOption o : s.options()) {
                    rows.add(new String[] {o.name(), type(o), o.defaultValue() == null ? "" : o.defaultValue(), values(o)});
                }
                if (rows.size() > 1) {
                    b.append(Stats.render(rows)).append('\n');
                }
            } else {
                b.append(" (keys not declared)\n");
            }
            b.append('\n');
        }
        return b.toString();
    }

    private static String host(HostForm h) {
        return switch (h) {
            case NAME -> "a host name or address";
            case URL -> "an http:// or https:// URL";
            case OTHER -> "text the kind reads itself";
        };
    }

    private static String type(TargetOption o) {
        String t = switch (o.type()) {
            case INTEGER -> "whole number";
            case BOOLEAN -> "true or false";
            case CHOICE -> "one of";
            case TEXT -> "text";
            case PATTERN -> "regular expression";
            case FILE -> "readable file";
        };
        return o.required() ? t + ", required" : t;
    }

    private static String values(TargetOption o) {
        return switch (o.type()) {
            case INTEGER -> o.max() == Long.MAX_VALUE ? o.min() + " or more" : o.min() + "–" + o.max();
            case CHOICE -> String.join(", ", o.choices());
            default -> "";
        };
    }

    private static String cell(String s) {
        return s == null ? "" : s.replace("|", "\\|").replace("\n", " ");
    }
}
