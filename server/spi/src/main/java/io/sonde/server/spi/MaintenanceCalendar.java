package io.sonde.server.spi;

import java.time.Instant;
import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The maintenance windows, as the server that holds them reads them: for pages that show a
 * target's scheduled maintenance (status pages) without knowing how windows are kept.
 *
 * @since 1.16
 */
@ProviderType
public interface MaintenanceCalendar {

    /**
     * A window's opening that is under way or next.
     *
     * @param name     the window's name
     * @param active   whether it is open at the time asked
     * @param startsAt when the opening begins
     * @param endsAt   when it ends
     * @param comment  what the admin wrote of it, or ""
     */
    record Opening(String name, boolean active, Instant startsAt, Instant endsAt, String comment) {
    }

    /**
     * @param target a target's name
     * @param tags   its definition's tags
     * @return the openings, under way or next, of the windows that take the target, soonest first
     */
    List<Opening> openings(String target, List<String> tags, Instant now) throws StoreException;

    /**
     * The stretches of time the windows took each target over a range, past ones included (a
     * window counts for every opening its definition has, whenever it was written): what an uptime
     * report leaves out of a target's downtime when asked to.
     *
     * @param targets target names, each with its tags (a definition's, and its labels as {@code name=value})
     * @return by target, the openings of the windows that take it within [{@code from}, {@code to}),
     *         clipped to the range, in start order; targets no window takes left out
     * @since 1.17
     */
    default java.util.Map<String, List<Opening>> during(java.util.Map<String, List<String>> targets, Instant from, Instant to)
            throws StoreException {
        return java.util.Map.of();
    }
}
