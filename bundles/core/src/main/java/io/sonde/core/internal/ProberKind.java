package io.sonde.core.internal;

import io.sonde.api.Prober;
import io.sonde.api.TargetSchema;

/**
 * The prober that serves a kind now (the highest ranked of its kind) and the schema it declared
 * when it came.
 *
 * @param prober    the service
 * @param schema    its schema; {@code null} for a prober built before api 1.3, whose keys go unchecked
 * @param serviceId its service id: a target checked by one prober is checked again when another serves the kind
 * @param bundle    the symbolic name of its bundle, for messages
 */
record ProberKind(Prober prober, TargetSchema schema, long serviceId, String bundle) {

    /** The kinds known now, by kind; {@code null} for a kind without a prober. */
    interface Lookup {
        ProberKind kind(String kind);
    }
}
