package io.sonde.server.core.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** The listener and TLS keys of {@code etc/io.sonde.server.cfg}. A double underscore stands for one in the key. */
@ObjectClassDefinition(name = "Sonde server", description = "Where the server listens and with which certificate")
public @interface ServerConfig {

    /** The server's configuration PID. */
    String PID = "io.sonde.server";

    /** Agents' exchanges served at once unless configured. */
    int DEFAULT_MAX_AGENT_EXCHANGES = 128;

    @AttributeDefinition(description = "HTTPS port")
    int port() default 8443;

    @AttributeDefinition(description = "Address to listen on; 0.0.0.0 for every one")
    String bind() default "0.0.0.0";

    @AttributeDefinition(description = "PEM certificate chain of the server (leaf first); empty: the server's own CA makes one")
    String tls__cert() default "";

    @AttributeDefinition(description = "PEM private key of tls_cert")
    String tls__key() default "";

    @AttributeDefinition(description = "Further host names and addresses for the certificate the server makes, comma-separated")
    String tls__names() default "";

    @AttributeDefinition(description = "Whether an agent's advertise_address is taken as the address its mesh peers probe; false: the"
            + " address it connects from, always (an admin may still pin one: PUT /api/v1/agents/{id}/address)")
    boolean advertised__addresses() default true;

    @AttributeDefinition(description = "Seconds without a word from an agent after which it counts as offline")
    int offline__after__s() default io.sonde.server.spi.AgentRecord.DEFAULT_OFFLINE_AFTER_S;

    @AttributeDefinition(description = "Agents' exchanges (batches, statuses, configuration documents) served at once; one beyond is"
            + " answered 429 with Retry-After at once and its connection kept, instead of waiting in a queue longer than the agent does")
    int max__agent__exchanges() default DEFAULT_MAX_AGENT_EXCHANGES;
}
