package io.sonde.core.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

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

    @AttributeDefinition(description = "A JSON target list (the Latency Probe's format), watched and reloaded")
    String targets__file() default "";
}
