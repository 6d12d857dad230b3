package io.sonde.server.ingest.internal;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.Designate;

import io.prometheus.client.Collector;
import io.prometheus.client.Counter;
import io.prometheus.client.Histogram;
import io.sonde.server.spi.ResultIngest;
import io.sonde.server.spi.ResultListener;
import io.sonde.server.spi.ResultStore;
import io.sonde.server.spi.StoreException;
import io.sonde.wire.BatchAck;
import io.sonde.wire.ResultBatch;
import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

/**
 * Takes result batches: at most {@code max_in_flight} at once (the rest are turned away with 429,
 * so memory stays bounded), each read within its byte bound, validated whole, then stored in one
 * transaction: all of a batch or nothing.
 */
@Component(service = {ResultIngest.class, Collector.class}, configurationPid = IngestConfig.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = IngestConfig.class)
public final class Ingest extends Collector implements ResultIngest {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Ingest.class);

    /** How long a batch waits for a free slot before it is turned away. */
    static final long SLOT_WAIT_MS = 200;

    private final ResultStore store;
    private final IngestConfig config;
    private final BatchValidator validator;
    private final Semaphore slots;
    private final Counter ingested = Counter.build("sonde_server_ingested_results_total", "Results stored").create();
    private final Counter duplicates = Counter.build("sonde_server_duplicate_results_total",
            "Results received again that were stored before, and not stored twice").create();
    private final Counter rejected = Counter.build("sonde_server_rejected_batches_total",
            "Batches not stored, by reason: malformed, too_large, schema, invalid, busy, unavailable").labelNames("reason").create();
    private final Histogram latency = Histogram.build("sonde_server_ingest_seconds",
            "Time to read, check and store one batch").buckets(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5).create();
    /** Told of every stored batch (remote write); a listener that throws is counted and the batch still acknowledged. */
    private final List<ResultListener> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Counter listenerFailures = Counter.build("sonde_server_result_listener_failures_total",
            "Batches a result listener (remote write) failed to take; the batch is stored all the same").create();

    @Activate
    public Ingest(IngestConfig config, @Reference ResultStore store) {
        this.store = store;
        this.config = config;
        if (!config.extra__kinds().isBlank()) {
            LOG.warn("extra_kinds ({}) in io.sonde.server.cfg is no longer needed and is ignored: the server takes the results of"
                    + " any kind its agents run", config.extra__kinds());
        }
        this.validator = new BatchValidator(Math.max(1, config.max__batch__results()),
                Duration.ofSeconds(Math.max(0, config.max__future__s())), Duration.ofDays(Math.max(1, config.max__age__days())));
        this.slots = new Semaphore(Math.max(1, config.max__in__flight()));
        this.maxValues = maxValues(Runtime.getRuntime().maxMemory(), Math.max(1, config.max__in__flight()));
        for (String r : List.of("malformed", "too_large", "schema", "invalid", "busy", "unavailable")) {
            rejected.labels(r);
        }
    }

    /** Its metrics, served at the server's /metrics (a Collector service, by DS). */
    @Override
    public List<MetricFamilySamples> collect() {
        List<MetricFamilySamples> out = new java.util.ArrayList<>();
        out.addAll(ingested.collect());
        out.addAll(duplicates.collect());
        out.addAll(rejected.collect());
        out.addAll(latency.collect());
        out.addAll(listenerFailures.collect());
        int agents = sending.count();
        out.add(new io.prometheus.client.GaugeMetricFamily("sonde_server_agents_sending",
                "Agents that sent a batch in the last minute, taken or turned away (counted every 5 s)", agents));
        out.add(new io.prometheus.client.GaugeMetricFamily("sonde_server_batch_interval_seconds",
                "The pace agents are told now, while a batch slot is free (twice it while every one is taken)",
                interval(config.batch__interval__s(), config.fleet__batch__rate(), agents, false) / 1000.0));
        return out;
    }

    /** What one JSON value of a parsed batch costs on the heap, at worst (a short key, its entry, a number). */
    static final long BYTES_PER_VALUE = 160;
    /** The share of the heap the batches in flight may take at once. */
    static final double HEAP_SHARE = 0.5;

    /**
     * @return the values one batch may hold so that {@code inFlight} batches at their worst fit in
     *         {@link #HEAP_SHARE} of the heap: a bigger one is a 413, and the agent halves its batches
     */
    static long maxValues(long maxHeap, int inFlight) {
        return Math.max(10_000, (long) (maxHeap * HEAP_SHARE) / inFlight / BYTES_PER_VALUE);
    }

    private final long maxValues;

    /**
     * @param seconds   the configured cadence ({@code batch_interval_s}; 0: an agent sends as soon as it has results)
     * @param batchRate the batches a second the fleet's pace aims at ({@code fleet_batch_rate}; 0: the configured cadence only)
     * @param agents    the agents that sent batches lately
     * @param crowded   whether every batch slot is taken
     * @return the cadence an agent is told, in ms: the configured one, longer when the fleet at that cadence would send more
     *         than {@code batchRate} batches a second (a request costs the same for one result as for twenty, and so does
     *         the store's write of an agent's batch), twice it when every batch slot is taken, at most a minute
     */
    static long interval(int seconds, int batchRate, int agents, boolean crowded) {
        long ms = Math.max(0, seconds) * 1000L;
        if (ms > 0 && batchRate > 0) {
            ms = Math.max(ms, (long) Math.ceil(Math.max(0, agents) * 1000.0 / batchRate));
        }
        return Math.min(BatchAck.MAX_BATCH_INTERVAL_MS, ms * (crowded ? 2 : 1));
    }

    /**
     * @return the seconds a turned-away agent is told to wait: the time the server takes to hear from every agent of the
     *         fleet once at {@code batchRate} batches a second, at least 1 (1 without a rate). Each agent told 1 s, 5,000
     *         agents starting together came back at 4,000 tries a second to a server that took a few hundred batches, and
     *         the tries took the CPU the batches needed (performance.md, the eleventh step)
     */
    static int retryAfter(int agents, int batchRate) {
        return batchRate <= 0 ? 1 : (int) Math.max(1, Math.min(BatchAck.MAX_BATCH_INTERVAL_MS / 1000, (agents + batchRate - 1L) / batchRate));
    }

    /** The agents that sent batches lately: the fleet the pace is for. */
    private final SendingAgents sending = new SendingAgents();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addListener(ResultListener listener) {
        listeners.add(listener);
    }

    void removeListener(ResultListener listener) {
        listeners.remove(listener);
    }

    @Override
    public BatchAck ingest(String agentId, InputStream body, boolean gzip) throws WireException, StoreException, Busy {
        boolean got;
        try {
            got = slots.tryAcquire(SLOT_WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            got = false;
        }
        if (!got) {
            rejected.labels("busy").inc();
            // read to its end (within the batch bound), so that the agent's next request takes the same connection:
            // back-pressure that closed it would make every refused agent pay a new TLS key exchange
            boolean read = io.sonde.server.spi.Api.drained(body, Math.max(1024, config.max__batch__bytes()));
            // a turned-away agent is one of the fleet that sends: it comes back when its turn in the fleet's round comes
            int agents = sending.heard(agentId, System.currentTimeMillis());
            throw new Busy("the server has " + config.max__in__flight() + " batches in hand; send again after Retry-After", read,
                    retryAfter(agents, config.fleet__batch__rate()));
        }
        long t0 = System.nanoTime();
        try {
            ResultBatch batch = WireCodec.readBatch(body, gzip, Math.max(1024, config.max__batch__bytes()), maxValues);
            validator.validate(batch, agentId, Instant.now());
            boolean crowded = slots.availablePermits() == 0; // every slot taken: the agents are told to come less often
            int stored = store.ingest(agentId, batch.epoch(), batch.results());
            int dup = batch.results().size() - stored;
            ingested.inc(stored);
            for (ResultListener l : listeners) {
                try {
                    l.stored(agentId, batch.results());
                } catch (RuntimeException e) {
                    listenerFailures.inc();
                    LOG.warn("{} failed to take a batch of {} ({} results): {}", l.getClass().getSimpleName(), agentId,
                            batch.results().size(), e.toString());
                }
            }
            duplicates.inc(dup);
            latency.observe((System.nanoTime() - t0) / 1e9);
            int agents = sending.heard(agentId, System.currentTimeMillis());
            return new BatchAck(WireCodec.SCHEMA, stored, dup,
                    interval(config.batch__interval__s(), config.fleet__batch__rate(), agents, crowded), null);
        } catch (WireException e) {
            rejected.labels(e.problem().label()).inc();
            io.sonde.server.spi.Api.drain(body, Math.max(1024, config.max__batch__bytes()));
            throw e;
        } catch (StoreException e) {
            rejected.labels(e.kind() == StoreException.Kind.UNAVAILABLE ? "unavailable" : "invalid").inc();
            throw e;
        } finally {
            slots.release();
        }
    }
}
