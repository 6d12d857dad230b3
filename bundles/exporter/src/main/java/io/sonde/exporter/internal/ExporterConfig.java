package io.sonde.exporter.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** The metrics endpoint: PID {@code io.sonde.exporter}, file {@code etc/io.sonde.exporter.cfg}. */
@ObjectClassDefinition(name = "Sonde exporter", description = "Prometheus /metrics and the blackbox-compatible /probe over HTTP")
public @interface ExporterConfig {

    /** The configuration PID. */
    String PID = "io.sonde.exporter";

    @AttributeDefinition(description = "TCP port of /metrics, 1-65535")
    int port() default 9100;

    @AttributeDefinition(description = "Address to listen on; 0.0.0.0 for all, 127.0.0.1 for this host only")
    String bind() default "0.0.0.0";

    @AttributeDefinition(description = "Most probes that /probe runs at once; more get 503 (1-1000)")
    int probe__concurrency() default 16;

    @AttributeDefinition(description = "Whether GET /status (targets, results, uplink, updater) answers other hosts too;"
            + " by default only askers on loopback")
    boolean status__remote() default false;
}
