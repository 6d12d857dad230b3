package io.sonde.server.statuspages.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.util.List;
import java.util.Map;

import org.junit.Test;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import io.sonde.wire.WireException;

public class StatusPageTest {

    private static JsonObject json(String s) {
        return JsonParser.parseString(s).getAsJsonObject();
    }

    @Test
    public void aPageTakesTheTargetsItsGroupsSelectByTagOrName() throws Exception {
        StatusPage p = StatusPage.parse("shop", json("{\"title\": \"Shop\", \"groups\": [{\"name\": \"Front\", \"targets\": \"web OR front\"},"
                + " {\"name\": \"Back\", \"targets\": \"db AND NOT internal\"}]}"));
        assertEquals(2, p.groups().size());
        assertTrue("by name", StatusPage.takes(p.groups().get(0), "web", List.of()));
        assertTrue("by tag", StatusPage.takes(p.groups().get(0), "cdn-1", List.of("front", "eu")));
        assertFalse(StatusPage.takes(p.groups().get(0), "db", List.of("db")));
        assertTrue(StatusPage.takes(p.groups().get(1), "db", List.of()));
        assertFalse(StatusPage.takes(p.groups().get(1), "db-internal", List.of("db", "internal")));
        JsonObject shown = p.json();
        assertEquals("/status/shop", shown.get("path").getAsString());
        assertEquals("what GET shows is taken back by PUT", p, StatusPage.parse("shop", shown));
    }

