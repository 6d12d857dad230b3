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
    public void theLatencyProbesLogLevelIsReadAndItsNamesMapToLevels() throws Exception {
        TargetsFile f = TargetsFile.read(write("{\"log_level\": \"debug\", \"targets\": []}"));
        assertEquals("debug", f.logLevel());
        assertEquals(java.util.logging.Level.FINE, TargetsFile.logLevel(f.logLevel()));
        assertEquals(java.util.logging.Level.WARNING, TargetsFile.logLevel("WARN"));
        assertEquals(java.util.logging.Level.SEVERE, TargetsFile.logLevel(" Critical "));
        assertNull(TargetsFile.read(write("{\"targets\": []}")).logLevel());
        try {
            TargetsFile.logLevel("LOUD");
            fail();
        } catch (IllegalArgumentException e) {
            assertEquals("'LOUD' is no level; use one of DEBUG, INFO, WARNING, ERROR, CRITICAL (or TRACE)", e.getMessage());
        }
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

    @Test
    public void anEntryWhoseTextDidNotChangeIsNotParsedAgainAndKeepsItsMap() throws Exception {
        String a = "{\"name\": \"a\", \"kind\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": 1}";
        String b = "{\"name\": \"b\", \"kind\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": 2}";
        Path p = write("{\"targets\": [" + a + ", " + b + "]}");
        TargetsFile.Memo memo = new TargetsFile.Memo();
        TargetsFile first = TargetsFile.read(p, memo);
        Files.writeString(p, "{\"probe_interval_ms\": 1000, \"targets\": [" + a + ", " + b.replace("2}", "3}") + ", 7]}");
        TargetsFile second = TargetsFile.read(p, memo);
        assertTrue("the unchanged entry is the same object", first.entries().get(0) == second.entries().get(0));
        assertEquals(3L, second.entries().get(1).get("port"));
        assertNull("not an object: kept by its position", second.entries().get(2));
        assertEquals(1000L, second.intervalMs());
    }

    @Test
    public void theScanFindsTheSameEntriesAsTheParserInAnAwkwardDocument() throws Exception {
        String doc = "{ \"comment\": \"a ] and a } and a \\\" inside\", \"nested\": {\"targets\": [1, 2]},\n"
                + "  \"targets\" : [ {\"name\": \"x,]}\", \"kind\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": 5, \"tags\": [\"a\", [\"b\"]]}\n"
                + "  , null , \"text\", {\"name\": \"y\", \"kind\":\"udp\",\"host\":\"::1\",\"port\":7,\"size\":1.5e2} ],\n"
                + "  \"default_timeout_ms\": 500 }";
        Path p = write(doc);
        TargetsFile scanned = TargetsFile.read(p, new TargetsFile.Memo());
        assertEquals(4, scanned.entries().size());
        assertEquals("x,]}", scanned.entries().get(0).get("name"));
        assertEquals(List.of("a", List.of("b")), scanned.entries().get(0).get("tags"));
        assertNull(scanned.entries().get(1));
        assertNull(scanned.entries().get(2));
        assertEquals(150L, scanned.entries().get(3).get("size"));
        assertEquals(500L, scanned.timeoutMs());
        // a key written with escapes: not followed by the scan, the whole document is parsed instead
        Files.writeString(p, "{\"t\\u0061rgets\": [{\"name\": \"z\", \"kind\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": 9}]}");
        assertEquals("z", TargetsFile.read(p, new TargetsFile.Memo()).entries().get(0).get("name"));
    }
}
