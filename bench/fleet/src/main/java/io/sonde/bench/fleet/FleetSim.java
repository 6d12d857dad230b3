package io.sonde.bench.fleet;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

import org.eclipse.jetty.client.BufferingResponseListener;
import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

// Over 500 lines: a benchmark program: one simulated agent's whole protocol beside its command line, read top to bottom.
/**
 * A fleet of simulated agents against a running Sonde server, each speaking the agent's protocol at
 * the agent's pace over <b>its own TLS connection</b> (one Jetty destination per agent, by request
 * tag, at most one connection each): enrolled with a token, then a gzip batch of the results it has
 * about every second ({@code IDLE_POLL_MS}) or at the pace the server's answers ask (a full batch at
 * once), its configuration document every 5 s with the version it holds ({@code If-None-Match}) or,
 * while the answers name the document's version, when it changed and once a minute, its status
 * (with the kinds a real agent announces the first time and when the server asks for them, by their
 * hash otherwise) when its document changed, when a batch's answer asks for one, when no batch was
 * answered for 15 s and every 5 minutes, each batch telling its spool count: what the agent of this
 * build does ({@code --statuses every}: every 15 s, as agents before wire 1.6).
 * Each agent has {@code --targets} tcp targets probed every {@code --interval} s at random phases;
 * a batch in flight holds the next one back, as the agent's one sender does. A 429 or 503 is waited
 * out as the agent does (Retry-After plus up to 50 % jitter); results are kept until acknowledged,
 * so the backlog is what the fleet produced and the server has not taken yet.
 *
 * <p>Reported as one JSON line at the end, for the measured window after the warm-up: requests,
 * p50/p99/max per endpoint, answers by status, results produced, acknowledged (new and duplicate)
 * and waiting, the server's CPU (cores) and RSS sampled from /proc, and this generator's own CPU.
 *
 * <pre>
 * java -cp target/classes:target/lib/* io.sonde.bench.fleet.FleetSim --port P --ca ca.pem --token T
 *      --agents 1000 --seconds 300 --warmup 60 --server-pid PID [--status status.json] [--prefix fleet]
 *      [--status-kinds hash|full]   (full: the kinds in every status, as agents before wire 1.5)
 *      [--statuses quiet|every]     (every: a status every 15 s, as agents before wire 1.6)
 * </pre>
 */
public final class FleetSim {

    static final Gson GSON = new Gson();

    enum Endpoint { RESULTS, CONFIG, STATUS }

    /** Latencies in microseconds of the measured window, and answers by status. */
    static final class Stats {
        final int[][] micros = new int[Endpoint.values().length][];
        final AtomicInteger[] count = new AtomicInteger[Endpoint.values().length];
        final Map<String, LongAdder> statuses = new ConcurrentHashMap<>();

        Stats(int capacity) {
            for (Endpoint e : Endpoint.values()) {
                micros[e.ordinal()] = new int[capacity];
                count[e.ordinal()] = new AtomicInteger();
            }
        }

        void record(Endpoint e, long nanos, int status) {
            int i = count[e.ordinal()].getAndIncrement();
            if (i < micros[e.ordinal()].length) {
                micros[e.ordinal()][i] = (int) Math.min(Integer.MAX_VALUE, nanos / 1000);
            }
            statuses.computeIfAbsent(e.name().toLowerCase() + " " + status, k -> new LongAdder()).increment();
        }

        Map<String, Object> summary(Endpoint e) {
            int n = Math.min(count[e.ordinal()].get(), micros[e.ordinal()].length);
            int[] v = Arrays.copyOf(micros[e.ordinal()], n);
            Arrays.sort(v);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("requests", count[e.ordinal()].get());
            m.put("p50_ms", n == 0 ? null : v[n / 2] / 1000.0);
            m.put("p99_ms", n == 0 ? null : v[Math.min(n - 1, (int) (n * 0.99))] / 1000.0);
            m.put("max_ms", n == 0 ? null : v[n - 1] / 1000.0);
            return m;
        }
    }

