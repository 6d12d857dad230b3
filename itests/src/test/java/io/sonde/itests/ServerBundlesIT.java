package io.sonde.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.CoreOptions.bundle;
import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.junitBundles;
import static org.ops4j.pax.exam.CoreOptions.mavenBundle;
import static org.ops4j.pax.exam.CoreOptions.systemProperty;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;

import javax.inject.Inject;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.util.tracker.ServiceTracker;

import io.sonde.server.spi.ResultIngest;
import io.sonde.server.spi.Store;
import io.sonde.wire.BatchAck;
import io.sonde.wire.WireCodec;

/**
 * The server's resolved bundles (dist/target/sonde-server/system) in a real Felix: the
 * HTTPS Whiteboard configured by the server, the H2 store and the ingest as services, the store
 * switched away and back by configuration.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ServerBundlesIT {

    static final Duration PATIENCE = Duration.ofSeconds(20);
    /** Made once in the JVM that builds the configuration; inside the framework, read back from it. */
    static final Path CONFIGURED_HOME = newHome();

    @Inject
    BundleContext context;

    @Inject
    ConfigurationAdmin configAdmin;

    private static Path newHome() {
        try {
            return Files.createTempDirectory("sonde-server-itest");
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Configuration
    public Option[] config() {
        File system = new File(System.getProperty("sonde.server.distribution", "../dist/target/sonde-server"), "system");
        File[] jars = system.listFiles((d, n) -> n.endsWith(".jar"));
        if (jars == null || jars.length == 0) {
            throw new IllegalStateException("no bundles in " + system + ": build the distribution first");
        }
        Arrays.sort(jars);
        List<Option> options = new ArrayList<>();
        options.add(junitBundles());
        options.add(systemProperty("pax.exam.logging").value("none"));
        options.add(mavenBundle("org.ops4j.pax.logging", "pax-logging-api", "2.3.2"));
        options.add(frameworkProperty("sonde.home").value(CONFIGURED_HOME.toString()));
        options.add(frameworkProperty("org.apache.felix.http.require.config").value("true"));
        options.add(frameworkProperty("org.apache.felix.http.enable").value("false"));
        for (File jar : jars) {
            options.add(bundle(jar.toURI().toString()));
        }
        return options.toArray(new Option[0]);
    }

    private <T> T await(Class<T> type, boolean present) throws InterruptedException {
        ServiceTracker<T, T> t = new ServiceTracker<>(context, type, null);
        t.open();
        try {
            long deadline = System.nanoTime() + PATIENCE.toNanos();
            while (System.nanoTime() < deadline) {
                T s = t.getService();
                if ((s != null) == present) {
                    return s;
                }
                Thread.sleep(50);
            }
            throw new AssertionError(type.getSimpleName() + (present ? " never came" : " never went"));
        } finally {
            t.close();
        }
    }

    private static int freePort() throws java.io.IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
            return s.getLocalPort();
        }
    }

    private void serverConfig(int port, String store) throws Exception {
        org.osgi.service.cm.Configuration c = configAdmin.getConfiguration("io.sonde.server", "?");
        Dictionary<String, Object> p = new Hashtable<>();
        p.put("port", String.valueOf(port));
        p.put("bind", "127.0.0.1");
        p.put("store", store);
        c.update(p);
    }

    private Path home() {
        return Path.of(context.getProperty("sonde.home"));
    }

    private HttpClient client() throws Exception {
        Path ca = home().resolve("data/tls/ca.pem");
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (!Files.exists(ca) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        try (InputStream in = Files.newInputStream(ca)) {
            ks.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return HttpClient.newBuilder().sslContext(ctx).connectTimeout(Duration.ofSeconds(2)).build();
    }

    private static HttpResponse<String> awaitStatus(HttpClient http, URI uri, int status) throws Exception {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        HttpResponse<String> last = null;
        while (System.nanoTime() < deadline) {
            try {
                last = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                if (last.statusCode() == status) {
                    return last;
                }
            } catch (java.io.IOException e) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError(uri + " did not answer " + status + ": " + (last == null ? "nothing" : last.statusCode() + " " + last.body()));
    }

    /**
     * Every servlet of the server's API, as the framework has them registered, is in the OpenAPI document the server serves
     * (and so in docs/api.md, which lists that document's endpoints): a new one without its description fails here.
     */
    @Test
    public void everyApiServletIsInTheOpenApiDocument() throws Exception {
        serverConfig(freePort(), "h2");
        await(Store.class, true);
        Bundle query = Arrays.stream(context.getBundles()).filter(b -> "io.sonde.server.query".equals(b.getSymbolicName()))
                .findFirst().orElseThrow();
        java.util.Set<String> documented;
        try (InputStream in = query.getEntry("io/sonde/server/query/openapi.json").openStream()) {
            documented = com.google.gson.JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8)).getAsJsonObject()
                    .getAsJsonObject("paths").keySet();
        }
        // the servlets come as their references do: wait until the registered patterns stand still for two seconds
        java.util.Set<String> patterns = java.util.Set.of();
        long stillSince = System.nanoTime();
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (System.nanoTime() < deadline && System.nanoTime() - stillSince < 2_000_000_000L) {
            java.util.Set<String> now = new java.util.TreeSet<>();
            org.osgi.framework.ServiceReference<?>[] refs = context.getAllServiceReferences("jakarta.servlet.Servlet", null);
            for (org.osgi.framework.ServiceReference<?> r : refs == null ? new org.osgi.framework.ServiceReference<?>[0] : refs) {
                Object p = r.getProperty("osgi.http.whiteboard.servlet.pattern");
                for (Object one : p instanceof String[] a ? a : p == null ? new Object[0] : new Object[] {p}) {
                    now.add(String.valueOf(one));
                }
            }
            if (!now.equals(patterns)) {
                patterns = now;
                stillSince = System.nanoTime();
            }
            Thread.sleep(100);
        }
        assertTrue("the API's servlets are registered: " + patterns, patterns.contains("/api/v1/results") && patterns.contains("/api/v1/agents/*"));
        List<String> undocumented = new ArrayList<>();
        for (String pattern : patterns) {
            String base = pattern.endsWith("/*") ? pattern.substring(0, pattern.length() - 2) : pattern;
            if (!base.startsWith("/api/v1/") || base.equals("/api/v1/openapi.json")) {
                continue;
            }
            if (documented.stream().noneMatch(d -> d.equals(base) || d.startsWith(base + "/"))) {
                undocumented.add(pattern);
            }
        }
        assertEquals("servlets of the API that openapi.json does not describe", List.of(), undocumented);
    }

    @Test
    public void theServerServesHttpsWithItsStoreAndIngestAndFollowsItsConfiguration() throws Exception {
        int port = freePort();
        serverConfig(port, "h2");
        HttpClient http = client();
        URI health = URI.create("https://127.0.0.1:" + port + "/healthz");
        assertTrue(awaitStatus(http, health, 200).body().contains("\"status\":\"ok\""));
        Store store = await(Store.class, true);
        ResultIngest ingest = await(ResultIngest.class, true);
        // the store is registered whole and as each of its parts, the same object: a component takes the part it uses
        for (Class<?> part : List.of(io.sonde.server.spi.AgentStore.class, io.sonde.server.spi.ResultStore.class,
                io.sonde.server.spi.DefinitionStore.class, io.sonde.server.spi.ReleaseStore.class, io.sonde.server.spi.AlertStore.class,
                io.sonde.server.spi.UserStore.class)) {
            assertSame(part.getName(), store, await(part, true));
        }

        // an agent enrolls over HTTPS; its batch goes through the ingest service into the store
        String admin = Files.readString(home().resolve("data/admin.token")).strip();
        HttpResponse<String> token = http.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/api/v1/enrollment-tokens"))
                .header("Authorization", "Bearer " + admin).POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(token.body(), 201, token.statusCode());
        String secret = token.body().replaceAll(".*\"token\":\"([^\"]+)\".*", "$1");
        HttpResponse<String> enrolled = http.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/api/v1/enroll"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"schema\":1,\"enrollment_token\":\"" + secret + "\",\"agent_id\":\"it-1\"}"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(enrolled.body(), 200, enrolled.statusCode());
        String batch = "{\"schema\":1,\"agent_id\":\"it-1\",\"epoch\":\"e1\",\"results\":[{\"seq\":1,\"target\":\"t\",\"kind\":\"tcp\","
                + "\"started_at\":\"" + Instant.now() + "\",\"success\":true,\"response_time_seconds\":0.002}]}";
        BatchAck ack = ingest.ingest("it-1", new ByteArrayInputStream(WireCodec.gzip(batch.getBytes(StandardCharsets.UTF_8))), true);
        assertEquals(1, ack.accepted());
        assertEquals(1, store.resultCount());
        assertNotNull(store.agents().get(0).enrolledAt());

        // another store is chosen: the embedded one goes, health says why; back to h2, all is there again
        serverConfig(port, "postgres");
        await(Store.class, false);
        assertTrue(awaitStatus(http, health, 503).body().contains("\"store\":\"not available\""));
        serverConfig(port, "h2");
        Store again = await(Store.class, true);
        awaitStatus(http, health, 200);
        assertEquals("the store's files are kept", 1, again.resultCount());

        // a part of the server stopped (as while it starts): health names it, its paths answer 404 whatever the method
        Bundle config = Arrays.stream(context.getBundles()).filter(b -> "io.sonde.server.config".equals(b.getSymbolicName()))
                .findFirst().orElseThrow();
        config.stop();
        HttpResponse<String> partial = awaitStatus(http, health, 503);
        assertTrue(partial.body(), partial.body().contains("\"starting\":[\"bundle io.sonde.server.config is not started\""));
        HttpResponse<String> live = http.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/livez")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("alive though not ready: " + live.body(), 200, live.statusCode());
        URI target = URI.create("https://127.0.0.1:" + port + "/api/v1/targets/web");
        HttpRequest put = HttpRequest.newBuilder(target).header("Authorization", "Bearer " + admin)
                .PUT(HttpRequest.BodyPublishers.ofString("{\"kind\": \"tcp\", \"host\": \"127.0.0.1\", \"port\": 8080, \"agents\": \"*\"}")).build();
        HttpResponse<String> absent = http.send(put, HttpResponse.BodyHandlers.ofString());
        assertEquals(absent.body(), 404, absent.statusCode());
        assertTrue(absent.body(), absent.body().contains("no such path"));
        config.start();
        assertTrue(awaitStatus(http, health, 200).body().contains("\"status\":\"ok\""));
        HttpResponse<String> created = http.send(put, HttpResponse.BodyHandlers.ofString());
        assertEquals(created.body(), 201, created.statusCode());
    }
}
