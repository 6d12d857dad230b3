package io.sonde.server.store.h2.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** The store keys of {@code etc/io.sonde.server.cfg} that the embedded store reads. */
@ObjectClassDefinition(name = "Sonde server store (H2)", description = "The embedded store under data/store/")
public @interface StoreConfig {

    /** The server's configuration PID. */
    String PID = "io.sonde.server";

    @AttributeDefinition(description = "Which store: h2 (embedded, the default) or postgres")
    String store() default "h2";

    @AttributeDefinition(description = "Most connections to the embedded database")
    int h2__pool__size() default 8;
}