    /**
     * One simulated agent: one sender, one request at a time, as the agent's uplink thread — its
     * document when due, then its status when due, then a batch when one is due (the server's pace,
     * or a full one); a failed exchange (an answer other than the expected, none within 10 s) pauses
     * it for Retry-After plus up to half as long again, else 1 s doubling to 30 s with jitter.
     */
    final class Agent {
        final String id;
        final String credential;
        final String epoch = Long.toHexString(ThreadLocalRandom.current().nextLong());
        final int[] phase;
        final List<String> pending = new ArrayList<>(); // results not acknowledged yet, oldest first
        long seq;
        int tick;
        boolean busy; // a request of this agent is in flight
        long pauseUntil; // after a failure
        long backoff;
        long nextConfig;
        long nextStatus;
        long nextBatchAt; // the server's cadence: no batch before this unless a full one waits
        long toldAt; // when an answer last named the document's version
        String configVersion;
        boolean kindsHeard; // the server took this agent's kinds in full: statuses name them by their hash
        long heardAt; // the server last answered a batch or a status
        long statusSentAt; // the server last took a status (0: never)
        long pace; // the batch interval the server told last (ms)
        int limit = 5000; // the most results of a batch: as the agent, 100 after one turned away busy, doubled by each taken
        String statusConfig; // the document's version the last status told

        Agent(String id, String credential) {
            this.id = id;
            this.credential = credential;
            this.phase = new int[targets];
            for (int i = 0; i < targets; i++) {
                phase[i] = ThreadLocalRandom.current().nextInt(interval);
            }
            long now = System.currentTimeMillis();
            nextConfig = now + ThreadLocalRandom.current().nextInt(5000);
            nextStatus = now + ThreadLocalRandom.current().nextInt(15000);
        }

        /** Once a second: the results of the targets due this second, then the sender's next step. */
        void second() {
            int s = tick++;
            long now = System.currentTimeMillis();
            String started = Instant.ofEpochMilli(now).toString();
            synchronized (this) {
                for (int i = 0; i < targets; i++) {
                    if (s % interval == phase[i]) {
                        seq++;
                        double rt = 0.0002 + ThreadLocalRandom.current().nextInt(3000) / 1e6;
                        pending.add("{\"seq\":" + seq + ",\"target\":\"t" + i + "\",\"kind\":\"tcp\",\"started_at\":\"" + started
                                + "\",\"success\":true,\"response_time_seconds\":" + rt
                                + ",\"details\":{\"address\":\"127.0.0.1\",\"port\":443,\"failed_due_to_regex\":false}"
                                + ",\"next_probe\":\"" + Instant.ofEpochMilli(now + interval * 1000L) + "\",\"backoff\":false}");
                        produced.incrementAndGet();
                    }
                }
            }
            step();
        }

        /** The sender's next exchange, if none is in flight and one is due. */
        void step() {
            if (!running) {
                return;
            }
            int what;
            synchronized (this) {
                long now = System.currentTimeMillis();
                if (busy || now < pauseUntil) {
                    return;
                }
                if (now >= nextConfig && producing) {
                    nextConfig = now + (now - toldAt < 120_000 ? 60_000 : 5_000);
                    what = 0;
                } else if (producing && (everyStatus ? now >= nextStatus : now >= nextStatus && (statusSentAt == 0
                        || now - statusSentAt >= 300_000 || now - heardAt >= Math.max(15_000, 2 * pace) || !java.util.Objects.equals(configVersion, statusConfig)))) {
                    nextStatus = everyStatus ? now + 15_000 : 0;
                    what = 1;
                } else if (!pending.isEmpty() && (now >= nextBatchAt || pending.size() >= limit)) {
                    what = 2;
                } else {
                    return;
                }
                busy = true;
            }
            if (what == 0) {
                fetchConfig();
            } else if (what == 1) {
                sendStatus();
            } else {
                sendBatch();
            }
        }

        /** An exchange ended: the next one at once, or a pause after a failure. */
        void done(boolean ok, Result r) {
            synchronized (this) {
                busy = false;
                if (ok) {
                    backoff = 0;
                } else {
                    backoff = backoff == 0 ? 1000 : Math.min(30_000, backoff * 2);
                    String after = r.isFailed() ? null : r.getResponse().getHeaders().get(HttpHeader.RETRY_AFTER);
                    double j = ThreadLocalRandom.current().nextDouble();
                    long wait = after != null && after.strip().matches("\\d{1,6}") ? (long) (Long.parseLong(after.strip()) * 1000 * (1 + 0.5 * j))
                            : (long) (backoff * (0.5 + 0.5 * j));
                    pauseUntil = System.currentTimeMillis() + wait;
                    if (after != null) {
                        heardAt = System.currentTimeMillis(); // as the agent: a busy server is not sent statuses to say it is alive
                        if (toldAt != 0 && !everyStatus) {
                            toldAt = heardAt; // as the agent: nor asked for its document at the agent's own pace
                        }
                    }
                }
            }
            if (ok) {
                step();
            }
        }

