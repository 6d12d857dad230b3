package io.sonde.uplink.internal;

import static org.junit.Assert.assertEquals;

import java.nio.charset.StandardCharsets;

import org.junit.Test;

/** What the uplink reads of the server's answer to a status: only a StatusAck that says so asks for the kinds. */
public class StatusAckTest {

    private static boolean wanted(int status, String body) {
        return Uplink.statusAck(status, body == null ? null : body.getBytes(StandardCharsets.UTF_8)).kindsWanted();
    }

    @Test
    public void onlyAStatusAckThatAsksGetsTheKinds() {
        assertEquals(true, wanted(200, "{\"schema\": 1, \"kinds_wanted\": true}"));
        assertEquals(false, wanted(200, "{\"schema\": 1, \"kinds_wanted\": false}"));
        assertEquals("servers before 1.5 answer 204", false, wanted(204, null));
        assertEquals(false, wanted(200, ""));
        assertEquals("a server's own answer to something else", false, wanted(200, "{\"unknown\": 3}"));
        for (String odd : new String[] {"null", "[]", "\"kinds_wanted\"", "{\"kinds_wanted\": \"yes\"}", "{\"kinds_wanted\": [true]}",
                "{\"kinds_wanted\": tr", "<html>proxy error</html>", "\u0000\u00ff"}) {
            assertEquals("not a StatusAck: " + odd, false, wanted(200, odd));
        }
        assertEquals("an error is no answer to read", false, wanted(500, "{\"kinds_wanted\": true}"));
    }
}
