package io.sonde.cli;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.time.Instant;

import org.junit.Test;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

/** {@code sonde-cli status}: the uplink's line from its section of {@code GET /status}. */
public class StatusRenderTest {

    private static final Instant NOW = Instant.parse("2026-12-08T12:00:00Z");

    private static String uplinkLine(String section) {
        JsonObject doc = JsonParser.parseString("{\"agent\":{\"version\":\"1.0.0\",\"uptime_seconds\":60},"
                + "\"config\":{\"agent_id\":\"a-1\",\"config_errors_total\":0}" + (section == null ? "" : ",\"uplink\":" + section)
                + "}").getAsJsonObject();
        for (String line : StatusCommand.render(doc, NOW).split("\n")) {
            if (line.startsWith("Uplink")) {
                return line;
            }
        }
        throw new AssertionError("no Uplink line");
    }

    @Test
    public void anAgentWithoutAnUplinkSectionIsStandAlone() {
        assertEquals("Uplink   none (stand-alone: no etc/io.sonde.uplink.cfg)", uplinkLine(null));
    }

    /** The uplink's report is there before (or without) an uplink, and says it does not run. */
    @Test
    public void anUplinkSectionThatDoesNotRunIsStandAlone() {
        assertEquals("Uplink   none (stand-alone: no etc/io.sonde.uplink.cfg)", uplinkLine("{\"running\":false}"));
    }

    @Test
    public void aRunningUplinkShowsItsServerStateAndSpool() {
        String line = uplinkLine("{\"server\":\"https://127.0.0.1:8443\",\"enrolled\":true,\"up\":true,"
                + "\"last_delivery\":\"2026-12-08T11:59:50Z\",\"spool\":{\"records\":12,\"bytes\":4096,\"oldest\":null}}");
        assertTrue(line, line.startsWith("Uplink   https://127.0.0.1:8443 up, enrolled, last delivery "));
        assertTrue(line, line.endsWith("; spool 12 results, 4096 bytes"));
    }
}
