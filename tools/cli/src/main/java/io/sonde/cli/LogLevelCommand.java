package io.sonde.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sonde-cli log-level}: sets a logger's level in {@code etc/logging.properties}, which the
 * running agent (or server) watches and applies within seconds.
 */
@Command(name = "log-level", mixinStandardHelpOptions = true,
        description = {"Sets the level of LOGGER (and the loggers under it) in etc/logging.properties; a running agent or"
                + " server applies it within two seconds (at once on SIGHUP). Without LEVEL, prints the levels set."},
        footer = {"", "Examples:", "  sonde-cli log-level io.sonde.uplink FINE", "  sonde-cli log-level io.sonde.uplink default",
                "  sonde-cli log-level"})
final class LogLevelCommand implements Callable<Integer> {

    static final Set<String> LEVELS = Set.of("OFF", "SEVERE", "WARNING", "INFO", "CONFIG", "FINE", "FINER", "FINEST", "ALL");

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "LOGGER", description = "A logger name, such as io.sonde.scheduler; '.' for the root")
    String logger;

    @Parameters(index = "1", arity = "0..1", paramLabel = "LEVEL",
            description = "SEVERE, WARNING, INFO, CONFIG, FINE, FINER, FINEST, OFF or ALL; 'default' removes the setting")
    String level;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path file = SondeCli.home().resolve("etc").resolve("logging.properties");
        if (!Files.exists(file)) {
            err.println(file + " does not exist: is SONDE_HOME the agent's (or server's) directory?");
            return 2;
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        if (logger == null || level == null) {
            for (String l : lines) {
                String t = l.strip();
                if (!t.startsWith("#") && t.matches("[^=]*\\.level\\s*=.*") && (logger == null || t.startsWith(key(logger)))
                        && !t.startsWith("java.util.logging.") && !t.startsWith("io.sonde.launcher.LogFileHandler")) {
                    out.println(t);
                }
            }
            out.flush();
            return 0;
        }
        String name = level.strip().toUpperCase(java.util.Locale.ROOT);
        boolean remove = name.equals("DEFAULT");
        if (!remove && !LEVELS.contains(name)) {
            err.println("'" + level + "' is no level: use one of SEVERE, WARNING, INFO, CONFIG, FINE, FINER, FINEST, OFF, ALL, or default");
            return 2;
        }
        if (!logger.equals(".") && !logger.matches("[A-Za-z_$][\\w$]*(\\.[A-Za-z_$][\\w$]*)*")) {
            err.println("'" + logger + "' is no logger name: dotted Java names such as io.sonde.uplink, or '.' for the root");
            return 2;
        }
        String key = key(logger);
        List<String> next = new ArrayList<>();
        boolean set = false;
        for (String l : lines) {
            if (l.strip().matches(java.util.regex.Pattern.quote(key) + "\\s*=.*")) {
                if (!remove && !set) {
                    next.add(key + " = " + name);
                    set = true;
                }
                continue;
            }
            next.add(l);
        }
        if (!remove && !set) {
            next.add(key + " = " + name);
        }
        io.sonde.base.AtomicFiles.write(file, next.stream().map(l -> l + "\n").collect(java.util.stream.Collectors.joining())
                .getBytes(StandardCharsets.UTF_8));
        out.println(remove ? "Removed " + key + " from " + file : "Set " + key + " = " + name + " in " + file);
        out.flush();
        return 0;
    }

    private static String key(String logger) {
        return logger.equals(".") ? ".level" : logger + ".level";
    }
}
