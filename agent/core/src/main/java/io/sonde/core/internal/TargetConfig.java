package io.sonde.core.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * One target: factory PID {@code io.sonde.target}, file {@code etc/io.sonde.target-NAME.cfg}.
 * Besides these keys a target may carry the keys of its kind (for example {@code count} for icmp);
 * they reach its prober as {@link io.sonde.api.Target#options()}.
 */
@ObjectClassDefinition(factoryPid = TargetConfig.FACTORY_PID, name = "Sonde target",
        description = "Something the agent probes on an interval")
public @interface TargetConfig {

    /** The factory configuration PID. */
    String FACTORY_PID = "io.sonde.target";

    @AttributeDefinition(description = "Unique name; defaults to the NAME of the file io.sonde.target-NAME.cfg")
    String name();

    @AttributeDefinition(description = "Probe type: icmp, traceroute, tcp, udp, http, dns or a plugin's type; tcpconnect and echo are aliases of tcp and udp")
    String kind();

    @AttributeDefinition(description = "Host name or address; for http the URL, for dns the server")
    String host();

    @AttributeDefinition(description = "Port, 1-65535; required for tcp and udp")
    String port() default "";

    @AttributeDefinition(description = "Milliseconds between probes; defaults to the agent's probe_interval_ms")
    String interval__ms() default "";

    @AttributeDefinition(description = "Milliseconds a probe may take; defaults to the agent's default_timeout_ms")
    String timeout__ms() default "";

    @AttributeDefinition(description = "Tags, comma-separated")
    String tags() default "";
}
