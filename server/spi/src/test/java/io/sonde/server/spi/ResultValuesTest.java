package io.sonde.server.spi;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

public class ResultValuesTest {

    private static final JsonObject D = JsonParser.parseString("{\"n\": 3.5, \"flag\": true, \"at\": \"2026-12-01T00:00:01Z\","
            + " \"hops\": [1, 2, 3], \"phases\": {\"handshake\": 0.004}, \"text\": \"x\", \"huge\": 1e400, \"none\": null}").getAsJsonObject();

    @Test
    public void aValueOfAnyKindAsANumber() {
        assertEquals(3.5, ResultValues.number(D, "n"), 0);
        assertEquals(1, ResultValues.number(D, "flag"), 0);
        assertEquals(1796083201, ResultValues.number(D, "at"), 0);
        assertEquals(3, ResultValues.number(D, "hops"), 0);
        assertEquals(0.004, ResultValues.number(D, "phases.handshake"), 0);
        for (String absent : new String[] {"text", "huge", "none", "missing", "phases.connect", "n.x"}) {
            assertTrue(absent, Double.isNaN(ResultValues.number(D, absent)));
        }
        assertTrue(Double.isNaN(ResultValues.number(null, "n")));
        assertTrue(ResultValues.NAME.matcher("phases.handshake").matches());
        assertFalse(ResultValues.NAME.matcher("Phases").matches());
        assertFalse(ResultValues.NAME.matcher("a.b.c").matches());
    }
}
