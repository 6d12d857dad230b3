package io.sonde.exporter.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

import io.sonde.api.Prober;

/** A blackbox_exporter configuration file read into /probe modules: what is the module's, what is its prober's, and what is refused where. */
public class BlackboxConfigTest {

    private static Path dir;

    @BeforeClass
    public static void dir() throws Exception {
        dir = Files.createTempDirectory("sonde-blackbox-config-");
    }

    @AfterClass
    public static void clean() throws Exception {
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(dir);
    }

    private static Path file(String yaml) throws Exception {
        return Files.writeString(Files.createTempFile(dir, "blackbox", ".yml"), yaml);
    }

    private static String refused(String yaml) throws Exception {
        Path f = file(yaml);
        try {
            BlackboxConfig.read(f);
        } catch (IllegalArgumentException e) {
            return e.getMessage().replace(f.toString(), "FILE");
        }
        fail(yaml + " was taken");
        return null;
    }

    @Test
    public void modulesWithTheirTimeoutAndTheirProbersSection() throws Exception {
        Path f = file(String.join("\n", "modules:", "  http_2xx: {prober: http}",
                "  api:", "    prober: http", "    timeout: 1m2.5s", "    http:", "      method: POST", "      headers: {X-A: b}",
                "  ping: {prober: icmp, timeout: 250ms, icmp: {}}", ""));
        List<ProbeModule> modules = BlackboxConfig.read(f);
        assertEquals(List.of("http_2xx", "api", "ping"), modules.stream().map(ProbeModule::name).toList());
        assertEquals(List.of("http", "http", "icmp"), modules.stream().map(ProbeModule::kind).toList());
        assertEquals(List.of(0L, 62_500L, 250L), modules.stream().map(ProbeModule::timeoutMs).toList());
        // the section goes to the kind's plugin as written; a plugin that reads none refuses one with keys
        Map<String, ?>[] seen = new Map[1];
        Prober reader = new Prober() {
            @Override
            public java.util.concurrent.CompletionStage<? extends io.sonde.api.ProbeResult> probe(io.sonde.api.Target target) {
                throw new UnsupportedOperationException();
            }

            @Override
            public Map<String, String> blackboxKeys(Map<String, ?> section) {
                seen[0] = section;
                return Map.of("method", section.get("method").toString());
            }
        };
        assertEquals(Map.of("method", "POST"), modules.get(1).options(reader));
        assertEquals(Map.of("method", "POST", "headers", Map.of("X-A", "b")), seen[0]);
        Prober none = target -> null;
        assertEquals(Map.of(), modules.get(2).options(none));
        try {
            modules.get(1).options(none);
            fail("a section the plugin cannot read was taken");
        } catch (IllegalArgumentException e) {
            assertEquals(f + ": modules.api.http.method: this kind does not read blackbox_exporter module settings", e.getMessage());
        }
    }

    @Test
    public void whatIsWrongIsNamedByItsPath() throws Exception {
        assertEquals("FILE: modules.web.prober: missing; the kind of probe, e.g. http, tcp, icmp, dns",
                refused("modules:\n  web: {http: {}}\n"));
        assertEquals("FILE: modules.web.tcp: not taken in a module whose prober is http (prober, timeout, http)",
                refused("modules:\n  web: {prober: http, tcp: {}}\n"));
        assertEquals("FILE: modules.web.timeout: '5 s' is not a duration (5s, 1m30s, 250ms)",
                refused("modules:\n  web: {prober: http, timeout: 5 s}\n"));
        assertEquals("FILE: modules.web.timeout: '2h' is not from 1 ms to 1 h", refused("modules:\n  web: {prober: http, timeout: 2h}\n"));
        assertEquals("FILE: modules.web.http: a map of the prober's settings, not 'some'", refused("modules:\n  web: {prober: http, http: some}\n"));
        assertEquals("FILE: modules: a map of modules by name, not '[a, b]'", refused("modules: [a, b]\n"));
        assertEquals("FILE: module: not a key of a blackbox configuration (modules)", refused("module: {}\n"));
        assertEquals("FILE: a map with 'modules' at the top, not 'null'", refused(""));
        String yaml = refused("modules:\n  web: {prober: http\n");
        assertEquals(true, yaml.startsWith("FILE: not YAML: "));
        assertEquals("/nonexistent/blackbox.yml: cannot be read (NoSuchFileException: /nonexistent/blackbox.yml)",
                assertThrows(() -> BlackboxConfig.read(Path.of("/nonexistent/blackbox.yml"))));
        // a billion laughs is not expanded
        StringBuilder b = new StringBuilder("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i < 60; i++) {
            b.append((char) ('a' + i % 26)).append(i).append(": &").append("l").append(i).append(" [")
                    .append(i == 1 ? "*a" : "*l" + (i - 1)).append(", ").append(i == 1 ? "*a" : "*l" + (i - 1)).append("]\n");
        }
        String bomb = refused(b.toString());
        assertEquals(true, bomb.startsWith("FILE: not YAML: ") || bomb.startsWith("FILE: a: not a key"));
    }

    private static String assertThrows(Runnable r) {
        try {
            r.run();
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        fail("taken");
        return null;
    }
}
