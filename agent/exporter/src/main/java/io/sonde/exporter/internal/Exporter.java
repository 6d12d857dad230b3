package io.sonde.exporter.internal;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.prometheus.client.Collector;
import io.prometheus.client.CollectorRegistry;
import io.prometheus.client.CounterMetricFamily;
import io.prometheus.client.GaugeMetricFamily;
import io.prometheus.client.exporter.common.TextFormat;
import io.prometheus.client.hotspot.GarbageCollectorExports;
import io.prometheus.client.hotspot.MemoryPoolsExports;
import io.prometheus.client.hotspot.StandardExports;
import io.prometheus.client.hotspot.ThreadExports;
import io.sonde.agent.spi.ConfigSource;
import io.sonde.api.ProbeResult;
import io.sonde.agent.spi.TargetFactory;
import io.sonde.agent.spi.ResultSink;
import io.sonde.api.Target;

// Over 500 lines: the HTTP face of the agent (listener, TLS and basic auth of web.yml, /metrics, /healthz, /status) in one Jetty; the metrics are ProbeMetrics' and MetricsWriter's.
/**
 * Serves Prometheus metrics over HTTP: the probe metrics it keeps from every result, the
 * self-metrics that other bundles register as {@link Collector} services, and JVM basics.
 * Endpoints: {@code /metrics}, {@code /healthz}. Immediate: it listens whether or not a scheduler
 * takes its results (a scheduler restarting, its bundle updated, does not close the port).
 */
@Component(service = ResultSink.class, configurationPid = ExporterConfig.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, property = "sink.name=exporter", immediate = true)
@Designate(ocd = ExporterConfig.class)
public final class Exporter implements ResultSink {

    private static final Logger LOG = LoggerFactory.getLogger(Exporter.class);
    private static final long RETRY_SECONDS = 5;

    private final CollectorRegistry registry = new CollectorRegistry(true);
    private final ProbeMetrics probeMetrics = new ProbeMetrics();
    private final List<Collector> contributed = new CopyOnWriteArrayList<>();
    private final AtomicLong configErrors = new AtomicLong();
    private final ProbeEndpoint probes;
    private final String version;
    private final ScheduledExecutorService http; // owns the server: builds, starts and stops it
    private Server server; // on the http thread only
    private ServerConnector connector; // on the http thread only
    private InetSocketAddress listening; // guarded by DS: activate and modified do not overlap

    /** This agent's home, for GET /status and the listener's state file; null outside a distribution. */
    private final java.nio.file.Path home;

    /** Where this home's agent says whether its exporter listens, and where: sonde-cli status reads it. */
    static final String STATE_FILE = "data/state/exporter.json";

    @Activate
    public Exporter(BundleContext context, ExporterConfig config, Map<String, Object> properties) {
        version = context.getBundle().getVersion().toString();
        home = io.sonde.base.Home.given(context::getProperty).orElse(null);
        probes = new ProbeEndpoint(16, configErrors::incrementAndGet, ProbeEndpoint.probers(context));
        registry.register(new SelfMetrics());
        java.util.Dictionary<String, Object> resultsProps = new java.util.Hashtable<>();
        resultsProps.put(io.sonde.agent.spi.StatusReport.SECTION, "results");
        // by hand: the exporter gathers the sections, and as a service of its own component this one would be a reference to itself
        resultsRegistration = context.registerService(io.sonde.agent.spi.StatusReport.class, probeMetrics::lastResults, resultsProps);
        http = Executors.newSingleThreadScheduledExecutor(io.sonde.base.DaemonThreads.named("sonde-http-control"));
        // Building Jetty loads a few hundred classes: do it beside the framework's start, not in it.
        http.execute(this::build);
        modified(config, properties);
        http.scheduleWithFixedDelay(this::watchWebConfig, 5, 5, TimeUnit.SECONDS);
    }

    private void build() {
        new StandardExports().register(registry);
        new MemoryPoolsExports().register(registry);
        new GarbageCollectorExports().register(registry);
        new ThreadExports().register(registry);
        QueuedThreadPool threads = new QueuedThreadPool(8, 2);
        threads.setName("sonde-http");
        threads.setDaemon(true);
        server = new Server(threads);
        connector = new ServerConnector(server, 1, 1);
        connector.setReuseAddress(true);
        server.addConnector(connector);
        server.setHandler(new Endpoints());
        server.setStopTimeout(1000);
    }

