package io.sonde.server.alerts.internal;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import io.sonde.server.spi.AgentSelector;
import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

/**
 * A maintenance window: while it is open, the alerts it covers tell no one (they are evaluated and
 * shown, marked with the window's name, and sent when it closes if they still fire). It is open
 * once ({@code starts_at} to {@code ends_at}) or every week on some days from one time of day to
 * another in a time zone ({@code weekly}, {@code time_zone}: a window from 22:00 to 02:00 runs past
 * midnight; the zone's daylight saving is followed). It covers the alerts of the rules its
 * {@code rules} pattern takes (with {@code *}) about the targets its {@code targets} selector takes
 * (by their tags and name) and the agents its {@code agents} selector takes (by their tags and id);
 * with neither, every subject.
 *
 * @param name     its name
 * @param comment  why, for people
 * @param zone     the time zone of {@code weekly}
 * @param startsAt a one-off window's start, or null
 * @param endsAt   a one-off window's end, or null
 * @param weekly   the weekly openings (empty for a one-off window)
 * @param rules    the pattern of the rules' names it covers
 * @param targets  the targets it covers, or null
 * @param agents   the agents it covers, or null
 */
record Maintenance(String name, String comment, ZoneId zone, Instant startsAt, Instant endsAt, List<Weekly> weekly, String rules,
        AgentSelector targets, AgentSelector agents) {

    static final List<String> KEYS = List.of("name", "comment", "starts_at", "ends_at", "weekly", "time_zone", "rules", "targets", "agents");
    static final int MAX_NAME = 100;
    static final int MAX_WEEKLY = 14;

    /**
     * Every week on {@code days}, from {@code from} to {@code to} (the next day when {@code to} is not after {@code from}).
     *
     * @param days the days it opens
     * @param from the time of day it opens
     * @param to   the time of day it closes
     */
    record Weekly(Set<DayOfWeek> days, LocalTime from, LocalTime to) {
        JsonObject json() {
            JsonObject o = new JsonObject();
            JsonArray d = new JsonArray();
            for (DayOfWeek day : DayOfWeek.values()) {
                if (days.contains(day)) {
                    d.add(day.name().substring(0, 3).toLowerCase(Locale.ROOT));
                }
            }
            o.add("days", d);
            o.addProperty("from", from.toString());
            o.addProperty("to", to.toString());
            return o;
        }

        /** @return the opening that starts on {@code date}, or null when it does not open that day */
        Instant[] on(LocalDate date, ZoneId zone) {
            if (!days.contains(date.getDayOfWeek())) {
                return null;
            }
            ZonedDateTime open = ZonedDateTime.of(date, from, zone);
            ZonedDateTime close = ZonedDateTime.of(to.isAfter(from) ? date : date.plusDays(1), to, zone);
            return new Instant[] {open.toInstant(), close.toInstant()};
        }
    }

    /** @return the opening under way at {@code now}, else the next one (start, end), or null when there is none to come */
    Instant[] current(Instant now) {
        if (weekly.isEmpty()) {
            return now.isBefore(endsAt) ? new Instant[] {startsAt, endsAt} : null;
        }
        LocalDate today = now.atZone(zone).toLocalDate();
        Instant[] next = null;
        for (int d = -1; d <= 8; d++) { // yesterday's may still be open past midnight
            for (Weekly w : weekly) {
                Instant[] o = w.on(today.plusDays(d), zone);
                if (o == null || !o[1].isAfter(now)) {
                    continue;
                }
                if (!o[0].isAfter(now)) {
                    return o; // open now
                }
                if (next == null || o[0].isBefore(next[0])) {
                    next = o;
                }
            }
        }
        return next;
    }

    /** @return its openings that overlap [{@code from}, {@code to}), clipped to it, in start order */
    List<Instant[]> between(Instant from, Instant to) {
        List<Instant[]> out = new ArrayList<>();
        if (weekly.isEmpty()) {
            if (startsAt.isBefore(to) && endsAt.isAfter(from)) {
                out.add(new Instant[] {startsAt.isBefore(from) ? from : startsAt, endsAt.isAfter(to) ? to : endsAt});
            }
            return out;
        }
        LocalDate last = to.atZone(zone).toLocalDate();
        for (LocalDate d = from.atZone(zone).toLocalDate().minusDays(1); !d.isAfter(last); d = d.plusDays(1)) { // the day before: past midnight
            for (Weekly w : weekly) {
                Instant[] o = w.on(d, zone);
                if (o != null && o[0].isBefore(to) && o[1].isAfter(from)) {
                    out.add(new Instant[] {o[0].isBefore(from) ? from : o[0], o[1].isAfter(to) ? to : o[1]});
                }
            }
        }
        out.sort(java.util.Comparator.comparing(o -> o[0]));
        return out;
    }

    boolean openAt(Instant now) {
        Instant[] c = current(now);
        return c != null && !c[0].isAfter(now) && c[1].isAfter(now);
    }

    /**
     * @param target whether the subject is a target (else an agent)
     * @param tags   the subject's tags (a target definition's, an agent's); its name is matched as one more
     * @return whether the window covers an alert of that rule about that subject (open or not)
     */
    boolean covers(String rule, String subject, boolean target, Collection<String> tags) {
        return io.sonde.server.spi.Glob.matches(rules, rule) && coversSubject(subject, target, tags);
    }

    /** @return whether the window takes that target or agent, whatever the rule */
    boolean coversSubject(String subject, boolean target, Collection<String> tags) {
        if (targets == null && agents == null) {
            return true;
        }
        AgentSelector s = target ? targets : agents;
        if (s == null) {
            return false;
        }
        List<String> all = new ArrayList<>(tags);
        all.add(subject);
        return s.matches(all);
    }

    /**
     * Checks a window whole.
     *
     * @throws WireException naming the key at fault
     */
    static Maintenance parse(String name, JsonObject body, Instant now) throws WireException {
        if (name == null || name.isBlank() || name.length() > MAX_NAME || !name.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
            throw AlertRule.invalid("name: '" + WireCodec.abbreviate(String.valueOf(name))
                    + "' is not a window's name (1-100 letters, digits, '.', '_' and '-', a letter or digit first)");
        }
        JsonObject b = body.deepCopy();
        for (String k : List.of("active", "next_starts_at", "next_ends_at", "updated_at")) {
            b.remove(k); // as GET shows it: PUT back what was read
        }
        for (String key : b.keySet()) {
            if (!KEYS.contains(key)) {
                throw AlertRule.invalid(WireCodec.abbreviate(key) + ": not a key of a maintenance window (" + String.join(", ", KEYS) + ")");
            }
        }
        JsonElement n = b.remove("name");
        if (n != null && !n.isJsonNull() && !(n.isJsonPrimitive() && n.getAsString().equals(name))) {
            throw AlertRule.invalid("name: differs from the name in the path, '" + name + "'");
        }
        String comment = ChannelKeys.string(b, "comment", "", 1000);
        String zoneText = ChannelKeys.string(b, "time_zone", "UTC", 64);
        ZoneId zone;
        try {
            zone = ZoneId.of(zoneText);
        } catch (RuntimeException e) {
            throw AlertRule.invalid("time_zone: '" + WireCodec.abbreviate(zoneText) + "' is not a time zone (Europe/Berlin, UTC, America/New_York)");
        }
        boolean once = b.has("starts_at") || b.has("ends_at");
        boolean every = b.has("weekly") && !b.get("weekly").isJsonNull();
        if (once == every) {
            throw AlertRule.invalid(once ? "weekly: give starts_at and ends_at (once) or weekly, not both"
                    : "weekly: missing: starts_at and ends_at (once), or weekly ([{\"days\": [\"sat\"], \"from\": \"02:00\", \"to\": \"04:00\"}])");
        }
        Instant starts = null;
        Instant ends = null;
        List<Weekly> weekly = new ArrayList<>();
        if (once) {
            starts = instant(b, "starts_at");
            ends = instant(b, "ends_at");
            if (!ends.isAfter(starts)) {
                throw AlertRule.invalid("ends_at: " + ends + " is not after starts_at, " + starts);
            }
            if (ends.isAfter(now.plus(Duration.ofDays(3660)))) {
                throw AlertRule.invalid("ends_at: " + ends + " is more than ten years away");
            }
        } else {
            if (!b.get("weekly").isJsonArray() || b.getAsJsonArray("weekly").isEmpty() || b.getAsJsonArray("weekly").size() > MAX_WEEKLY) {
                throw AlertRule.invalid("weekly: not a list of 1 to " + MAX_WEEKLY + " openings ({\"days\": [\"mon\", ...], \"from\": \"HH:MM\", \"to\": \"HH:MM\"})");
            }
            JsonArray a = b.getAsJsonArray("weekly");
            for (int i = 0; i < a.size(); i++) {
                weekly.add(weekly("weekly[" + i + "]", a.get(i)));
            }
        }
        String rules = ChannelKeys.string(b, "rules", "*", 512);
        return new Maintenance(name, comment, zone, starts, ends, List.copyOf(weekly), rules, selector(b, "targets"), selector(b, "agents"));
    }

    private static Weekly weekly(String where, JsonElement e) throws WireException {
        if (!e.isJsonObject()) {
            throw AlertRule.invalid(where + ": not an opening ({\"days\": [\"sat\"], \"from\": \"02:00\", \"to\": \"04:00\"})");
        }
        JsonObject o = e.getAsJsonObject();
        for (String k : o.keySet()) {
            if (!List.of("days", "from", "to").contains(k)) {
                throw AlertRule.invalid(where + "." + WireCodec.abbreviate(k) + ": not a key of an opening (days, from, to)");
            }
        }
        JsonElement d = o.get("days");
        if (d == null || !d.isJsonArray() || d.getAsJsonArray().isEmpty()) {
            throw AlertRule.invalid(where + ".days: missing: a list of mon, tue, wed, thu, fri, sat, sun");
        }
        Set<DayOfWeek> days = EnumSet.noneOf(DayOfWeek.class);
        for (JsonElement x : d.getAsJsonArray()) {
            DayOfWeek day = day(x.isJsonPrimitive() ? x.getAsString() : "");
            if (day == null) {
                throw AlertRule.invalid(where + ".days: '" + WireCodec.abbreviate(x.isJsonPrimitive() ? x.getAsString() : x.toString())
                        + "' is not a day (mon, tue, wed, thu, fri, sat, sun)");
            }
            days.add(day);
        }
        LocalTime from = time(where + ".from", o.get("from"));
        LocalTime to = time(where + ".to", o.get("to"));
        if (from.equals(to)) {
            throw AlertRule.invalid(where + ".to: the same as from (" + from + "): a window of no time, or of a whole day (write 00:00 to 23:59)");
        }
        return new Weekly(days, from, to);
    }

    private static DayOfWeek day(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        for (DayOfWeek d : DayOfWeek.values()) {
            if (t.length() >= 3 && d.name().toLowerCase(Locale.ROOT).startsWith(t)) {
                return d;
            }
        }
        return null;
    }

    private static LocalTime time(String key, JsonElement e) throws WireException {
        if (e == null || !e.isJsonPrimitive() || !e.getAsString().matches("\\d{2}:\\d{2}")) {
            throw AlertRule.invalid(key + ": " + (e == null ? "missing:" : "'" + WireCodec.abbreviate(e.isJsonPrimitive() ? e.getAsString() : e.toString())
                    + "' is not") + " a time of day (HH:MM)");
        }
        try {
            return LocalTime.parse(e.getAsString());
        } catch (DateTimeParseException ex) {
            throw AlertRule.invalid(key + ": '" + e.getAsString() + "' is not a time of day (00:00 to 23:59)");
        }
    }

    private static Instant instant(JsonObject b, String key) throws WireException {
        String t = ChannelKeys.string(b, key, null, 64);
        try {
            return java.time.OffsetDateTime.parse(t).toInstant();
        } catch (DateTimeParseException e) {
            throw AlertRule.invalid(key + ": '" + WireCodec.abbreviate(t) + "' is not a time (RFC 3339: 2026-12-02T18:00:00Z)");
        }
    }

    private static AgentSelector selector(JsonObject b, String key) throws WireException {
        JsonElement e = b.get(key);
        if (e == null || e.isJsonNull()) {
            return null;
        }
        String t = ChannelKeys.string(b, key, null, 1000);
        try {
            return AgentSelector.parse(t);
        } catch (AgentSelector.ParseException ex) {
            throw AlertRule.invalid(key + ": " + ex.getMessage());
        }
    }

    /** @return the window as it is stored and shown */
    JsonObject json() {
        JsonObject o = new JsonObject();
        o.addProperty("name", name);
        o.addProperty("comment", comment);
        if (weekly.isEmpty()) {
            o.addProperty("starts_at", startsAt.toString());
            o.addProperty("ends_at", endsAt.toString());
        } else {
            JsonArray a = new JsonArray();
            weekly.forEach(w -> a.add(w.json()));
            o.add("weekly", a);
            o.addProperty("time_zone", zone.getId());
        }
        o.addProperty("rules", rules);
        if (targets != null) {
            o.addProperty("targets", targets.toString());
        }
        if (agents != null) {
            o.addProperty("agents", agents.toString());
        }
        return o;
    }

    /** @return {@link #json()} with whether it is open now and its current or next opening */
    JsonObject shown(Instant now) {
        JsonObject o = json();
        Instant[] c = current(now);
        o.addProperty("active", c != null && !c[0].isAfter(now));
        o.addProperty("next_starts_at", c == null ? null : c[0].toString());
        o.addProperty("next_ends_at", c == null ? null : c[1].toString());
        return o;
    }
}
