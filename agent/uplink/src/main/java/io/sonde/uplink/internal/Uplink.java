package io.sonde.uplink.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.zip.GZIPOutputStream;

import javax.net.ssl.SSLContext;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.google.gson.stream.JsonWriter;

import io.sonde.spool.Spool;
import io.sonde.agent.spi.AgentIdentity;
import io.sonde.agent.spi.ConfigSource;
import io.sonde.api.ProbeResult;
import io.sonde.agent.spi.RemoteConfig;
import io.sonde.agent.spi.ResultSink;
import io.sonde.wire.AgentStatus;
import io.sonde.wire.BatchAck;
import io.sonde.uplink.internal.ServerExchange.Failure;
import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

// Over 500 lines: one sender thread's state (pace, status due, document in force) kept together; its exchanges (ServerExchange), enrollment (Enrollment), documents (ConfigDocuments) and encoding (ResultEncoder) are apart.
/**
 * The agent's uplink: every result goes into the durable spool first; a thread of its own enrolls
 * the agent once, then uploads the spool oldest first in gzip batches, removes what the server
 * acknowledges, reports the agent's status now and then, and backs off (exponentially, with
 * jitter, honouring Retry-After) while the server cannot be reached. Immediate: it uploads what is
 * spooled whether or not a scheduler hands it results now.
 */
@Component(configurationPid = UplinkConfig.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = ResultSink.class, property = {"sink.name=uplink", "sink.hold:Boolean=true"}, immediate = true)
@Designate(ocd = UplinkConfig.class)
public final class Uplink implements ResultSink {

    private static final Logger LOG = LoggerFactory.getLogger(Uplink.class);
    static final long BACKOFF_FIRST_MS = 1000;
    static final long BACKOFF_MAX_MS = 30_000;
    static final long IDLE_POLL_MS = 1000;
    static final long SYNC_MS = 1000;


    private final Spool spool;
    private final UplinkReport report;

    /** The server, the last exchange, the spool and the document in force, for GET /status. */
    Map<String, Object> status() {
        Map<String, Object> s = new java.util.LinkedHashMap<>();
        s.put("server", link == null ? null : link.server().toString());
        s.put("enrolled", enrollment != null && enrollment.credential() != null);
        s.put("up", report.up);
        s.put("last_problem", report.up ? null : lastProblem);
        s.put("status_refused", statusRefused);
        long when = delivered;
        s.put("last_delivery", when == 0 ? null : java.time.Instant.ofEpochMilli(when).toString());
        Map<String, Object> sp = new java.util.LinkedHashMap<>();
        sp.put("records", spool.records());
        sp.put("bytes", spool.bytes());
        long oldest = spool.oldestMillis();
        sp.put("oldest", oldest == Long.MAX_VALUE ? null : java.time.Instant.ofEpochMilli(oldest).toString());
        sp.put("dropped", new java.util.TreeMap<>(spool.dropped()));
        s.put("spool", sp);
        RemoteConfig.Document doc = inForce;
        s.put("config_document", doc == null ? null : Map.of("version", doc.version(), "origin", String.valueOf(doc.origin())));
        return s; // the bundle updates it reports to the server are the updater's section's own "reports"
    }
    private final FileFetcher files;
    private final ServiceRegistration<io.sonde.agent.spi.ServerFiles> filesRegistration;
    private final Thread sender;
    private final Path stateDir;
    private final java.util.concurrent.ExecutorService httpExecutor = java.util.concurrent.Executors.newSingleThreadExecutor(io.sonde.base.DaemonThreads.named("sonde-uplink-http"));
    /** The server, null while the configuration does not say one that can be used. */
    private final ServerExchange link;
    private final Enrollment enrollment;
    private final java.util.Set<URI> warned = new java.util.HashSet<>(); // instances that failed since the last success
    private final UplinkConfig config;
    private final AgentIdentity identity;
    private final String version;
    private volatile boolean running = true;
    private volatile String lastProblem;
    private int batchLimit;
    private final BundleContext context;
    private final ConfigDocuments documents;
    /** The server's document in force, and where it came from; null until there is one. */
    private volatile RemoteConfig.Document inForce;
    private ServiceRegistration<RemoteConfig> configRegistration;
    /** What the core made of the document: sent with the next status. */
    private volatile Applied applied;
    private volatile boolean statusDue;
    /** What the updater did with the document's bundles: sent with every status. */
    private volatile List<AgentStatus.Update> updates = List.of();
    /** When the server last took a batch (epoch ms), 0: none since start. */
    private volatile long delivered;
    private String lastConfigProblem;
    private long nextConfig;
    /** The cadence the server asks for (ms between batches unless a full one waits); 0: as soon as there are results. */
    private volatile long batchIntervalMs;
    /** No batch before this (epoch ms), unless a full one waits. */
    private long nextBatchAt;
    /** When an acknowledgement last said the version of this agent's document (epoch ms), 0: never. */
    private long versionToldAt;

