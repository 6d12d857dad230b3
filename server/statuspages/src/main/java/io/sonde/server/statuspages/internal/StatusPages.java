package io.sonde.server.statuspages.internal;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.gson.JsonParser;

import io.prometheus.client.Collector;
import io.prometheus.client.CounterMetricFamily;
import io.sonde.server.spi.Definition;
import io.sonde.server.spi.MaintenanceCalendar;
import io.sonde.server.spi.Store;
import io.sonde.server.spi.StoreException;

/**
 * The status pages as served: each page built from the store at most once every
 * {@link #FRESH_MS} whatever the requests (they share the last build; one request rebuilds it
 * while the others wait for it), a page that does not exist remembered as long. Its metrics say
 * how many requests the pages answered and how many builds reached the store.
 */
@Component(service = {StatusPages.class, Collector.class})
public final class StatusPages extends Collector {

    private static final Logger LOG = LoggerFactory.getLogger(StatusPages.class);
    /** How long a build serves. */
    static final long FRESH_MS = 10_000;
    /** Most names remembered (pages and names that are none): a flood of made-up names empties the memory, not the heap. */
    static final int MAX_REMEMBERED = 1000;

    /** A page's last build, or that there is no such page ({@code built} null), and when it was looked at. */
    private record Entry(PageModel.Built built, long atMs) {
    }

    private final Store store;
    private final io.sonde.server.spi.OfflineRule offline;
    private volatile MaintenanceCalendar calendar;
    private final Map<String, Entry> pages = new ConcurrentHashMap<>();
    private final Map<String, Object> locks = new ConcurrentHashMap<>();
    private final AtomicLong requests = new AtomicLong();
    private final AtomicLong builds = new AtomicLong();

    @Activate
    public StatusPages(@Reference Store store, @Reference io.sonde.server.spi.OfflineRule offline) {
        this.store = store;
        this.offline = offline;
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    void setCalendar(MaintenanceCalendar c) {
        calendar = c;
    }

    void unsetCalendar(MaintenanceCalendar c) {
        if (calendar == c) {
            calendar = null;
        }
    }

    /** @return the page's build, at most {@link #FRESH_MS} old, or empty when there is no such page */
    Optional<PageModel.Built> page(String name) throws StoreException {
        requests.incrementAndGet();
        long now = System.currentTimeMillis();
        Entry e = pages.get(name);
        if (e != null && now - e.atMs() < FRESH_MS) {
            return Optional.ofNullable(e.built());
        }
        Object lock = locks.computeIfAbsent(name, k -> new Object());
        synchronized (lock) {
            e = pages.get(name);
            now = System.currentTimeMillis();
            if (e != null && now - e.atMs() < FRESH_MS) {
                return Optional.ofNullable(e.built());
            }
            builds.incrementAndGet();
            PageModel.Built built = null;
            Optional<Definition> d = store.definition(Definition.STATUS_PAGE, name);
            if (d.isPresent()) {
                try {
                    StatusPage page = StatusPage.parse(name, JsonParser.parseString(d.get().body()).getAsJsonObject());
                    built = PageModel.build(page, store, calendar, offline.offlineAfter(), Instant.ofEpochMilli(now));
                } catch (io.sonde.wire.WireException | RuntimeException x) {
                    LOG.warn("Status page '{}': its stored definition is not read ({}); it answers 404", name, x.getMessage());
                }
            }
            if (pages.size() >= MAX_REMEMBERED) {
                pages.clear();
                locks.clear();
            }
            pages.put(name, new Entry(built, now));
            return Optional.ofNullable(built);
        }
    }

    /** Forgets a page's build: it was defined, changed or deleted. */
    void changed(String name) {
        pages.remove(name);
    }

    @Override
    public List<MetricFamilySamples> collect() {
        return List.of(
                new CounterMetricFamily("sonde_server_status_page_requests_total", "Requests the public status pages answered (pages, "
                        + "documents and badges)", requests.get()),
                new CounterMetricFamily("sonde_server_status_page_builds_total", "Builds of a status page from the store (at most one a "
                        + "page every " + FRESH_MS / 1000 + " s, whatever the requests)", builds.get()));
    }
}
