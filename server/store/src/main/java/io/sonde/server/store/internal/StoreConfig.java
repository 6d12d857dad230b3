package io.sonde.server.store.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** The store keys of {@code etc/io.sonde.server.cfg}. */
@ObjectClassDefinition(name = "Sonde server store", description = "Embedded H2 under data/store/, or PostgreSQL")
public @interface StoreConfig {

    /** The server's configuration PID. */
    String PID = "io.sonde.server";

    @AttributeDefinition(description = "Which store: h2 (embedded, the default) or postgres")
    String store() default "h2";

    @AttributeDefinition(description = "Most connections to the embedded database")
    int h2__pool__size() default 8;

    @AttributeDefinition(description = "Embedded database: compress its pages (LZF, pages up to 64 KB). At a fleet's pacing"
            + " (many small commits) false (16 KB pages, not compressed) took 30-40 % less of the server's CPU for 15-30 % more"
            + " disk")
    boolean h2__compress() default true;

    @AttributeDefinition(description = "PostgreSQL: the JDBC URL, e.g. jdbc:postgresql://db.example:5432/sonde")
    String jdbc__url() default "";

    @AttributeDefinition(description = "PostgreSQL: the JDBC URL of a standby for the API's read-only queries (series, results),"
            + " same user and password, e.g. jdbc:postgresql://db1:5432,db2:5432/sonde?targetServerType=preferSecondary; empty:"
            + " the primary answers them. A standby that fails leaves them to the primary for 30 s at a time")
    String read__jdbc__url() default "";

    @AttributeDefinition(description = "PostgreSQL: the user")
    String user() default "sonde";

    @AttributeDefinition(description = "PostgreSQL: a file holding the password (relative to the server's home), never the password itself")
    String password__file() default "";

    @AttributeDefinition(description = "PostgreSQL: most connections of this server instance")
    int pg__pool__size() default 8;

    @AttributeDefinition(description = "Days raw results are kept at least; they are dropped by whole UTC days (1 or more)")
    int retention__raw__days() default 30;

    @AttributeDefinition(description = "Days the 1-minute rollups are kept (1 or more)")
    int retention__1m__days() default 90;

    @AttributeDefinition(description = "Days the 1-hour rollups are kept (1 or more)")
    int retention__1h__days() default 730;
}
