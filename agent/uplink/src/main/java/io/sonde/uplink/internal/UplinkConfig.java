package io.sonde.uplink.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Where and how the agent reports: PID {@code io.sonde.uplink}, file {@code etc/io.sonde.uplink.cfg}.
 * Without this configuration the agent runs stand-alone. A double underscore in a method name stands
 * for one in the key.
 */
@ObjectClassDefinition(name = "Sonde uplink", description = "The server this agent reports its results to")
public @interface UplinkConfig {

    /** The configuration PID. */
    String PID = "io.sonde.uplink";

    @AttributeDefinition(description = "The server's base URL, https://host:8443; or several instances of one server, comma-separated,"
            + " tried in turn when one cannot be used")
    String server__url();

    @AttributeDefinition(description = "Token of first contact, made by an administrator; not needed once enrolled")
    String enrollment__token() default "";

    @AttributeDefinition(description = "SHA-256 fingerprint of the server's CA certificate (hex, colons optional)")
    String server__ca__sha256() default "";

    @AttributeDefinition(description = "PEM file of the CA certificates to trust for the server, instead of a fingerprint")
    String server__ca__file() default "";

    @AttributeDefinition(description = "Most results in one upload")
    int batch__max__results() default 5000;

    @AttributeDefinition(description = "Most bytes of results (uncompressed JSON) in one upload")
    int batch__max__bytes() default 4 * 1024 * 1024;

    @AttributeDefinition(description = "Most megabytes the spool keeps on disk; the oldest results go first")
    int spool__max__mb() default 256;

    @AttributeDefinition(description = "Most hours a result waits in the spool")
    int spool__max__age__h() default 72;

    @AttributeDefinition(description = "Most seconds the agent stays silent: a status report when no batch was answered for"
            + " this long (a status goes at once when what it reports changes, and every 5 minutes)")
    int status__interval__s() default 15;

    @AttributeDefinition(description = "Seconds between two requests for this agent's configuration document (an unchanged one"
            + " costs the server a 304): a change reaches the agent within this time")
    int config__poll__s() default 5;

    @AttributeDefinition(description = "The address mesh peers reach this agent at; empty: the address it connects to the server from")
    String advertise__address() default "";
}
