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
 * @param cost      what one probe costs, as the prober's {@link Prober#PROBE_COST} says; {@link #UNKNOWN_COST} without it
 */
record ProberKind(Prober prober, TargetSchema schema, long serviceId, String bundle, int cost) {

    /** The cost of a kind that does not say: taken as dear, so that an unknown kind is stretched first. */
    static final int UNKNOWN_COST = Integer.MAX_VALUE;

    ProberKind(Prober prober, TargetSchema schema, long serviceId, String bundle) {
        this(prober, schema, serviceId, bundle, UNKNOWN_COST);
    }

    /** @return the cost a service property gives: a positive whole number, else {@link #UNKNOWN_COST} */
    static int cost(Object property) {
        if (property instanceof Number n && n.longValue() > 0) {
            return (int) Math.min(Integer.MAX_VALUE - 1, n.longValue());
        }
        if (property instanceof String s) {
            try {
                long v = Long.parseLong(s.strip());
                return v > 0 ? (int) Math.min(Integer.MAX_VALUE - 1, v) : UNKNOWN_COST;
            } catch (NumberFormatException e) {
                return UNKNOWN_COST;
            }
        }
        return UNKNOWN_COST;
    }

    /** The kinds known now, by kind; {@code null} for a kind without a prober. */
    interface Lookup {
        ProberKind kind(String kind);
    }
}
