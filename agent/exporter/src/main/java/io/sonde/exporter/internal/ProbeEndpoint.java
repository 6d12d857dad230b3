package io.sonde.exporter.internal;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.prometheus.client.exporter.common.TextFormat;
import io.sonde.api.HostForm;
import io.sonde.api.Prober;
import io.sonde.api.ProbeResult;
import io.sonde.api.Target;
import io.sonde.agent.spi.TargetFactory;
import io.sonde.api.TargetSchema;

// Over 500 lines: blackbox_exporter's /probe contract (module, target forms, scrape timeout, limit, metric names per kind) in one place to compare with theirs.
/**
 * {@code GET /probe?target=...&module=...}: one probe on request, answered in blackbox_exporter's
 * metric names. The module (a factory configuration) says the kind and its keys; the target is a
 * URL for http, {@code host:port} for tcp and udp, {@code host[:port]} for dns, a host otherwise.
 * The timeout is the module's {@code timeout_ms}, and no more than Prometheus' scrape timeout
 * ({@code X-Prometheus-Scrape-Timeout-Seconds}) less half a second. At most {@code limit} probes
 * run at once; beyond that the answer is 503, so a scrape storm cannot crowd out the scheduled probes.
 * Probes made here are not counted in {@code /metrics} and not uploaded.
 */
