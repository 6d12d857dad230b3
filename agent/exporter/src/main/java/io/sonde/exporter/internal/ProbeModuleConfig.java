package io.sonde.exporter.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * A module of {@code /probe}, as blackbox_exporter has them: factory PID {@code io.sonde.probe.module},
 * files {@code etc/io.sonde.probe.module-<name>.cfg}. Besides these keys a module carries the keys of
 * its kind, as a target would ({@code method}, {@code expect_status}, {@code query}, {@code count}, ...).
 */
@ObjectClassDefinition(name = "Sonde /probe module", description = "How GET /probe?module=<name> probes its target")
public @interface ProbeModuleConfig {

    /** The factory PID. */
    String PID = "io.sonde.probe.module";

    @AttributeDefinition(description = "Module name, the module parameter of /probe; default: the part of the file name after the dash",
            required = false)
    String name() default "";

    @AttributeDefinition(description = "Probe type: http, tcp, icmp, dns, udp, traceroute or a plugin's type (blackbox's 'prober')")
    String prober();

    @AttributeDefinition(description = "Longest time a probe may take, ms; 0 (default): the scrape timeout Prometheus sends, less 0.5 s, else 5000",
            required = false, min = "0")
    long timeout__ms() default 0;
}
