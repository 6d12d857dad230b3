package io.sonde.agent.spi;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;

/**
 * One check of a configuration file ({@code etc/<pid>.cfg}) against the keys its components
 * declare (their OSGi MetaType, generated from their {@code @ObjectClassDefinition}s): used by
 * the running agent and server for every file they are given, and by {@code sonde-cli validate},
 * so that the two never disagree. An unknown key is named with the closest known one; a value is
 * checked against its key's type, bounds and options.
 *
 * @since 1.8
 */
public final class ConfigCheck {

    /** A declared key: its type (String, Long, Integer, Double, Boolean ...), bounds and options. */
    public record Key(String id, String type, String min, String max, List<String> options) {
        /** Takes an immutable copy of the options; none when absent. */
        public Key {
            options = options == null ? List.of() : List.copyOf(options);
        }
    }

    /** PIDs whose files hold keys of their own beyond the declared ones (a target's kind's keys, a module's prober's). */
    public static final Set<String> OPEN_PIDS = Set.of("io.sonde.target", "io.sonde.probe.module");

    private ConfigCheck() {
    }

    /**
     * Reads one MetaType document, adding the keys of each PID (and factory PID) it designates to
     * {@code byPid}; several components that read one PID have their keys together.
     *
     * @throws IOException when it is not a MetaType document
     */
    public static void read(InputStream in, Map<String, Map<String, Key>> byPid) throws IOException {
        Document doc;
        try {
            DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
            dbf.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            dbf.setExpandEntityReferences(false);
            doc = dbf.newDocumentBuilder().parse(in);
        } catch (SAXException | ParserConfigurationException e) {
            throw new IOException("not a MetaType document: " + e.getMessage(), e);
        }
        Map<String, Map<String, Key>> ocds = new HashMap<>();
        NodeList ocdNodes = doc.getElementsByTagName("OCD");
        for (int i = 0; i < ocdNodes.getLength(); i++) {
            Element ocd = (Element) ocdNodes.item(i);
            Map<String, Key> keys = new LinkedHashMap<>();
            NodeList ads = ocd.getElementsByTagName("AD");
            for (int j = 0; j < ads.getLength(); j++) {
                Element ad = (Element) ads.item(j);
                List<String> options = new ArrayList<>();
                NodeList opts = ad.getElementsByTagName("Option");
                for (int k = 0; k < opts.getLength(); k++) {
                    options.add(((Element) opts.item(k)).getAttribute("value"));
                }
                keys.put(ad.getAttribute("id"), new Key(ad.getAttribute("id"), ad.getAttribute("type"),
                        ad.getAttribute("min"), ad.getAttribute("max"), options));
            }
            ocds.put(ocd.getAttribute("id"), keys);
        }
        NodeList designates = doc.getElementsByTagName("Designate");
        for (int i = 0; i < designates.getLength(); i++) {
            Element d = (Element) designates.item(i);
            String pid = d.getAttribute("factoryPid").isEmpty() ? d.getAttribute("pid") : d.getAttribute("factoryPid");
            NodeList objects = d.getElementsByTagName("Object");
            for (int k = 0; k < objects.getLength(); k++) {
                Map<String, Key> keys = ocds.get(((Element) objects.item(k)).getAttribute("ocdref"));
                if (keys != null && !pid.isEmpty()) {
                    byPid.computeIfAbsent(pid, p -> new LinkedHashMap<>()).putAll(keys);
                }
            }
        }
    }

    /**
     * @param pid   the PID (or factory PID) the file configures
     * @param props the file's keys and values, as text
     * @param keys  the keys declared for the PID
     * @return what is wrong, one sentence each ({@code key 'tag': unknown to io.sonde.agent; did
     *         you mean 'tags'?}), in the keys' order; the framework's own keys are not judged
     */
    public static List<String> problems(String pid, Map<String, String> props, Map<String, Key> keys) {
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, String> e : new TreeMap<>(props).entrySet()) {
            String key = e.getKey();
            if (ConfigSource.isFrameworkKey(key) || key.startsWith(":")) {
                continue; // FileInstall's, ConfigAdmin's and the framework's own
            }
            Key declared = keys.get(key);
            if (declared == null) {
                if (!OPEN_PIDS.contains(pid)) {
                    String hint = io.sonde.api.TargetSchema.closest(key, keys.keySet());
                    problems.add("key '" + key + "': unknown to " + pid + (hint == null ? "" : "; did you mean '" + hint + "'?"));
                }
                continue;
            }
            String reason = e.getValue() == null ? null : check(declared, e.getValue());
            if (reason != null) {
                problems.add("key '" + key + "': " + reason);
            }
        }
        return problems;
    }

    /**
     * Checks one value against its declared key.
     *
     * @return the reason it is wrong, or {@code null}
     */
    public static String check(Key key, String value) {
        String v = value.strip();
        try {
            switch (key.type()) {
                case "Long", "Integer", "Short", "Byte" -> {
                    long n = Long.parseLong(v);
                    if (!key.min().isEmpty() && n < Long.parseLong(key.min())) {
                        return "'" + v + "' is below the least value, " + key.min();
                    }
                    if (!key.max().isEmpty() && n > Long.parseLong(key.max())) {
                        return "'" + v + "' is above the greatest value, " + key.max();
                    }
                }
                case "Double", "Float" -> {
                    double n = Double.parseDouble(v);
                    if (!key.min().isEmpty() && n < Double.parseDouble(key.min())) {
                        return "'" + v + "' is below the least value, " + key.min();
                    }
                    if (!key.max().isEmpty() && n > Double.parseDouble(key.max())) {
                        return "'" + v + "' is above the greatest value, " + key.max();
                    }
                }
                case "Boolean" -> {
                    if (!v.equalsIgnoreCase("true") && !v.equalsIgnoreCase("false")) {
                        return "'" + v + "' is not true or false";
                    }
                }
                default -> {
                    // a string
                }
            }
        } catch (NumberFormatException e) {
            return "'" + v + "' is not a " + (key.type().equals("Double") || key.type().equals("Float") ? "number" : "whole number");
        }
        if (!key.options().isEmpty() && !key.options().contains(v)) {
            return "'" + v + "' is not one of " + String.join(", ", key.options());
        }
        return null;
    }
}
