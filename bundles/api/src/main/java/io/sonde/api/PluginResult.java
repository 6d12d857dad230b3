package io.sonde.api;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * The result of a third-party probe type, from before kinds described their results.
 * @deprecated since 1.9: a prober returns a {@link MeasuredResult} with its {@link ResultSchema},
 *             whose values the exporter, the server and the dashboard show; the data of this one
 *             reach the server but no metric family
 *
 * @param pluginName    the plugin's name, for example its bundle symbolic name
 * @param pluginVersion the plugin's version
 * @param data          further measurements of the plugin's own, by name
 */
@Deprecated
public record PluginResult(
        Target target,
        Instant startedAt,
        Duration responseTime,
        FailureReason failureReason,
        String errorMessage,
        String pluginName,
        String pluginVersion,
        Map<String, Object> data) implements ProbeResult {

    /** Takes an immutable copy of the data. */
    public PluginResult {
        data = data == null ? Map.of() : Map.copyOf(data);
    }

    /** @return the plugin, its version and its data, as the uplink has always sent them */
    @Override
    public Map<String, Object> values() {
        Map<String, Object> v = new java.util.LinkedHashMap<>();
        if (pluginName != null) {
            v.put("plugin", pluginName);
        }
        if (pluginVersion != null) {
            v.put("plugin_version", pluginVersion);
        }
        v.put("data", data);
        return v;
    }
}