    /** Applies a new port or address by restarting the listener; anything else needs nothing. */
    @Modified
    void modified(ExporterConfig config, Map<String, Object> properties) {
        String source = ConfigSource.of(properties, "configuration " + ExporterConfig.PID);
        int before = listening == null ? 9100 : listening.getPort();
        int port = ConfigSource.typed(config::port, "port", before, source, this::configError);
        if (port < 1 || port > 65535) {
            configError(source + ": key 'port': " + port + " is not a port number (1-65535); using " + before);
            port = before;
        }
        int limit = ConfigSource.typed(config::probe__concurrency, "probe_concurrency", probes.limit(), source, this::configError);
        if (limit < 1 || limit > 1000) {
            configError(source + ": key 'probe_concurrency': " + limit + " is not a number from 1 to 1000; keeping "
                    + probes.limit());
        } else {
            probes.limit(limit);
        }
        statusRemote = config.status__remote();
        try {
            Networks allow = Networks.parse(config.probe__allow());
            probes.allow(allow);
            if (!allow.any()) {
                LOG.info("/probe reaches {} only", allow);
            }
        } catch (IllegalArgumentException e) {
            configError(source + ": key 'probe_allow': " + e.getMessage() + "; /probe probes nothing until it is mended");
            probes.allow(Networks.parse("0.0.0.0/32")); // closed, not open: a list meant to narrow must not widen
        }
        String probeFile = config.probe__config__file().strip();
        probeConfigFile = probeFile.isEmpty() ? null : home == null ? java.nio.file.Path.of(probeFile) : home.resolve(probeFile);
        readProbeConfig(source);
        String bind = config.bind().strip().isEmpty() ? "0.0.0.0" : config.bind().strip();
        String webFile = config.web__config__file().strip();
        webConfigFile = webFile.isEmpty() ? null : home == null ? java.nio.file.Path.of(webFile) : home.resolve(webFile);
        InetSocketAddress wanted = InetSocketAddress.createUnresolved(bind, port);
        String webStamp = WebConfig.stamp(webConfigFile);
        if (wanted.equals(listening) && java.util.Objects.equals(webStamp, listeningWeb)) {
            return;
        }
        listening = wanted;
        restart(bind, wanted.getPort(), source);
    }

    /** The web configuration file, or null; and the stamp of the files it was read from when the listener last started. */
    private volatile java.nio.file.Path webConfigFile;
    private volatile String listeningWeb;
    /** The web configuration in force: TLS and the users who may ask; null for plain HTTP without login. */
    private volatile WebConfig web;

    /** Starts the listener (again) with the web configuration as its files say now. */
    private void restart(String bind, int port, String source) {
        java.nio.file.Path file = webConfigFile;
        listeningWeb = WebConfig.stamp(file);
        http.execute(() -> {
            try {
                server.stop();
            } catch (Exception e) {
                LOG.warn("Stopping the HTTP listener failed", e);
            }
            WebConfig w = null;
            if (file != null) {
                try {
                    w = WebConfig.read(file);
                } catch (IllegalArgumentException e) {
                    web = null;
                    configError(source + ": key 'web_config_file': " + e.getMessage()
                            + "; the agent serves nothing over HTTP until it is mended (it does not fall back to no TLS or no login)");
                    listenerState(false, bind, port, "web configuration: " + e.getMessage());
                    firstStart.complete(null);
                    return;
                }
            }
            web = w;
            server.removeConnector(connector);
            connector = w == null || w.tls() == null ? new ServerConnector(server, 1, 1) : new ServerConnector(server, 1, 1, ssl(w.tls()));
            connector.setReuseAddress(true);
            connector.setHost(bind);
            connector.setPort(port);
            server.addConnector(connector);
            if (w != null) {
                LOG.info("Web configuration {}: {}, {}", file, w.tls() == null ? "plain HTTP" : "HTTPS (" + w.tls().clientAuth() + ")",
                        w.needsLogin() ? "basic auth" : "no login");
            }
            start(bind, String.valueOf(port), true);
        });
    }

