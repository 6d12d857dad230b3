package io.sonde.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A section of a blackbox_exporter module as YAML reads it, for {@link Prober#blackboxKeys}: typed
 * reads that refuse a value of the wrong shape by its path ({@code tls_config.min_version: ...}),
 * and blackbox_exporter's address-family keys read the way it reads them.
 *
 * @since 2.1
 */
public final class ModuleSection {

    private final Map<String, ?> values;
    private final String path;

    private ModuleSection(Map<String, ?> values, String path) {
        this.values = values;
        this.path = path;
    }

    /** @return the section, its paths relative to it */
    public static ModuleSection of(Map<String, ?> section) {
        return new ModuleSection(section == null ? Map.of() : section, "");
    }

    /** @return the keys the section has, in its order */
    public Set<String> keys() {
        return values.keySet();
    }

    /** @return the path of {@code key} within the whole section, for messages */
    public String path(String key) {
        return path + key;
    }

    /** @return an exception for {@code key}, its message {@code path: why} */
    public IllegalArgumentException refuse(String key, String why) {
        return new IllegalArgumentException(path(key) + ": " + why);
    }

    /**
     * Refuses the first key not in {@code taken}.
     *
     * @param what the keys' owner for the message, e.g. {@code "tls_config"}
     */
    public void only(String what, Set<String> taken) {
        for (String k : values.keySet()) {
            if (!taken.contains(k)) {
                throw refuse(k, "not a key of " + what + " that Sonde takes (" + String.join(", ", new java.util.TreeSet<>(taken)) + ")");
            }
        }
    }

    /** @return whether the section has {@code key} with a value (YAML's null is none) */
    public boolean has(String key) {
        return values.get(key) != null;
    }

    /** @return the text of a scalar {@code key}, or null when absent */
    public String text(String key) {
        Object v = values.get(key);
        if (v == null) {
            return null;
        }
        if (v instanceof Map || v instanceof List) {
            throw refuse(key, "a value, not " + shown(v));
        }
        return v.toString();
    }

    /** @return {@code key} as true or false, {@code otherwise} when absent */
    public boolean bool(String key, boolean otherwise) {
        Object v = values.get(key);
        if (v == null) {
            return otherwise;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        String s = text(key);
        if (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(s);
        }
        throw refuse(key, shown(v) + " is neither true nor false");
    }

    /** @return {@code key} as a whole number, {@code otherwise} when absent */
    public long number(String key, long otherwise) {
        Object v = values.get(key);
        if (v == null) {
            return otherwise;
        }
        try {
            return Long.parseLong(text(key).strip());
        } catch (NumberFormatException e) {
            throw refuse(key, shown(v) + " is not a whole number");
        }
    }

    /** @return the texts of a list {@code key}, each a scalar; empty when absent */
    public List<String> texts(String key) {
        List<String> out = new ArrayList<>();
        List<?> list = list(key);
        for (int i = 0; i < list.size(); i++) {
            Object v = list.get(i);
            if (v == null || v instanceof Map || v instanceof List) {
                throw refuse(key + "[" + i + "]", "a value, not " + shown(v));
            }
            out.add(v.toString());
        }
        return out;
    }

    /** @return the map {@code key} as a section of its own, paths under {@code key.}; empty when absent */
    public ModuleSection section(String key) {
        Object v = values.get(key);
        return v == null ? new ModuleSection(Map.of(), path(key) + ".") : new ModuleSection(map(path(key), v), path(key) + ".");
    }

    /** @return the maps of a list {@code key}, each a section of its own ({@code key[0].}); empty when absent */
    public List<ModuleSection> sections(String key) {
        List<ModuleSection> out = new ArrayList<>();
        List<?> list = list(key);
        for (int i = 0; i < list.size(); i++) {
            String at = path(key) + "[" + i + "]";
            out.add(new ModuleSection(map(at, list.get(i)), at + "."));
        }
        return out;
    }

    /**
     * blackbox_exporter's {@code preferred_ip_protocol} ({@code ip4} or {@code ip6}) and
     * {@code ip_protocol_fallback} (default true): with the fallback on, either family will do, as
     * Sonde's default does.
     *
     * @return the target's {@value Target#IP_VERSION}: 4 or 6, or 0 for either
     */
    public int ipVersion() {
        String p = text("preferred_ip_protocol");
        if (p == null) {
            return 0;
        }
        if (!p.equals("ip4") && !p.equals("ip6")) {
            throw refuse("preferred_ip_protocol", "'" + p + "' is neither ip4 nor ip6");
        }
        return bool("ip_protocol_fallback", true) ? 0 : p.equals("ip4") ? 4 : 6;
    }

    private List<?> list(String key) {
        Object v = values.get(key);
        if (v == null) {
            return List.of();
        }
        if (v instanceof List<?> l) {
            return l;
        }
        throw refuse(key, "a list, not " + shown(v));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, ?> map(String at, Object v) {
        if (v instanceof Map<?, ?> m) {
            for (Object k : m.keySet()) {
                if (!(k instanceof String)) {
                    throw new IllegalArgumentException(at + ": key " + shown(k) + " is not text");
                }
            }
            return (Map<String, ?>) m;
        }
        throw new IllegalArgumentException(at + ": a map, not " + shown(v));
    }

    private static String shown(Object v) {
        String s = String.valueOf(v);
        return "'" + (s.length() <= 60 ? s : s.substring(0, 60) + "...") + "'";
    }
}
