package io.sonde.server.dashboard.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.Assume;
import org.junit.Test;

/**
 * The dashboard's scripts: TypeScript's compiler checks them by their JSDoc types ({@code tsc -p}
 * with this module's tsconfig.json: unknown names, wrong imports, wrong argument types, unused
 * locals), and the modules form one tree from app.js with nothing left over. Without tsc the check
 * is skipped here and fails under CI, whose script installs it.
 */
public class DashboardScriptsTest {

    private static final Path ASSETS = Path.of("src/main/resources/ui/assets");
    private static final Pattern IMPORT = Pattern.compile("^import .* from '\\./([\\w-]+\\.js)';$", Pattern.MULTILINE);

    @Test
    public void theScriptsPassTheTypeScriptCheck() throws Exception {
        Result r = tsc(Path.of("."));
        assertEquals(r.output, 0, r.exit);
    }

    /** The check can fail: a call with a number where the element's tag is a string, an import of a name no module exports. */
    @Test
    public void aWrongTypeAndAWrongImportAreFound() throws Exception {
        Path copy = Files.createTempDirectory("dashboard-scripts-");
        try {
            Path assets = copy.resolve(ASSETS);
            Files.createDirectories(assets);
            try (Stream<Path> s = Files.list(ASSETS)) {
                for (Path p : s.filter(p -> p.toString().endsWith(".js")).toList()) {
                    Files.copy(p, assets.resolve(p.getFileName()));
                }
            }
            Files.copy(Path.of("tsconfig.json"), copy.resolve("tsconfig.json"));
            Files.writeString(assets.resolve("meshes.js"), Files.readString(assets.resolve("meshes.js"))
                    + "\nexport const wrong = h(42);\n", StandardCharsets.UTF_8);
            Files.writeString(assets.resolve("agent.js"), "import {noSuchHelper} from './core.js';\nnoSuchHelper();\n"
                    + Files.readString(assets.resolve("agent.js")), StandardCharsets.UTF_8);
            Result r = tsc(copy);
            assertNotEquals(r.output, 0, r.exit);
            assertTrue(r.output, r.output.contains("meshes.js(") && r.output.contains("'number' is not assignable to parameter of type 'string'"));
            assertTrue(r.output, r.output.contains("agent.js(1,") && r.output.contains("noSuchHelper"));
        } finally {
            try (Stream<Path> w = Files.walk(copy)) {
                for (Path p : w.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** Every module is reached from app.js (or is the login page's own), and every import names a module that is there. */
    @Test
    public void theModulesAreOneTreeFromTheApp() throws IOException {
        Set<String> all = new TreeSet<>();
        try (Stream<Path> s = Files.list(ASSETS)) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".js")).forEach(all::add);
        }
        Set<String> reached = new TreeSet<>();
        Deque<String> todo = new ArrayDeque<>(java.util.List.of("app.js", "login.js")); // index.html's and login.html's
        while (!todo.isEmpty()) {
            String m = todo.pop();
            if (!reached.add(m)) {
                continue;
            }
            assertTrue(m + " is imported but not in " + ASSETS, all.contains(m));
            Matcher i = IMPORT.matcher(Files.readString(ASSETS.resolve(m)));
            while (i.find()) {
                todo.push(i.group(1));
            }
        }
        assertEquals(all, reached);
        assertTrue("one module per view, not one for all: " + all, all.size() >= 12);
    }

    private record Result(int exit, String output) {
    }

    private static Result tsc(Path project) throws Exception {
        Path tsc = Stream.of(System.getenv("PATH").split(":")).map(d -> Path.of(d, "tsc")).filter(Files::isExecutable).findFirst()
                .orElse(null);
        if (tsc == null) {
            if (System.getenv("CI") != null) {
                throw new AssertionError("tsc is not installed: .ci/run installs it (Debian package node-typescript)");
            }
            Assume.assumeTrue("tsc is not installed (Debian package node-typescript)", false);
        }
        Process p = new ProcessBuilder(tsc.toString(), "-p", project.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("tsc did not end within 5 minutes: " + out);
        }
        return new Result(p.exitValue(), out);
    }
}