    private static org.eclipse.jetty.util.ssl.SslContextFactory.Server ssl(WebConfig.Tls tls) {
        org.eclipse.jetty.util.ssl.SslContextFactory.Server f = new org.eclipse.jetty.util.ssl.SslContextFactory.Server();
        f.setKeyStore(tls.keyStore());
        f.setKeyStorePassword(new String(tls.password()));
        f.setKeyManagerPassword(new String(tls.password()));
        if (tls.clientCas() != null) {
            f.setTrustStore(tls.clientCas());
        }
        switch (tls.clientAuth()) {
            case "RequireAnyClientCert", "RequireAndVerifyClientCert" -> f.setNeedClientAuth(true);
            case "RequestClientCert", "VerifyClientCertIfGiven" -> f.setWantClientAuth(true);
            default -> { }
        }
        if (tls.minVersion() != null || tls.maxVersion() != null) {
            List<String> versions = new java.util.ArrayList<>();
            for (String v : List.of("TLSv1.2", "TLSv1.3")) {
                if ((tls.minVersion() == null || v.compareTo(tls.minVersion()) >= 0) && (tls.maxVersion() == null || v.compareTo(tls.maxVersion()) <= 0)) {
                    versions.add(v);
                }
            }
            f.setIncludeProtocols(versions.toArray(new String[0]));
        }
        f.setSniRequired(false);
        f.setEndpointIdentificationAlgorithm(null);
        return f;
    }

    /** The blackbox configuration file of /probe, or null; the stamp it was last read at; the modules read from it. */
    private volatile java.nio.file.Path probeConfigFile;
    private String probeConfigRead;
    private List<ProbeModule> fileModules = List.of();

    /**
     * Reads the blackbox configuration file if it is another file or has changed since it was last
     * read: its modules replace those read before, all at once; a file that cannot be taken leaves
     * them as they were, and says why.
     */
    private synchronized void readProbeConfig(String source) {
        java.nio.file.Path file = probeConfigFile;
        String stamp = file == null ? null : file + "@" + fileStamp(file);
        if (java.util.Objects.equals(stamp, probeConfigRead)) {
            return;
        }
        probeConfigRead = stamp;
        List<ProbeModule> read = List.of();
        if (file != null) {
            try {
                read = BlackboxConfig.read(file);
            } catch (IllegalArgumentException e) {
                configError(source + ": key 'probe_config_file': " + e.getMessage() + (fileModules.isEmpty() ? ""
                        : "; the " + fileModules.size() + " modules read from it before are kept"));
                return;
            }
        }
        fileModules = read;
        probes.fileModules(read);
        if (file != null) {
            LOG.info("/probe modules of {}: {}", file, read.stream().map(ProbeModule::name).toList());
        }
    }

    private static String fileStamp(java.nio.file.Path file) {
        try {
            return java.nio.file.Files.getLastModifiedTime(file).toMillis() + "/" + java.nio.file.Files.size(file);
        } catch (java.io.IOException e) {
            return "unreadable";
        }
    }

    /** Every few seconds: the web configuration's files changed (a renewed certificate, a new user)? The listener takes them. */
    private void watchWebConfig() {
        readProbeConfig("configuration " + ExporterConfig.PID);
        java.nio.file.Path file = webConfigFile;
        InetSocketAddress at = listening;
        if (file != null && at != null && !java.util.Objects.equals(WebConfig.stamp(file), listeningWeb)) {
            LOG.info("Web configuration {} changed: the listener takes it", file);
            restart(at.getHostString(), at.getPort(), "configuration " + ExporterConfig.PID);
        }
    }

    /** Completed once the listener first listened, or first failed to: the scheduler's first probes wait for it. */
    private final java.util.concurrent.CompletableFuture<Void> firstStart = new java.util.concurrent.CompletableFuture<>();

    @Override
    public java.util.concurrent.CompletionStage<Void> ready() {
        return firstStart;
    }

