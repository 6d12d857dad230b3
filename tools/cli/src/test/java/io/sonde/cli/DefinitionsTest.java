package io.sonde.cli;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

public class DefinitionsTest {

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private Path file(String text) throws IOException {
        Path p = tmp.newFile().toPath();
        Files.writeString(p, text);
        return p;
    }

    @Test
    public void yamlAndJsonFilesGiveDefinitionsByKindAndName() throws Exception {
        Map<String, Map<String, JsonObject>> d = DefinitionCommands.definitions(List.of(
                file("targets:\n  web: {kind: http, host: 'https://127.0.0.1/', interval_ms: 10000}\n"),
                file("{\"meshes\": {\"eu\": {\"members\": \"eu\", \"fanout\": 3}}}")));
        assertEquals(10000, d.get("targets").get("web").get("interval_ms").getAsInt());
        assertEquals("eu", d.get("meshes").get("eu").get("members").getAsString());
    }

    @Test
    public void badFilesSayWhereAndWhy() throws Exception {
        Path twice = file("targets:\n  web: {kind: tcp}\n");
        expect(List.of(twice, twice), twice + ": targets.web: defined twice");
        Path list = file("- 1\n- 2\n");
        expect(List.of(list), list + ": must hold a map with targets:, meshes: or alert_rules:");
        Path scalar = file("targets:\n  web: 7\n");
        expect(List.of(scalar), scalar + ": targets.web: must be a map of the definition's keys");
        Path bad = file("targets: {web: [\n");
        expect(List.of(bad), bad + ": not YAML or JSON: ");
        Path tags = file("targets: {web: !!javax.script.ScriptEngineManager [x]}\n");
        expect(List.of(tags), tags + ": not YAML or JSON: ");
    }

    private static void expect(List<Path> files, String start) {
        try {
            DefinitionCommands.definitions(files);
            fail();
        } catch (IOException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith(start));
        }
    }

    @Test
    public void theServersDefaultsAreNoDifferenceButAGivenKeyThatDiffersIs() {
        JsonObject server = JsonParser.parseString("{\"name\": \"eu\", \"fanout\": 3, \"interval_ms\": 30000,"
                + " \"kinds\": {\"icmp\": {\"count\": 5, \"interval_ms\": 30000}}, \"updated_at\": \"2026-12-02T00:00:00Z\"}").getAsJsonObject();
        assertTrue(DefinitionCommands.covers(JsonParser.parseString("{\"fanout\": 3.0, \"kinds\": {\"icmp\": {\"count\": 5}}}"), server));
        assertFalse(DefinitionCommands.covers(JsonParser.parseString("{\"kinds\": {\"icmp\": {\"count\": 7}}}"), server));
        assertFalse(DefinitionCommands.covers(JsonParser.parseString("{\"kinds\": {\"tcp\": {}}}"), server));
        assertTrue(DefinitionCommands.covers(JsonParser.parseString("[1, {\"a\": 2}]"), JsonParser.parseString("[1, {\"a\": 2, \"b\": 3}]")));
        assertFalse(DefinitionCommands.covers(JsonParser.parseString("[1]"), JsonParser.parseString("[1, 2]")));
    }
}
