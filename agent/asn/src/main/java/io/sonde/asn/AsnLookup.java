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

    /** @return a lookup in this table, always (a program's own, a test's) */
    static AsnLookup of(AsnTable table) {
        return new AsnLookup() {
            @Override
            public Origin lookup(InetAddress address) {
                return table.lookup(address);
            }

            @Override
            public AsnTable table() {
                return table;
            }
        };
    }
}
