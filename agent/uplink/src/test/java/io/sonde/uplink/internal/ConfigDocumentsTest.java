package io.sonde.uplink.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

import io.sonde.wire.WireException;

public class ConfigDocumentsTest {

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    static ConfigDocuments.Document check(String json) throws WireException {
        return ConfigDocuments.check(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), false, "a1");
    }

    static void refused(String json, String why) {
        try {
            check(json);
            fail("taken: " + json);
        } catch (WireException e) {
            assertTrue(e.getMessage(), e.getMessage().contains(why));
        }
    }

    @Test
    public void aDocumentIsTakenOnlyWholeForThisAgentAndSchema() throws Exception {
        ConfigDocuments.Document d = check("{\"schema\":1,\"agent_id\":\"a1\",\"version\":\"v1\",\"targets\":[],\"extra\":{\"x\":1}}");
        assertEquals("v1", d.version());
        refused("<html>502 Bad Gateway</html>", "malformed JSON at line 1 column 1 path $");
        byte[] gz = io.sonde.wire.WireCodec.gzip("{\"schema\":1,\"agent_id\":\"a1\",\"version\":\"v1\",\"targets\":[]}"
                .getBytes(StandardCharsets.UTF_8));
        assertEquals("v1", ConfigDocuments.check(new ByteArrayInputStream(gz), true, "a1").version());
        try {
            ConfigDocuments.check(new ByteArrayInputStream(java.util.Arrays.copyOf(gz, gz.length / 2)), true, "a1");
            fail("a cut gzip body was taken");
        } catch (WireException e) {
            assertEquals("the body ends early (truncated gzip)", e.getMessage());
        }
        refused("[1,2]", "malformed JSON");
        refused("", "empty");
        refused("{\"schema\":1,\"agent_id\":\"a1\",\"version\":\"v1\",\"targets\":[", "ends early");
        refused("{\"schema\":2,\"agent_id\":\"a1\",\"version\":\"v1\"}", "schema 2 is newer");
        refused("{\"agent_id\":\"a1\",\"version\":\"v1\"}", "schema is missing");
        refused("{\"schema\":1,\"agent_id\":\"a2\",\"version\":\"v1\"}", "for agent 'a2', not for this agent ('a1')");
        refused("{\"schema\":1,\"version\":\"v1\"}", "for agent 'null'");
        refused("{\"schema\":1,\"agent_id\":\"a1\"}", "no version");
        refused("{\"schema\":1,\"agent_id\":\"a1\",\"version\":\"v1\",\"targets\":{}}", "targets: must be a list");
        refused("{\"schema\":1,\"agent_id\":\"a1\",\"version\":\"v1\",\"responder\":[9199]}", "responder: must be an object");
        StringBuilder many = new StringBuilder("{\"schema\":1,\"agent_id\":\"a1\",\"version\":\"v1\",\"targets\":[");
        for (int i = 0; i <= ConfigDocuments.MAX_TARGETS; i++) {
            many.append(i == 0 ? "" : ",").append("{}");
        }
        refused(many.append("]}").toString(), "entries, more than an agent takes (" + ConfigDocuments.MAX_TARGETS + ")");
    }

    @Test
    public void theKeptCopyIsReadBackAndACorruptOneIsReportedNotFatal() throws Exception {
        Path state = tmp.newFolder("state").toPath();
        ConfigDocuments docs = new ConfigDocuments(state);
        assertNull("none kept yet", docs.load("a1"));
        ConfigDocuments.Document d = check("{\"schema\":1,\"agent_id\":\"a1\",\"version\":\"v7\",\"targets\":[]}");
        docs.save(d);
        assertEquals(d, docs.load("a1"));
        try (java.util.stream.Stream<Path> left = Files.list(state)) {
            assertEquals("the kept copy, and no temporary beside it", List.of(state.resolve(ConfigDocuments.CACHE_FILE)), left.toList());
        }
        try {
            docs.load("another-id");
            fail("another agent's copy was taken");
        } catch (IOException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("not for this agent"));
        }
        Files.writeString(state.resolve(ConfigDocuments.CACHE_FILE), "{\"schema\":1,\"agent_id\":\"a1\",\"vers");
        try {
            docs.load("a1");
            fail("a cut copy was taken");
        } catch (IOException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith("not valid JSON"));
        }
        Files.write(state.resolve(ConfigDocuments.CACHE_FILE), new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1});
        try {
            docs.load("a1");
            fail("bytes that are no text were taken");
        } catch (IOException e) {
            assertTrue(e.getMessage(), !e.getMessage().isEmpty());
        }
    }
}
