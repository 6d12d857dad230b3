package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

import org.junit.AfterClass;
import org.junit.Assume;
import org.junit.BeforeClass;
import org.junit.Test;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

import io.sonde.plugin.dns.testing.TestDnsServer;

/**
 * /probe against prometheus-blackbox-exporter (Debian package), both asked about the same local
 * targets in the same run: Sonde must answer with every metric name blackbox_exporter gives (bar
 * the ones listed in {@link #NOT_MEASURED}) and the same values where a value is not a timing.
 */
public class BlackboxIT {

    private static final String BLACKBOX = "/usr/bin/prometheus-blackbox-exporter";
    /** Families blackbox_exporter writes that Sonde does not: our results do not carry them (yet). */
    private static final Set<String> NOT_MEASURED = Set.of("probe_http_redirects", "probe_ssl_last_chain_info");
    /** Samples of measured families that Sonde does not give, each documented in the README's /probe section. */
    private static final Set<String> NOT_MEASURED_SAMPLES = Set.of("probe_dns_duration_seconds{phase=\"connect\"}");
    /** Values that are timings or depend on timing: compared for range, not equality. */
    private static final Set<String> TIMINGS = Set.of("probe_duration_seconds", "probe_dns_lookup_time_seconds",
            "probe_http_duration_seconds", "probe_icmp_duration_seconds", "probe_dns_duration_seconds");

