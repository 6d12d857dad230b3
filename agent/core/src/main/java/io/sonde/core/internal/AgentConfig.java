package io.sonde.core.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

/**
 * The agent's own settings: PID {@code io.sonde.agent}, file {@code etc/io.sonde.agent.cfg}.
 * A double underscore in a method name stands for one in the key ({@code targets__file} reads
 * {@code targets_file}): Declarative Services maps a single underscore to a dot.
 */
@ObjectClassDefinition(name = "Sonde agent",
        description = "Identity of the agent and defaults for its targets")
public @interface AgentConfig {

    /** The configuration PID. */
    String PID = "io.sonde.agent";

    @AttributeDefinition(description = "Name of this agent; defaults to the host name")
    String agent__id() default "";

    @AttributeDefinition(description = "Tags of this agent, comma-separated")
    String tags() default "";

    @AttributeDefinition(description = "Interval of targets that set none, in milliseconds (10-86400000)", min = "10")
    long probe__interval__ms() default 5000;

    @AttributeDefinition(description = "Timeout of targets that set none, in milliseconds", min = "1")
    long default__timeout__ms() default 3000;

    @AttributeDefinition(description = "Probe a failing target less often: on (default) or off; a target's own 'backoff' wins",
            options = {@Option(label = "on", value = "on"), @Option(label = "off", value = "off")})
    String backoff() default "on";

    @AttributeDefinition(description = "Consecutive failures before a target's interval starts to double (default 3)", min = "1")
    long backoff__after() default 3;

    @AttributeDefinition(description = "The longest interval a failing target is stretched to, ms (default 300000)", min = "10")
    long backoff__max__ms() default 300_000;

    @AttributeDefinition(description = "Share of one core the agent may use, percent; above it the intervals of targets are"
            + " stretched (0: no ceiling)", min = "0")
    double max__cpu__percent() default 0;

    @AttributeDefinition(description = "Memory the agent may use (resident set), MiB; above it the intervals of targets are"
            + " stretched (0: no ceiling)", min = "0")
    long max__memory__mb() default 0;

    @AttributeDefinition(description = "A JSON target list (the Latency Probe's format), watched and reloaded")
    String targets__file() default "";
}
