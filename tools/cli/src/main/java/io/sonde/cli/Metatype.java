package io.sonde.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;



/**
 * The configuration keys the agent's components declare (their OSGi MetaType, generated from
 * their {@code @ObjectClassDefinition}s), read from the bundles' jars: what {@code validate} checks
 * a {@code .cfg} file against.
 *
 * @param byPid the declared keys of each PID and factory PID
 */
record Metatype(Map<String, Map<String, io.sonde.agent.spi.ConfigCheck.Key>> byPid) {


    /** Reads the metatype of every jar in the given directories. */
    static Metatype of(Path... dirs) throws IOException {
        Map<String, Map<String, io.sonde.agent.spi.ConfigCheck.Key>> byPid = new HashMap<>();
        for (Path dir : dirs) {
            if (!Files.isDirectory(dir)) {
                continue;
            }
            List<Path> jars;
            try (var s = Files.list(dir)) {
                jars = s.filter(p -> p.toString().endsWith(".jar")).sorted().toList();
            }
            for (Path jar : jars) {
                try (JarFile f = new JarFile(jar.toFile())) {
                    for (JarEntry e : java.util.Collections.list(f.entries())) {
                        if (e.getName().startsWith("OSGI-INF/metatype/") && e.getName().endsWith(".xml")) {
                            try (InputStream in = f.getInputStream(e)) {
                                io.sonde.agent.spi.ConfigCheck.read(in, byPid);
                            }
                        }
                    }
                } catch (IOException e) {
                    // not a jar, or no metatype of ours: nothing declared there
                }
            }
        }
        return new Metatype(byPid);
    }

}
