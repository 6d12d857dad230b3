package io.sonde.server.statuspages.internal;

import java.util.Locale;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

/** A status page's document as HTML (no script: readable on any phone), and a target's badge as SVG. Every datum is escaped. */
final class Html {

    private Html() {
    }

    static final String CSS = widths() + """
            :root { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2933; background: #f7f8fa; }
            body { margin: 0; }
            main { max-width: 56rem; margin: 0 auto; padding: 1rem; }
            h1 { font-size: 1.6rem; margin: .5rem 0 .25rem; } h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
            .description { color: #52606d; margin: 0 0 1rem; }
            .banner { padding: .9rem 1rem; border-radius: .4rem; color: #fff; font-weight: 600; font-size: 1.1rem; }
            .notice { white-space: pre-line; background: #fff8e1; border-left: 4px solid #f0b429; padding: .75rem 1rem; margin: 1rem 0; }
            .box { background: #fff; border-radius: .4rem; padding: .75rem 1rem; margin-bottom: .75rem; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
            .row { display: flex; flex-wrap: wrap; align-items: baseline; gap: .5rem; }
            .name { font-weight: 600; flex: 1 1 12rem; overflow-wrap: anywhere; }
            .pct { color: #52606d; font-size: .9rem; }
            .pill { display: inline-block; padding: .1rem .55rem; border-radius: 1rem; font-size: .8rem; color: #fff; }
            .bar { display: flex; gap: 1px; height: 1.8rem; margin-top: .5rem; }
            .day { flex: 1 1 0; min-width: 1px; border-radius: 1px; display: block; }
            .legend { display: flex; justify-content: space-between; color: #7b8794; font-size: .75rem; margin-top: .2rem; }
            ul { padding-left: 1.2rem; } li { margin: .3rem 0; }
            footer { color: #7b8794; font-size: .8rem; margin: 2rem 0 1rem; }
            .state-up, .state-operational, .c-full { background: #2f9e6e; } .c-high { background: #9bc53d; }
            .state-degraded, .c-mid { background: #f0b429; } .state-partial_outage { background: #e8590c; }
            .state-down, .state-major_outage, .c-low { background: #d64545; }
            .state-unknown, .c-none { background: #cbd2d9; } .state-unknown { color: #1f2933; }
            """;

    /** @return the widths of cells that stand for several days: .g2 to .g90 (a page's policy allows no style attribute) */
    private static String widths() {
        StringBuilder b = new StringBuilder();
        for (int i = 1; i <= PageModel.DAYS; i++) {
            b.append(".g").append(i).append("{flex-grow:").append(i).append("}");
        }
        return b.append('\n').toString();
    }

    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    static String banner(String state) {
        return switch (state) {
            case "operational" -> "All systems operational";
            case "degraded" -> "Some systems are slow";
            case "partial_outage" -> "Partial outage";
            case "major_outage" -> "Major outage";
            default -> "State unknown";
        };
    }

    /** @return a day's cell class by its availability: the same scale as the dashboard's */
    static String cell(JsonElement p) {
        if (p == null || p.isJsonNull()) {
            return "c-none";
        }
        double v = p.getAsDouble();
        return v >= 99.9 ? "c-full" : v >= 99 ? "c-high" : v >= 95 ? "c-mid" : "c-low";
    }

    static String percent(JsonElement p) {
        return p == null || p.isJsonNull() ? "no data" : String.format(Locale.ROOT, p.getAsDouble() >= 99 ? "%.3f %%" : "%.2f %%", p.getAsDouble());
    }

    private static String text(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e == null || e.isJsonNull() ? "" : e.getAsString();
    }

