package io.sonde.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;

import io.sonde.embed.Monitor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code sonde-cli validate}: the agent's own checks of configuration files, before they go out.
 */
@Command(name = "validate", mixinStandardHelpOptions = true,
        description = {"Checks configuration files as the agent would read them: .cfg files against the keys the agent's"
                + " components declare, targets (io.sonde.target-*.cfg and JSON targets files) by the agent's own rules"
                + " with its installed plugins. Every problem is printed as file: key: reason.",
                "Exit code 0: all good; 1: problems found; 2: nothing to check or a failure to run."},
        footer = {"", "Examples:", "  sonde-cli validate                  the agent's etc/ and its targets file",
                "  sonde-cli validate staging/etc       another directory of .cfg files",
                "  sonde-cli validate targets.json io.sonde.target-web.cfg"})
final class ValidateCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "PATH", description = "Directories (their *.cfg and *.json files) or files; default: the agent's etc/")
    List<Path> paths = new ArrayList<>();

    /** The PIDs whose files may carry keys their component does not declare (a kind's own keys). */

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path home = SondeCli.home();
        List<Path> inputs = paths.isEmpty() ? List.of(home.resolve("etc")) : paths;
        Set<Path> files = new LinkedHashSet<>();
        for (Path p : inputs) {
            if (Files.isDirectory(p)) {
                try (var s = Files.list(p)) {
                    s.filter(f -> f.toString().endsWith(".cfg") || f.toString().endsWith(".json")).sorted().forEach(files::add);
                }
            } else if (Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                files.add(p);
            } else {
                err.println(p + ": no such file or directory");
                return 2;
            }
        }
        if (files.isEmpty()) {
            err.println("No .cfg or .json files in " + inputs);
            return 2;
        }
        Metatype metatype = Metatype.of(home.resolve("system"), home.resolve("plugins"));
        List<String> problems = new ArrayList<>();
        Map<Path, Map<String, String>> targetConfigs = new LinkedHashMap<>();
        Set<Path> targetsFiles = new LinkedHashSet<>();
        for (Path f : files) {
            if (f.toString().endsWith(".json")) {
                targetsFiles.add(f);
                continue;
            }
            Map<String, String> props;
            try {
                props = properties(f);
            } catch (IOException | IllegalArgumentException e) {
                problems.add(f + ": cannot be read: " + e.getMessage());
                continue;
            }
            String pid = pid(f);
            if ("io.sonde.target".equals(pid)) {
                String base = f.getFileName().toString();
                int dash = base.indexOf('-');
                if (dash > 0) { // as the agent names a target without a name: after the dash of its file's name
                    props.putIfAbsent("name", base.substring(dash + 1, base.length() - ".cfg".length()));
                }
                targetConfigs.put(f, props);
            } else {
                problems.addAll(checkCfg(f, pid, props, metatype));
            }
            if ("io.sonde.agent".equals(pid) && props.get("targets_file") != null && !props.get("targets_file").isBlank()) {
                Path t = Path.of(props.get("targets_file").strip());
                // as the agent reads it: relative to its home, the parent of etc/
                Path base = f.toAbsolutePath().getParent().getParent();
                Path file = t.isAbsolute() ? t : (base == null ? t : base.resolve(t)).normalize();
                if (Files.exists(file)) {
                    targetsFiles.add(file);
                } else {
                    problems.add(f + ": key 'targets_file': " + file + " does not exist");
                }
            }
        }
        if (!targetConfigs.isEmpty() || !targetsFiles.isEmpty()) {
            try (Monitor monitor = Monitor.start(home)) {
                targetConfigs.forEach((f, props) -> problems.addAll(monitor.check(props, f.toString())));
                for (Path f : targetsFiles) {
                    try {
                        problems.addAll(monitor.check(text(f), f.toString()));
                    } catch (IOException e) {
                        problems.add(f + ": cannot be read: " + e.getMessage());
                    }
                }
            }
        }
        for (String p : problems) {
            out.println(p);
        }
        out.println(files.size() + targetsFiles.stream().filter(t -> !files.contains(t)).count() + " files checked, "
                + (problems.isEmpty() ? "no problems" : problems.size() + (problems.size() == 1 ? " problem" : " problems")));
        out.flush();
        return problems.isEmpty() ? 0 : 1;
    }

    /** The PID a file configures, as FileInstall takes it: {@code pid.cfg}, or {@code factoryPid-name.cfg}. */
    static String pid(Path file) {
        String name = file.getFileName().toString();
        String base = name.substring(0, name.length() - ".cfg".length());
        int dash = base.indexOf('-');
        return dash < 0 ? base : base.substring(0, dash);
    }

    /** A .cfg file as FileInstall reads it (Java properties). */
    static Map<String, String> properties(Path file) throws IOException {
        Properties p = new Properties();
        p.load(new java.io.StringReader(text(file)));
        Map<String, String> map = new LinkedHashMap<>();
        for (String k : p.stringPropertyNames()) {
            map.put(k, p.getProperty(k));
        }
        return map;
    }

    /** A file's text as UTF-8; what keeps it from being read said plainly (the path is the caller's to name). */
    static String text(Path file) throws IOException {
        if (Files.isDirectory(file)) {
            throw new IOException("is a directory, not a file");
        }
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new IOException("not UTF-8 text", e);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new IOException(Files.isSymbolicLink(file) ? "a link to " + Files.readSymbolicLink(file) + ", which does not exist"
                    : "no such file", e);
        } catch (java.nio.file.AccessDeniedException e) {
            throw new IOException("permission denied", e);
        }
    }

    /** Checks a .cfg file of a component against its declared keys. */
    static List<String> checkCfg(Path file, String pid, Map<String, String> props, Metatype metatype) {
        Map<String, io.sonde.agent.spi.ConfigCheck.Key> keys = metatype.byPid().get(pid);
        List<String> problems = new ArrayList<>();
        if (keys == null) {
            if (pid.startsWith("io.sonde.")) {
                String hint = io.sonde.api.TargetSchema.closest(pid, metatype.byPid().keySet());
                problems.add(file + ": no component of the agent reads PID " + pid
                        + (hint == null ? "" : "; did you mean " + hint + "?"));
            }
            return problems; // a file of the platform's own (FileInstall, logging): not ours to judge
        }
        for (String p : io.sonde.agent.spi.ConfigCheck.problems(pid, props, keys)) {
            problems.add(file + ": " + p);
        }
        if (pid.equals("io.sonde.uplink")) {
            // what the uplink itself refuses, by its own rules
            for (String p : io.sonde.wire.UplinkSettings.problems(props)) {
                problems.add(file + ": " + p);
            }
        }
        return problems;
    }
}
