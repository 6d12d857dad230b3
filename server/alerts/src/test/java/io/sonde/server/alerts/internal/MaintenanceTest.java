package io.sonde.server.alerts.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.time.Instant;
import java.util.List;

import org.junit.Test;

import com.google.gson.JsonParser;

import io.sonde.wire.WireException;

/** Maintenance windows: when they are open (weekly past midnight, daylight saving, once), what they cover, what is refused. */
public class MaintenanceTest {

    static final Instant NOW = Instant.parse("2026-12-06T12:00:00Z"); // a Sunday

    static Maintenance parse(String json) throws WireException {
        return Maintenance.parse("w", JsonParser.parseString(json).getAsJsonObject(), NOW);
    }

    static void refused(String json, String says) {
        try {
            parse(json);
            fail("took " + json);
        } catch (WireException e) {
            assertTrue(e.getMessage() + " should say " + says, e.getMessage().contains(says));
        }
    }

    @Test
    public void aWeeklyWindowRunsPastMidnightInItsZone() throws Exception {
        Maintenance m = parse("{\"weekly\": [{\"days\": [\"sat\"], \"from\": \"22:00\", \"to\": \"02:00\"}], \"time_zone\": \"Europe/Berlin\"}");
        // Saturday 22:00 in Berlin (UTC+1 in December) is 21:00 UTC; it closes Sunday 02:00 Berlin, 01:00 UTC
        assertFalse(m.openAt(Instant.parse("2026-12-05T20:59:59Z")));
        assertTrue(m.openAt(Instant.parse("2026-12-05T21:00:00Z")));
        assertTrue("still open after midnight", m.openAt(Instant.parse("2026-12-06T00:30:00Z")));
        assertFalse(m.openAt(Instant.parse("2026-12-06T01:00:00Z")));
        Instant[] next = m.current(NOW);
        assertEquals(Instant.parse("2026-12-12T21:00:00Z"), next[0]);
        assertEquals(Instant.parse("2026-12-13T01:00:00Z"), next[1]);
        assertEquals(false, m.shown(NOW).get("active").getAsBoolean());
        assertEquals("2026-12-12T21:00:00Z", m.shown(NOW).get("next_starts_at").getAsString());
    }

    @Test
    public void daylightSavingMovesTheWindowInUtc() throws Exception {
        Maintenance m = parse("{\"weekly\": [{\"days\": [\"sun\"], \"from\": \"03:00\", \"to\": \"04:00\"}], \"time_zone\": \"Europe/Berlin\"}");
        // 2026-03-29: Berlin moves to UTC+2 at 02:00; 03:00 local is 01:00 UTC that day, 02:00 UTC the Sunday before
        assertTrue(m.openAt(Instant.parse("2026-03-22T02:30:00Z")));
        assertTrue(m.openAt(Instant.parse("2026-03-29T01:30:00Z")));
        assertFalse(m.openAt(Instant.parse("2026-03-29T02:30:00Z")));
    }

    @Test
    public void aOneOffWindowAndWhatItCovers() throws Exception {
        Maintenance m = parse("{\"starts_at\": \"2026-12-06T11:00:00Z\", \"ends_at\": \"2026-12-06T13:00:00+01:00\", \"rules\": \"web-*\","
                + " \"targets\": \"shop OR db\", \"comment\": \"the shop's database\"}");
        assertTrue(m.openAt(NOW.minusSeconds(1)));
        assertFalse("13:00+01:00 is 12:00 UTC", m.openAt(NOW));
        assertNull("over: nothing to come", m.current(NOW));
        assertTrue("by tag", m.covers("web-down", "checkout", true, List.of("shop")));
        assertTrue("by name", m.covers("web-latency", "db", true, List.of()));
        assertFalse("another rule", m.covers("dns-down", "checkout", true, List.of("shop")));
        assertFalse("another target", m.covers("web-down", "mail", true, List.of("eu")));
        assertFalse("no agents selected: agent alerts are not covered", m.covers("web-down", "shop", false, List.of("shop")));
        Maintenance all = parse("{\"weekly\": [{\"days\": [\"mon\", \"tuesday\"], \"from\": \"01:00\", \"to\": \"02:00\"}]}");
        assertTrue("neither selector: everything", all.covers("any", "agent-7", false, List.of()));
        assertEquals("{\"name\":\"w\",\"comment\":\"\",\"weekly\":[{\"days\":[\"mon\",\"tue\"],\"from\":\"01:00\",\"to\":\"02:00\"}],"
                + "\"time_zone\":\"UTC\",\"rules\":\"*\"}", all.json().toString());
        assertEquals("what is shown is taken back", all.json(), Maintenance.parse("w", all.shown(NOW), NOW).json());
    }