        void sendBatch() {
            List<String> batch;
            synchronized (this) {
                batch = new ArrayList<>(pending.subList(0, Math.min(pending.size(), limit)));
            }
            byte[] body = gzip("{\"schema\":1,\"agent_id\":\"" + id + "\",\"epoch\":\"" + epoch + "\",\"results\":["
                    + String.join(",", batch) + "]}");
            long t0 = System.nanoTime();
            long left = pendingCount() - batch.size();
            request("/api/v1/agents/" + id + "/results", HttpMethod.POST)
                    .headers(h -> {
                        h.put(HttpHeader.CONTENT_ENCODING, "gzip");
                        if (!everyStatus) {
                            h.put("Sonde-Spool-Records", Long.toString(Math.max(0, left)));
                        }
                    })
                    .body(new BytesRequestContent("application/json", body))
                    .send(new BufferingResponseListener(1 << 20) {
                        @Override
                        public void onComplete(Result r) {
                            int status = r.isFailed() ? 0 : r.getResponse().getStatus();
                            measured(Endpoint.RESULTS, System.nanoTime() - t0, status);
                            if ((status == 429 || status == 503) && !everyStatus) {
                                synchronized (Agent.this) {
                                    limit = Math.min(limit, 100);
                                }
                            }
                            if (status == 200) {
                                JsonObject ack = JsonParser.parseString(getContentAsString()).getAsJsonObject();
                                synchronized (Agent.this) {
                                    pending.subList(0, batch.size()).clear();
                                    limit = Math.min(5000, limit * 2);
                                    accepted.addAndGet(ack.get("accepted").getAsLong());
                                    duplicates.addAndGet(ack.get("duplicates").getAsLong());
                                    long now = System.currentTimeMillis();
                                    heardAt = now;
                                    if (ack.has("status_wanted") && ack.get("status_wanted").getAsBoolean() && !everyStatus) {
                                        nextStatus = 0;
                                        statusSentAt = 0; // as the agent: a status at once
                                    }
                                    // as the agent: the server's pace, and its document asked for when the answer names another version
                                    long pace = ack.has("batch_interval_ms") ? ack.get("batch_interval_ms").getAsLong() : 0;
                                    Agent.this.pace = Math.max(0, Math.min(60_000, pace));
                                    nextBatchAt = now + Agent.this.pace;
                                    if (ack.has("config_version") && !ack.get("config_version").isJsonNull()) {
                                        toldAt = now;
                                        if (!ack.get("config_version").getAsString().equals(configVersion)) {
                                            nextConfig = 0;
                                        }
                                    }
                                }
                            }
                            done(status == 200, r);
                        }
                    });
        }

        void fetchConfig() {
            long t0 = System.nanoTime();
            Request q = request("/api/v1/agents/" + id + "/config", HttpMethod.GET)
                    .headers(h -> h.put(HttpHeader.ACCEPT_ENCODING, "gzip"));
            String held = configVersion;
            if (held != null) {
                q.headers(h -> h.put(HttpHeader.IF_NONE_MATCH, "\"" + held + "\""));
            }
            q.send(new BufferingResponseListener(4 << 20) {
                @Override
                public void onComplete(Result r) {
                    int status = r.isFailed() ? 0 : r.getResponse().getStatus();
                    measured(Endpoint.CONFIG, System.nanoTime() - t0, status);
                    if (status == 200) {
                        String etag = r.getResponse().getHeaders().get(HttpHeader.ETAG);
                        configVersion = etag == null ? null : etag.replace("\"", "").replace("W/", "");
                    }
                    // as the agent: a document it cannot get is a problem it reports, not a failure of the exchange
                    done(status != 0 && status != 401 && status != 403, r);
                }
            });
        }

