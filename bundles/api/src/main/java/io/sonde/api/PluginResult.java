package io.sonde.api;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * The result of a third-party probe type.
 *
 * @param pluginName    the plugin's name, for example its bundle symbolic name
 * @param pluginVersion the plugin's version
 * @param data          further measurements of the plugin's own, by name
 */
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
}
