/**
 * The agent's own service contract, between the platform's bundles; probe plugins do not need it
 * (they build against {@code io.sonde.api} alone).
 *
 * <p>The scheduler fans every result out to each {@link io.sonde.agent.spi.ResultSink} and hears of
 * targets through {@link io.sonde.agent.spi.TargetListener}; a program hands the core targets of its own
 * as a {@link io.sonde.agent.spi.TargetSource}; bundles that probe on request make
 * their targets with {@link io.sonde.agent.spi.TargetFactory}. The agent's identity is the service
 * {@link io.sonde.agent.spi.AgentIdentity}, the server's document for it
 * {@link io.sonde.agent.spi.RemoteConfig} and the files its server serves
 * {@link io.sonde.agent.spi.ServerFiles}; each bundle adds its section to the agent's status as a
 * {@link io.sonde.agent.spi.StatusReport}. The keys every target has whatever its kind — labels and
 * tags ({@link io.sonde.agent.spi.TargetKeys}), backoff ({@link io.sonde.agent.spi.Backoff}) and
 * health thresholds and states ({@link io.sonde.agent.spi.Health}) — are read by the agent and by the
 * server, which checks the definitions it hands out by the same rules.
 * {@link io.sonde.agent.spi.ConfigSource} and {@link io.sonde.agent.spi.ConfigCheck} name and check
 * configuration files.
 *
 * <p>Versioned on its own: these types moved here from {@code io.sonde.api} 1.9 unchanged but for
 * their package.
 */
@Export
@Version("1.4.0")
package io.sonde.agent.spi;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
