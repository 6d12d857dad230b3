package io.sonde.exporter.internal;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

import io.sonde.api.Target;

/**
 * A prometheus-blackbox-exporter configuration file ({@code --config.file}, the exporter's
 * {@code probe_config_file}) read into {@code /probe} modules: each module's {@code prober} is the
 * kind, {@code timeout} its timeout, and its section of that prober's name ({@code http:},
 * {@code dns:}) is read by the kind's plugin when the module is used
 * ({@link io.sonde.api.Prober#blackboxKeys}), so the plugin, not the exporter, knows its keys. Any
 * other key is refused, naming its path; the file's modules are taken all or none.
 */
final class BlackboxConfig {

    /** The largest file read: a configuration, not a data set. */
    static final long MAX_BYTES = 4L << 20;

    private static final Pattern DURATION_PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)");

    private BlackboxConfig() {
    }

    /**
     * @return the file's modules, in its order
     * @throws IllegalArgumentException naming the file and the path of what is wrong in it
     */
    static List<ProbeModule> read(Path file) {
        String text;
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw new IllegalArgumentException(file + ": larger than " + MAX_BYTES + " bytes");
            }
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot be read (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")");
        }
        Object doc;
        try {
            doc = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
        } catch (YAMLException e) {
            throw new IllegalArgumentException(file + ": not YAML: " + e.getMessage().replace('\n', ' '));
        }
        if (!(doc instanceof Map<?, ?> top)) {
            throw new IllegalArgumentException(file + ": a map with 'modules' at the top, not " + shown(doc));
        }
        for (Object k : top.keySet()) {
            if (!"modules".equals(k)) {
                throw new IllegalArgumentException(file + ": " + k + ": not a key of a blackbox configuration (modules)");
            }
        }
        Object modules = top.get("modules");
        if (!(modules instanceof Map<?, ?> all)) {
            throw new IllegalArgumentException(file + ": modules: a map of modules by name, not " + shown(modules));
        }
        List<ProbeModule> out = new ArrayList<>();
        for (Map.Entry<?, ?> e : all.entrySet()) {
            out.add(module(file, String.valueOf(e.getKey()), e.getValue()));
        }
        return List.copyOf(out);
    }

    @SuppressWarnings("unchecked")
    private static ProbeModule module(Path file, String name, Object body) {
        String at = file + ": modules." + name;
        if (name.isBlank() || name.length() > 200) {
            throw new IllegalArgumentException(at + ": a module's name is 1 to 200 characters");
        }
        if (!(body instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException(at + ": a map (prober, timeout and the prober's section), not " + shown(body));
        }
        Object prober = m.get("prober");
        if (!(prober instanceof String p) || p.isBlank()) {
            throw new IllegalArgumentException(at + ".prober: missing; the kind of probe, e.g. http, tcp, icmp, dns");
        }
        String kind = Target.canonicalKind(p.strip());
        long timeoutMs = 0;
        Map<String, ?> section = Map.of();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            String key = String.valueOf(e.getKey());
            switch (key) {
                case "prober" -> { }
                case "timeout" -> timeoutMs = duration(at + ".timeout", e.getValue());
                default -> {
                    if (!key.equals(p.strip())) {
                        throw new IllegalArgumentException(at + "." + key + ": not taken in a module whose prober is " + p.strip()
                                + " (prober, timeout, " + p.strip() + ")");
                    }
                    if (e.getValue() != null && !(e.getValue() instanceof Map<?, ?>)) {
                        throw new IllegalArgumentException(at + "." + key + ": a map of the prober's settings, not " + shown(e.getValue()));
                    }
                    if (e.getValue() != null) {
                        for (Object k : ((Map<?, ?>) e.getValue()).keySet()) {
                            if (!(k instanceof String)) {
                                throw new IllegalArgumentException(at + "." + key + ": key " + k + " is not text");
                            }
                        }
                        section = (Map<String, ?>) e.getValue();
                    }
                }
            }
        }
        return new ProbeModule(name, kind, timeoutMs, section, file + ": modules." + name, p.strip());
    }

    /** A Go duration ({@code 5s}, {@code 1m30s}, {@code 1.5s}, {@code 250ms}) in milliseconds, at least 1. */
    static long duration(String at, Object value) {
        String s = String.valueOf(value).strip();
        Matcher m = DURATION_PART.matcher(s);
        BigDecimal ms = BigDecimal.ZERO;
        int end = 0;
        while (m.find() && m.start() == end) {
            BigDecimal n = new BigDecimal(m.group(1));
            ms = ms.add(switch (m.group(2)) {
                case "ns" -> n.movePointLeft(6);
                case "us", "µs" -> n.movePointLeft(3);
                case "ms" -> n;
                case "s" -> n.movePointRight(3);
                case "m" -> n.multiply(BigDecimal.valueOf(60_000));
                default -> n.multiply(BigDecimal.valueOf(3_600_000));
            });
            end = m.end();
        }
        if (s.isEmpty() || end != s.length()) {
            throw new IllegalArgumentException(at + ": '" + s + "' is not a duration (5s, 1m30s, 250ms)");
        }
        if (ms.compareTo(BigDecimal.ONE) < 0 || ms.compareTo(BigDecimal.valueOf(3_600_000)) > 0) {
            throw new IllegalArgumentException(at + ": '" + s + "' is not from 1 ms to 1 h");
        }
        return ms.longValue();
    }

    private static String shown(Object v) {
        String s = String.valueOf(v);
        return "'" + (s.length() <= 60 ? s : s.substring(0, 60) + "...") + "'";
    }
}
