/**
 * The Sonde server's service contracts between its bundles: the {@link io.sonde.server.spi.Store}
 * (H2, PostgreSQL), {@link io.sonde.server.spi.ResultIngest}, the authenticated
 * {@link io.sonde.server.spi.Principal} of a request, {@link io.sonde.server.spi.Api}, the one
 * way every servlet answers, {@link io.sonde.server.spi.AgentSelector}, the one grammar that
 * selects agents by their tags, {@link io.sonde.server.spi.AgentConfigs}, the agents'
 * configuration documents, and {@link io.sonde.server.spi.OfflineRule}, when an agent counts as offline.
 */
@Export
@Version("1.20.0")
package io.sonde.server.spi;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
