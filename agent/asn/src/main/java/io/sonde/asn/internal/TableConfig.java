package io.sonde.asn.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** {@code etc/io.sonde.asn.cfg}: the IP-to-AS table of the operator's. */
@ObjectClassDefinition(name = "Sonde AS table", description = "An IP-to-AS table for hops and paths")
public @interface TableConfig {

    String PID = "io.sonde.asn";

    @AttributeDefinition(description = "The table: pyasn's ipasn file, iptoasn's TSV or an MRT RIB dump, gzip-compressed or not;"
            + " a relative path is the home directory's")
    String file();

    @AttributeDefinition(description = "Seconds between looks at the file: a changed one is read again")
    int reload__s() default 10;
}
