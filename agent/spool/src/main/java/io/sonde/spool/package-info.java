/**
 * A durable store-and-forward queue on disk: checksummed records in segment files, bounded in
 * bytes and age, each record numbered once, ever. The agent spools its results in it; the server
 * its remote write.
 */
@Export
@Version("1.0.0")
package io.sonde.spool;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