    /** Starts the listener; if the port is taken, says so once and tries again every few seconds. */
    private void start(String bind, String port, boolean first) {
        try {
            server.start();
            LOG.info("Serving /metrics on http://{}:{}/metrics", bind, connector.getLocalPort());
            listenerState(true, bind, connector.getLocalPort(), null);
            firstStart.complete(null);
        } catch (Exception e) {
            firstStart.complete(null); // probing starts all the same: this agent runs without /metrics until the port is free
            if (first) {
                LOG.error("Cannot listen on {}:{} ({}): this agent serves no /metrics and no /status until it can; retrying every {} s."
                        + " Another process (another agent?) holds the port: set 'port' or 'bind' in etc/{}.cfg",
                        bind, port, e.getMessage(), RETRY_SECONDS, ExporterConfig.PID);
                listenerState(false, bind, Integer.parseInt(port), "cannot listen on " + bind + ":" + port + ": "
                        + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
            }
            try {
                server.stop();
            } catch (Exception stop) {
                LOG.debug("Stopping the listener that did not start failed", stop);
            }
            if (!http.isShutdown() && bind.equals(connector.getHost())
                    && port.equals(String.valueOf(connector.getPort()))) {
                http.schedule(() -> start(bind, port, false), RETRY_SECONDS, TimeUnit.SECONDS);
            }
        }
    }

    /** The last result of every target, a section of /status (and of the shell's sonde:status). */
    private final org.osgi.framework.ServiceRegistration<io.sonde.agent.spi.StatusReport> resultsRegistration;

    @Deactivate
    void deactivate() {
        if (home != null) {
            try {
                java.nio.file.Files.deleteIfExists(home.resolve(STATE_FILE)); // no listener of this home's any more
            } catch (java.io.IOException e) {
                LOG.debug("Cannot delete {}", STATE_FILE, e);
            }
        }
        resultsRegistration.unregister();
        probes.close();
        http.shutdownNow();
        try {
            http.awaitTermination(2, TimeUnit.SECONDS);
            if (server != null) {
                server.stop();
            }
        } catch (Exception e) {
            LOG.warn("Stopping the HTTP server failed", e);
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC, service = Collector.class)
    void addCollector(Collector collector) {
        contributed.add(collector);
    }

    void removeCollector(Collector collector) {
        contributed.remove(collector);
    }

    /** The sections of GET /status, by name. */
    private final Map<String, io.sonde.agent.spi.StatusReport> reports = new java.util.concurrent.ConcurrentSkipListMap<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addStatusReport(io.sonde.agent.spi.StatusReport report, Map<String, Object> properties) {
        reports.put(String.valueOf(properties.getOrDefault(io.sonde.agent.spi.StatusReport.SECTION, "unnamed")), report);
    }

    void removeStatusReport(io.sonde.agent.spi.StatusReport report, Map<String, Object> properties) {
        reports.remove(String.valueOf(properties.getOrDefault(io.sonde.agent.spi.StatusReport.SECTION, "unnamed")), report);
    }

    /** Whether /status answers askers other than this host ({@code status_remote}). */
    private volatile boolean statusRemote;

    /**
     * Writes {@link #STATE_FILE}: whether the listener listens, where, and this process's id, so that
     * {@code sonde-cli status} asks this home's agent, or says why it cannot, rather than another
     * agent that holds the port.
     */
    private void listenerState(boolean up, String bind, int port, String error) {
        if (home == null) {
            return;
        }
        Map<String, Object> doc = new java.util.LinkedHashMap<>();
        doc.put("listening", up);
        WebConfig w = web;
        doc.put("url", (w != null && w.tls() != null ? "https://" : "http://") + (bind.equals("0.0.0.0") || bind.equals("::") ? "127.0.0.1" : bind.contains(":") ? "[" + bind + "]" : bind)
                + ":" + port);
        doc.put("error", error);
        doc.put("pid", ProcessHandle.current().pid());
        doc.put("home", home.toString());
        doc.put("at", java.time.Instant.now().toString());
        java.nio.file.Path file = home.resolve(STATE_FILE);
        try {
            io.sonde.base.AtomicFiles.write(file, (new com.google.gson.GsonBuilder().serializeNulls().create().toJson(doc) + "\n")
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (java.io.IOException e) {
            LOG.warn("Cannot write {}: {}", file, e.toString());
        }
    }

    /** GET /status: the agent's own sections, the last result of every target, then each bundle's report. */
    private String status() {
        Map<String, Object> doc = new java.util.LinkedHashMap<>();
        Map<String, Object> agent = new java.util.LinkedHashMap<>();
        agent.put("version", version);
        agent.put("java_version", System.getProperty("java.version"));
        agent.put("uptime_seconds", java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime() / 1000);
        agent.put("now", java.time.Instant.now().toString());
        agent.put("home", home == null ? null : home.toString());
        agent.put("pid", ProcessHandle.current().pid());
        doc.put("agent", agent);
        doc.put("results", null); // its place: first after the agent's own, filled below like every other section
        reports.forEach((name, report) -> {
            try {
                doc.put(name, report.status());
            } catch (RuntimeException e) {
                doc.put(name, Map.of("error", String.valueOf(e)));
            }
        });
        return new com.google.gson.GsonBuilder().serializeNulls().setPrettyPrinting().create().toJson(doc) + "\n";
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addModule(ProbeModule module) {
        probes.addModule(module);
    }

    void removeModule(ProbeModule module) {
        probes.removeModule(module);
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    void setTargetFactory(TargetFactory factory) {
        probes.factory(factory);
    }

    void unsetTargetFactory(TargetFactory factory) {
        probes.factory(null);
    }

    @Override
    public void accept(ProbeResult result) {
        probeMetrics.record(result);
    }

    @Override
    public void accept(ProbeResult result, io.sonde.agent.spi.NextProbe next) {
        probeMetrics.record(result, next);
    }

    @Override
    public void targetRemoved(Target target) {
        probeMetrics.remove(target);
    }

    private void configError(String message) {
        configErrors.incrementAndGet();
        LOG.warn("Configuration error: {}", message);
    }

    /** {@code sonde_build_info} and the exporter's own configuration errors. */
    private final class SelfMetrics extends Collector {
        @Override
        public List<MetricFamilySamples> collect() {
            GaugeMetricFamily info = new GaugeMetricFamily("sonde_build_info",
                    "Version of the Sonde agent and of the Java runtime", List.of("version", "java_version"));
            info.addMetric(List.of(version, System.getProperty("java.version")), 1);
            CounterMetricFamily errors = new CounterMetricFamily("sonde_config_errors_total",
                    "Configuration errors found since start; each bad change counts once", configErrors.get());
            return List.of(info, errors);
        }
    }

    /** Routes requests: /metrics, /healthz, and a small index. */
    private final class Endpoints extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) throws IOException {
            String method = request.getMethod();
            if (!HttpMethod.GET.is(method) && !HttpMethod.HEAD.is(method)) {
                response.setStatus(HttpStatus.METHOD_NOT_ALLOWED_405);
                response.getHeaders().put(HttpHeader.ALLOW, "GET, HEAD");
                callback.succeeded();
                return true;
            }
            String path = Request.getPathInContext(request);
            WebConfig w = web;
            if (w != null && w.needsLogin() && !w.allows(request.getHeaders().get(HttpHeader.AUTHORIZATION))) {
                response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Basic realm=\"sonde\"");
                ProbeEndpoint.text(response, callback, HttpStatus.UNAUTHORIZED_401, "a user and password of the web configuration are needed");
                return true;
            }
            switch (path) {
                case "/metrics" -> {
                    response.getHeaders().put(HttpHeader.CONTENT_TYPE, TextFormat.CONTENT_TYPE_004);
                    try (OutputStream out = Content.Sink.asOutputStream(response);
                            Writer writer = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), 1 << 16)) {
                        if (!HttpMethod.HEAD.is(method)) {
                            probeMetrics.write(writer);
                            MetricsWriter.write(writer, contributed, () -> registry.metricFamilySamples().asIterator());
                        }
                    }
                    callback.succeeded();
                }
                case "/probe" -> probes.handle(request, response, callback);
                case "/healthz" -> ProbeEndpoint.text(response, callback, HttpStatus.OK_200, "ok");
                case "/status" -> {
                    java.net.SocketAddress peer = request.getConnectionMetaData().getRemoteSocketAddress();
                    if (!statusRemote && !(peer instanceof InetSocketAddress a && a.getAddress() != null
                            && a.getAddress().isLoopbackAddress())) {
                        ProbeEndpoint.text(response, callback, HttpStatus.FORBIDDEN_403, "/status answers this host only;"
                                + " set status_remote = true in etc/" + ExporterConfig.PID + ".cfg to open it");
                    } else {
                        byte[] body = status().getBytes(StandardCharsets.UTF_8);
                        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json; charset=utf-8");
                        response.write(true, java.nio.ByteBuffer.wrap(HttpMethod.HEAD.is(method) ? new byte[0] : body), callback);
                    }
                }
                case "/" -> ProbeEndpoint.text(response, callback, HttpStatus.OK_200, "Sonde agent " + version
                        + "\n/metrics  Prometheus metrics\n/probe?target=...&module=...  one probe, in blackbox_exporter's names\n"
                        + "/status  what the agent does (this host only, unless status_remote)\n/healthz  liveness");
                default -> ProbeEndpoint.text(response, callback, HttpStatus.NOT_FOUND_404, "not found: " + path);
            }
            return true;
        }

    }

}
