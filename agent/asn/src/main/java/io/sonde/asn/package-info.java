/**
 * AS numbers of addresses, from an IP-to-AS table the operator supplies ({@link io.sonde.asn.AsnTable}:
 * pyasn's and iptoasn's text formats, an MRT RIB dump), and the service that holds the table of
 * the configured file, read again when it changes ({@link io.sonde.asn.AsnLookup}).
 */
@Export
@Version("1.0.0")
package io.sonde.asn;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
