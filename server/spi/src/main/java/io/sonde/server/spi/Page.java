package io.sonde.server.spi;

import java.util.List;

/**
 * One page of a longer list.
 *
 * @param items the page's items
 * @param next  the cursor of the next page, or null on the last
 * @param <T>   the item type
 */
public record Page<T>(List<T> items, String next) {

    /** Takes an immutable copy of the items. */
    public Page {
        items = List.copyOf(items);
    }
}
