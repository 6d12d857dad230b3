package io.sonde.server.remotewrite.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** {@code etc/io.sonde.server.remotewrite.cfg}: where the server forwards every stored result, as Prometheus series. */
@ObjectClassDefinition(name = "Sonde server: remote write", description = "Forwards every stored result to a Prometheus remote-write"
        + " receiver (Prometheus, Mimir, Thanos, Cortex, VictoriaMetrics) through a durable, bounded queue on disk")
@interface RemoteWriteConfig {

    String PID = "io.sonde.server.remotewrite";

    @AttributeDefinition(description = "The receiver's URL, for example http://prometheus:9090/api/v1/write")
    String url();

    @AttributeDefinition(description = "Labels added to every series, name=value separated by commas (region=eu, env=prod)")
    String labels() default "";

    @AttributeDefinition(description = "A file holding a bearer token sent as Authorization (owner-readable only)")
    String bearer__token__file() default "";

    @AttributeDefinition(description = "A user name for HTTP basic authentication")
    String basic__auth__user() default "";

    @AttributeDefinition(description = "A file holding the basic authentication password (owner-readable only)")
    String basic__auth__password__file() default "";

    @AttributeDefinition(description = "PEM certificates the receiver's TLS certificate must chain to (else the JDK's trusted roots)")
    String ca__file() default "";

    @AttributeDefinition(description = "Most bytes the queue keeps on disk while the receiver is away; the oldest go first, counted")
    long max__backlog__bytes() default 256L << 20;

    @AttributeDefinition(description = "Results older than this many seconds are dropped from the queue, counted (receivers refuse"
            + " samples far in the past)")
    long max__age__s() default 7200;

    @AttributeDefinition(description = "Most results in one request (each is two or three samples)")
    int max__results__per__send() default 1000;

    @AttributeDefinition(description = "Seconds a request may take")
    int timeout__s() default 30;
}
