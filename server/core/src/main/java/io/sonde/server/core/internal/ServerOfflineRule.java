package io.sonde.server.core.internal;

import java.time.Duration;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;

import io.sonde.server.spi.OfflineRule;

/** The server's offline rule: {@code offline_after_s} of {@code etc/io.sonde.server.cfg}, at least a second. */
@Component(service = OfflineRule.class, configurationPid = ServerConfig.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL)
public final class ServerOfflineRule implements OfflineRule {

    private final Duration offlineAfter;

    @Activate
    public ServerOfflineRule(ServerConfig config) {
        this.offlineAfter = Duration.ofSeconds(Math.max(1, config.offline__after__s()));
    }

    @Override
    public Duration offlineAfter() {
        return offlineAfter;
    }
}