final class ProbeEndpoint implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ProbeEndpoint.class);
    static final String TIMEOUT_HEADER = "X-Prometheus-Scrape-Timeout-Seconds";
    /** Kept from Prometheus' scrape timeout for the answer to travel back, as blackbox_exporter does. */
    static final double TIMEOUT_OFFSET_SECONDS = 0.5;
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
    /** The module of a request that names none, as in blackbox_exporter. */
    static final String DEFAULT_MODULE = "http_2xx";

    private final Map<String, ProbeModule> modules = new ConcurrentHashMap<>();
    /** The modules of the blackbox configuration file, by name: a name there wins over a configuration's. */
    private volatile Map<String, ProbeModule> fileModules = Map.of();
    private final Probers probers;
    private final ThreadPoolExecutor calls = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 30, TimeUnit.SECONDS,
            new SynchronousQueue<>(), r -> daemon(r, "sonde-probe-call"));
    private final ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> daemon(r, "sonde-probe-timer"));

    {
        timer.setRemoveOnCancelPolicy(true); // a probe answered in time takes its deadline out of the queue
    }
    private volatile TargetFactory factory;
    private volatile Semaphore permits;
    private volatile int limit;

    private final Runnable configError;

    /** The prober that serves a kind now, borrowed for one probe. */
    interface Probers {
        /** @return the highest ranked prober of {@code kind}, or {@code null} if none is registered */
        Borrowed borrow(String kind);
    }

    /** A prober in use; {@link #close} gives it back. */
    record Borrowed(Prober prober, Runnable release) implements AutoCloseable {
        @Override
        public void close() {
            release.run();
        }
    }

    /** The framework's probers, by kind: the one the service registry ranks highest, as the scheduler takes. */
    static Probers probers(org.osgi.framework.BundleContext context) {
        return kind -> {
            java.util.Collection<org.osgi.framework.ServiceReference<Prober>> refs;
            try {
                refs = context.getServiceReferences(Prober.class, "(" + Prober.PROBE_TYPE + "="
                        + escape(kind) + ")");
            } catch (org.osgi.framework.InvalidSyntaxException | IllegalStateException e) {
                return null;
            }
            org.osgi.framework.ServiceReference<Prober> best = refs.stream().max(Comparable::compareTo).orElse(null);
            Prober p = best == null ? null : context.getService(best);
            return p == null ? null : new Borrowed(p, () -> {
                try {
                    context.ungetService(best);
                } catch (IllegalStateException e) {
                    LOG.debug("Giving back the prober after the exporter stopped", e);
                }
            });
        };
    }

    /** A kind as a filter value: the characters an LDAP filter reserves are escaped. */
    static String escape(String value) {
        StringBuilder b = new StringBuilder(value.length());
        for (char c : value.toCharArray()) {
            if (c == '\\' || c == '(' || c == ')' || c == '*') {
                b.append('\\');
            }
            b.append(c);
        }
        return b.toString();
    }

    /**
     * @param limit       most probes in flight
     * @param configError called once for each module found broken (the exporter counts them)
     * @param probers     the probers, by kind
     */
    ProbeEndpoint(int limit, Runnable configError, Probers probers) {
        this.configError = configError;
        this.probers = probers;
        limit(limit);
    }

    int limit() {
        return limit;
    }

    /** The networks /probe may reach ({@code probe_allow}); every one by default. */
    private volatile Networks allowed = Networks.ANY;

    void allow(Networks networks) {
        allowed = networks;
    }

    void limit(int limit) {
        if (limit != this.limit) {
            this.limit = limit;
            permits = new Semaphore(limit); // probes in flight release the permits they took
        }
    }

    void factory(TargetFactory factory) {
        this.factory = factory;
        if (factory != null) {
            modules.values().forEach(this::report);
            fileModules.values().forEach(this::report);
        }
    }

    /**
     * @return what is wrong with {@code m}, naming its file and the key, or {@code null} if it is
     *         usable or cannot be checked yet (its kind has no prober: a request says so)
     */
    String problem(ProbeModule m, TargetFactory f) {
        if (m.problem() != null) {
            return m.problem();
        }
        if (m.kind().isEmpty()) {
            return m.source() + ": key 'prober': missing; the kind of probe, e.g. http, tcp, icmp, dns";
        }
        TargetSchema schema;
        Map<String, String> options;
        try (Borrowed b = probers.borrow(m.kind())) {
            if (b == null) {
                return null;
            }
            schema = b.prober().schema();
            options = m.options(b.prober());
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        } catch (RuntimeException e) {
            return m.source() + ": the " + m.kind() + " plugin failed to declare its keys: " + e;
        }
        try {
            f.create(settings(m, options, placeholder(schema), timeout(m, null), schema), m.source());
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    /** Logs and counts what is wrong with a module, once, when it comes (or the core does). */
    private void report(ProbeModule m) {
        TargetFactory f = factory;
        String problem = f == null ? null : problem(m, f);
        if (problem != null) {
            configError.run();
            LOG.warn("Configuration error: {} (the /probe module '{}' answers 500 until it is mended)", problem, m.name());
        }
    }

    void addModule(ProbeModule m) {
        if (m.name().isEmpty()) {
            configError.run();
            LOG.warn("Configuration error: {}: key 'name': missing; give the module a name or name the file {}-<name>.cfg",
                    m.source(), ProbeModuleConfig.PID);
            return;
        }
        ProbeModule before = modules.putIfAbsent(m.name(), m);
        if (before == null) {
            report(m);
        } else if (before != m) {
            configError.run();
            LOG.warn("Configuration error: {}: key 'name': module '{}' is already defined in {}; this one is ignored",
                    m.source(), m.name(), before.source());
        }
    }

    void removeModule(ProbeModule m) {
        modules.remove(m.name(), m);
    }

    /**
     * Replaces the modules of the blackbox configuration file; a module of the same name as a
     * configuration's is used instead of it (the distribution ships blackbox_exporter's usual
     * names, http_2xx and the like, which an operator's file may well define again).
     */
    void fileModules(List<ProbeModule> read) {
        Map<String, ProbeModule> byName = new java.util.LinkedHashMap<>();
        for (ProbeModule m : read) {
            byName.put(m.name(), m);
            ProbeModule shadowed = modules.get(m.name());
            if (shadowed != null) {
                LOG.info("/probe module '{}' of {} is used instead of the one of {}", m.name(), m.source(), shadowed.source());
            }
        }
        fileModules = Map.copyOf(byName);
        byName.values().forEach(this::report);
    }

    /** @return the module of that name: the blackbox file's, else a configuration's; null if neither has it */
    private ProbeModule module(String name) {
        ProbeModule m = fileModules.get(name);
        return m != null ? m : modules.get(name);
    }

    /** Answers one request; the answer may be written later, from another thread. */
    void handle(Request request, Response response, Callback callback) {
        Fields params;
        try {
            params = Request.extractQueryParameters(request);
        } catch (RuntimeException e) {
            text(response, callback, HttpStatus.BAD_REQUEST_400, "Malformed query string: " + e.getMessage());
            return;
        }
        String problem = null;
        String target = null;
        String moduleName = DEFAULT_MODULE;
        boolean debug = false;
        try {
            target = single(params, "target");
            String m = single(params, "module");
            if (m != null && !m.isBlank()) {
                moduleName = m.strip();
            }
            String d = single(params, "debug");
            if (d != null && !d.equalsIgnoreCase("true") && !d.equalsIgnoreCase("false")) {
                throw new IllegalArgumentException("Parameter 'debug': '" + d + "' is neither true nor false");
            }
            debug = Boolean.parseBoolean(d);
        } catch (IllegalArgumentException e) {
            problem = e.getMessage();
        }
        if (problem == null && (target == null || target.isBlank())) {
            problem = "Target parameter is missing";
        }
        ProbeModule module = module(moduleName);
        if (problem == null && module == null) {
            TreeSet<String> names = new TreeSet<>(modules.keySet());
            names.addAll(fileModules.keySet());
            problem = "Unknown module \"" + moduleName + "\"; modules: " + String.join(", ", names);
        }
        Duration timeout = null;
        if (problem == null) {
            try {
                timeout = timeout(module, request.getHeaders().get(TIMEOUT_HEADER));
            } catch (IllegalArgumentException e) {
                problem = e.getMessage();
            }
        }
        if (problem != null) {
            text(response, callback, HttpStatus.BAD_REQUEST_400, problem);
            return;
        }
        TargetFactory f = factory;
        if (f == null) {
            text(response, callback, HttpStatus.SERVICE_UNAVAILABLE_503, "Targets cannot be checked: the core bundle is not running");
            return;
        }
        String broken = problem(module, f);
        if (broken != null) {
            text(response, callback, HttpStatus.INTERNAL_SERVER_ERROR_500, "Module \"" + moduleName + "\" is misconfigured: "
                    + broken);
            return;
        }
        Borrowed prober = probers.borrow(module.kind());
        if (prober == null) {
            text(response, callback, HttpStatus.SERVICE_UNAVAILABLE_503, "Module \"" + moduleName + "\" (" + module.source()
                    + "): no prober of kind '" + module.kind() + "' is installed");
            return;
        }
        boolean started = false;
        try {
            Target t;
            Map<String, String> options;
            try {
                options = module.options(prober.prober());
            } catch (IllegalArgumentException e) { // the plugin changed since the check above
                text(response, callback, HttpStatus.INTERNAL_SERVER_ERROR_500, "Module \"" + moduleName + "\" is misconfigured: "
                        + e.getMessage());
                return;
            }
            try {
                t = f.create(settings(module, options, target.strip(), timeout, prober.prober().schema()),
                        "target \"" + target.strip() + "\" (module " + moduleName + ")");
            } catch (IllegalArgumentException e) {
                text(response, callback, HttpStatus.BAD_REQUEST_400, e.getMessage());
                return;
            }
            Semaphore s = permits;
            if (!s.tryAcquire()) {
                text(response, callback, HttpStatus.SERVICE_UNAVAILABLE_503, "Too many probes in flight on /probe (limit "
                        + limit + ", probe_concurrency in etc/" + ExporterConfig.PID + ".cfg); try again");
                return;
            }
            new OnDemandProbe(module, t, prober, f, debug, response, callback, s).start();
            started = true;
        } finally {
            if (!started) {
                prober.close();
            }
        }
    }

    /** The effective timeout: the module's, within the scrape timeout less the offset. */
    static Duration timeout(ProbeModule module, String header) {
        Duration timeout = module.timeoutMs() > 0 ? Duration.ofMillis(module.timeoutMs()) : null;
        if (header != null) {
            double seconds;
            try {
                seconds = Double.parseDouble(header.strip());
            } catch (NumberFormatException e) {
                seconds = Double.NaN;
            }
            if (!(seconds > 0) || Double.isInfinite(seconds)) {
                throw new IllegalArgumentException("Header " + TIMEOUT_HEADER + ": '" + header.strip()
                        + "' is not a positive number of seconds");
            }
            double left = seconds - TIMEOUT_OFFSET_SECONDS;
            Duration scrape = Duration.ofNanos((long) ((left > 0 ? left : seconds / 2) * 1e9));
            if (timeout == null || scrape.compareTo(timeout) < 0) {
                timeout = scrape.toMillis() < 1 ? Duration.ofMillis(1) : scrape;
            }
        }
        return timeout == null ? DEFAULT_TIMEOUT : timeout;
    }

    /** A target of the module's kind that passes its host check, to check the module's own keys. */
    private static String placeholder(TargetSchema schema) {
        if (schema != null && schema.host() == HostForm.URL) {
            return "http://127.0.0.1/";
        }
        return schema != null && schema.portRequired() ? "127.0.0.1:1" : "127.0.0.1";
    }

    /**
     * The settings of the target {@code target} probed with {@code module}, whose kind keys are {@code options}.
     *
     * @throws IllegalArgumentException if {@code target} is not what the kind takes
     */
    static Map<String, Object> settings(ProbeModule module, Map<String, String> options, String target, Duration timeout,
            TargetSchema schema) {
        Map<String, Object> s = new HashMap<>(options);
        s.put("name", target);
        s.put("kind", module.kind());
        long ms = Math.max(1, timeout.toMillis());
        s.put("timeout_ms", ms);
        s.put("interval_ms", Math.max(ms, 1000));
        if (schema != null && schema.host() == HostForm.URL) {
            s.put("host", target.contains("://") ? target : "http://" + target);
            return s;
        }
        String host = target;
        String port = null;
        if (target.startsWith("[")) {
            int close = target.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("'" + target + "' opens '[' but does not close it");
            }
            host = target.substring(1, close);
            String rest = target.substring(close + 1);
            if (rest.startsWith(":")) {
                port = rest.substring(1);
            } else if (!rest.isEmpty()) {
                throw new IllegalArgumentException("'" + target + "': '" + rest + "' after the address");
            }
        } else if (target.indexOf(':') >= 0 && target.indexOf(':') == target.lastIndexOf(':')) {
            host = target.substring(0, target.indexOf(':'));
            port = target.substring(target.indexOf(':') + 1);
        }
        s.put("host", host);
        if (port != null) {
            s.put("port", port);
        }
        return s;
    }

    private static String single(Fields params, String name) {
        List<String> values = params.getValues(name);
        if (values == null || values.isEmpty()) {
            return null;
        }
        if (values.size() > 1) {
            throw new IllegalArgumentException("Parameter '" + name + "' is given " + values.size() + " times; give it once");
        }
        return values.get(0);
    }

    static void text(Response response, Callback callback, int status, String body) {
        response.setStatus(status);
        response.getHeaders().put("Content-Type", "text/plain; charset=utf-8");
        response.write(true, StandardCharsets.UTF_8.encode(body.endsWith("\n") ? body : body + "\n"), callback);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = io.sonde.base.DaemonThreads.of(name, r);
        return t;
    }

    @Override
    public void close() {
        timer.shutdownNow();
        calls.shutdownNow();
    }

    /** One probe on request, from the look-up of its host to the answer. */
    private final class OnDemandProbe {
        private final ProbeModule module;
        private final Target target;
        private final Borrowed prober;
        private final TargetFactory factory;
        private final boolean debug;
        private final Response response;
        private final Callback callback;
        private final Semaphore permit;
        private final AtomicBoolean answered = new AtomicBoolean();
        private final long start = System.nanoTime();
        private volatile double lookup = -1;
        private volatile InetAddress address;
        private volatile Target resolved;
        private volatile CompletableFuture<? extends ProbeResult> running;
        private volatile java.util.concurrent.ScheduledFuture<?> deadline;

        OnDemandProbe(ProbeModule module, Target target, Borrowed prober, TargetFactory factory, boolean debug,
                Response response, Callback callback, Semaphore permit) {
            this.module = module;
            this.target = target;
            this.prober = prober;
            this.factory = factory;
            this.debug = debug;
            this.response = response;
            this.callback = callback;
            this.permit = permit;
        }

        void start() {
            long grace = TimeUnit.MILLISECONDS.toNanos(200);
            try {
                deadline = timer.schedule(() -> answer(null, "no result within the timeout of " + target.timeout().toMillis()
                        + " ms"), target.timeout().toNanos() + grace, TimeUnit.NANOSECONDS);
                factory.resolve(target).whenComplete((r, e) -> {
                    lookup = (System.nanoTime() - start) / 1e9;
                    if (r == null) {
                        Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
                        answer(null, cause == null || cause.getMessage() == null ? "cannot resolve " + target.host()
                                : cause.getMessage());
                        return;
                    }
                    address = r.address();
                    resolved = r.target();
                    Networks allow = allowed;
                    if (!allow.any() && (r.address() == null || !allow.allows(r.address()))) {
                        deny(target.host() + (r.address() == null ? " (no address to check)" : " (" + r.address().getHostAddress() + ")")
                                + " is not in probe_allow (" + allow + ")");
                        return;
                    }
                    calls.execute(this::probe);
                });
            } catch (RuntimeException e) { // shutting down
                answer(null, "the exporter is stopping: " + e);
            }
        }

        private void probe() {
            if (answered.get()) {
                return;
            }
            // the prober gets the address just found (no second look-up); a URL keeps its name for Host and SNI
            try {
                CompletableFuture<? extends ProbeResult> f = prober.prober().probe(resolved).toCompletableFuture();
                running = f;
                f.whenComplete((r, e) -> answer(r, e == null ? null : "the prober failed: " + e));
            } catch (RuntimeException e) {
                LOG.warn("Prober of kind '{}' failed on /probe target {}", target.kind(), target.name(), e);
                answer(null, "the prober failed: " + e);
            }
        }

        /** @return whether this call is the one that answers: it lets go of the permit, the prober and the deadline */
        private boolean finish() {
            if (!answered.compareAndSet(false, true)) {
                return false;
            }
            permit.release();
            prober.close();
            java.util.concurrent.ScheduledFuture<?> d = deadline;
            if (d != null) {
                d.cancel(false);
            }
            return true;
        }

        /** The target is not to be probed from here: 403, and nothing sent to it. */
        private void deny(String why) {
            if (finish()) {
                text(response, callback, HttpStatus.FORBIDDEN_403, "probe refused: " + why);
            }
        }

        private void answer(ProbeResult result, String failure) {
            if (!finish()) {
                return;
            }
            CompletableFuture<? extends ProbeResult> f = running;
            if (f != null && !f.isDone()) {
                f.cancel(false); // the prober releases its sockets
            }
            double duration = (System.nanoTime() - start) / 1e9;
            String metrics = BlackboxFormat.write(new BlackboxFormat.OnDemand(target.kind(), result, lookup, address, duration));
            response.setStatus(HttpStatus.OK_200);
            if (debug) {
                StringBuilder b = new StringBuilder();
                b.append("Module ").append(module.name()).append(" (").append(module.source()).append("): kind ")
                        .append(module.kind()).append(", timeout ").append(target.timeout().toMillis()).append(" ms, options ")
                        .append(new java.util.TreeMap<>(module.options())).append('\n');
                b.append("Target ").append(target.host()).append(target.port() > 0 ? " port " + target.port() : "")
                        .append(address == null ? "" : ", address " + address.getHostAddress())
                        .append(lookup < 0 ? "" : String.format(Locale.ROOT, ", looked up in %.6f s", lookup)).append('\n');
                if (result != null) {
                    b.append(result.isSuccessful() ? "Probe succeeded"
                            : "Probe failed (" + result.failureReason().label() + "): " + result.errorMessage())
                            .append(String.format(Locale.ROOT, " after %.6f s%n", result.responseTime().toNanos() / 1e9));
                } else {
                    b.append("Probe failed: ").append(failure).append('\n');
                }
                b.append("\nMetrics that would have been returned:\n").append(metrics);
                text(response, callback, HttpStatus.OK_200, b.toString());
                return;
            }
            response.getHeaders().put("Content-Type", TextFormat.CONTENT_TYPE_004);
            response.write(true, StandardCharsets.UTF_8.encode(metrics), callback);
        }
    }
}
