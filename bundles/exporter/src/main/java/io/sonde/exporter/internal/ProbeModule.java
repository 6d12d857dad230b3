package io.sonde.exporter.internal;

import java.net.URI;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.Designate;

/** One module of {@code /probe}, from one factory configuration; the endpoint checks it when used. */
@Component(service = ProbeModule.class, configurationPid = ProbeModuleConfig.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = ProbeModuleConfig.class, factory = true)
public final class ProbeModule {

    /** Keys of the configuration that are not the kind's own. */
    /** The Latency Probe's names, accepted for targets too. */
    private static final Map<String, String> KIND_ALIASES = Map.of("tcpconnect", "tcp", "echo", "udp");
    private static final Set<String> OWN_KEYS = Set.of("name", "prober", "kind", "timeout_ms");

    private final String name;
    private final String kind;
    private final String timeoutMs;
    private final Map<String, String> options;
    private final String source;

    @Activate
    public ProbeModule(ProbeModuleConfig config, Map<String, Object> properties) {
        source = sourceOf(properties);
        name = config.name() != null && !config.name().isBlank() ? config.name().strip() : nameFromFile(properties);
        Object k = config.prober();
        if (k == null || k.toString().isBlank()) {
            k = properties.get("kind");
        }
        String kindText = k == null ? "" : k.toString().strip().toLowerCase(java.util.Locale.ROOT);
        kind = KIND_ALIASES.getOrDefault(kindText, kindText);
        timeoutMs = config.timeout__ms() == null ? "" : config.timeout__ms().strip();
        Map<String, String> o = new LinkedHashMap<>();
        properties.forEach((key, value) -> {
            if (!OWN_KEYS.contains(key) && !isFrameworkKey(key) && value != null) {
                o.put(key, value.toString().strip());
            }
        });
        options = Map.copyOf(o);
    }

    /** Used in tests. */
    ProbeModule(String name, String kind, String timeoutMs, Map<String, String> options, String source) {
        this.name = name;
        this.kind = kind;
        this.timeoutMs = timeoutMs;
        this.options = Map.copyOf(options);
        this.source = source;
    }

    String name() {
        return name;
    }

    /** The probe type, lower case; empty if the configuration names none. */
    String kind() {
        return kind;
    }

    /** {@code timeout_ms} as written, empty if absent. */
    String timeoutMs() {
        return timeoutMs;
    }

    /** The kind's own keys: everything but name, prober, timeout_ms and the framework's. */
    Map<String, String> options() {
        return options;
    }

    /** The file the module comes from, or its PID. */
    String source() {
        return source;
    }

    private static boolean isFrameworkKey(String key) {
        return key.startsWith("service.") || key.startsWith("component.") || key.startsWith("felix.") || key.startsWith("osgi.")
                || key.equals(Constants.OBJECTCLASS) || key.equals("objectClass");
    }

    private static String nameFromFile(Map<String, Object> properties) {
        Object file = properties.get("felix.fileinstall.filename");
        if (file == null) {
            return "";
        }
        String f = file.toString();
        f = f.substring(f.lastIndexOf('/') + 1);
        String prefix = ProbeModuleConfig.PID + "-";
        if (f.startsWith(prefix) && f.endsWith(".cfg")) {
            return f.substring(prefix.length(), f.length() - ".cfg".length());
        }
        return "";
    }

    private static String sourceOf(Map<String, Object> properties) {
        Object file = properties.get("felix.fileinstall.filename");
        if (file == null) {
            return "configuration " + properties.getOrDefault(Constants.SERVICE_PID, ProbeModuleConfig.PID);
        }
        try {
            return Path.of(URI.create(file.toString())).toString();
        } catch (IllegalArgumentException e) {
            return file.toString();
        }
    }
}
