/**
 * The Sonde server's service contracts between its bundles: the {@link io.sonde.server.spi.Store}
 * (H2, PostgreSQL), {@link io.sonde.server.spi.ResultIngest}, the authenticated
 * {@link io.sonde.server.spi.Principal} of a request, {@link io.sonde.server.spi.Api}, the one
 * way every servlet answers, and {@link io.sonde.server.spi.AgentSelector}, the one grammar that
 * selects agents by their tags.
 */
@Export
@Version("1.2.0")
package io.sonde.server.spi;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