    @Test
    public void aBadWindowIsRefusedNamingTheKey() {
        refused("{}", "weekly: missing: starts_at and ends_at (once), or weekly");
        refused("{\"starts_at\": \"2026-12-06T11:00:00Z\", \"ends_at\": \"2026-12-06T10:00:00Z\"}", "ends_at: 2026-12-06T10:00:00Z is not after starts_at");
        refused("{\"starts_at\": \"tomorrow\", \"ends_at\": \"2026-12-06T10:00:00Z\"}", "starts_at: 'tomorrow' is not a time");
        refused("{\"weekly\": [{\"days\": [\"someday\"], \"from\": \"01:00\", \"to\": \"02:00\"}]}", "weekly[0].days: 'someday' is not a day");
        refused("{\"weekly\": [{\"days\": [\"mon\"], \"from\": \"25:00\", \"to\": \"02:00\"}]}", "weekly[0].from: '25:00' is not a time of day");
        refused("{\"weekly\": [{\"days\": [\"mon\"], \"from\": \"02:00\", \"to\": \"02:00\"}]}", "weekly[0].to: the same as from");
        refused("{\"weekly\": [{\"days\": [\"mon\"], \"from\": \"01:00\", \"to\": \"02:00\"}], \"time_zone\": \"Mars/Olympus\"}",
                "time_zone: 'Mars/Olympus' is not a time zone");
        refused("{\"weekly\": [{\"days\": [\"mon\"], \"from\": \"01:00\", \"to\": \"02:00\"}], \"targets\": \"shop AND\"}", "targets: ");
        refused("{\"weekly\": [{\"days\": [\"mon\"], \"from\": \"01:00\", \"to\": \"02:00\"}], \"cron\": \"0 2 * * 6\"}", "cron: not a key");
    }

    @Test
    public void theOpeningsWithinARangeAreClippedToIt() throws Exception {
        Maintenance weekly = parse("{\"weekly\": [{\"days\": [\"sat\"], \"from\": \"22:00\", \"to\": \"02:00\"}], \"time_zone\": \"Europe/Berlin\"}");
        // Saturdays 2026-11-28 and 2026-12-05, 21:00-01:00 UTC; the range starts inside the first opening
        List<Instant[]> o = weekly.between(Instant.parse("2026-11-28T23:00:00Z"), Instant.parse("2026-12-06T00:30:00Z"));
        assertEquals(2, o.size());
        assertEquals(Instant.parse("2026-11-28T23:00:00Z"), o.get(0)[0]);
        assertEquals(Instant.parse("2026-11-29T01:00:00Z"), o.get(0)[1]);
        assertEquals(Instant.parse("2026-12-05T21:00:00Z"), o.get(1)[0]);
        assertEquals(Instant.parse("2026-12-06T00:30:00Z"), o.get(1)[1]);
        Maintenance once = parse("{\"starts_at\": \"2026-12-06T11:00:00Z\", \"ends_at\": \"2026-12-06T13:00:00Z\"}");
        assertEquals(0, once.between(Instant.parse("2026-12-06T13:00:00Z"), Instant.parse("2026-12-07T00:00:00Z")).size());
        assertEquals(Instant.parse("2026-12-06T12:00:00Z"), once.between(Instant.parse("2026-12-06T00:00:00Z"),
                Instant.parse("2026-12-06T12:00:00Z")).get(0)[1]);
    }
}
