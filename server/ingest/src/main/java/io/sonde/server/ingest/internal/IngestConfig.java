package io.sonde.server.ingest.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** The ingest keys of {@code etc/io.sonde.server.cfg}. A double underscore stands for one in the key. */
@ObjectClassDefinition(name = "Sonde server ingest", description = "Bounds and rules for result batches")
public @interface IngestConfig {

    /** The server's configuration PID. */
    String PID = "io.sonde.server";

    @AttributeDefinition(description = "Most bytes of one batch, compressed or not")
    int max__batch__bytes() default 16 * 1024 * 1024;

    @AttributeDefinition(description = "Most results in one batch")
    int max__batch__results() default 10_000;

    @AttributeDefinition(description = "Batches being stored at once; beyond it requests are answered 429")
    int max__in__flight() default 4;

    @AttributeDefinition(description = "No longer used (ignored, with a warning): the server takes the results of any kind its agents run")
    String extra__kinds() default "";

    @AttributeDefinition(description = "Seconds an agent waits between two batches unless a full one waits (0: it sends as soon as it has"
            + " results); twice that while every batch slot is taken. Fewer, larger batches: the server's cost is per request (5 carries"
            + " a fleet several times larger than 0)")
    int batch__interval__s() default 5;

    @AttributeDefinition(description = "The batches a second the agents' pace aims at: while the agents sending (in the last minute)"
            + " would send more than this at batch_interval_s, each is told to send less often (agents / this, in seconds), and a"
            + " target whose outcome changed is still sent at once. 0: batch_interval_s alone")
    int fleet__batch__rate() default 400;

    @AttributeDefinition(description = "Seconds a result may lie in the future (agent clocks differ)")
    int max__future__s() default 600;

    @AttributeDefinition(description = "Days a result may lie in the past")
    int max__age__days() default 90;
}
