package io.sonde.server.core.internal;

import static org.junit.Assert.assertEquals;

import java.util.List;

import org.junit.Test;

public class AgentsServletTest {

    @Test
    public void aBatchsSpoolCountIsAWholeNumberOrAbsent() {
        assertEquals(-1, AgentsServlet.spoolRecords(null));
        assertEquals(0, AgentsServlet.spoolRecords("0"));
        assertEquals(42, AgentsServlet.spoolRecords(" 42 "));
        assertEquals(Long.MAX_VALUE, AgentsServlet.spoolRecords(Long.toString(Long.MAX_VALUE)));
        for (String bad : List.of("", " ", "-1", "+1", "4x", "1 2", "1.5", "9223372036854775808", "99999999999999999999", "\u0661")) {
            assertEquals("'" + bad + "'", -2, AgentsServlet.spoolRecords(bad));
        }
    }

    @Test
    public void aPageLimitIsAWholeNumberFromOneToTheMost() throws Exception {
        assertEquals(AgentsServlet.DEFAULT_PAGE, AgentsServlet.pageLimit(null));
        assertEquals(1, AgentsServlet.pageLimit("1"));
        assertEquals(10_000, AgentsServlet.pageLimit(" 10000 "));
        for (String bad : List.of("", "0", "-1", "10001", "1.5", "x", "99999999999")) {
            try {
                AgentsServlet.pageLimit(bad);
                org.junit.Assert.fail(bad);
            } catch (io.sonde.wire.WireException e) {
                assertEquals("limit: '" + bad + "' is not a whole number from 1 to 10000", e.getMessage());
            }
        }
    }
}
