package io.sonde.responder.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The responder mesh peers probe: PID {@code io.sonde.responder}, file {@code etc/io.sonde.responder.cfg},
 * optional. The server's document says which ports to open (a mesh's {@code responder_port});
 * this file says where and how much. A double underscore in a method name stands for one in the key.
 */
@ObjectClassDefinition(name = "Sonde responder", description = "UDP echo and TCP listener for the agent's mesh peers")
public @interface ResponderConfig {

    /** The configuration PID. */
    String PID = "io.sonde.responder";

    @AttributeDefinition(description = "Address to listen on; empty: every address of the host")
    String bind() default "";

    @AttributeDefinition(description = "Ports to listen on whatever the server says, comma-separated; empty: the ports of the"
            + " server's document (its meshes' responder_port)")
    String ports() default "";

    @AttributeDefinition(description = "Most UDP echoes and TCP connections answered a second, from all sources together")
    int max__per__s() default 1000;

    @AttributeDefinition(description = "Most UDP echoes and TCP connections answered a second for one source address")
    int max__per__source__per__s() default 50;
}