    @Test
    public void aGroupMayBeShownPerValueOfALabel() throws Exception {
        StatusPage p = StatusPage.parse("sites", json("{\"title\": \"Sites\", \"groups\": [{\"name\": \"Web\", \"targets\": \"web\","
                + " \"by_label\": \"site\"}]}"));
        assertEquals("site", p.groups().get(0).byLabel());
        assertEquals("web", p.groups().get(0).targets().toString());
        assertEquals(p, StatusPage.parse("sites", p.json()));
        try {
            StatusPage.parse("sites", json("{\"title\": \"S\", \"groups\": [{\"name\": \"W\", \"targets\": \"web\", \"by_label\": \"a b\"}]}"));
            org.junit.Assert.fail("took a bad label name");
        } catch (WireException e) {
            assertEquals("groups[0].by_label: 'a b' is not a label name (a letter or _, then letters, digits, _; at most 64)", e.getMessage());
        }
        try {
            StatusPage.parse("sites", json("{\"title\": \"S\", \"groups\": [{\"name\": \"W\", \"targets\": \"web\", \"by_label\": \"kind\"}]}"));
            org.junit.Assert.fail("took a label no target has");
        } catch (WireException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith("groups[0].by_label: 'kind' is a label name Sonde or Prometheus sets itself"));
        }
    }

    @Test
    public void aBadPageIsRefusedNamingTheKey() {
        Map<String, String> bad = Map.of(
                "{\"groups\": [{\"name\": \"a\", \"targets\": \"x\"}]}", "title: missing",
                "{\"title\": \"t\"}", "groups: a list of groups is needed",
                "{\"title\": \"t\", \"groups\": []}", "groups: a list of groups is needed",
                "{\"title\": \"t\", \"groups\": [{\"name\": \"a\"}]}", "groups[0].targets: missing",
                "{\"title\": \"t\", \"groups\": [{\"name\": \"a\", \"targets\": \"((x\"}]}", "groups[0].targets: ",
                "{\"title\": \"t\", \"groups\": [{\"name\": \"a\", \"targets\": \"x\", \"agents\": \"*\"}]}", "groups[0].agents: not a key",
                "{\"title\": \"t\", \"groups\": [{\"name\": \"a\", \"targets\": \"x\"}], \"show\": 1}", "show: not a key",
                "{\"title\": 7, \"groups\": [{\"name\": \"a\", \"targets\": \"x\"}]}", "title: a string is needed",
                "{\"title\": \"" + "t".repeat(201) + "\", \"groups\": [{\"name\": \"a\", \"targets\": \"x\"}]}", "title: longer than 200");
        for (Map.Entry<String, String> e : bad.entrySet()) {
            try {
                StatusPage.parse("p", json(e.getKey()));
                fail(e.getKey() + " was taken");
            } catch (WireException x) {
                assertTrue(e.getKey() + ": " + x.getMessage(), x.getMessage().startsWith(e.getValue()));
            }
        }
        for (String name : List.of("Shop", "-x", "a/b", "a".repeat(65), "ü")) {
            try {
                StatusPage.parse(name, json("{\"title\": \"t\", \"groups\": [{\"name\": \"a\", \"targets\": \"x\"}]}"));
                fail(name + " was taken as a name");
            } catch (WireException x) {
                assertTrue(x.getMessage(), x.getMessage().startsWith("name: "));
            }
        }
    }

    @Test
    public void daysNotCountedOneAfterTheOtherAreOneCellAsWideAsThey() {
        JsonObject doc = json("{\"name\": \"p\", \"title\": \"T\", \"state\": \"operational\", \"updated_at\": \"2026-12-06T10:00:00Z\","
                + " \"days_from\": \"2026-12-01\", \"incidents\": {\"ongoing\": [], \"past\": []}, \"maintenance\": [], \"groups\": [{\"name\": \"G\","
                + " \"state\": \"up\", \"targets\": [{\"name\": \"x\", \"state\": \"up\", \"days\": [null, null, null, 100, null, 99.5]}]}]}");
        String html = Html.page(doc);
        assertTrue(html, html.contains("<i class=\"day c-none g3\" title=\"2026-12-01 to 2026-12-03: no data\"></i>"
                + "<i class=\"day c-full\" title=\"2026-12-04: 100.000 %\"></i><i class=\"day c-none g1\" title=\"2026-12-05: no data\"></i>"
                + "<i class=\"day c-high\" title=\"2026-12-06: 99.500 %\"></i>"));
        assertTrue(Html.CSS.startsWith(".g1{flex-grow:1}.g2{flex-grow:2}"));
        assertTrue(Html.CSS.contains(".g90{flex-grow:90}"));
    }

    @Test
    public void thePageAndTheBadgeShowMarkupAsText() {
        String hostile = "<img src=x onerror=alert(1)>";
        JsonObject doc = json("{\"name\": \"p\", \"title\": \"T\", \"description\": \"\", \"notice\": \"fixed\\nsoon\", \"state\": \"partial_outage\","
                + " \"updated_at\": \"2026-12-06T10:00:00Z\", \"days_from\": \"2026-12-05\", \"incidents\": {\"ongoing\": [], \"past\": []},"
                + " \"maintenance\": [], \"groups\": [{\"name\": \"G\", \"state\": \"down\", \"targets\": [{\"name\": \"x\", \"state\": \"down\","
                + " \"availability_90d\": 98.5, \"days\": [null, 98.5]}]}]}");
        doc.getAsJsonArray("groups").get(0).getAsJsonObject().getAsJsonArray("targets").get(0).getAsJsonObject().addProperty("name", hostile);
        String html = Html.page(doc);
        assertFalse(html, html.contains("<img"));
        assertTrue(html, html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assertTrue(html, html.contains("Partial outage"));
        assertTrue(html, html.contains("<i class=\"day c-none g1\" title=\"2026-12-05: no data\"></i>"));
        assertTrue(html, html.contains("<i class=\"day c-mid\" title=\"2026-12-06: 98.50 %\"></i>"));
        String svg = Html.badge(new PageModel.Shown(hostile, "up", 99.98));
        assertFalse(svg, svg.contains("<img"));
        assertTrue(svg, svg.contains(">up</text>") && svg.contains(">99.98 %</text>") && svg.contains("#2f9e6e"));
        assertTrue(Html.badge(new PageModel.Shown("x", "down", 97.0)).contains("#d64545"));
        assertTrue(Html.badge(new PageModel.Shown("x", "unknown", null)).contains(">no data</text>"));
    }
}
