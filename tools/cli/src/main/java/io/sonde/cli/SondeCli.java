package io.sonde.cli;

import java.nio.file.Path;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code bin/sonde-cli}: Sonde from the terminal. Exit codes: 0 done, 1 what was checked or
 * probed is not right (the output says what), 2 a wrong command line or a failure to run.
 */
@Command(name = "sonde-cli", mixinStandardHelpOptions = true, versionProvider = SondeCli.Version.class,
        description = "Probe now, check configuration files, see what a running agent does, change log levels, drive the server. SONDE_HOME names the agent's directory.",
        subcommands = {ProbeCommand.class, KindsCommand.class, ValidateCommand.class, StatusCommand.class, LogLevelCommand.class, ServerCommand.class,
                CommandLine.HelpCommand.class, picocli.AutoComplete.GenerateCompletion.class})
public final class SondeCli {

    /** The agent's directory: SONDE_HOME, or the parent of bin/ that started this. */
    static Path home() {
        String home = System.getenv("SONDE_HOME");
        return home == null || home.isBlank() ? io.sonde.base.Home.ofProcess() : Path.of(home).toAbsolutePath().normalize();
    }

    public static void main(String[] args) {
        quietLogs(Boolean.getBoolean("sonde.cli.verbose") || System.getenv("SONDE_CLI_VERBOSE") != null);
        System.exit(run(args));
    }

    /**
     * The embedded probes log as the agent does; on a terminal only their errors are shown, unless
     * SONDE_CLI_VERBOSE is set.
     */
    static void quietLogs(boolean verbose) {
        java.util.logging.LogManager.getLogManager().reset();
        java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
        root.setLevel(verbose ? java.util.logging.Level.INFO : java.util.logging.Level.SEVERE);
        java.util.logging.ConsoleHandler console = new java.util.logging.ConsoleHandler();
        console.setLevel(java.util.logging.Level.ALL);
        root.addHandler(console);
    }

    static int run(String... args) {
        CommandLine cl = new CommandLine(new SondeCli());
        cl.setExecutionExceptionHandler((e, line, parsed) -> {
            line.getErr().println("sonde-cli: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
            return 2;
        });
        cl.getSubcommands().get("generate-completion").getCommandSpec().usageMessage().hidden(false);
        return cl.execute(args);
    }

    /** The version of the jar this runs from. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = SondeCli.class.getPackage().getImplementationVersion();
            return new String[] {"sonde-cli " + (v == null ? "(development build)" : v)};
        }
    }
}
