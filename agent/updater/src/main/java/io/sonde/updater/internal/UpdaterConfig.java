package io.sonde.updater.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The updater: PID {@code io.sonde.updater}, file {@code etc/io.sonde.updater.cfg}. Without a
 * {@code public_key} nothing is installed. A double underscore in a method name stands for one in the key.
 */
@ObjectClassDefinition(name = "Sonde updater", description = "Installs the bundle versions the server's rollouts name, verified")
public @interface UpdaterConfig {

    /** The configuration PID. */
    String PID = "io.sonde.updater";

    @AttributeDefinition(description = "The release public key this agent trusts (base64, as bin/sonde-release keygen prints it):"
            + " pinned here, never taken from the server; empty: nothing is installed")
    String public__key() default "";

    @AttributeDefinition(description = "Seconds an installed version is watched before it counts as healthy")
    int health__watch__s() default 60;

    @AttributeDefinition(description = "Seconds an installed bundle has to become active")
    int start__timeout__s() default 20;

    @AttributeDefinition(description = "Most megabytes of one bundle")
    int max__bundle__mb() default 32;
}
