package io.sonde.shell.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.Test;

public class CommandsTest {

    private static Map<String, Object> section(String name) {
        return Map.of("status.section", name);
    }

    private static Map<String, Object> row(String name, String kind) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("kind", kind);
        return m;
    }

    @Test
    public void targetsAreJoinedByNameWithWhatOtherSectionsKeepOfThem() {
        Commands c = new Commands();
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("agent_id", "a1");
        config.put("targets", List.of(row("web", "tcp"), row("dns", "dns")));
        c.addReport(() -> config, section("config"));
        c.addReport(() -> Map.of("targets", Map.of("web", Map.of("state", "backoff"))), section("scheduler"));
        c.addReport(() -> Map.of("web", Map.of("success", false)), section("results"));
        String table = c.targets();
        String[] lines = table.split("\n");
        assertEquals(table, 3, lines.length);
        assertTrue(table, lines[0].matches("name +kind +success +state")); // sections by name: results, then scheduler
        assertTrue(table, lines[1].matches("web +tcp +false +backoff"));
        assertTrue(table, lines[2].matches("dns +dns +- +-"));
    }

    @Test
    public void statusListsEverySectionAndAFailingOneSaysSo() {
        Commands c = new Commands();
        c.addReport(() -> Map.of("up", true, "targets", List.of(1, 2, 3)), section("uplink"));
        c.addReport(() -> {
            throw new IllegalStateException("gone");
        }, section("updater"));
        String s = c.status();
        assertTrue(s, s.contains("uplink\n"));
        assertTrue(s, s.contains("  targets: 3 entries\n"));
        assertTrue(s, s.contains("updater\n  error: java.lang.IllegalStateException: gone\n"));
        Commands none = new Commands();
        assertEquals("No bundle reports its status", none.status());
        assertEquals("No targets", none.targets());
    }
}