    /**
     * How often the document is asked for while the server says its version with every batch: the
     * version tells of a change within a batch's time, this only catches what it cannot (a document
     * of the same version the cache kept wrongly, a server that stopped saying).
     */
    static final long TOLD_CONFIG_POLL_MS = 60_000;
    /** How long a version the server said stands for the poll, after which the agent polls at its own pace again. */
    static final long VERSION_TOLD_FOR_MS = 120_000;

    /** The probe kinds installed, each with its prober: announced to the server with every status. */
    private final Map<String, io.sonde.api.Prober> kinds = new java.util.concurrent.ConcurrentSkipListMap<>();

    @org.osgi.service.component.annotations.Reference(cardinality = org.osgi.service.component.annotations.ReferenceCardinality.MULTIPLE,
            policy = org.osgi.service.component.annotations.ReferencePolicy.DYNAMIC)
    void addProber(io.sonde.api.Prober prober, Map<String, Object> props) {
        Object kind = props.get(io.sonde.api.Prober.PROBE_TYPE);
        if (kind != null) {
            kinds.put(io.sonde.api.Target.canonicalKind(kind.toString()), prober);
            kindsChanged();
        }
    }

    /** A kind came or went: the server hears of it with a status now, before the kind's first results are read. */
    private void kindsChanged() {
        kindsGeneration.incrementAndGet();
        statusDue = true;
        Thread s = sender;
        if (s != null) {
            LockSupport.unpark(s);
        }
    }

    void removeProber(io.sonde.api.Prober prober, Map<String, Object> props) {
        Object kind = props.get(io.sonde.api.Prober.PROBE_TYPE);
        if (kind != null) {
            if (kinds.remove(io.sonde.api.Target.canonicalKind(kind.toString()), prober)) {
                kindsChanged();
            }
        }
    }

    /** @return the kinds installed, the options each takes and what its results hold, as the status announces them */
    private com.google.gson.JsonObject kindSchemas() {
        com.google.gson.JsonObject out = new com.google.gson.JsonObject();
        kinds.forEach((kind, prober) -> {
            try {
                io.sonde.api.TargetSchema schema = prober.schema();
                if (schema != null) {
                    com.google.gson.JsonObject k = WireCodec.gson().toJsonTree(schema).getAsJsonObject();
                    // what its results hold and mean, so that the server and the dashboard read any kind by the roles of its values
                    k.add("results", WireCodec.gson().toJsonTree(prober.resultSchema()));
                    out.add(kind, k);
                }
            } catch (RuntimeException | LinkageError e) {
                LOG.warn("The {} prober's schema cannot be announced: {}", kind, e.toString());
            }
        });
        return out;
    }

    /** The core's report on a document. */
    private record Applied(String version, List<RemoteConfig.Rejected> rejected) {
    }

    /** The agent's own IP-to-AS table (etc/io.sonde.asn.cfg), if it has one: hops and paths are sent with their AS. */
    @Reference(cardinality = org.osgi.service.component.annotations.ReferenceCardinality.OPTIONAL,
            policy = org.osgi.service.component.annotations.ReferencePolicy.DYNAMIC,
            policyOption = org.osgi.service.component.annotations.ReferencePolicyOption.GREEDY)
    private volatile io.sonde.asn.AsnLookup asns;

