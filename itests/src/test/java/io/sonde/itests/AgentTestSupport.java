package io.sonde.itests;

import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.mavenBundle;
import static org.ops4j.pax.exam.CoreOptions.options;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.function.Predicate;

import javax.inject.Inject;

import org.junit.After;
import org.junit.Before;
import org.ops4j.pax.exam.Option;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * The agent's resolved system bundles (from dist/target/sonde/system) and the TCP plugin in
 * a real Felix framework; an exporter on a free loopback port; helpers to configure targets and to
 * read /metrics.
 */
public abstract class AgentTestSupport {

    /** Upper bound for anything the agent must do; the tests poll, they never time it. */
    static final Duration PATIENCE = Duration.ofSeconds(20);

    @Inject
    protected BundleContext context;

    @Inject
    protected ConfigurationAdmin configAdmin;

    protected int metricsPort;
    private final List<Configuration> created = new ArrayList<>();
    private final List<ServerSocket> listeners = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    static File distribution() {
        return new File(System.getProperty("sonde.distribution", "../dist/target/sonde"));
    }

    static File tcpPlugin() {
        return new File(distribution(), "plugins/io.sonde.plugin.tcp.jar");
    }

    /** The options every agent test shares. */
    public static Option[] agent() {
        File[] jars = new File(distribution(), "system").listFiles((d, n) -> n.endsWith(".jar"));
        if (jars == null || jars.length == 0) {
            throw new IllegalStateException("no bundles in " + distribution() + "/system: build the distribution first");
        }
        Arrays.sort(jars);
        List<Option> options = new ArrayList<>();
        options.add(junitBundles());
        options.add(systemProperty("pax.exam.logging").value("none"));
        // SLF4J for the framework's bundles (Jetty, the agent); the distribution puts it on the class path
        options.add(mavenBundle("org.ops4j.pax.logging", "pax-logging-api", "2.3.2"));
        options.add(frameworkProperty("org.ops4j.pax.logging.DefaultServiceLog.level").value(System.getProperty("itest.log.level", "WARN")));
        options.add(systemProperty("org.ops4j.pax.logging.DefaultServiceLog.level").value(System.getProperty("itest.log.level", "WARN")));
        for (File jar : jars) {
            options.add(bundle(jar.toURI().toString()));
        }
        options.add(bundle(tcpPlugin().toURI().toString()));
        return options.toArray(new Option[0]);
    }

    /** Points the exporter at a free loopback port, once per framework. */
    @Before
    public void startExporter() throws Exception {
        Configuration c = configAdmin.getConfiguration("io.sonde.exporter", "?");
        Object port = c.getProperties() == null ? null : c.getProperties().get("port");
        if (port == null) {
            Dictionary<String, Object> p = new Hashtable<>();
            p.put("port", String.valueOf(freePort()));
            p.put("bind", "127.0.0.1");
            c.update(p);
            port = p.get("port");
        }
        metricsPort = Integer.parseInt(port.toString());
        awaitMetrics(m -> m.contains("sonde_build_info"));
    }

    @After
    public void cleanUp() throws Exception {
        for (Configuration c : created) {
            try {
                c.delete();
            } catch (IllegalStateException | IOException e) {
                // already gone
            }
        }
        for (ServerSocket s : listeners) {
            s.close();
        }
        awaitMetrics(m -> !m.contains("probe_total{"));
    }

    /** A loopback listener that accepts and closes connections until the test ends. */
    protected int openPort() throws IOException {
        ServerSocket s = new ServerSocket();
        s.bind(new InetSocketAddress("127.0.0.1", 0), 200);
        listeners.add(s);
        Thread t = new Thread(() -> {
            try {
                while (!s.isClosed()) {
                    s.accept().close();
                }
            } catch (IOException e) {
                // closed at the end of the test
            }
        }, "itest-acceptor");
        t.setDaemon(true);
        t.start();
        return s.getLocalPort();
    }

    /** A loopback port with nothing listening: connects are refused. */
    protected static int closedPort() throws IOException {
        return freePort();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        }
    }

    /** Creates or replaces the target factory configuration {@code name}. */
    protected Configuration target(String name, Object... keyValues) throws IOException {
        return update(configAdmin.getFactoryConfiguration("io.sonde.target", name, "?"), keyValues);
    }

    /** Creates or replaces the /probe module factory configuration {@code name}. */
    protected Configuration probeModule(String name, Object... keyValues) throws IOException {
        return update(configAdmin.getFactoryConfiguration("io.sonde.probe.module", name, "?"), keyValues);
    }

    protected Configuration agentConfig(Object... keyValues) throws IOException {
        return update(configAdmin.getConfiguration("io.sonde.agent", "?"), keyValues);
    }

    /** Replaces the properties of {@code c} with the given keys and values; deleted after the test. */
    private Configuration update(Configuration c, Object... keyValues) throws IOException {
        Dictionary<String, Object> p = new Hashtable<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            p.put((String) keyValues[i], keyValues[i + 1]);
        }
        c.update(p);
        if (!created.contains(c)) {
            created.add(c);
        }
        return c;
    }

    protected String metrics() throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("/metrics answered " + r.statusCode());
        }
        return r.body();
    }

    protected HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Polls /metrics until {@code condition} holds; fails with the last page after {@link #PATIENCE}. */
    protected String awaitMetrics(Predicate<String> condition) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        String last = null;
        Exception error = null;
        while (System.nanoTime() < deadline) {
            try {
                last = metrics();
                if (condition.test(last)) {
                    return last;
                }
            } catch (IOException e) {
                error = e;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("condition not met within " + PATIENCE + "; last /metrics:\n" + last
                + (error != null ? "\nlast error: " + error : ""));
    }

    /** The value of the one sample whose line starts with {@code prefix}, or NaN. */
    protected static double value(String metrics, String prefix) {
        for (String line : metrics.split("\n")) {
            if (line.startsWith(prefix)) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return Double.NaN;
    }

    protected Bundle installed(String symbolicName) {
        for (Bundle b : context.getBundles()) {
            if (symbolicName.equals(b.getSymbolicName())) {
                return b;
            }
        }
        return null;
    }
}
