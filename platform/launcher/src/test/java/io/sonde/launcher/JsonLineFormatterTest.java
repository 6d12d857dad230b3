package io.sonde.launcher;

import static org.junit.Assert.assertEquals;

import java.util.logging.Level;
import java.util.logging.LogRecord;

import org.junit.Test;

/** A line's time has its milliseconds on a whole second too (Instant.toString() drops them there). */
public class JsonLineFormatterTest {

    static String time(long millis) {
        LogRecord r = new LogRecord(Level.INFO, "m");
        r.setMillis(millis);
        r.setLoggerName("l");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"time\":\"([^\"]*)\"").matcher(new JsonLineFormatter().format(r));
        return m.find() ? m.group(1) : null;
    }

    @Test
    public void timeAlwaysHasThreeDigitsOfMilliseconds() {
        assertEquals("2026-12-06T19:20:00.000Z", time(1796584800000L));
        assertEquals("2026-12-06T19:20:00.120Z", time(1796584800120L));
        assertEquals("1970-01-01T00:00:00.007Z", time(7));
    }
}