    private static AgentProcess agent;
    private static Process blackbox;
    private static int proxyPort;
    private static int blackboxPort;
    private static HttpServer http;
    private static HttpsServer https;
    private static TestDnsServer dns;
    private static HttpsServer mutual;
    /** A Jetty offering h2 and http/1.1 by ALPN; it records each request's User-Agent and protocol in {@link #H2_SERVED}. */
    private static org.eclipse.jetty.server.Server jetty;
    private static final java.util.Queue<String> H2_SERVED = new java.util.concurrent.ConcurrentLinkedQueue<>();
    /** A line server like SMTP's: a banner, 250 to EHLO, 221 to QUIT and the end; 500 to anything else. */
    private static ServerSocket smtp;
    private static Tinyproxy proxy;
    private static Path work;
    private static Path config;
    /** The agent's exporter configuration: /probe takes the modules of the same blackbox.yml as blackbox_exporter. */
    private static String exporterConfig;
    /** The password and token the authenticated modules send, read from files by both. */
    private static final String PASSWORD = "pw-" + Long.toHexString(System.nanoTime());
    private static final String TOKEN = "tok-" + Long.toHexString(System.nanoTime());
    private static final java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeClass
    public static void start() throws Exception {
        Assume.assumeTrue("prometheus-blackbox-exporter is not installed; CI installs it",
                new File(BLACKBOX).canExecute() || System.getenv("CI") != null);
        work = Files.createTempDirectory("sonde-blackbox-");
        proxyPort = AgentProcess.freePort();
        MODULES = MODULES_TEMPLATE.replace("WORK", work.toString()).replace("PROXY", Integer.toString(proxyPort));
        http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
        http.createContext("/", BlackboxIT::answer);
        http.setExecutor(pool); // a slow answer must not hold up the others
        http.start();
        https = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
        SSLContext context = selfSigned(work);
        https.setHttpsConfigurator(new HttpsConfigurator(context));
        jetty = http2Server(context);
        https.createContext("/", BlackboxIT::answer);
        https.setExecutor(pool);
        https.start();
        dns = new TestDnsServer().add("www.example.test.", "A", "192.0.2.10").add("www.example.test.", "A", "192.0.2.11")
                .add("example.test.", "SOA", "ns.example.test. admin.example.test. 7 3600 600 86400 60");

        mutual = mutualTls(work);
        smtp = lineServer();
        proxy = Tinyproxy.start(work, proxyPort);
        Files.writeString(work.resolve("password"), PASSWORD + "\n");
        Files.writeString(work.resolve("token"), TOKEN + "\n");
        config = work.resolve("blackbox.yml");
        Files.writeString(config, MODULES);
        blackboxPort = AgentProcess.freePort();
        blackbox = new ProcessBuilder(BLACKBOX, "--config.file=" + config, "--web.listen-address=127.0.0.1:" + blackboxPort)
                .redirectErrorStream(true).redirectOutput(work.resolve("blackbox.log").toFile()).start();

        agent = AgentProcess.start();
        exporterConfig = "port = " + agent.port + "\nbind = 127.0.0.1\nprobe_config_file = " + config + "\n";
        agent.write("etc/io.sonde.exporter.cfg", exporterConfig);
        agent.awaitLogLine("/probe modules of " + config);
        agent.awaitMetrics(m -> true);
        long deadline = System.nanoTime() + AgentProcess.PATIENCE.toNanos();
        while (!ready() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertTrue("blackbox_exporter or one of the agent's modules " + READY_PROBES.keySet() + " did not come up within "
                + AgentProcess.PATIENCE + "; agent log:\n" + agent.log(), ready());
    }

    /**
     * Each module the tests use, with a target it answers 200 for (a closed loopback port where it needs one): the agent
     * answers 503 for a module whose prober bundle has not started yet, and the plugins start in no fixed order (a CI run
     * asked for icmp while only dns was in).
     */
    private static final Map<String, String> READY_PROBES = Map.of("dns_nx", "127.0.0.1", "dns_test", "127.0.0.1",
            "dns_soa", "127.0.0.1", "icmp", "127.0.0.1", "tcp_connect", "127.0.0.1:1", "http_2xx", "http://127.0.0.1:1/",
            "https_insecure", "https://127.0.0.1:1/", "http_post", "http://127.0.0.1:1/");

    /**
     * One blackbox configuration, read by blackbox_exporter and by the agent: the usual modules, and
     * the http keys a blackbox user has (method, headers, body, authentication from files, redirects,
     * regular expressions on body and headers, HTTP versions, client certificates, a proxy).
     */
    private static final String MODULES_TEMPLATE = String.join("\n",
            "modules:",
            "  http_2xx: {prober: http}",
            "  https_insecure: {prober: http, http: {tls_config: {insecure_skip_verify: true}}}",
            "  tcp_connect: {prober: tcp}",
            "  icmp: {prober: icmp}",
            "  dns_test: {prober: dns, dns: {query_name: www.example.test, query_type: A, transport_protocol: udp}}",
            "  dns_soa: {prober: dns, dns: {query_name: example.test, query_type: SOA, transport_protocol: udp}}",
            "  dns_nx: {prober: dns, dns: {query_name: missing.example.test, query_type: A, transport_protocol: udp}}",
            "  http_post:",
            "    prober: http",
            "    timeout: 5s",
            "    http:",
            "      method: POST",
            "      headers: {X-Probe: sonde}",
            "      body: ping",
            "      valid_status_codes: [200]",
            "      fail_if_body_not_matches_regexp: ['^POST ping probe=sonde']",
            "      fail_if_header_not_matches: [{header: Content-Type, regexp: 'text/plain'}]",
            "  http_basic: {prober: http, http: {basic_auth: {username: probe, password_file: WORK/password}}}",
            "  http_bearer: {prober: http, http: {bearer_token_file: WORK/token}}",
            "  http_no_follow: {prober: http, http: {no_follow_redirects: true, valid_status_codes: [302]}}",
            "  http_fail_body: {prober: http, http: {fail_if_body_matches_regexp: [maintenance, 'out of order']}}",
            "  http_fail_header: {prober: http, http: {fail_if_header_matches: [{header: X-Cache, regexp: MISS}]}}",
            "  http_11: {prober: http, http: {valid_http_versions: [HTTP/1.1]}}",
            "  https_http2_off: {prober: http, http: {enable_http2: false, tls_config: {insecure_skip_verify: true}}}",
            "  https_2_only: {prober: http, http: {valid_http_versions: [HTTP/2.0], tls_config: {insecure_skip_verify: true}}}",
            "  http_2_only: {prober: http, http: {valid_http_versions: [HTTP/2.0]}}",
            "  https_mutual: {prober: http, http: {tls_config: {ca_file: WORK/ca.pem, cert_file: WORK/client.pem, key_file: WORK/client.key}}}",
            "  https_no_client_cert: {prober: http, http: {tls_config: {ca_file: WORK/ca.pem}}}",
            "  http_proxy: {prober: http, http: {proxy_url: 'http://127.0.0.1:PROXY'}}",
            "  https_proxy: {prober: http, http: {proxy_url: 'http://127.0.0.1:PROXY', tls_config: {ca_file: WORK/ca.pem, cert_file: WORK/client.pem, key_file: WORK/client.key}}}",
            "  tcp_smtp:",
            "    prober: tcp",
            "    tcp:",
            "      query_response:",
            "        - expect: '^220 (\\S+) ESMTP'",
            "        - send: 'EHLO probe'",
            "        - expect: '^250 '",
            "        - send: QUIT",
            "        - expect: '^221'",
            "  tcp_ssh: {prober: tcp, tcp: {query_response: [{expect: '^SSH-2\\.0-'}]}}",
            "");

    private static String MODULES;

    /** Both exporters answer: blackbox_exporter is healthy and every module the tests use is in. */
    private static boolean ready() {
        try {
            if (get(blackboxPort, "/-/healthy", null).statusCode() != 200) {
                return false;
            }
            for (Map.Entry<String, String> m : READY_PROBES.entrySet()) {
                if (get(agent.port, "/probe?target=" + URLEncoder.encode(m.getValue(), StandardCharsets.UTF_8) + "&module="
                        + m.getKey(), null).statusCode() != 200) {
                    return false;
                }
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (Exception e) {
            return false; // not listening yet
        }
    }

    @AfterClass
    public static void stop() throws Exception {
        if (blackbox != null) {
            blackbox.destroy();
            blackbox.waitFor(10, TimeUnit.SECONDS);
        }
        if (agent != null) {
            agent.close();
        }
        if (proxy != null) {
            proxy.close();
        }
        if (mutual != null) {
            mutual.stop(0);
        }
        if (jetty != null) {
            jetty.stop();
        }
        if (smtp != null) {
            smtp.close();
        }
        if (http != null) {
            http.stop(0);
            https.stop(0);
            dns.close();
            pool.shutdownNow();
        }
        if (work != null) {
            AgentProcess.run("rm", "-rf", work.toString());
        }
    }

    private static void answer(HttpExchange x) throws IOException {
        String path = x.getRequestURI().getPath();
        if (path.equals("/slow")) {
            try {
                Thread.sleep(3000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        byte[] body = ("hello from " + path + "\n").getBytes(StandardCharsets.UTF_8);
        int status = path.equals("/down") ? 503 : 200;
        String authorization = x.getRequestHeaders().getFirst("Authorization");
        switch (path) {
            case "/echo" -> {
                body = (x.getRequestMethod() + " " + new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8) + " probe="
                        + x.getRequestHeaders().getFirst("X-Probe")).getBytes(StandardCharsets.UTF_8);
                x.getResponseHeaders().add("Content-Type", "text/plain; charset=utf-8");
            }
            case "/basic" -> status = ("Basic " + java.util.Base64.getEncoder().encodeToString(("probe:" + PASSWORD)
                    .getBytes(StandardCharsets.UTF_8))).equals(authorization) ? 200 : 401;
            case "/bearer" -> status = ("Bearer " + TOKEN).equals(authorization) ? 200 : 401;
            case "/redirect" -> {
                x.getResponseHeaders().add("Location", "/ok");
                status = 302;
            }
            case "/maintenance" -> body = "<h1>Down for maintenance</h1>".getBytes(StandardCharsets.UTF_8);
            case "/cached" -> x.getResponseHeaders().add("X-Cache", "MISS from edge");
            case "/via" -> { // only what came through the proxy: tinyproxy says so in Via
                String via = x.getRequestHeaders().getFirst("Via");
                status = via != null && via.contains("tinyproxy") ? 200 : 403;
                if (status == 200) {
                    VIA_PROXY.incrementAndGet();
                }
            }
            default -> { }
        }
        try {
            x.sendResponseHeaders(status, body.length);
            try (OutputStream out = x.getResponseBody()) {
                out.write(body);
            }
        } finally {
            if (path.equals("/slow")) {
                SLOW_ANSWERED.incrementAndGet();
            }
        }
    }

    /** Requests to /via that came through the proxy. */
    static final java.util.concurrent.atomic.AtomicInteger VIA_PROXY = new java.util.concurrent.atomic.AtomicInteger();

    /** The answers of /slow finished, each 3 s after its request came. */
    static final java.util.concurrent.atomic.AtomicInteger SLOW_ANSWERED = new java.util.concurrent.atomic.AtomicInteger();

    private static ServerSocket lineServer() throws IOException {
        ServerSocket server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        pool.execute(() -> {
            while (!server.isClosed()) {
                try {
                    java.net.Socket s = server.accept();
                    pool.execute(() -> {
                        try (s) {
                            s.setSoTimeout(10_000);
                            OutputStream out = s.getOutputStream();
                            out.write("220 sonde.test ESMTP ready\r\n".getBytes(StandardCharsets.US_ASCII));
                            java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(s.getInputStream(),
                                    StandardCharsets.US_ASCII));
                            for (String line = in.readLine(); line != null; line = in.readLine()) {
                                SMTP_LINES.add(line);
                                if (line.equals("QUIT")) {
                                    out.write("221 bye\r\n".getBytes(StandardCharsets.US_ASCII));
                                    return;
                                }
                                out.write((line.startsWith("EHLO ") ? "250 hello\r\n" : "500 what\r\n").getBytes(StandardCharsets.US_ASCII));
                            }
                        } catch (IOException e) {
                            // the prober closed first
                        }
                    });
                } catch (IOException e) {
                    return;
                }
            }
        });
        return server;
    }

    /** The lines the line server read, from every prober. */
    static final java.util.concurrent.ConcurrentLinkedQueue<String> SMTP_LINES = new java.util.concurrent.ConcurrentLinkedQueue<>();

    /**
     * A server on 127.0.0.1 that asks for a client certificate: a CA, its server and client
     * certificates made by openssl in {@code dir} (ca.pem, client.pem, client.key in PKCS #8, as
     * both exporters read them).
     */
    private static HttpsServer mutualTls(Path dir) throws Exception {
        String d = dir.toString();
        AgentProcess.output(0, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days",
                "2", "-subj", "/CN=Sonde e2e CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=keyCertSign",
                "-keyout", d + "/ca.key", "-out", d + "/ca.pem");
        for (String name : List.of("server", "client")) {
            Files.writeString(dir.resolve(name + ".ext"), name.equals("server") ? "subjectAltName=IP:127.0.0.1\n"
                    : "extendedKeyUsage=clientAuth\n");
            AgentProcess.output(0, "openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-subj", "/CN=" + (name.equals("server") ? "127.0.0.1" : "sonde-probe"), "-keyout", d + "/" + name + ".key",
                    "-out", d + "/" + name + ".csr");
            AgentProcess.output(0, "openssl", "x509", "-req", "-in", d + "/" + name + ".csr", "-CA", d + "/ca.pem", "-CAkey",
                    d + "/ca.key", "-CAcreateserial", "-days", "2", "-extfile", d + "/" + name + ".ext", "-out", d + "/" + name + ".pem");
        }
        java.security.cert.CertificateFactory x509 = java.security.cert.CertificateFactory.getInstance("X.509");
        java.security.cert.Certificate serverCert;
        java.security.cert.Certificate ca;
        try (InputStream in = Files.newInputStream(dir.resolve("server.pem")); InputStream c = Files.newInputStream(dir.resolve("ca.pem"))) {
            serverCert = x509.generateCertificate(in);
            ca = x509.generateCertificate(c);
        }
        String pem = Files.readString(dir.resolve("server.key"));
        byte[] der = java.util.Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
        java.security.PrivateKey key = java.security.KeyFactory.getInstance("EC").generatePrivate(
                new java.security.spec.PKCS8EncodedKeySpec(der));
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("server", key, "changeit".toCharArray(), new java.security.cert.Certificate[] {serverCert, ca});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "changeit".toCharArray());
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        trusted.setCertificateEntry("ca", ca);
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(
                javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trusted);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        HttpsServer s = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
        s.setHttpsConfigurator(new HttpsConfigurator(ssl) {
            @Override
            public void configure(com.sun.net.httpserver.HttpsParameters params) {
                javax.net.ssl.SSLParameters p = ssl.getDefaultSSLParameters();
                p.setNeedClientAuth(true);
                params.setSSLParameters(p);
            }
        });
        s.createContext("/", BlackboxIT::answer);
        s.setExecutor(pool);
        s.start();
        return s;
    }

    /** A self-signed certificate for 127.0.0.1, made by the JDK's keytool. */
    /** Jetty on loopback with {@code context}'s key, offering {@code h2} and {@code http/1.1} by ALPN; answers 200 "ok". */
    private static org.eclipse.jetty.server.Server http2Server(SSLContext context) throws Exception {
        org.eclipse.jetty.server.Server server = new org.eclipse.jetty.server.Server();
        org.eclipse.jetty.server.HttpConfiguration config = new org.eclipse.jetty.server.HttpConfiguration();
        config.addCustomizer(new org.eclipse.jetty.server.SecureRequestCustomizer(false));
        org.eclipse.jetty.util.ssl.SslContextFactory.Server tls = new org.eclipse.jetty.util.ssl.SslContextFactory.Server();
        tls.setSslContext(context);
        org.eclipse.jetty.alpn.server.ALPNServerConnectionFactory alpn = new org.eclipse.jetty.alpn.server.ALPNServerConnectionFactory(
                "h2", "http/1.1");
        alpn.setDefaultProtocol("http/1.1");
        org.eclipse.jetty.server.ServerConnector connector = new org.eclipse.jetty.server.ServerConnector(server,
                new org.eclipse.jetty.server.SslConnectionFactory(tls, alpn.getProtocol()), alpn,
                new org.eclipse.jetty.http2.server.HTTP2ServerConnectionFactory(config),
                new org.eclipse.jetty.server.HttpConnectionFactory(config));
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        server.setHandler(new org.eclipse.jetty.server.Handler.Abstract() {
            @Override
            public boolean handle(org.eclipse.jetty.server.Request request, org.eclipse.jetty.server.Response response,
                    org.eclipse.jetty.util.Callback callback) {
                String agent = String.valueOf(request.getHeaders().get("User-Agent"));
                H2_SERVED.add((agent.startsWith("Sonde") ? "sonde" : "blackbox") + " " + request.getConnectionMetaData().getProtocol());
                response.getHeaders().put("Content-Type", "text/plain");
                org.eclipse.jetty.io.Content.Sink.write(response, true, "ok", callback);
                return true;
            }
        });
        server.start();
        return server;
    }

    private static SSLContext selfSigned(Path dir) throws Exception {
        Path store = dir.resolve("server.p12");
        AgentProcess.run(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-genkeypair", "-alias", "e2e",
                "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=127.0.0.1", "-ext", "san=ip:127.0.0.1",
                "-validity", "30", "-keystore", store.toString(), "-storetype", "PKCS12", "-storepass", "changeit");
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(store.toFile())) {
            ks.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "changeit".toCharArray());
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(kmf.getKeyManagers(), null, null);
        return ssl;
    }

    private static HttpResponse<String> get(int port, String pathAndQuery, String scrapeTimeout) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
                .timeout(Duration.ofSeconds(15));
        if (scrapeTimeout != null) {
            b.header("X-Prometheus-Scrape-Timeout-Seconds", scrapeTimeout);
        }
        try {
            return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return new Failed(e);
        }
    }

    private static String probe(int port, String target, String module) throws Exception {
        HttpResponse<String> r = get(port, "/probe?target=" + URLEncoder.encode(target, StandardCharsets.UTF_8)
                + "&module=" + module, "5");
        assertEquals(port + " " + module + " " + target + ": " + r.body(), 200, r.statusCode());
        return r.body();
    }

    /** The samples of an exposition: {@code name{labels}} to value. */
    private static Map<String, Double> samples(String exposition) {
        Map<String, Double> samples = new TreeMap<>();
        for (String line : exposition.split("\n")) {
            if (!line.isBlank() && !line.startsWith("#")) {
                int space = line.lastIndexOf(' ');
                samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
            }
        }
        return samples;
    }

    private static Set<String> families(Map<String, Double> samples) {
        Set<String> names = new TreeSet<>();
        for (String s : samples.keySet()) {
            names.add(s.contains("{") ? s.substring(0, s.indexOf('{')) : s);
        }
        return names;
    }

    /** Asks both, checks names and values; returns Sonde's samples. */
    private static Map<String, Double> compare(String target, String module) throws Exception {
        return compare(target, module, Set.of());
    }

    /**
     * As {@link #compare(String, String)}, the samples {@code differ} checked for presence only: a
     * value where the two differ by design, each documented in the README's /probe section.
     */
    private static Map<String, Double> compare(String target, String module, Set<String> differ) throws Exception {
        String theirs = probe(blackboxPort, target, module);
        String ours = probe(agent.port, target, module);
        AgentProcess.promtool(ours);
        Map<String, Double> b = samples(theirs);
        Map<String, Double> s = samples(ours);
        Set<String> missing = families(b);
        missing.removeAll(families(s));
        missing.removeAll(NOT_MEASURED);
        assertTrue(module + " " + target + ": Sonde lacks " + missing + "\nblackbox:\n" + theirs + "\nsonde:\n" + ours,
                missing.isEmpty());
        for (Map.Entry<String, Double> e : b.entrySet()) {
            String family = e.getKey().contains("{") ? e.getKey().substring(0, e.getKey().indexOf('{')) : e.getKey();
            Double mine = s.get(e.getKey());
            if (NOT_MEASURED.contains(family) || NOT_MEASURED_SAMPLES.contains(e.getKey())) {
                continue;
            }
            if (TIMINGS.contains(family) || differ.contains(e.getKey())) {
                // every timing sample blackbox_exporter gives, Sonde gives too (its value is its own measurement)
                assertTrue(module + " " + target + ": Sonde lacks " + e.getKey() + "\nblackbox:\n" + theirs + "\nsonde:\n" + ours,
                        mine != null);
                assertTrue(e.getKey() + " = " + mine + "\n" + ours, mine >= 0 && Double.isFinite(mine));
                continue;
            }
            assertEquals(module + " " + target + " " + e.getKey() + "\nblackbox:\n" + theirs + "\nsonde:\n" + ours,
                    e.getValue(), mine, 1e-9);
        }
        return s;
    }

    @Test
    public void httpAgreesWithBlackboxExporter() throws Exception {
        int port = http.getAddress().getPort();
        Map<String, Double> ok = compare("http://127.0.0.1:" + port + "/ok", "http_2xx");
        assertEquals(1, ok.get("probe_success"), 0);
        assertEquals(200, ok.get("probe_http_status_code"), 0);
        Map<String, Double> down = compare("http://127.0.0.1:" + port + "/down", "http_2xx");
        assertEquals(0, down.get("probe_success"), 0);
        assertEquals(503, down.get("probe_http_status_code"), 0);
    }

    @Test
    public void httpsAgreesOnCertificateAndTlsVersion() throws Exception {
        Map<String, Double> s = compare("https://127.0.0.1:" + https.getAddress().getPort() + "/ok", "https_insecure");
        assertEquals(1, s.get("probe_success"), 0);
        assertEquals(1, s.get("probe_http_ssl"), 0);
        assertTrue(s.toString(), s.get("probe_ssl_earliest_cert_expiry") > System.currentTimeMillis() / 1000.0);
    }

    @Test
    public void tcpAgreesWithBlackboxExporter() throws Exception {
        int open = agent.openPort();
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        assertEquals(1, compare("127.0.0.1:" + open, "tcp_connect").get("probe_success"), 0);
        assertEquals(0, compare("127.0.0.1:" + closed, "tcp_connect").get("probe_success"), 0);
    }

    @Test
    public void icmpAgreesWithBlackboxExporter() throws Exception {
        Assume.assumeTrue("blackbox_exporter's ICMP needs root here", "root".equals(System.getProperty("user.name")) || System.getenv("CI") != null);
        Map<String, Double> s = compare("127.0.0.1", "icmp");
        assertEquals(1, s.get("probe_success"), 0);
        assertEquals(64, s.get("probe_icmp_reply_hop_limit"), 0);
    }

    @Test
    public void dnsAgreesWithBlackboxExporter() throws Exception {
        String server = "127.0.0.1:" + dns.port();
        Map<String, Double> a = compare(server, "dns_test");
        assertEquals(1, a.get("probe_success"), 0);
        assertEquals(2, a.get("probe_dns_answer_rrs"), 0);
        assertEquals(7, compare(server, "dns_soa").get("probe_dns_serial"), 0);
        Map<String, Double> nx = compare(server, "dns_nx");
        assertEquals(0, nx.get("probe_success"), 0);
        assertEquals(1, nx.get("probe_dns_query_succeeded"), 0);
    }

    @Test
    public void aNameThatDoesNotResolveIsAFailedProbeNotABadRequest() throws Exception {
        // the agent's names come from the test's hosts file: no name server is asked
        HttpResponse<String> r = get(agent.port, "/probe?target=http://nowhere.sonde.test/&module=http_2xx", null);
        assertEquals(r.body(), 200, r.statusCode());
        Map<String, Double> s = samples(r.body());
        assertEquals(r.body(), 0, s.get("probe_success"), 0);
        assertTrue(r.body(), s.containsKey("probe_dns_lookup_time_seconds"));
        assertTrue(r.body(), !s.containsKey("probe_ip_protocol"));
        HttpResponse<String> debug = get(agent.port, "/probe?target=http://nowhere.sonde.test/&module=http_2xx&debug=true", null);
        assertTrue(debug.body(), debug.body().contains("Probe failed: cannot resolve 'nowhere.sonde.test'"));
    }

    @Test
    public void badRequestsAre400WithAReason() throws Exception {
        HttpResponse<String> missing = get(agent.port, "/probe?module=http_2xx", null);
        assertEquals(400, missing.statusCode());
        assertEquals("Target parameter is missing\n", missing.body());
        HttpResponse<String> unknown = get(agent.port, "/probe?target=127.0.0.1&module=nope", null);
        assertEquals(400, unknown.statusCode());
        assertTrue(unknown.body(), unknown.body().startsWith("Unknown module \"nope\"; modules: dns_nx, dns_soa, dns_test,"));
        HttpResponse<String> twice = get(agent.port, "/probe?target=a&target=b&module=icmp", null);
        assertEquals(400, twice.statusCode());
        assertEquals("Parameter 'target' is given 2 times; give it once\n", twice.body());
        HttpResponse<String> noPort = get(agent.port, "/probe?target=127.0.0.1&module=tcp_connect", null);
        assertEquals(400, noPort.statusCode());
        assertEquals("target \"127.0.0.1\" (module tcp_connect): key 'port': missing; tcp targets need a port (1-65535)\n",
                noPort.body());
        HttpResponse<String> badPort = get(agent.port, "/probe?target=127.0.0.1:99999&module=tcp_connect", null);
        assertEquals(400, badPort.statusCode());
        assertTrue(badPort.body(), badPort.body().contains("key 'port': 99999 is not a port number"));
        HttpResponse<String> header = get(agent.port, "/probe?target=127.0.0.1&module=icmp", "soon");
        assertEquals(400, header.statusCode());
        assertEquals("Header X-Prometheus-Scrape-Timeout-Seconds: 'soon' is not a positive number of seconds\n", header.body());
        // a broken module is the configuration's fault: said in the log, counted, and a 500 naming file and key
        agent.write("etc/io.sonde.probe.module-broken.cfg", "prober = http\nmethod = TRACE\n");
        String logged = agent.awaitLogLine("Configuration error", "io.sonde.probe.module-broken.cfg", "key 'method'");
        assertTrue(logged, logged.contains("'TRACE' is not one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"));
        HttpResponse<String> broken = get(agent.port, "/probe?target=127.0.0.1&module=broken", null);
        assertEquals(500, broken.statusCode());
        assertTrue(broken.body(), broken.body().startsWith("Module \"broken\" is misconfigured: " + agent.home.toRealPath()
                .resolve("etc/io.sonde.probe.module-broken.cfg") + ": key 'method': 'TRACE' is not one of GET, HEAD"));
        Files.delete(agent.home.resolve("etc/io.sonde.probe.module-broken.cfg"));

        // a broken escape, which java.net.URI will not even send: written by hand
        try (java.net.Socket raw = new java.net.Socket("127.0.0.1", agent.port)) {
            raw.setSoTimeout(10_000);
            raw.getOutputStream().write("GET /probe?target=%zz&module=icmp HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            String answer = new String(raw.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(answer, answer.startsWith("HTTP/1.1 400 "));
        }
    }

    @Test
    public void scrapeTimeoutBoundsTheProbeAndTheLimitBoundsTheRequests() throws Exception {
        String slow = URLEncoder.encode("http://127.0.0.1:" + http.getAddress().getPort() + "/slow", StandardCharsets.UTF_8);
        // Prometheus gives 1.5 s: the probe gets 1 s, the server takes 3 s
        int answeredBefore = SLOW_ANSWERED.get();
        HttpResponse<String> r = get(agent.port, "/probe?target=" + slow + "&module=http_2xx", "1.5");
        assertEquals(200, r.statusCode());
        Map<String, Double> s = samples(r.body());
        assertEquals(r.body(), 0, s.get("probe_success"), 0);
        // the agent answered while the server still sat on its 3 s: the probe was cut at its timeout, not waited out
        assertEquals("the slow server had not answered yet", answeredBefore, SLOW_ANSWERED.get());

        // one probe at a time: of two slow requests at once, one is turned away at once
        agent.write("etc/io.sonde.exporter.cfg", exporterConfig + "probe_concurrency = 1\n");
        try {
            boolean refused = false;
            long deadline = System.nanoTime() + AgentProcess.PATIENCE.toNanos();
            while (!refused && System.nanoTime() < deadline) {
                List<CompletableFuture<HttpResponse<String>>> both = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    both.add(CompletableFuture.supplyAsync(() -> {
                        try {
                            return get(agent.port, "/probe?target=" + slow + "&module=http_2xx", "1");
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    }));
                }
                for (CompletableFuture<HttpResponse<String>> f : both) {
                    HttpResponse<String> answer = f.get(20, TimeUnit.SECONDS);
                    if (answer.statusCode() == 503) {
                        assertTrue(answer.body(), answer.body().startsWith("Too many probes in flight on /probe (limit 1, "
                                + "probe_concurrency in etc/io.sonde.exporter.cfg)"));
                        refused = true;
                    } else {
                        assertEquals(answer.body(), 200, answer.statusCode());
                    }
                }
            }
            assertTrue("a second probe at once was never refused", refused);
        } finally {
            agent.write("etc/io.sonde.exporter.cfg", exporterConfig);
        }
    }

    private static String plain(String path) {
        return "http://127.0.0.1:" + http.getAddress().getPort() + path;
    }

    /** The http keys of issue 29, as a blackbox module writes them: same file, same target, same verdict and values. */
    @Test
    public void httpModuleKeysAgreeWithBlackboxExporter() throws Exception {
        Map<String, Double> post = compare(plain("/echo"), "http_post");
        assertEquals(post.toString(), 1, post.get("probe_success"), 0);
        assertEquals(0, compare(plain("/ok"), "http_post").get("probe_success"), 0); // "hello from /ok" is not the echo
        assertEquals(1, compare(plain("/basic"), "http_basic").get("probe_success"), 0);
        assertEquals(0, compare(plain("/bearer"), "http_basic").get("probe_success"), 0);
        assertEquals(1, compare(plain("/bearer"), "http_bearer").get("probe_success"), 0);
        // a redirect not followed: blackbox_exporter's Go client closes its body unread (0 bytes), Sonde counts what came
        Map<String, Double> stay = compare(plain("/redirect"), "http_no_follow", Set.of("probe_http_uncompressed_body_length"));
        assertEquals(1, stay.get("probe_success"), 0);
        assertEquals(302, stay.get("probe_http_status_code"), 0);
        Map<String, Double> maintenance = compare(plain("/maintenance"), "http_fail_body");
        assertEquals(0, maintenance.get("probe_success"), 0);
        assertEquals(1, maintenance.get("probe_failed_due_to_regex"), 0);
        assertEquals(1, compare(plain("/ok"), "http_fail_body").get("probe_success"), 0);
        Map<String, Double> cached = compare(plain("/cached"), "http_fail_header");
        assertEquals(0, cached.get("probe_success"), 0);
        assertEquals(1, cached.get("probe_failed_due_to_regex"), 0);
        // blackbox_exporter fails a header rule's missing header unless allow_missing says otherwise
        assertEquals(0, compare(plain("/ok"), "http_fail_header").get("probe_success"), 0);
        assertEquals(1, compare(plain("/ok"), "http_11").get("probe_success"), 0);
        Map<String, Double> two = compare(plain("/ok"), "http_2_only");
        assertEquals(0, two.get("probe_success"), 0);
        assertEquals("a version is not a regular expression", 0, two.get("probe_failed_due_to_regex"), 0);
    }

    /**
     * HTTP/2 as blackbox_exporter speaks it: negotiated by ALPN where the server offers it (its default), HTTP/1.1
     * with {@code enable_http2: false}; {@code valid_http_versions: [HTTP/2.0]} passes on the one and fails on an
     * HTTP/1.1-only server. The server's own record of each request's protocol is the ground truth.
     */
    @Test
    public void http2AgreesWithBlackboxExporter() throws Exception {
        String h2 = "https://127.0.0.1:" + ((org.eclipse.jetty.server.ServerConnector) jetty.getConnectors()[0]).getLocalPort() + "/ok";
        H2_SERVED.clear();
        Map<String, Double> negotiated = compare(h2, "https_insecure");
        assertEquals(1, negotiated.get("probe_success"), 0);
        assertEquals(2, negotiated.get("probe_http_version"), 0);
        assertEquals(List.of("blackbox HTTP/2.0", "sonde HTTP/2.0"), new ArrayList<>(H2_SERVED));
        H2_SERVED.clear();
        Map<String, Double> off = compare(h2, "https_http2_off");
        assertEquals(1.1, off.get("probe_http_version"), 1e-9);
        assertEquals(List.of("blackbox HTTP/1.1", "sonde HTTP/1.1"), new ArrayList<>(H2_SERVED));
        assertEquals(1, compare(h2, "https_2_only").get("probe_success"), 0);
        Map<String, Double> old = compare("https://127.0.0.1:" + https.getAddress().getPort() + "/ok", "https_2_only");
        assertEquals(0, old.get("probe_success"), 0);
        assertEquals(1.1, old.get("probe_http_version"), 1e-9);
    }

    /** blackbox_exporter's query_response: the same dialogue from both, each line counted where it arrived. */
    @Test
    public void tcpQueryResponseAgreesWithBlackboxExporter() throws Exception {
        String target = "127.0.0.1:" + smtp.getLocalPort();
        SMTP_LINES.clear();
        Map<String, Double> ok = compare(target, "tcp_smtp");
        assertEquals(ok.toString(), 1, ok.get("probe_success"), 0);
        assertEquals(0, ok.get("probe_failed_due_to_regex"), 0);
        assertEquals("both said EHLO and QUIT", List.of("EHLO probe", "QUIT", "EHLO probe", "QUIT"), new ArrayList<>(SMTP_LINES));
        // the banner is not SSH's: the server waits for a line, both give up at the timeout
        Map<String, Double> ssh = compare(target, "tcp_ssh");
        assertEquals(0, ssh.get("probe_success"), 0);
    }

    @Test
    public void clientCertificatesAgreeWithBlackboxExporter() throws Exception {
        String url = "https://127.0.0.1:" + mutual.getAddress().getPort() + "/ok";
        Map<String, Double> with = compare(url, "https_mutual");
        assertEquals(with.toString(), 1, with.get("probe_success"), 0);
        assertEquals(1, with.get("probe_http_ssl"), 0);
        assertEquals(0, compare(url, "https_no_client_cert").get("probe_success"), 0);
    }

    @Test
    public void throughAProxyAsBlackboxExporterGoes() throws Exception {
        // HTTP as absolute requests: the target sees the proxy's Via, and counts what came through it
        int before = VIA_PROXY.get();
        Map<String, Double> via = compare(plain("/via"), "http_proxy");
        assertEquals(via.toString(), 1, via.get("probe_success"), 0);
        assertEquals("both exporters' requests came through the proxy", before + 2, VIA_PROXY.get());
        assertEquals("without the proxy /via refuses", 0, compare(plain("/via"), "http_2xx").get("probe_success"), 0);
        // HTTPS by CONNECT, with a client certificate through the tunnel; the proxy logged each tunnel
        String target = "127.0.0.1:" + mutual.getAddress().getPort();
        long tunnels = proxy.tunnelsTo(target);
        Map<String, Double> tls = compare("https://" + target + "/ok", "https_proxy");
        assertEquals(tls.toString(), 1, tls.get("probe_success"), 0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (proxy.tunnelsTo(target) < tunnels + 2 && System.nanoTime() < deadline) {
            Thread.sleep(50); // tinyproxy writes its log line a moment after the tunnel
        }
        assertEquals(proxy.log(), tunnels + 2, proxy.tunnelsTo(target));
    }

    /**
     * The agent reads the file again when it changes; a module with a key Sonde does not take
     * answers 500 naming the file and the key's path; a file that no longer parses leaves the
     * modules read before.
     */
    @Test
    public void aChangedFileIsTakenAndWhatSondeDoesNotDoIsNamed() throws Exception {
        String loaded = "/probe modules of " + config;
        long loads;
        String ok = URLEncoder.encode(plain("/ok"), StandardCharsets.UTF_8);
        try {
            long gzipLoads = agent.countLogLines(loaded, "http_gzip");
            Files.writeString(config, MODULES + "  http_gzip: {prober: http, http: {compression: gzip}}\n");
            awaitMore(gzipLoads, loaded, "http_gzip");
            String logged = agent.awaitLogLine("Configuration error", "modules.http_gzip.http.compression");
            assertTrue(logged, logged.contains(config + ": modules.http_gzip.http.compression: not taken: Sonde asks for the body as it is"));
            HttpResponse<String> gzip = get(agent.port, "/probe?target=" + ok + "&module=http_gzip", null);
            assertEquals(gzip.body(), 500, gzip.statusCode());
            assertEquals("Module \"http_gzip\" is misconfigured: " + config + ": modules.http_gzip.http.compression: not taken: Sonde asks"
                    + " for the body as it is (no Accept-Encoding)\n", gzip.body());
            Files.writeString(config, MODULES + "  broken: {prober: http\n");
            String kept = agent.awaitLogLine("Configuration error", "key 'probe_config_file'", "not YAML");
            assertTrue(kept, kept.contains("modules read from it before are kept"));
            assertEquals("the modules read before stay", 500, get(agent.port, "/probe?target=" + ok + "&module=http_gzip", null)
                    .statusCode());
        } finally {
            loads = agent.countLogLines(loaded);
            Files.writeString(config, MODULES);
        }
        awaitMore(loads, loaded);
        assertEquals(400, get(agent.port, "/probe?target=" + ok + "&module=http_gzip", null).statusCode());
    }

    /** Waits for more than {@code before} log lines with every one of {@code parts}. */
    private static void awaitMore(long before, String... parts) throws Exception {
        long deadline = System.nanoTime() + AgentProcess.PATIENCE.toNanos();
        while (agent.countLogLines(parts) <= before && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertTrue("no new log line with " + List.of(parts) + ":\n" + agent.log(), agent.countLogLines(parts) > before);
    }

    /** A response standing for a connection that failed. */
    private static final class Failed implements HttpResponse<String> {
        private final IOException cause;

        Failed(IOException cause) {
            this.cause = cause;
        }

        @Override public int statusCode() { return -1; }
        @Override public HttpRequest request() { return null; }
        @Override public java.util.Optional<HttpResponse<String>> previousResponse() { return java.util.Optional.empty(); }
        @Override public java.net.http.HttpHeaders headers() { return java.net.http.HttpHeaders.of(Map.of(), (a, b) -> true); }
        @Override public String body() { return cause.toString(); }
        @Override public java.util.Optional<javax.net.ssl.SSLSession> sslSession() { return java.util.Optional.empty(); }
        @Override public URI uri() { return null; }
        @Override public HttpClient.Version version() { return HttpClient.Version.HTTP_1_1; }
    }
}
