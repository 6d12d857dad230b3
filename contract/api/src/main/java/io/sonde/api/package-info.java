/**
 * The probe contract: what a probe plugin builds against, and nothing else.
 *
 * <p>A probe plugin registers a {@link io.sonde.api.Prober} service with the service property
 * {@value io.sonde.api.Prober#PROBE_TYPE}. The agent hands it {@link io.sonde.api.Target}s checked
 * against the options its kind declares ({@link io.sonde.api.TargetSchema},
 * {@link io.sonde.api.TargetOption}, {@link io.sonde.api.HostForm}); the prober completes a
 * {@link io.sonde.api.ProbeResult} for each probe, usually a {@link io.sonde.api.MeasuredResult}
 * whose values its {@link io.sonde.api.ResultSchema} describes (names, types, units, roles, and
 * the Prometheus families wanted). Everything downstream — the exporter, the uplink, the server,
 * the dashboard, alerts and the CLI — works from those two schemas alone.
 *
 * <p>2.0 is the contract split out of the 1.x package: the agent's own services moved to
 * {@code io.sonde.agent.spi}, the built-in kinds' result records into their plugins,
 * {@code HostForm.pick} and {@code isAddress} to the sockets bundle's {@code Resolver}, and the
 * deprecated {@code PluginResult} is gone. Migration: docs/plugins.md.
 */
@Export
@Version("2.3.0")
package io.sonde.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
