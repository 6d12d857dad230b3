package io.sonde.asn;

import java.net.InetAddress;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The AS of an address, from the table the operator configured ({@code io.sonde.asn.cfg}); the
 * service is there only while a table is loaded.
 */
@ProviderType
public interface AsnLookup {

    /** @return the AS announcing the address (its most specific prefix), or null when the table has none */
    Origin lookup(InetAddress address);

    /** @return the table in use */
    AsnTable table();
}
