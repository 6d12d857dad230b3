package io.sonde.core.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** The agent's own settings: PID {@code io.sonde.agent}, file {@code etc/io.sonde.agent.cfg}. */
@ObjectClassDefinition(name = "Sonde agent",
        description = "Identity of the agent and defaults for its targets")
public @interface AgentConfig {

    /** The configuration PID. */
    String PID = "io.sonde.agent";

    @AttributeDefinition(description = "Name of this agent; defaults to the host name")
    String agent_id() default "";

    @AttributeDefinition(description = "Tags of this agent, comma-separated")
    String tags() default "";

    @AttributeDefinition(description = "Interval of targets that set none, in milliseconds")
    String probe_interval_ms() default "5000";

    @AttributeDefinition(description = "Timeout of targets that set none, in milliseconds")
    String default_timeout_ms() default "3000";

    @AttributeDefinition(description = "A JSON target list (the Latency Probe's format), watched and reloaded")
    String targets_file() default "";
}
