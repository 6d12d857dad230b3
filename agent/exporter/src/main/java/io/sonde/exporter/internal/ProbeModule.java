package io.sonde.exporter.internal;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.Designate;

import io.sonde.agent.spi.ConfigSource;
import io.sonde.api.Target;

/**
 * One module of {@code /probe}, from one factory configuration; the endpoint checks it when used,
 * through the core's {@link io.sonde.agent.spi.TargetFactory}, by the rules of a configured target: the
 * kind's aliases, its keys and the framework's keys are the core's to know.
 */
@Component(service = ProbeModule.class, configurationPid = ProbeModuleConfig.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = ProbeModuleConfig.class, factory = true)
public final class ProbeModule {

    /** Keys of the configuration that are the module's, not the kind's. */
    private static final Set<String> OWN_KEYS = Set.of("name", "prober", "kind", "timeout_ms");

    private final String name;
    private final String kind;
    private final long timeoutMs;
    private final Map<String, String> options;
    private final String source;
    private final String problem;
    /** A blackbox_exporter module's section for its prober, read by the kind's plugin when used; null for a configuration's module. */
    private final Map<String, ?> section;
    private final String sectionName;

    @Activate
    public ProbeModule(ProbeModuleConfig config, Map<String, Object> properties) {
        source = ConfigSource.of(properties, "configuration " + properties.getOrDefault(Constants.SERVICE_PID, ProbeModuleConfig.PID));
        String n = config.name() == null || config.name().isBlank() ? ConfigSource.nameFromFile(source, ProbeModuleConfig.PID)
                : config.name().strip();
        name = n == null ? "" : n;
        Object k = config.prober();
        if (k == null || k.toString().isBlank()) {
            k = properties.get("kind");
        }
        kind = k == null || k.toString().isBlank() ? "" : Target.canonicalKind(k.toString());
        StringBuilder problems = new StringBuilder();
        long ms = ConfigSource.typed(config::timeout__ms, "timeout_ms", 0L, source, p -> problems.append(p));
        if (ms < 0) {
            problems.append(source).append(": key 'timeout_ms': ").append(ms).append(" is not a number of milliseconds (1 or more)");
            ms = 0;
        }
        timeoutMs = ms;
        problem = problems.length() == 0 ? null : problems.toString();
        Map<String, String> o = new LinkedHashMap<>();
        properties.forEach((key, value) -> {
            if (!OWN_KEYS.contains(key) && !ConfigSource.isFrameworkKey(key) && value != null) {
                o.put(key, value.toString().strip());
            }
        });
        options = Map.copyOf(o);
        section = null;
        sectionName = null;
    }

    /** A module of a blackbox_exporter configuration file: its prober's section, read by the kind's plugin when used. */
    ProbeModule(String name, String kind, long timeoutMs, Map<String, ?> section, String source, String sectionName) {
        this.name = name;
        this.kind = kind;
        this.timeoutMs = timeoutMs;
        this.options = Map.of();
        this.source = source;
        this.problem = null;
        this.section = section;
        this.sectionName = sectionName;
    }

    /** Used in tests. */
    ProbeModule(String name, String kind, long timeoutMs, Map<String, String> options, String source) {
        this.name = name;
        this.kind = kind;
        this.timeoutMs = timeoutMs;
        this.options = Map.copyOf(options);
        this.source = source;
        this.problem = null;
        this.section = null;
        this.sectionName = null;
    }

    String name() {
        return name;
    }

    /** The probe type, aliases resolved; empty if the configuration names none. */
    String kind() {
        return kind;
    }

    /** {@code timeout_ms}, 0 if not set. */
    long timeoutMs() {
        return timeoutMs;
    }

    /** The kind's keys: everything but name, prober, timeout_ms and the framework's; empty for a blackbox module. */
    Map<String, String> options() {
        return options;
    }

    /**
     * @return the kind's keys of this module: a configuration's as written, a blackbox module's as
     *         the kind's plugin reads its section
     * @throws IllegalArgumentException naming the file and the path of a key the plugin refuses
     */
    Map<String, String> options(io.sonde.api.Prober prober) {
        if (section == null) {
            return options;
        }
        try {
            return prober.blackboxKeys(section);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + "." + sectionName + "." + e.getMessage(), e);
        } catch (RuntimeException e) { // a plugin's fault, said as such
            throw new IllegalArgumentException(source + "." + sectionName + ": the " + kind + " plugin failed to read it: " + e, e);
        }
    }

    /** @return whether the module comes from a blackbox_exporter configuration file */
    boolean fromBlackboxFile() {
        return section != null;
    }

    /** The file the module comes from, or its PID. */
    String source() {
        return source;
    }

    /** What is wrong with the module's own keys, or {@code null}. */
    String problem() {
        return problem;
    }
}
