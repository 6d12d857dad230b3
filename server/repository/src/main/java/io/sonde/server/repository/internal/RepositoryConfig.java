package io.sonde.server.repository.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The bundle repository: PID {@code io.sonde.server.repository}, file
 * {@code etc/io.sonde.server.repository.cfg}. A double underscore in a method name stands for one
 * in the key.
 */
@ObjectClassDefinition(name = "Sonde bundle repository", description = "Signed bundle releases the agents install")
public @interface RepositoryConfig {

    /** The configuration PID. */
    String PID = "io.sonde.server.repository";

    @AttributeDefinition(description = "The release public keys trusted to sign bundles (base64, as bin/sonde-release keygen prints"
            + " them), comma-separated; none: every upload is refused")
    String trusted__keys() default "";

    @AttributeDefinition(description = "Most megabytes of one bundle jar")
    int max__bundle__mb() default 32;
}