    static String page(JsonObject doc) {
        String name = text(doc, "name");
        String state = text(doc, "state");
        StringBuilder h = new StringBuilder(16_384);
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
                .append("<title>").append(escape(text(doc, "title"))).append("</title>")
                .append("<link rel=\"stylesheet\" href=\"/status/").append(escape(name)).append("/status.css\"></head><body><main>");
        h.append("<h1>").append(escape(text(doc, "title"))).append("</h1>");
        if (!text(doc, "description").isEmpty()) {
            h.append("<p class=\"description\">").append(escape(text(doc, "description"))).append("</p>");
        }
        h.append("<div class=\"banner state-").append(escape(state)).append("\" id=\"banner\">").append(banner(state)).append("</div>");
        if (!text(doc, "notice").isEmpty()) {
            h.append("<div class=\"notice\" id=\"notice\">").append(escape(text(doc, "notice"))).append("</div>");
        }
        JsonObject incidents = doc.getAsJsonObject("incidents");
        if (!incidents.getAsJsonArray("ongoing").isEmpty()) {
            h.append("<h2>Going on now</h2><ul id=\"ongoing\">");
            for (JsonElement e : incidents.getAsJsonArray("ongoing")) {
                JsonObject i = e.getAsJsonObject();
                h.append("<li><strong>").append(escape(text(i, "target"))).append("</strong> is ").append(escape(text(i, "state")));
                if (!text(i, "since").isEmpty()) {
                    h.append(" since ").append(escape(utc(text(i, "since"))));
                }
                h.append("</li>");
            }
            h.append("</ul>");
        }
        if (!doc.getAsJsonArray("maintenance").isEmpty()) {
            h.append("<h2>Maintenance</h2><ul id=\"maintenance\">");
            for (JsonElement e : doc.getAsJsonArray("maintenance")) {
                JsonObject m = e.getAsJsonObject();
                h.append("<li>").append(m.get("active").getAsBoolean() ? "<strong>Under way</strong>: " : "Planned: ")
                        .append(escape(text(m, "title"))).append(", ").append(escape(utc(text(m, "starts_at")))).append(" to ")
                        .append(escape(utc(text(m, "ends_at")))).append(" (");
                java.util.List<String> ts = new java.util.ArrayList<>();
                m.getAsJsonArray("targets").forEach(t -> ts.add(t.getAsString()));
                h.append(escape(String.join(", ", ts))).append(")</li>");
            }
            h.append("</ul>");
        }
        for (JsonElement ge : doc.getAsJsonArray("groups")) {
            JsonObject g = ge.getAsJsonObject();
            h.append("<section class=\"group\"><h2>").append(escape(text(g, "name"))).append(" <span class=\"pill state-")
                    .append(escape(text(g, "state"))).append("\">").append(escape(text(g, "state"))).append("</span></h2>");
            if (g.getAsJsonArray("targets").isEmpty()) {
                h.append("<div class=\"box\">No target is in this group yet.</div>");
            }
            for (JsonElement te : g.getAsJsonArray("targets")) {
                JsonObject t = te.getAsJsonObject();
                h.append("<div class=\"box target\" data-target=\"").append(escape(text(t, "name"))).append("\"><div class=\"row\"><span class=\"name\">")
                        .append(escape(text(t, "name"))).append("</span><span class=\"pct\">").append(percent(t.get("availability_90d")))
                        .append(" over 90 days</span><span class=\"pill state-").append(escape(text(t, "state"))).append("\">")
                        .append(escape(text(t, "state"))).append("</span></div><div class=\"bar\">");
                java.time.LocalDate day = java.time.LocalDate.parse(text(doc, "days_from"));
                JsonArray days = t.getAsJsonArray("days");
                for (int i = 0; i < days.size();) {
                    JsonElement d = days.get(i);
                    if (d.isJsonNull()) { // days not counted, one after the other: one cell as wide as they are
                        int run = 1;
                        while (i + run < days.size() && days.get(i + run).isJsonNull()) {
                            run++;
                        }
                        h.append("<i class=\"day c-none g").append(run).append("\" title=\"").append(day).append(run > 1 ? " to "
                                + day.plusDays(run - 1) : "").append(": no data\"></i>");
                        day = day.plusDays(run);
                        i += run;
                        continue;
                    }
                    h.append("<i class=\"day ").append(cell(d)).append("\" title=\"").append(day).append(": ").append(percent(d)).append("\"></i>");
                    day = day.plusDays(1);
                    i++;
                }
                h.append("</div><div class=\"legend\"><span>90 days ago</span><span>today</span></div></div>");
            }
            h.append("</section>");
        }
        h.append("<h2>Past incidents</h2>");
        if (incidents.getAsJsonArray("past").isEmpty()) {
            h.append("<p id=\"past\">No outage in the last ").append(PageModel.PAST_DAYS).append(" days.</p>");
        } else {
            h.append("<ul id=\"past\">");
            for (JsonElement e : incidents.getAsJsonArray("past")) {
                JsonObject i = e.getAsJsonObject();
                h.append("<li><strong>").append(escape(text(i, "target"))).append("</strong> down ").append(escape(utc(text(i, "start"))))
                        .append(" for ").append(i.get("minutes").getAsLong()).append(" min</li>");
            }
            h.append("</ul>");
        }
        h.append("<footer>Updated ").append(escape(utc(text(doc, "updated_at")))).append(" · days are UTC days · <a href=\"/status/")
                .append(escape(name)).append("/status.json\">status.json</a> · Sonde</footer></main></body></html>\n");
        return h.toString();
    }

    /** @return an RFC 3339 time as {@code 2026-12-06 14:05 UTC} */
    static String utc(String iso) {
        return iso.length() >= 16 ? iso.substring(0, 10) + " " + iso.substring(11, 16) + " UTC" : iso;
    }

    /** @return a badge: the target's state now and its availability over 30 days ({@code up | 99.98 %}), as shields draw them */
    static String badge(PageModel.Shown t) {
        String left = t.state();
        String right = t.percent30() == null ? "no data" : String.format(Locale.ROOT, "%.2f %%", t.percent30());
        String colour = switch (t.state()) {
            case "up" -> t.percent30() == null || t.percent30() >= 99.9 ? "#2f9e6e" : t.percent30() >= 99 ? "#9bc53d" : "#f0b429";
            case "degraded" -> "#f0b429";
            case "down" -> "#d64545";
            default -> "#9aa5b1";
        };
        int lw = 10 + 7 * left.length();
        int rw = 10 + 7 * right.length();
        String title = escape(t.target() + ": " + left + ", " + right + " over 30 days");
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + (lw + rw) + "\" height=\"20\" role=\"img\" aria-label=\"" + title + "\">"
                + "<title>" + title + "</title><rect width=\"" + lw + "\" height=\"20\" fill=\"#555\"/><rect x=\"" + lw + "\" width=\"" + rw
                + "\" height=\"20\" fill=\"" + colour + "\"/><g fill=\"#fff\" font-family=\"Verdana,DejaVu Sans,sans-serif\" font-size=\"11\""
                + " text-anchor=\"middle\"><text x=\"" + lw / 2 + "\" y=\"14\">" + escape(left) + "</text><text x=\"" + (lw + rw / 2)
                + "\" y=\"14\">" + escape(right) + "</text></g></svg>\n";
    }
}
