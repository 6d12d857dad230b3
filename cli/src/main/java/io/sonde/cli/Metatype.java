package io.sonde.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;

/**
 * The configuration keys the agent's components declare (their OSGi MetaType, generated from
 * their {@code @ObjectClassDefinition}s), read from the bundles' jars: what {@code validate} checks
 * a {@code .cfg} file against.
 *
 * @param byPid the declared keys of each PID and factory PID
 */
record Metatype(Map<String, Map<String, Key>> byPid) {

    /** A declared key: its type (String, Long, Integer, Double, Boolean ...), bounds and options. */
    record Key(String id, String type, String min, String max, List<String> options) {
    }

    /** Reads the metatype of every jar in the given directories. */
    static Metatype of(Path... dirs) throws IOException {
        Map<String, Map<String, Key>> byPid = new HashMap<>();
        for (Path dir : dirs) {
            if (!Files.isDirectory(dir)) {
                continue;
            }
            List<Path> jars;
            try (var s = Files.list(dir)) {
                jars = s.filter(p -> p.toString().endsWith(".jar")).sorted().toList();
            }
            for (Path jar : jars) {
                try (JarFile f = new JarFile(jar.toFile())) {
                    for (JarEntry e : java.util.Collections.list(f.entries())) {
                        if (e.getName().startsWith("OSGI-INF/metatype/") && e.getName().endsWith(".xml")) {
                            try (InputStream in = f.getInputStream(e)) {
                                read(in, byPid);
                            }
                        }
                    }
                } catch (IOException | SAXException | ParserConfigurationException e) {
                    // not a jar, or no metatype of ours: nothing declared there
                }
            }
        }
        return new Metatype(byPid);
    }

    private static void read(InputStream in, Map<String, Map<String, Key>> byPid)
            throws IOException, SAXException, ParserConfigurationException {
        DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
        dbf.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Document doc = dbf.newDocumentBuilder().parse(in);
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
                        ad.getAttribute("min"), ad.getAttribute("max"), List.copyOf(options)));
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
                if (keys != null && !pid.isEmpty()) { // several components may read one PID: their keys together
                    byPid.computeIfAbsent(pid, p -> new LinkedHashMap<>()).putAll(keys);
                }
            }
        }
    }

    /**
     * Checks one value against its declared key.
     *
     * @return the reason it is wrong, or {@code null}
     */
    static String check(Key key, String value) {
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
