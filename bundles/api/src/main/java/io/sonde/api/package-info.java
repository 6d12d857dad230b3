/**
 * The contract between the Sonde agent and its probe plugins.
 *
 * <p>A probe plugin registers a {@link io.sonde.api.Prober} service with the service property
 * {@value io.sonde.api.Prober#PROBE_TYPE}; the scheduler hands it {@link io.sonde.api.Target}s and
 * fans the {@link io.sonde.api.ProbeResult}s it completes out to every
 * {@link io.sonde.api.ResultSink}. Targets reach the scheduler through
 * {@link io.sonde.api.TargetListener}. Bundles that probe on request make their targets with
 * {@link io.sonde.api.TargetFactory}. The agent's own identity is the service
 * {@link io.sonde.api.AgentIdentity}. A prober declares its kind's own keys in a
 * {@link io.sonde.api.TargetSchema} (since 1.3), which the core checks every target against. The
 * server's document for the agent is the service {@link io.sonde.api.RemoteConfig}, the files its server serves
 * {@link io.sonde.api.ServerFiles} (both since 1.5); when the uplink last delivered,
 * {@link io.sonde.api.RemoteConfig#delivered()} (since 1.6).
 */
@Export
@Version("1.9.0")
package io.sonde.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
