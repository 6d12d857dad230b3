package io.sonde.cli;

import java.net.URI;
import java.nio.file.Path;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

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
        subcommands = {AgentCommands.Agents.class, AgentCommands.Tokens.class, DefinitionCommands.Apply.class,
                DefinitionCommands.Diff.class, ReleaseCommands.Bundles.class, ReleaseCommands.Rollouts.class, AlertCommands.Health.class,
                AlertCommands.Alerts.class, AlertCommands.Silences.class, AlertCommands.Maintenance.class, AlertCommands.Receivers.class,
                ReportCommands.Report.class, ReportCommands.Objectives.class})
final class ServerCommand {

    @Option(names = "--server", paramLabel = "URL", scope = ScopeType.INHERIT, description = "The server, https://host:port")
    URI server;

    @Option(names = "--token-file", paramLabel = "FILE", scope = ScopeType.INHERIT, description = "A file holding the admin or API token")
    Path tokenFile;

    @Option(names = "--ca-file", paramLabel = "PEM", scope = ScopeType.INHERIT, description = "The CA the server's certificate is trusted by")
    Path caFile;

    @Option(names = {"-o", "--output"}, defaultValue = "table", scope = ScopeType.INHERIT, description = "table (default) or json")
    StatusCommand.Output output;

    /** Refused whatever it holds, and never echoed: a token on the command line is in every user's ps. */
    @Option(names = "--token", hidden = true, scope = ScopeType.INHERIT)
    String tokenOnTheLine;

    ServerApi api() throws java.io.IOException {
        return ServerApi.of(server, tokenFile, caFile);
    }
}
