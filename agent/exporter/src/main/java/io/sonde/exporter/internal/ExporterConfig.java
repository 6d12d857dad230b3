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

    @AttributeDefinition(description = "A web configuration file in the Prometheus exporter-toolkit format (--web.config.file of"
            + " node_exporter and blackbox_exporter): tls_server_config (HTTPS) and basic_auth_users (bcrypt); relative to the"
            + " agent's home; empty: plain HTTP, no login")
    String web__config__file() default "";

    @AttributeDefinition(description = "A prometheus-blackbox-exporter configuration file (its --config.file) whose modules /probe"
            + " takes beside the io.sonde.probe.module configurations, each prober's section read by the kind's plugin; relative to"
            + " the agent's home, read again when it changes; empty: none")
    String probe__config__file() default "";

    @AttributeDefinition(description = "The networks /probe may reach, CIDR blocks comma-separated (10.0.0.0/8, fd00::/8); empty:"
            + " every address. A target outside them gets 403 and no packet")
    String probe__allow() default "";

    @AttributeDefinition(description = "Whether GET /status (targets, results, uplink, updater) answers other hosts too;"
            + " by default only askers on loopback")
    boolean status__remote() default false;
}
