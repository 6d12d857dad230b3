/**
 * The agent-server protocol of Sonde: the documents both sides exchange, as records, and
 * {@link io.sonde.wire.WireCodec}, which turns them into gzip JSON and back with bounds and clear
 * errors. Field names on the wire are the records' component names in snake_case. Every document
 * that travels on its own carries a {@code schema} major version; unknown fields are ignored, a
 * newer major version is refused.
 */
@Export
@Version("1.7.0")
package io.sonde.wire;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