        void sendStatus() {
            long t0 = System.nanoTime();
            boolean full = fullKinds || !kindsHeard;
            String told = configVersion;
            String body = "{\"schema\":1,\"version\":\"fleet-sim\",\"spool_records\":" + pendingCount() + ",\"spool_oldest_seconds\":0.0,"
                    + (configVersion == null ? "" : "\"config_version\":\"" + configVersion + "\",\"config_source\":\"server\",")
                    + "\"config_rejected\":[],\"updates\":[]" + (full ? ",\"kinds\":" + kinds : "")
                    + (fullKinds ? "" : ",\"kinds_hash\":\"" + kindsHash + "\"") + "}";
            request("/api/v1/agents/" + id + "/status", HttpMethod.POST)
                    .body(new BytesRequestContent("application/json", body.getBytes(StandardCharsets.UTF_8)))
                    .send(new BufferingResponseListener(1 << 16) {
                        @Override
                        public void onComplete(Result r) {
                            int status = r.isFailed() ? 0 : r.getResponse().getStatus();
                            measured(Endpoint.STATUS, System.nanoTime() - t0, status);
                            if (status == 200 && getContentAsString().contains("\"kinds_wanted\":true") && !full) {
                                synchronized (Agent.this) { // as the agent: in full, at once
                                    kindsHeard = false;
                                    nextStatus = 0;
                                }
                            } else if ((status == 200 || status == 204) && full) {
                                kindsHeard = true;
                            }
                            if (status == 200 || status == 204) {
                                synchronized (Agent.this) {
                                    statusSentAt = heardAt = System.currentTimeMillis();
                                    statusConfig = told;
                                }
                            }
                            done(status == 200 || status == 204, r);
                        }
                    });
        }

        synchronized int pendingCount() {
            return pending.size();
        }

        Request request(String path, HttpMethod method) {
            return client.newRequest("https://127.0.0.1:" + port + path).tag(id).method(method)
                    .headers(h -> h.put(HttpHeader.AUTHORIZATION, "Bearer " + credential)).timeout(10, TimeUnit.SECONDS);
        }
    }

    static byte[] gzip(String text) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(text.length() / 4 + 64);
        try (GZIPOutputStream z = new GZIPOutputStream(bytes, 8192) {
            {
                def.setLevel(Deflater.BEST_SPEED); // as the agent's uplink
            }
        }) {
            z.write(text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return bytes.toByteArray();
    }

    final int port;
    final int targets;
    final int interval;
    final String kinds;
    final String kindsHash;
    /** Statuses carry the kinds in full every time, as agents before wire 1.5 do (to measure servers before it). */
    final boolean fullKinds;
    /** A status every 15 s whatever changed, as agents before wire 1.6 send (to measure servers before it). */
    final boolean everyStatus;
    final HttpClient client;
    final AtomicLong produced = new AtomicLong();
    final AtomicLong accepted = new AtomicLong();
    /** Exchanges answered 429 or 503, from the start (the timeline). */
    final LongAdder refusedAll = new LongAdder();
    final AtomicLong duplicates = new AtomicLong();
    volatile Stats stats = new Stats(16);
    volatile boolean measuring;
    /** Whether the agents still probe (and poll and report); after the window they only send what they hold. */
    volatile boolean producing = true;
    volatile boolean running = true;

    FleetSim(int port, Path ca, int targets, int interval, String kinds, boolean fullKinds, boolean everyStatus) throws Exception {
        this.everyStatus = everyStatus;
        this.port = port;
        this.targets = targets;
        this.interval = interval;
        this.kinds = kinds;
        this.kindsHash = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(kinds.getBytes(StandardCharsets.UTF_8)));
        this.fullKinds = fullKinds;
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(ca)) {
            trust.setCertificateEntry("sonde-ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        SslContextFactory.Client tls = new SslContextFactory.Client();
        tls.setTrustStore(trust);
        ClientConnector connector = new ClientConnector();
        connector.setSslContextFactory(tls);
        connector.setSelectors(1);
        QueuedThreadPool pool = new QueuedThreadPool(16, 4);
        pool.setName("fleet");
        connector.setExecutor(pool);
        client = new HttpClient(new HttpClientTransportOverHTTP(connector));
        client.setExecutor(pool);
        client.setMaxConnectionsPerDestination(1); // one connection per agent, as the agent's one HttpClient has
        client.setMaxRequestsQueuedPerDestination(64);
        client.setIdleTimeout(120_000);
        client.setFollowRedirects(false);
        client.setUserAgentField(null);
        client.start();
    }

    void measured(Endpoint e, long nanos, int status) {
        if (status == 429 || status == 503) {
            refusedAll.increment();
        }
        if (measuring) {
            stats.record(e, nanos, status);
        }
    }

    /** Enrolls {@code n} agents with {@code token}, 16 at a time; @return id → credential */
    Map<String, String> enroll(String token, String prefix, int n) throws Exception {
        Map<String, String> creds = new ConcurrentHashMap<>();
        java.util.concurrent.ExecutorService workers = Executors.newFixedThreadPool(16);
        CountDownLatch done = new CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            String id = String.format("%s-%05d", prefix, i);
            workers.execute(() -> {
                try {
                    String body = "{\"schema\":1,\"enrollment_token\":\"" + token + "\",\"agent_id\":\"" + id
                            + "\",\"tags\":[\"fleet\"],\"version\":\"fleet-sim\"}";
                    ContentResponse r = client.newRequest("https://127.0.0.1:" + port + "/api/v1/enroll").method(HttpMethod.POST)
                            .body(new BytesRequestContent("application/json", body.getBytes(StandardCharsets.UTF_8)))
                            .timeout(60, TimeUnit.SECONDS).send();
                    if (r.getStatus() != 200) {
                        throw new IllegalStateException("enrollment of " + id + ": " + r.getStatus() + " " + r.getContentAsString());
                    }
                    creds.put(id, JsonParser.parseString(r.getContentAsString()).getAsJsonObject().get("credential").getAsString());
                } catch (Exception e) {
                    System.err.println(e);
                } finally {
                    done.countDown();
                }
            });
        }
        if (!done.await(30, TimeUnit.MINUTES)) {
            throw new IllegalStateException("enrollment took over 30 minutes");
        }
        workers.shutdown();
        if (creds.size() != n) {
            throw new IllegalStateException("enrolled " + creds.size() + " of " + n);
        }
        return creds;
    }