    @Activate
    public Uplink(BundleContext context, UplinkConfig config, Map<String, Object> properties,
            @Reference AgentIdentity identity, @Reference UplinkReport report) throws IOException {
        this.config = config;
        this.identity = identity;
        this.context = context;
        this.version = context.getBundle().getVersion().toString();
        Path home = io.sonde.base.Home.of(context::getProperty);
        this.stateDir = home.resolve("data").resolve("state");
        this.batchLimit = Math.max(1, config.batch__max__results());
        this.spool = Spool.open(home.resolve("data").resolve("spool"), Math.max(1, config.spool__max__mb()) * 1024L * 1024L,
                TimeUnit.HOURS.toMillis(Math.max(1, config.spool__max__age__h())), System::currentTimeMillis);
        this.report = report;

        String source = ConfigSource.of(properties, "configuration " + UplinkConfig.PID);
        List<URI> urls = List.of();
        HttpClient client = null;
        try {
            urls = serverUrls(config.server__url());
            String caFile = config.server__ca__file().strip();
            SSLContext tls = ServerTrust.context(config.server__ca__sha256(), caFile.isEmpty() ? null : home.resolve(caFile));
            // one thread of its own for the client's work: the sender waits for each exchange anyway
            client = HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(5))
                    .version(HttpClient.Version.HTTP_1_1).executor(httpExecutor).build();
        } catch (IllegalArgumentException | IOException | java.security.GeneralSecurityException e) {
            // results are still spooled: they go out once the configuration is mended
            LOG.error("Configuration error: {}: {}; results are kept in the spool until it is mended", source, e.getMessage());
        }
        this.link = client == null || urls.isEmpty() ? null : new ServerExchange(client, urls);
        this.enrollment = link == null ? null : new Enrollment(config, identity, version, stateDir,
                properties, link, spool::records);
        this.sender = io.sonde.base.DaemonThreads.of("sonde-uplink", this::run);
        this.documents = new ConfigDocuments(stateDir);
        loadKeptDocument();
        this.files = link == null ? null : new FileFetcher(client, () -> {
            Enrollment.Credential c = enrollment.credential();
            return c == null ? null : new FileFetcher.Endpoint(link.server(), c.credential());
        }, Duration.ofSeconds(30));
        this.filesRegistration = files == null ? null : context.registerService(io.sonde.agent.spi.ServerFiles.class, files, null);
        report.attach(this, spool);
        if (link != null) {
            LOG.info("Uplink to {} as agent {} (spool epoch {}, {} results waiting)", link.named(), identity.agentId(),
                    spool.epoch(), spool.records());
            sender.start();
        }
    }

    /** @return the URLs of {@code server_url}: one, or several comma-separated, each once */
    static List<URI> serverUrls(String text) {
        return io.sonde.wire.UplinkSettings.serverUrls(text);
    }

    @Deactivate
    void deactivate() throws InterruptedException {
        running = false;
        LockSupport.unpark(sender);
        if (sender.isAlive()) {
            sender.interrupt();
            sender.join(3000);
        }
        synchronized (this) {
            if (configRegistration != null) {
                configRegistration.unregister();
                configRegistration = null;
            }
        }
        if (filesRegistration != null) {
            filesRegistration.unregister();
            files.close();
        }
        report.detach(this);
        httpExecutor.shutdownNow();
        spool.close();
    }

    @Override
    public void accept(ProbeResult result) {
        accept(result, null);
    }

    /** Spools the result with when its target is probed next: the server counts a backed-off target as down until then. */
    @Override
    public void accept(ProbeResult result, io.sonde.agent.spi.NextProbe next) {
        long seq = spool.append(result.startedAt().toEpochMilli(), s -> ResultEncoder.encode(s, result, next, asns));
        if (changed(outcomes, outcomeKey(result.target()), result.isSuccessful()) && seq > changeSeq) {
            changeSeq = seq; // spooled above: the sender's next read has it
            LockSupport.unpark(sender);
        }
    }

    /** A target gone: its last outcome is forgotten (one that comes back starts afresh). */
    @Override
    public void targetRemoved(io.sonde.api.Target target) {
        outcomes.remove(outcomeKey(target));
    }

    static String outcomeKey(io.sonde.api.Target target) {
        return target.kind() + "/" + target.name();
    }

    /** The most targets whose last outcome is kept; beyond, the outcomes start again (a change is then missed once). */
    static final int MAX_OUTCOMES = 100_000;
    /** Each target's last outcome (kind/name: success), to send a change at once rather than at the server's pace. */
    private final Map<String, Boolean> outcomes = new java.util.concurrent.ConcurrentHashMap<>();
    /**
     * The newest result that changed its target's outcome: until the server acknowledged it, batches go
     * one after another, whatever the pace (behind a backlog too, as small batches after a busy answer).
     */
    private volatile long changeSeq;

    /**
     * A target that went down (or came back) is what the server must hear first: its alert rules and
     * health list should not wait for the pace it tells (up to a minute for a large fleet). The first
     * result of a target is no change (its outcome before is not known here).
     *
     * @param outcomes each target's last outcome, updated
     * @return whether this outcome differs from the target's last one
     */
    static boolean changed(Map<String, Boolean> outcomes, String target, boolean success) {
        if (outcomes.size() >= MAX_OUTCOMES && !outcomes.containsKey(target)) {
            outcomes.clear();
        }
        Boolean before = outcomes.put(target, success);
        return before != null && before != success;
    }

    /** The sink's queue ran dry: what it appended goes to disk in one write. */
    @Override
    public void flush() {
        spool.flush();
    }

    // --- the sender thread ---

    private void run() {
        long backoff = 0;
        long nextSync = 0;
        enrollment.load();
        while (running) {
            try {
                long now = System.currentTimeMillis();
                if (now >= nextSync) {
                    spool.sync();
                    spool.maintain();
                    nextSync = now + SYNC_MS;
                }
                enrollment.ensure();
                if (now >= nextConfig) {
                    nextConfig = now + configPollMs(Math.max(1, config.config__poll__s()) * 1000L, now - versionToldAt);
                    fetchConfig();
                }
                long statusIntervalMs = Math.max(1, config.status__interval__s()) * 1000L;
                // an agent the server paces beyond the interval is heard from by its batches: no status between two of them
                long quietMs = Math.max(statusIntervalMs, 2 * batchIntervalMs);
                if (now >= statusHeldUntil && (statusDue || statusNeeded(now, statusSentAt, heardAt, quietMs))) {
                    statusDue = false;
                    try {
                        if (!sendStatus()) { // refused for good: the results go on, the status is tried again after the interval
                            statusHeldUntil = now + statusIntervalMs;
                            statusDue = true;
                        }
                    } catch (Failure f) {
                        statusDue = true; // what it had to say is said after the wait
                        throw f;
                    }
                    statusSentAt = now;
                    heardAt = now;
                }
                // at the server's cadence, or at once when a full batch or a target's change waits
                boolean due = spool.acked() < changeSeq || now >= nextBatchAt || spool.records() >= batchLimit;
                List<Spool.Record> batch = due ? spool.read(batchLimit, Math.max(1024, config.batch__max__bytes())) : List.of();
                if (batch.isEmpty()) {
                    healthy();
                    backoff = 0;
                    if (!statusDue || now < statusHeldUntil) {
                        long idle = due ? IDLE_POLL_MS : Math.max(1, Math.min(IDLE_POLL_MS, nextBatchAt - now));
                        if (statusDue) {
                            idle = Math.max(1, Math.min(idle, statusHeldUntil - now));
                        }
                        LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(idle));
                    }
                    continue;
                }
                upload(batch);
                healthy();
                backoff = 0;
            } catch (Failure f) {
                if (f.retryAfterMs > 0) {
                    // the server answered, busy: a status to say the agent is alive would be turned away as well
                    heardAt = System.currentTimeMillis();
                    versionToldAt = toldAfterBusy(versionToldAt, heardAt);
                }
                report.up = false;
                String problem = link.server() + ": " + f.getMessage();
                if (!problem.equals(lastProblem) && (!link.several() || warned.add(link.server()))) {
                    LOG.warn("Uplink to {}; results are spooled ({} waiting) and sent when it works again", problem, spool.records());
                }
                lastProblem = problem;
                if (link.failed(f.refused)) {
                    continue; // another instance of the same server, at once: the backoff only once all of them failed
                }
                backoff = backoff == 0 ? BACKOFF_FIRST_MS : Math.min(BACKOFF_MAX_MS, backoff * 2);
                long wait = f.retryAfterMs > 0 ? ServerExchange.afterRetryAfter(f.retryAfterMs, ThreadLocalRandom.current().nextDouble())
                        : (long) (backoff * (0.5 + 0.5 * ThreadLocalRandom.current().nextDouble()));
                sleep(wait);
            } catch (IOException | RuntimeException e) {
                report.up = false;
                LOG.error("Uplink failed; trying again", e);
                sleep(BACKOFF_MAX_MS);
            }
        }
    }

    private void healthy() {
        if (!report.up && lastProblem != null) {
            LOG.info("Uplink to {} works again; {} results waiting", link.server(), spool.records());
        }
        lastProblem = null;
        warned.clear();
        link.worked();
        report.up = true;
    }

    private void sleep(long ms) {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        while (running && System.nanoTime() < end) {
            LockSupport.parkNanos(this, end - System.nanoTime());
            if (Thread.interrupted()) {
                return;
            }
        }
    }

    private void upload(List<Spool.Record> batch) throws Failure, IOException {
        byte[] body = batchBody(batch);
        long t0 = System.nanoTime();
        report.sent.addAndGet(batch.size());
        HttpResponse<byte[]> r = link.send(HttpRequest.newBuilder(link.agentEndpoint(credential().agentId(), "results"))
                .header("Authorization", "Bearer " + credential().credential())
                .header("Content-Type", "application/json")
                .header("Content-Encoding", "gzip")
                .header(io.sonde.wire.ResultBatch.SPOOL_HEADER, Long.toString(Math.max(0, spool.records() - batch.size())))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
        long last = batch.get(batch.size() - 1).seq();
        int status = r.statusCode();
        if (status == 200) {
            report.batchSeconds.observe((System.nanoTime() - t0) / 1e9);
            BatchAck ack = ServerExchange.readOr(r, BatchAck.class, null);
            spool.ack(last);
            delivered = System.currentTimeMillis();
            report.acked.addAndGet(batch.size());
            batchLimit = Math.min(Math.max(1, config.batch__max__results()), batchLimit * 2);
            told(ack, System.currentTimeMillis());
            if (ack != null && ack.accepted() + ack.duplicates() != batch.size()) {
                LOG.warn("The server acknowledged {} new and {} known results for a batch of {} (up to {})",
                        ack.accepted(), ack.duplicates(), batch.size(), last);
            }
            return;
        }
        String why = ServerExchange.message(r);
        if (status == 401 || status == 403) {
            throw enrollment.lockedOut(status, why);
        }
        if (ServerExchange.refusedForGood(status)) {
            if (batch.size() > 1) { // find the result it refuses: halve until it is alone
                batchLimit = Math.max(1, batch.size() / 2);
                LOG.warn("The server refused a batch of {} results ({}: {}); sending smaller batches", batch.size(), status, why);
                return;
            }
            LOG.error("The server refused result {} of epoch {} for good ({}: {}); it is dropped", last, spool.epoch(), status, why);
            spool.rejected(1);
            spool.ack(last);
            return;
        }
        if (status == 429 || status == 503) {
            // the server read the whole batch to turn it away: the tries while it is busy are small, and grow again as taken
            batchLimit = Math.min(batchLimit, BUSY_BATCH_RESULTS);
        }
        throw new Failure("results answered " + status + ": " + why, ServerExchange.retryAfter(r));
    }

    /**
     * The most results of a batch sent after one was turned away busy; each batch taken doubles the
     * bound again, up to {@code batch_max_results}. A busy server reads a refused batch to its end (so
     * that the connection stays): a fleet that keeps offering its whole backlog to a server that
     * turns it away costs it the backlog's bytes at every try.
     */
    static final int BUSY_BATCH_RESULTS = 100;

    /** When this uplink's status was last taken by the server (0: not yet). */
    private long statusSentAt;
    /** When the server last answered a batch or a status, or said it was busy: no status is needed to say the agent is alive. */
    private long heardAt;

    /**
     * A status says the agent's version, configuration, updates, kinds and address; a batch already
     * says it is alive and how many results wait in its spool. So, beside a change (sent at once), a
     * status goes only when no batch was answered for the status interval (an agent with nothing to
     * send), every {@link BatchAck#STATUS_REFRESH_MS} (instances over one store), and when the server
     * asks for one. A server that answers busy (429, 503 with Retry-After) is not sent statuses to
     * say the agent is alive: they would be turned away too, and add to its load.
     *
     * @return whether a status is due without a change
     */
    static boolean statusNeeded(long now, long sentAt, long heardAt, long intervalMs) {
        return sentAt == 0 || now - sentAt >= BatchAck.STATUS_REFRESH_MS || now - heardAt >= intervalMs;
    }

    /** What an acknowledgement says beside the count: the cadence, whether the document changed, whether a status is wanted. */
    private void told(BatchAck ack, long now) {
        heardAt = now;
        if (ack != null && ack.statusWanted()) {
            statusDue = true;
        }
        batchIntervalMs = ack == null ? 0 : Math.max(0, Math.min(BatchAck.MAX_BATCH_INTERVAL_MS, ack.batchIntervalMs()));
        nextBatchAt = now + batchIntervalMs;
        if (ack != null && ack.configVersion() != null) {
            versionToldAt = now;
            RemoteConfig.Document held = inForce;
            if (held == null || !ack.configVersion().equals(held.version()) || !RemoteConfig.SERVER.equals(held.origin())) {
                nextConfig = 0; // another document, or one not confirmed by the server yet: ask for it now
            }
        }
    }

    /**
     * @param ownMs   the configured poll ({@code config_poll_s})
     * @param sinceMs how long ago an acknowledgement last said the document's version
     * @return the time to the next request for the document
     */
    /**
     * A server that tells the document's version in its answers and now answers busy will tell it
     * again in the answers to come: the agent does not fall back to asking for its document at its
     * own pace (every 5 s by default) — every one of those requests would be turned away too, and a
     * fleet turned away for minutes would multiply the load it is turned away for.
     *
     * @return when the version counts as told, after a busy answer at {@code now}
     */
    static long toldAfterBusy(long versionToldAt, long now) {
        return versionToldAt == 0 ? 0 : now;
    }

    static long configPollMs(long ownMs, long sinceMs) {
        return sinceMs >= 0 && sinceMs < VERSION_TOLD_FOR_MS ? Math.max(ownMs, TOLD_CONFIG_POLL_MS) : ownMs;
    }

    private byte[] batchBody(List<Spool.Record> batch) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(batch.size() * 48 + 256);
        GZIPOutputStream gzip = new GZIPOutputStream(bytes, 8192) {
            {
                def.setLevel(java.util.zip.Deflater.BEST_SPEED); // a third of the default level's CPU, 10-15 % larger
            }
        };
        try (JsonWriter w = new JsonWriter(new OutputStreamWriter(gzip, StandardCharsets.UTF_8))) {
            w.beginObject();
            w.name("schema").value(WireCodec.SCHEMA);
            w.name("agent_id").value(credential().agentId());
            w.name("epoch").value(spool.epoch());
            w.name("results").beginArray();
            for (Spool.Record rec : batch) {
                w.jsonValue(new String(rec.payload(), StandardCharsets.UTF_8)); // stored as JSON when spooled
            }
            w.endArray();
            w.endObject();
        }
        return bytes.toByteArray();
    }

    /** The hash of the kinds the server last took in full from this agent: statuses name them by it until they change. */
    private String kindsHeard;
    /** Rises with every kind that comes or goes. */
    private final java.util.concurrent.atomic.AtomicLong kindsGeneration = new java.util.concurrent.atomic.AtomicLong();
    /** The kinds' schemas and their hash as of a generation: built again only when a kind came or went, not at every status. */
    private record Announcement(long generation, com.google.gson.JsonObject kinds, String hash) {
    }

    private Announcement announcement;

    /** @return the kinds as they are now, from the cache while no kind came or went since it was made */
    private Announcement announcement() {
        long generation = kindsGeneration.get();
        Announcement a = announcement;
        if (a == null || a.generation() != generation) {
            com.google.gson.JsonObject kinds = kindSchemas(); // a kind that comes meanwhile raises the generation: made again next time
            a = new Announcement(generation, kinds, sha256(WireCodec.json(kinds)));
            announcement = a;
        }
        return a;
    }

    /** Statuses are not sent before this time: the server refused the last one for good (0: none refused). */
    private long statusHeldUntil;
    /** Why the server refused this agent's last status for good, or null: shown on GET /status. */
    private volatile String statusRefused;

    /**
     * Sends this agent's status. A status the server refuses for good (400, 413, 422: it would refuse
     * the same again) holds nothing back: it is logged once for each reason, shown on GET /status and
     * counted, and the results go on.
     *
     * @return whether the server took it
     */
    private boolean sendStatus() throws Failure {
        long oldest = spool.oldestMillis();
        Applied a = applied;
        RemoteConfig.Document doc = inForce;
        String advertise = config.advertise__address().strip();
        Announcement announced = announcement();
        com.google.gson.JsonObject kinds = announced.kinds();
        String kindsHash = announced.hash();
        boolean full = !kindsHash.equals(kindsHeard); // tens of KB, sent only when the server may not hold them
        AgentStatus s = new AgentStatus(WireCodec.SCHEMA, version, spool.records(),
                oldest == Long.MAX_VALUE ? 0 : Math.max(0, System.currentTimeMillis() - oldest) / 1000.0,
                a == null ? null : a.version(), doc == null ? null : doc.origin(),
                a == null ? List.of() : ConfigDocuments.bounded(a.rejected()), advertise.isEmpty() ? null : advertise, updates,
                full ? kinds : null, kindsHash);
        HttpResponse<byte[]> r = link.send(HttpRequest.newBuilder(link.agentEndpoint(credential().agentId(), "status"))
                .header("Authorization", "Bearer " + credential().credential())
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(WireCodec.json(s))));
        if (r.statusCode() == 401 || r.statusCode() == 403) {
            throw enrollment.lockedOut(r.statusCode(), ServerExchange.message(r));
        }
        if (ServerExchange.refusedForGood(r.statusCode())) {
            String why = r.statusCode() + ": " + ServerExchange.message(r);
            if (!why.equals(statusRefused)) {
                LOG.error("The server refused this agent's status for good ({}); results are sent all the same, and the status"
                        + " is tried again every {} s", why, Math.max(1, config.status__interval__s()));
            }
            statusRefused = why;
            report.statusRefused.incrementAndGet();
            return false;
        }
        if (r.statusCode() != 200 && r.statusCode() != 204) {
            throw new Failure("status answered " + r.statusCode() + ": " + ServerExchange.message(r), ServerExchange.retryAfter(r));
        }
        statusRefused = null;
        if (statusAck(r.statusCode(), r.body()).kindsWanted() && !full) {
            kindsHeard = null; // the server (restarted, or another instance) does not hold them: the next status, at once
            statusDue = true;
        } else if (full) {
            kindsHeard = kindsHash;
        }
        return true;
    }

    /**
     * @return the server's answer to a status; one that says nothing asks for nothing (a 204, servers
     *         before 1.5), and neither does one that is not a StatusAck (the status was taken: a
     *         server's odd answer is no reason to send the kinds again and again)
     */
    static io.sonde.wire.StatusAck statusAck(int status, byte[] body) {
        if (status != 200 || body == null || body.length == 0) {
            return new io.sonde.wire.StatusAck(WireCodec.SCHEMA, false);
        }
        try {
            io.sonde.wire.StatusAck a = WireCodec.gson().fromJson(new String(body, java.nio.charset.StandardCharsets.UTF_8),
                    io.sonde.wire.StatusAck.class);
            return a == null ? new io.sonde.wire.StatusAck(WireCodec.SCHEMA, false) : a;
        } catch (RuntimeException e) {
            return new io.sonde.wire.StatusAck(WireCodec.SCHEMA, false);
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java has SHA-256", e);
        }
    }

    /**
     * Asks the server for this agent's document, naming the one in force: an unchanged one is a 304
     * and nothing more. A document that is not good (not JSON, another agent's, another schema) is
     * reported and the one in force stays; so does a server that answers without one.
     */
    private void fetchConfig() throws Failure {
        RemoteConfig.Document now = inForce;
        HttpRequest.Builder request = HttpRequest.newBuilder(link.agentEndpoint(credential().agentId(), "config"))
                .header("Authorization", "Bearer " + credential().credential())
                .header("Accept-Encoding", "gzip");
        if (now != null) {
            request.header("If-None-Match", "\"" + now.version() + "\"");
        }
        HttpResponse<byte[]> r = link.send(request.GET());
        int status = r.statusCode();
        if (status == 304 && now != null) {
            if (!RemoteConfig.SERVER.equals(now.origin())) {
                LOG.info("The server confirms the kept configuration document {}", now.version());
                take(new RemoteConfig.Document(now.version(), now.json(), RemoteConfig.SERVER), false);
            }
            configProblem(null);
            return;
        }
        if (status == 401 || status == 403) {
            throw enrollment.lockedOut(status, ServerExchange.message(r));
        }
        if (status == 429 || status == 503) { // busy, or its store away: no problem of the document; ask again after the wait
            nextConfig = 0;
            throw new Failure("configuration answered " + status + ": " + ServerExchange.message(r), ServerExchange.retryAfter(r));
        }
        if (status != 200) {
            configProblem("the server answered " + status + " for this agent's configuration document: " + ServerExchange.message(r));
            return;
        }
        ConfigDocuments.Document doc;
        try {
            boolean gzip = r.headers().firstValue("Content-Encoding").map(v -> v.strip().equalsIgnoreCase("gzip")).orElse(false);
            doc = ConfigDocuments.check(new ByteArrayInputStream(r.body()), gzip, credential().agentId());
        } catch (WireException e) {
            report.configRefused.incrementAndGet();
            configProblem("the server's configuration document is refused, the one in force stays"
                    + (now == null ? "" : " (" + now.version() + ")") + ": " + e.getMessage());
            return;
        }
        configProblem(null);
        if (now != null && now.version().equals(doc.version()) && now.json().equals(doc.json())) {
            if (!RemoteConfig.SERVER.equals(now.origin())) {
                take(new RemoteConfig.Document(now.version(), now.json(), RemoteConfig.SERVER), false);
            }
            return;
        }
        try {
            documents.save(doc);
        } catch (IOException e) {
            LOG.warn("Cannot keep the configuration document in {} ({}); it is applied, but a start without the server"
                    + " will not have it", documents.cacheFile(), e.toString());
        }
        LOG.info("Configuration document {} from the server{}", doc.version(), now == null ? "" : " (was " + now.version() + ")");
        take(new RemoteConfig.Document(doc.version(), doc.json(), RemoteConfig.SERVER), true);
    }

    /** Logs a problem with the configuration document once, and that it is over. */
    private void configProblem(String problem) {
        if (problem != null && !problem.equals(lastConfigProblem)) {
            LOG.warn("{}", problem);
        }
        lastConfigProblem = problem;
    }

    /** The document kept on disk, in force at once: the server may be away for a while. */
    private void loadKeptDocument() {
        try {
            ConfigDocuments.Document kept = documents.load(identity.agentId());
            if (kept != null) {
                LOG.info("Running on the configuration document kept in {} (version {}) until the server sends one",
                        documents.cacheFile(), kept.version());
                take(new RemoteConfig.Document(kept.version(), kept.json(), RemoteConfig.SERVER_CACHE), true);
            }
        } catch (IOException e) {
            report.configRefused.incrementAndGet();
            LOG.warn("The kept configuration document {} is unusable and ignored ({}); waiting for the server's",
                    documents.cacheFile(), e.getMessage());
        }
    }

    /** Puts {@code doc} in force: the service's properties say its version, the core reads it. */
    private synchronized void take(RemoteConfig.Document doc, boolean changed) {
        inForce = doc;
        if (!running) {
            return;
        }
        Dictionary<String, Object> props = new Hashtable<>();
        props.put(RemoteConfig.VERSION, doc.version());
        props.put(RemoteConfig.ORIGIN, doc.origin());
        if (configRegistration == null) {
            configRegistration = context.registerService(RemoteConfig.class, new Held(), props);
        } else {
            configRegistration.setProperties(props);
        }
        if (!changed) {
            statusDue = true; // the source changed: the server hears it at once
        }
    }

    /** The service: the document in force, and the core's report on it. */
    private final class Held implements RemoteConfig {

        @Override
        public Document document() {
            return inForce;
        }

        @Override
        public void updated(List<BundleUpdate> list) {
            List<AgentStatus.Update> out = new java.util.ArrayList<>();
            for (BundleUpdate u : list) {
                if (out.size() < AgentStatus.MAX_REJECTED) {
                    out.add(new AgentStatus.Update(u.symbolicName(), u.version(), u.rollout(), u.state(), u.reason()));
                }
            }
            updates = List.copyOf(out);
            statusDue = true;
            LockSupport.unpark(sender);
        }

        @Override
        public long delivered() {
            return delivered;
        }

        @Override
        public long batchIntervalMs() {
            return batchIntervalMs;
        }

        @Override
        public void applied(String appliedVersion, List<Rejected> rejected) {
            applied = new Applied(appliedVersion, List.copyOf(rejected));
            statusDue = true;
            LockSupport.unpark(sender);
        }
    }

    /** @return the credential in use: the sender's exchanges run after {@link Enrollment#ensure()} */
    private Enrollment.Credential credential() {
        return enrollment.credential();
    }
}
