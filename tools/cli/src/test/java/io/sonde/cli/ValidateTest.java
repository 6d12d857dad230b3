package io.sonde.cli;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class ValidateTest {

    @Rule
    public TemporaryFolder dir = new TemporaryFolder();

    private static final io.sonde.agent.spi.ConfigCheck.Key PORT = new io.sonde.agent.spi.ConfigCheck.Key("port", "Integer", "1", "65535", List.of());
    private static final io.sonde.agent.spi.ConfigCheck.Key RATIO = new io.sonde.agent.spi.ConfigCheck.Key("max_cpu_percent", "Double", "0", "", List.of());
    private static final io.sonde.agent.spi.ConfigCheck.Key MODE = new io.sonde.agent.spi.ConfigCheck.Key("backoff", "String", "", "", List.of("on", "off"));
    private static final io.sonde.agent.spi.ConfigCheck.Key FLAG = new io.sonde.agent.spi.ConfigCheck.Key("status_remote", "Boolean", "", "", List.of());

    @Test
    public void valuesAreCheckedByTheirDeclaredTypeBoundsAndOptions() {
        assertNull(io.sonde.agent.spi.ConfigCheck.check(PORT, " 9100 "));
        assertEquals("'0' is below the least value, 1", io.sonde.agent.spi.ConfigCheck.check(PORT, "0"));
        assertEquals("'70000' is above the greatest value, 65535", io.sonde.agent.spi.ConfigCheck.check(PORT, "70000"));
        assertEquals("'fast' is not a whole number", io.sonde.agent.spi.ConfigCheck.check(PORT, "fast"));
        assertEquals("'-1' is below the least value, 0", io.sonde.agent.spi.ConfigCheck.check(RATIO, "-1"));
        assertEquals("'x' is not a number", io.sonde.agent.spi.ConfigCheck.check(RATIO, "x"));
        assertNull(io.sonde.agent.spi.ConfigCheck.check(MODE, "off"));
        assertEquals("'maybe' is not one of on, off", io.sonde.agent.spi.ConfigCheck.check(MODE, "maybe"));
        assertEquals("'yes' is not true or false", io.sonde.agent.spi.ConfigCheck.check(FLAG, "yes"));
        assertNull(io.sonde.agent.spi.ConfigCheck.check(FLAG, "TRUE"));
    }

    @Test
    public void aFilesPidIsFileInstallsReading() {
        assertEquals("io.sonde.agent", ValidateCommand.pid(Path.of("etc/io.sonde.agent.cfg")));
        assertEquals("io.sonde.target", ValidateCommand.pid(Path.of("io.sonde.target-web-1.cfg")));
    }

    @Test
    public void unknownKeysGetTheClosestDeclaredOneAndOpenPidsTakeAnyKey() {
        Metatype m = new Metatype(Map.of("io.sonde.exporter", Map.of("port", PORT, "bind", MODE),
                "io.sonde.probe.module", Map.of("prober", MODE)));
        assertEquals(List.of("x.cfg: key 'prot': unknown to io.sonde.exporter; did you mean 'port'?"),
                ValidateCommand.checkCfg(Path.of("x.cfg"), "io.sonde.exporter", Map.of("prot", "1"), m));
        assertEquals(List.of(), ValidateCommand.checkCfg(Path.of("m.cfg"), "io.sonde.probe.module", Map.of("count", "3"), m));
        assertEquals(List.of("y.cfg: no component of the agent reads PID io.sonde.exportr; did you mean io.sonde.exporter?"),
                ValidateCommand.checkCfg(Path.of("y.cfg"), "io.sonde.exportr", Map.of(), m));
        assertEquals(List.of(), ValidateCommand.checkCfg(Path.of("z.cfg"), "org.apache.felix.fileinstall", Map.of("a", "b"), m));
    }

    @Test
    public void aFileThatCannotBeReadIsSaidWhy() throws IOException {
        Path folder = dir.newFolder("io.sonde.agent.cfg").toPath();
        assertEquals("is a directory, not a file", reason(folder));
        Path link = Files.createSymbolicLink(dir.getRoot().toPath().resolve("io.sonde.exporter.cfg"), Path.of("/nonexistent/x.cfg"));
        assertEquals("a link to /nonexistent/x.cfg, which does not exist", reason(link));
        assertEquals("no such file", reason(dir.getRoot().toPath().resolve("gone.json")));
        Path latin1 = dir.newFile("targets.json").toPath();
        Files.write(latin1, new byte[] {'{', '"', (byte) 0xe9, '"', '}'});
        assertEquals("not UTF-8 text", reason(latin1));
        Files.writeString(latin1, "port = 9100\n");
        assertEquals(Map.of("port", "9100"), ValidateCommand.properties(latin1));
    }

    private static String reason(Path file) {
        try {
            ValidateCommand.text(file);
            throw new AssertionError(file + " was read");
        } catch (IOException e) {
            return e.getMessage();
        }
    }

    @Test
    public void theUplinksOwnRulesAreValidatedByTheUplinksCode() {
        io.sonde.agent.spi.ConfigCheck.Key text = new io.sonde.agent.spi.ConfigCheck.Key("server_url", "String", "", "", List.of());
        Metatype m = new Metatype(Map.of("io.sonde.uplink", Map.of("server_url", text, "server_ca_sha256", text)));
        assertEquals(List.of("u.cfg: key 'server_url': 'http://127.0.0.1:8443' is not an https:// URL with a host",
                "u.cfg: key 'server_ca_sha256': 'A9:4A:8F:E5:CC:B1:9B:A6:1C:4C:08:73:D3:91:E9:87:98:2F:BB:D3' is not a SHA-256 fingerprint (64 hex digits, colons allowed;"
                        + " this is a SHA-1 one: take -sha256 with openssl)"),
                ValidateCommand.checkCfg(Path.of("u.cfg"), "io.sonde.uplink", Map.of("server_url", "http://127.0.0.1:8443",
                        "server_ca_sha256", "A9:4A:8F:E5:CC:B1:9B:A6:1C:4C:08:73:D3:91:E9:87:98:2F:BB:D3"), m));
        assertEquals(List.of(), ValidateCommand.checkCfg(Path.of("u.cfg"), "io.sonde.uplink", Map.of("server_url", "https://127.0.0.1:8443",
                "server_ca_sha256", "AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB"), m));
    }
}
