package io.sonde.server.remotewrite.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.airlift.compress.snappy.SnappyCompressor;
import io.prometheus.client.Collector;
import io.prometheus.client.CounterMetricFamily;
import io.prometheus.client.GaugeMetricFamily;
import io.sonde.server.spi.KindRoles;
import io.sonde.spool.Spool;
import io.sonde.wire.WireResult;

/**
 * The queue and its sender (see {@link RemoteWrite}): results in, in the order stored, a request
 * at a time out to the receiver.
 */
final class Forwarder implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Forwarder.class);

    /** Most bytes (before compression) of one request. */
    static final long MAX_REQUEST_BYTES = 4L << 20;
    /** Series whose last queued time is remembered; beyond, the memory starts again (a repeat may then be refused, counted). */
    static final int MAX_SERIES = 1_000_000;
    static final long BACKOFF_MIN_MS = 500;
    /** A request that is not full goes at most this often (a full one at once): agents' small batches travel together. */
    static final long SEND_INTERVAL_MS = 1000;
    /** How often the queue is forced to disk, as the agent's spool is. */
    static final long SYNC_MS = 1000;
    static final long BACKOFF_MAX_MS = 30_000;

    private final URI url;
    private final Spool spool;
    private final Samples samples;
    private final KindRoles roles;
    private final HttpClient http;
    private final String authorization;
    private final Duration timeout;
    private final int perSend;
    private final Map<String, Long> lastQueued = new ConcurrentHashMap<>();
    private final Object work = new Object();
    private final Thread sender;
    private volatile boolean running = true;

    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong skipped = new AtomicLong();
    private final Map<String, AtomicLong> requests = new ConcurrentHashMap<>();
    private volatile double lastSentSeconds;
    private volatile boolean failing;
    private long lastRefusalLog;


    /**
     * @param url           the receiver
     * @param authorization the Authorization header's value, or null
     * @param http          the client (with the receiver's trust)
     * @param spool         the queue
     * @param samples       how a result becomes series
     * @param roles         which values of a kind count sent and received
     * @param timeout       how long a request may take
     * @param perSend       most results in one request
     */
    Forwarder(URI url, String authorization, HttpClient http, Spool spool, Samples samples, KindRoles roles, Duration timeout,
            int perSend) {
        this.url = url;
        this.authorization = authorization;
        this.http = http;
        this.spool = spool;
        this.samples = samples;
        this.roles = roles;
        this.timeout = timeout;
        this.perSend = Math.max(1, perSend);
        for (String code : List.of("2xx", "4xx", "429", "5xx", "error")) {
            requests.put(code, new AtomicLong());
        }
        this.sender = io.sonde.base.DaemonThreads.of("sonde-remote-write", this::drain);
    }

    /** Starts the sender. */
    Forwarder start() {
        sender.start();
        return this;
    }

    /** Stops the sender and closes the queue. */
    @Override
    public void close() throws InterruptedException {
        running = false;
        sender.interrupt();
        sender.join(TimeUnit.SECONDS.toMillis(10));
        spool.close();
    }

    /** @return results waiting */
    long waiting() {
        return spool.records();
    }

    void stored(String agentId, List<WireResult> results) {
        int queued = 0;
        for (WireResult r : results) {
            long ts = r.startedAt().toEpochMilli();
            String series = agentId + '\0' + r.target() + '\0' + r.kind();
            Long last = lastQueued.get(series);
            if (last != null && ts <= last) {
                skipped.incrementAndGet();
                continue;
            }
            if (lastQueued.size() >= MAX_SERIES) {
                lastQueued.clear();
            }
            lastQueued.put(series, ts);
            KindRoles.Counts counts = roles.of(r.kind());
            spool.append(ts, seq -> samples.encode(agentId, r, counts));
            queued++;
        }
        if (queued > 0) {
            spool.flush(); // written before the agent hears: a kill of the server loses none of them
            synchronized (work) {
                work.notifyAll();
            }
        }
    }

    /** The sender: takes the queue's oldest results, a request at a time, until stopped. */
    private void drain() {
        long backoff = BACKOFF_MIN_MS;
        long lastSend = 0;
        long lastSync = 0;
        while (running) {
            try {
                long now = System.currentTimeMillis();
                if (now - lastSync >= SYNC_MS) {
                    lastSync = now;
                    spool.sync(); // what a batch flushed survives a kill at once, and a power cut from here on
                }
                List<Spool.Record> batch = spool.read(perSend, MAX_REQUEST_BYTES);
                if (batch.isEmpty()) {
                    spool.maintain();
                    synchronized (work) {
                        work.wait(1000);
                    }
                    continue;
                }
                long early = lastSend + SEND_INTERVAL_MS - System.currentTimeMillis();
                if (batch.size() < perSend && early > 0) {
                    Thread.sleep(early); // a request not full waits for what comes within the interval: one request, not one per batch
                    continue;
                }
                lastSend = System.currentTimeMillis();
                if (send(batch, 0, batch.size())) {
                    if (failing) {
                        failing = false;
                        LOG.info("Remote write to {} works again; {} results waiting", url, spool.records());
                    }
                    backoff = BACKOFF_MIN_MS;
                } else {
                    spool.maintain(); // the age bound holds while the receiver is away
                    pause(backoff / 2 + ThreadLocalRandom.current().nextLong(backoff / 2 + 1));
                    backoff = Math.min(BACKOFF_MAX_MS, backoff * 2);
                }
            } catch (InterruptedException e) {
                return;
            } catch (IOException | RuntimeException e) {
                LOG.warn("Remote write: the queue in data/remote-write could not be read: {}", e.toString());
                try {
                    pause(backoff);
                } catch (InterruptedException stop) {
                    return;
                }
                backoff = Math.min(BACKOFF_MAX_MS, backoff * 2);
            }
        }
    }

    /**
     * Waits {@code ms}, forcing the queue to disk every {@link #SYNC_MS} meanwhile: while the receiver
     * is away the queue grows, and the backoff (up to {@link #BACKOFF_MAX_MS}) must not leave what
     * the batches wrote unforced that long.
     */
    private void pause(long ms) throws InterruptedException {
        long end = System.currentTimeMillis() + ms;
        for (long left = ms; left > 0; left = end - System.currentTimeMillis()) {
            Thread.sleep(Math.min(left, SYNC_MS));
            spool.sync();
        }
    }

    /**
     * Sends records {@code from} to {@code to}; what the receiver takes, or refuses for good one
     * by one, is acknowledged in the queue.
     *
     * @return false when the receiver cannot take it now (send again later)
     */
    boolean send(List<Spool.Record> batch, int from, int to) throws IOException, InterruptedException {
        int code = post(batch.subList(from, to));
        long lastSeq = batch.get(to - 1).seq();
        if (code >= 200 && code < 300) {
            spool.ack(lastSeq);
            sent.addAndGet(to - from);
            lastSentSeconds = System.currentTimeMillis() / 1000.0;
            return true;
        }
        if (code >= 400 && code < 500 && code != 429 && code != 408) {
            if (to - from == 1) {
                spool.rejected(1);
                spool.ack(lastSeq);
                return true;
            }
            int mid = (from + to) >>> 1;
            return send(batch, from, mid) && send(batch, mid, to);
        }
        return false;
    }

    /** @return the receiver's status code, or -1 when it could not be reached */
    private int post(List<Spool.Record> records) throws InterruptedException {
        int size = 0;
        for (Spool.Record r : records) {
            size += r.payload().length;
        }
        byte[] body = new byte[size];
        int at = 0;
        for (Spool.Record r : records) {
            System.arraycopy(r.payload(), 0, body, at, r.payload().length);
            at += r.payload().length;
        }
        SnappyCompressor snappy = new SnappyCompressor();
        byte[] compressed = new byte[snappy.maxCompressedLength(size)];
        int n = snappy.compress(body, 0, size, compressed, 0, compressed.length);
        HttpRequest.Builder req = HttpRequest.newBuilder(url).timeout(timeout)
                .header("Content-Encoding", "snappy")
                .header("Content-Type", "application/x-protobuf")
                .header("User-Agent", "sonde-server")
                .header("X-Prometheus-Remote-Write-Version", "0.1.0")
                .POST(HttpRequest.BodyPublishers.ofByteArray(compressed, 0, n));
        if (authorization != null) {
            req.header("Authorization", authorization);
        }
        try {
            HttpResponse<InputStream> r = http.send(req.build(), HttpResponse.BodyHandlers.ofInputStream());
            String said;
            try (InputStream in = r.body()) {
                said = new String(in.readNBytes(512), StandardCharsets.UTF_8).strip();
                in.transferTo(java.io.OutputStream.nullOutputStream());
            }
            int code = r.statusCode();
            requests.get(code >= 200 && code < 300 ? "2xx" : code == 429 ? "429" : code >= 500 ? "5xx" : code >= 400 ? "4xx" : "error")
                    .incrementAndGet();
            if (code >= 400 && code < 500 && code != 429 && code != 408) {
                refused(code, said, records.size());
            } else if (code >= 300) {
                failed("it answered " + code + " " + said);
            }
            return code;
        } catch (IOException e) {
            requests.get("error").incrementAndGet();
            failed(e.toString());
            return -1;
        }
    }

    private void refused(int code, String said, int results) {
        long now = System.currentTimeMillis();
        if (now - lastRefusalLog >= 60_000) {
            lastRefusalLog = now;
            LOG.warn("Remote write to {}: the receiver refused a request of {} results with {} ({}); the results it refuses are"
                    + " dropped one by one, counted in sonde_server_remote_write_dropped_results_total{{reason=\"rejected\"}}", url, results,
                    code, said.isEmpty() ? "no reason given" : said);
        }
    }

    private void failed(String why) {
        if (!failing) {
            failing = true;
            LOG.warn("Remote write to {} failed ({}); {} results wait in the queue and go when it works again", url, why, spool.records());
        }
    }

    List<Collector.MetricFamilySamples> collect() {
        List<Collector.MetricFamilySamples> out = new ArrayList<>();
        out.add(new CounterMetricFamily("sonde_server_remote_write_sent_results_total",
                "Results the remote-write receiver took (each is two or three samples)", sent.get()));
        out.add(new CounterMetricFamily("sonde_server_remote_write_skipped_results_total",
                "Results not queued because their series had a result as new queued before (a batch sent again)", skipped.get()));
        CounterMetricFamily dropped = new CounterMetricFamily("sonde_server_remote_write_dropped_results_total",
                "Results never sent, by reason: full (the backlog bound), age, rejected (refused by the receiver), corrupt, crash",
                List.of("reason"));
        for (Map.Entry<String, Long> e : new java.util.TreeMap<>(spool.dropped()).entrySet()) {
            dropped.addMetric(List.of(e.getKey()), e.getValue());
        }
        out.add(dropped);
        CounterMetricFamily reqs = new CounterMetricFamily("sonde_server_remote_write_requests_total",
                "Requests to the receiver, by answer: 2xx, 4xx, 429, 5xx, error (not reached)", List.of("code"));
        for (Map.Entry<String, AtomicLong> e : new java.util.TreeMap<>(requests).entrySet()) {
            reqs.addMetric(List.of(e.getKey()), e.getValue().get());
        }
        out.add(reqs);
        out.add(new GaugeMetricFamily("sonde_server_remote_write_backlog_results", "Results queued and not yet taken by the receiver",
                spool.records()));
        out.add(new GaugeMetricFamily("sonde_server_remote_write_backlog_bytes", "Bytes the queue takes on disk", spool.bytes()));
        out.add(new GaugeMetricFamily("sonde_server_remote_write_last_sent_timestamp_seconds",
                "When the receiver last took a request (0: never since start)", lastSentSeconds));
        return out;
    }

}
