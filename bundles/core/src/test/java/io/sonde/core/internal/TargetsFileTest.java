package io.sonde.core.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class TargetsFileTest {

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private Path write(String json) throws IOException {
        Path p = tmp.newFile().toPath();
        Files.writeString(p, json);
        return p;
    }

    @Test
    public void readsTheLatencyProbeFormat() throws Exception {
        TargetsFile f = TargetsFile.read(write("""
                {"probe_interval_ms": 10000, "default_timeout_ms": 2000,
                 "targets": [
                   {"name": "a", "kind": "tcpconnect", "host": "127.0.0.1", "port": 22, "tags": ["x", "y"]},
                   {"name": "b", "kind": "icmp", "host": "::1"},
                   42
                 ]}
                """));
        assertEquals(10000L, f.intervalMs());
        assertEquals(2000L, f.timeoutMs());
        assertEquals(3, f.entries().size());
        assertEquals(22L, f.entries().get(0).get("port"));
        assertEquals(List.of("x", "y"), f.entries().get(0).get("tags"));
        assertNull(f.entries().get(2));
    }

    @Test
    public void unparsableJsonSaysWhere() throws Exception {
        Path p = write("{\"targets\": [ {\"name\": \"a\",, } ]}");
        try {
            TargetsFile.read(p);
            fail();
        } catch (TargetsFile.Unusable e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith(p + ": is not valid JSON"));
            assertTrue(e.getMessage(), e.getMessage().contains("line 1"));
        }
    }

    @Test
    public void missingTargetsArray() throws Exception {
        try {
            TargetsFile.read(write("{\"probe_interval_ms\": 5}"));
            fail();
        } catch (TargetsFile.Unusable e) {
            assertEquals("targets", e.problem().key());
        }
    }

    @Test
    public void missingFile() {
        try {
            TargetsFile.read(tmp.getRoot().toPath().resolve("nope.json"));
            fail();
        } catch (TargetsFile.Unusable e) {
            assertTrue(e.getMessage(), e.getMessage().endsWith("no such file"));
        }
    }

    @Test
    public void tenThousandTargets() throws Exception {
        StringBuilder sb = new StringBuilder("{\"targets\": [");
        for (int i = 0; i < 10_000; i++) {
            sb.append(i == 0 ? "" : ",").append("{\"name\": \"t").append(i)
                    .append("\", \"kind\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": ").append(1 + i % 60000).append('}');
        }
        TargetsFile f = TargetsFile.read(write(sb.append("]}").toString()));
        assertEquals(10_000, f.entries().size());
    }
}
