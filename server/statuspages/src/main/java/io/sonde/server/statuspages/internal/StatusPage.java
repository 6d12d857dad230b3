package io.sonde.server.statuspages.internal;

import java.util.ArrayList;
import java.util.List;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

import io.sonde.server.spi.AgentSelector;
import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

/**
 * A public status page as an admin defines it: a title, groups of targets chosen by a selector
 * over the targets' tags and names, an optional notice. It shows what it selects and nothing else:
 * no agent's name or address, no error text.
 *
 * @param name        its name, the last part of its path: /status/{name}
 * @param title       its heading
 * @param description a line under the heading, or ""
 * @param notice      what the admin says now (an incident's word, planned work), or ""
 * @param groups      its groups, in the order shown
 */
record StatusPage(String name, String title, String description, String notice, List<Group> groups) {

    /** Its keys; "path" is what GET shows beside them, taken back and left. */
    static final List<String> KEYS = List.of("name", "title", "description", "notice", "groups", "path");
    static final int MAX_GROUPS = 20;

    /**
     * A group of targets.
     *
     * @param name    its heading
     * @param targets which targets: a selector over their tags and names ({@code web OR shop})
     * @param byLabel a label name: the group is shown as one group per value of that label among
     *                its targets; or null
     */
    record Group(String name, AgentSelector targets, String byLabel) {
    }

    /** Reads and checks a page as PUT: each error names its key. */
    static StatusPage parse(String name, JsonObject body) throws WireException {
        if (name == null || name.length() > 64 || !name.matches("[a-z0-9][a-z0-9-]*")) {
            throw invalid("name: '" + WireCodec.abbreviate(String.valueOf(name))
                    + "' is not a page's name (1-64 lower-case letters, digits and '-', a letter or digit first: it is the page's path)");
        }
        for (String key : body.keySet()) {
            if (!KEYS.contains(key)) {
                throw invalid(WireCodec.abbreviate(key) + ": not a key of a status page (" + String.join(", ", KEYS) + ")");
            }
        }
        JsonElement n = body.get("name");
        if (n != null && !n.isJsonNull() && !(n.isJsonPrimitive() && n.getAsString().equals(name))) {
            throw invalid("name: differs from the name in the path, '" + name + "'");
        }
        String title = text(body, "title", null, 200, "title");
        String description = text(body, "description", "", 1000, "description");
        String notice = text(body, "notice", "", 2000, "notice");
        JsonElement g = body.get("groups");
        if (g == null || !g.isJsonArray() || g.getAsJsonArray().isEmpty()) {
            throw invalid("groups: a list of groups is needed ([{\"name\": \"Shop\", \"targets\": \"shop OR web\"}])");
        }
        if (g.getAsJsonArray().size() > MAX_GROUPS) {
            throw invalid("groups: " + g.getAsJsonArray().size() + " groups, at most " + MAX_GROUPS);
        }
        List<Group> groups = new ArrayList<>();
        int i = 0;
        for (JsonElement e : g.getAsJsonArray()) {
            String at = "groups[" + i++ + "]";
            if (!e.isJsonObject()) {
                throw invalid(at + ": an object is needed ({\"name\": ..., \"targets\": ...})");
            }
            JsonObject o = e.getAsJsonObject();
            for (String key : o.keySet()) {
                if (!key.equals("name") && !key.equals("targets") && !key.equals("by_label")) {
                    throw invalid(at + "." + WireCodec.abbreviate(key) + ": not a key of a group (name, targets, by_label)");
                }
            }
            String groupName = text(o, "name", null, 200, at + ".name");
            String selector = text(o, "targets", null, AgentSelector.MAX_LENGTH, at + ".targets");
            String byLabel = text(o, "by_label", "", 64, at + ".by_label");
            String problem = byLabel.isEmpty() ? null : io.sonde.agent.spi.TargetKeys.labelNameProblem(byLabel);
            if (problem != null) {
                throw invalid(at + ".by_label: " + problem);
            }
            try {
                groups.add(new Group(groupName, AgentSelector.parse(selector), byLabel.isEmpty() ? null : byLabel));
            } catch (AgentSelector.ParseException x) {
                throw invalid(at + ".targets: " + x.getMessage());
            }
        }
        return new StatusPage(name, title, description, notice, List.copyOf(groups));
    }

    private static String text(JsonObject body, String key, String fallback, int max, String at) throws WireException {
        JsonElement e = body.get(key);
        if (e == null || e.isJsonNull()) {
            if (fallback == null) {
                throw invalid(at + ": missing");
            }
            return fallback;
        }
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw invalid(at + ": a string is needed, not " + WireCodec.abbreviate(e.toString()));
        }
        String s = e.getAsString().strip();
        if (s.length() > max) {
            throw invalid(at + ": longer than " + max + " characters");
        }
        if (s.isEmpty() && fallback == null) {
            throw invalid(at + ": empty");
        }
        for (char c : s.toCharArray()) {
            if (Character.isISOControl(c) && c != '\n') {
                throw invalid(at + ": holds a control character");
            }
        }
        return s;
    }

    static WireException invalid(String message) {
        return new WireException(WireException.Problem.INVALID, message);
    }

    /** @return whether a group takes the target: its name is matched as one more of its tags */
    static boolean takes(Group g, String target, List<String> tags) {
        List<String> all = new ArrayList<>(tags);
        all.add(target);
        return g.targets().matches(all);
    }

    /** @return it as stored and shown to admins */
    JsonObject json() {
        JsonObject o = new JsonObject();
        o.addProperty("name", name);
        o.addProperty("title", title);
        o.addProperty("description", description);
        o.addProperty("notice", notice);
        JsonArray gs = new JsonArray();
        for (Group g : groups) {
            JsonObject x = new JsonObject();
            x.addProperty("name", g.name());
            x.addProperty("targets", g.targets().toString());
            if (g.byLabel() != null) {
                x.addProperty("by_label", g.byLabel());
            }
            gs.add(x);
        }
        o.add("groups", gs);
        o.addProperty("path", "/status/" + name);
        return o;
    }
}