    /** @return the process's CPU ticks so far, 0 for none or once it is gone */
    static long ticksOf(long pid) {
        try {
            return pid > 0 ? cpuTicks(pid) : 0;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    static long rssKb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return 0;
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        int agents = Integer.parseInt(a.getOrDefault("agents", "1000"));
        int seconds = Integer.parseInt(a.getOrDefault("seconds", "300"));
        int warmup = Integer.parseInt(a.getOrDefault("warmup", "60"));
        int ramp = Integer.parseInt(a.getOrDefault("ramp", "0"));
        long serverPid = Long.parseLong(a.getOrDefault("server-pid", "0"));
        String kinds = a.containsKey("kinds") ? Files.readString(Path.of(a.get("kinds"))).strip() : "{}";
        FleetSim sim = new FleetSim(Integer.parseInt(a.get("port")), Path.of(a.get("ca")),
                Integer.parseInt(a.getOrDefault("targets", "10")), Integer.parseInt(a.getOrDefault("interval", "10")), kinds,
                a.getOrDefault("status-kinds", "hash").equals("full"), a.getOrDefault("statuses", "quiet").equals("every"));
        long e0 = System.nanoTime();
        Map<String, String> creds = sim.enroll(a.get("token"), a.getOrDefault("prefix", "fleet"), agents);
        System.err.printf("enrolled %d agents in %.1f s%n", agents, (System.nanoTime() - e0) / 1e9);

        ScheduledExecutorService clock = Executors.newScheduledThreadPool(2);
        List<Agent> fleet = new ArrayList<>();
        for (Map.Entry<String, String> c : creds.entrySet()) {
            Agent ag = sim.new Agent(c.getKey(), c.getValue());
            fleet.add(ag);
            ThreadLocalRandom rnd = ThreadLocalRandom.current();
            // --ramp s: the agents start one after another over that time (a fleet coming up), else all within a second (a server restarted under its fleet)
            long start = ramp * 1000L * fleet.size() / Math.max(1, agents) + rnd.nextInt(1000);
            synchronized (ag) {
                ag.nextConfig += start;
                ag.nextStatus += start;
            }
            clock.scheduleAtFixedRate(ag::second, start, 1000, TimeUnit.MILLISECONDS);
        }
        // every 5 s from the fleet's start to the window's end: the results waiting, and the exchanges turned away,
        // the results produced and acknowledged in those 5 s (where a run goes wrong, and whether it comes back)
        List<long[]> timeline = new ArrayList<>();
        long[] last = {0, 0, 0, ticksOf(serverPid)};
        Runnable sample = () -> {
            long refused = sim.refusedAll.sum();
            long produced = sim.produced.get();
            long acked = sim.accepted.get() + sim.duplicates.get();
            long ticks = ticksOf(serverPid);
            // the server's CPU in those 5 s, in hundredths of a core
            timeline.add(new long[] {fleet.stream().mapToLong(Agent::pendingCount).sum(), refused - last[0], produced - last[1], acked - last[2],
                    (ticks - last[3]) / 5});
            last[0] = refused;
            last[1] = produced;
            last[2] = acked;
            last[3] = ticks;
        };
        for (int s = 0; s < warmup; s += 5) {
            Thread.sleep(Math.min(5, warmup - s) * 1000L);
            sample.run();
        }
        // the measured window
        int capacity = (int) Math.min(50_000_000L, (long) agents * (seconds + 5) * 2);
        sim.stats = new Stats(capacity);
        long produced0 = sim.produced.get();
        long accepted0 = sim.accepted.get();
        long dup0 = sim.duplicates.get();
        long self0 = cpuTicks(ProcessHandle.current().pid());
        long server0 = serverPid > 0 ? cpuTicks(serverPid) : 0;
        long t0 = System.nanoTime();
        sim.measuring = true;
        List<Long> rss = new ArrayList<>();
        List<Long> backlog = new ArrayList<>();
        for (int s = 0; s < seconds; s += 5) {
            Thread.sleep(Math.min(5, seconds - s) * 1000L);
            if (serverPid > 0) {
                rss.add(rssKb(serverPid));
            }
            backlog.add(fleet.stream().mapToLong(Agent::pendingCount).sum());
            sample.run();
        }
        sim.measuring = false;
        double wall = (System.nanoTime() - t0) / 1e9;
        long self1 = cpuTicks(ProcessHandle.current().pid());
        long server1 = serverPid > 0 ? cpuTicks(serverPid) : 0;
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("agents", agents);
        out.put("seconds", Math.round(wall));
        out.put("results_per_s_offered", (sim.produced.get() - produced0) / wall);
        out.put("results_per_s_acknowledged", (sim.accepted.get() - accepted0 + sim.duplicates.get() - dup0) / wall);
        out.put("duplicates", sim.duplicates.get() - dup0);
        out.put("server_cores", serverPid > 0 ? (server1 - server0) / 100.0 / wall : null);
        out.put("server_rss_mb_max", rss.isEmpty() ? null : rss.stream().mapToLong(Long::longValue).max().getAsLong() / 1024);
        out.put("generator_cores", (self1 - self0) / 100.0 / wall);
        out.put("backlog_max", backlog.stream().mapToLong(Long::longValue).max().orElse(0));
        out.put("backlog_end", backlog.isEmpty() ? 0 : backlog.get(backlog.size() - 1));
        for (Endpoint e : Endpoint.values()) {
            out.put(e.name().toLowerCase(), sim.stats.summary(e));
        }
        Map<String, Long> statuses = new java.util.TreeMap<>();
        sim.stats.statuses.forEach((k, v) -> statuses.put(k, v.sum()));
        out.put("answers", statuses);
        out.put("every_5s_backlog_refused_produced_acked_servercentcores", timeline);
        // drain: no more probing, polling or reporting; what the agents hold goes, at the server's pace
        clock.shutdownNow();
        sim.producing = false;
        long drainEnd = System.currentTimeMillis() + 180_000;
        while (System.currentTimeMillis() < drainEnd && fleet.stream().anyMatch(ag -> ag.pendingCount() > 0)) {
            fleet.forEach(Agent::step);
            Thread.sleep(500);
        }
        sim.running = false;
        out.put("produced_total", sim.produced.get());
        out.put("acknowledged_total", sim.accepted.get() + sim.duplicates.get());
        out.put("accepted_total", sim.accepted.get());
        out.put("never_acknowledged", fleet.stream().mapToLong(Agent::pendingCount).sum());
        System.out.println(GSON.toJson(out));
        sim.client.stop();
        System.exit(0);
    }
}
