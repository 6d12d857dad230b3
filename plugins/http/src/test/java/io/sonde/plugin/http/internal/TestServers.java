package io.sonde.plugin.http.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

/**
 * Real HTTP and HTTPS servers on loopback (the JDK's), with certificates made by keytool for the
 * test: a test CA and a server certificate it signed for 127.0.0.1, a self-signed one, and one the
 * CA signed that expired days ago.
 *
 * <p>Paths: {@code /} says hello, {@code /slow} waits {@link #SLOW_MS} before answering,
 * {@code /hang} waits {@link #HANG_MS}, {@code /header} answers 200 to a request with {@code X-Probe: sonde} and
 * 412 to others, {@code /status/N} answers N, {@code /redirect} sends to {@code /}, {@code /chunked} streams its body,
 * {@code /echo} answers with the request's method, {@code Authorization} and body, {@code /json} with {@link #JSON}
 * and headers {@code X-Version: 2.1} and {@code Cache-Control: no-store}, {@code /to?u=URL&s=CODE} redirects to URL
 * with status CODE.
 *
 * <p>{@link #mutual} asks for a client certificate the test CA signed; {@link #clientCertPem} and
 * {@link #clientKeyPem} hold one, the key in PKCS #8 PEM.
 */
final class TestServers implements AutoCloseable {

    static final long SLOW_MS = 300;
    /** How long {@code /hang} waits: far beyond any timeout a test gives. */
    static final long HANG_MS = 10_000;
    static final String HELLO = "hello from the sonde test server";
    static final String JSON = "{\"status\": \"UP\", \"version\": \"2.1.0\", \"items\": [{\"name\": \"db\", \"up\": true},"
            + " {\"name\": \"cache\", \"up\": false}], \"load\": 0.25, \"a/b\": 1}";

    final Path dir;
    final Path caPem;
    final HttpServer plain;
    final HttpsServer signed;
    final HttpsServer selfSigned;
    final HttpsServer expired;
    final HttpsServer mutual;
    /** A certificate for probe.test only (no address). */
    final HttpsServer named;
    /** The same handler on 127.0.0.2: another host for redirects. */
    final HttpServer other;
    final Path clientCertPem;
    final Path clientKeyPem;
    private final List<HttpServer> all = new ArrayList<>();
    private final List<java.util.concurrent.ExecutorService> executors = new ArrayList<>();

    TestServers() throws Exception {
        dir = Files.createTempDirectory("sonde-http-test-");
        keytool("-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=Sonde Test CA",
                "-ext", "bc:c", "-validity", "30", "-keystore", "ca.p12");
        caPem = dir.resolve("ca.pem");
        keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", "ca.p12", "-file", "ca.pem");
        issue("signed", "san=ip:127.0.0.1", null, "20");
        issue("expired", "san=ip:127.0.0.1", "-10d", "2");
        keytool("-genkeypair", "-alias", "self", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=127.0.0.1",
                "-ext", "san=ip:127.0.0.1", "-validity", "30", "-keystore", "self.p12");

        issue("client", "eku=clientAuth", null, "20");
        issue("named", "san=dns:probe.test", null, "20");
        clientCertPem = dir.resolve("client.crt");
        clientKeyPem = dir.resolve("client.key");
        KeyStore client = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(dir.resolve("client.p12"))) {
            client.load(in, "changeit".toCharArray());
        }
        byte[] pkcs8 = client.getKey("client", "changeit".toCharArray()).getEncoded();
        Files.writeString(clientKeyPem, "-----BEGIN PRIVATE KEY-----\n"
                + java.util.Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(pkcs8)
                + "\n-----END PRIVATE KEY-----\n");

        plain = serve(HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 100));
        other = serve(HttpServer.create(new InetSocketAddress("127.0.0.2", 0), 100));
        signed = serve(https("signed.p12"));
        selfSigned = serve(https("self.p12"));
        expired = serve(https("expired.p12"));
        mutual = serve(mutualTls("signed.p12"));
        named = serve(https("named.p12"));
    }

    /** A server key in {@code NAME.p12} with a certificate the CA signed, its chain included. */
    private void issue(String name, String san, String startDate, String validity) throws Exception {
        String store = name + ".p12";
        keytool("-genkeypair", "-alias", name, "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + name,
                "-validity", "30", "-keystore", store);
        keytool("-certreq", "-alias", name, "-keystore", store, "-file", name + ".csr");
        List<String> gencert = new ArrayList<>(List.of("-gencert", "-alias", "ca", "-keystore", "ca.p12", "-infile",
                name + ".csr", "-outfile", name + ".crt", "-rfc", "-ext", san, "-validity", validity));
        if (startDate != null) {
            gencert.addAll(List.of("-startdate", startDate));
        }
        keytool(gencert.toArray(String[]::new));
        keytool("-importcert", "-noprompt", "-alias", "ca", "-keystore", store, "-file", "ca.pem");
        keytool("-importcert", "-alias", name, "-keystore", store, "-file", name + ".crt");
    }

    private void keytool(String... args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        command.addAll(List.of("-storepass", "changeit", "-keypass", "changeit", "-storetype", "PKCS12"));
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("keytool " + List.of(args) + " failed: " + out);
        }
    }

    /** The key and chain of {@code store}, a PKCS #12 file in {@link #dir}. */
    private KeyManagerFactory keys(String store) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(dir.resolve(store))) {
            ks.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "changeit".toCharArray());
        return kmf;
    }

    private HttpsServer https(String store) throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys(store).getKeyManagers(), null, null);
        HttpsServer s = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 100);
        s.setHttpsConfigurator(new HttpsConfigurator(context));
        return s;
    }

    /** A server that asks for a client certificate and trusts only the test CA's. */
    private HttpsServer mutualTls(String store) throws Exception {
        KeyManagerFactory kmf = keys(store);
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        try (InputStream in = Files.newInputStream(caPem)) {
            trusted.setCertificateEntry("ca", java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(
                javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        HttpsServer s = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 100);
        s.setHttpsConfigurator(new HttpsConfigurator(context) {
            @Override
            public void configure(com.sun.net.httpserver.HttpsParameters params) {
                javax.net.ssl.SSLParameters p = context.getDefaultSSLParameters();
                p.setNeedClientAuth(true);
                params.setSSLParameters(p);
            }
        });
        return s;
    }

    private <S extends HttpServer> S serve(S s) {
        s.createContext("/", this::handle);
        java.util.concurrent.ExecutorService e = java.util.concurrent.Executors.newFixedThreadPool(8, r -> {
            Thread t = new Thread(r, "test-http");
            t.setDaemon(true);
            return t;
        });
        executors.add(e);
        s.setExecutor(e);
        s.start();
        all.add(s);
        return s;
    }

    private void handle(HttpExchange x) throws IOException {
        try (x) {
            String path = x.getRequestURI().getPath();
            byte[] hello = HELLO.getBytes(StandardCharsets.UTF_8);
            int status = 200;
            if (path.equals("/slow")) {
                sleep(SLOW_MS);
            } else if (path.equals("/hang")) {
                sleep(HANG_MS);
            } else if (path.equals("/header")) {
                status = "sonde".equals(x.getRequestHeaders().getFirst("X-Probe")) ? 200 : 412;
            } else if (path.startsWith("/status/")) {
                status = Integer.parseInt(path.substring("/status/".length()));
            } else if (path.equals("/redirect")) {
                x.getResponseHeaders().add("Location", "/");
                status = 302;
            } else if (path.equals("/echo")) {
                String auth = x.getRequestHeaders().getFirst("Authorization");
                String echo = "from=" + x.getRemoteAddress().getAddress().getHostAddress() + " method=" + x.getRequestMethod()
                        + " authorization=" + auth + " length="
                        + x.getRequestHeaders().getFirst("Content-Length") + " body="
                        + new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
                hello = echo.getBytes(StandardCharsets.UTF_8);
            } else if (path.equals("/json")) {
                hello = JSON.getBytes(StandardCharsets.UTF_8);
                x.getResponseHeaders().add("Content-Type", "application/json");
                x.getResponseHeaders().add("X-Version", "2.1");
                x.getResponseHeaders().add("Cache-Control", "no-store");
            } else if (path.equals("/to")) {
                String q = x.getRequestURI().getRawQuery();
                java.util.Map<String, String> params = new java.util.HashMap<>();
                for (String kv : q.split("&")) {
                    String[] p = kv.split("=", 2);
                    params.put(p[0], java.net.URLDecoder.decode(p[1], StandardCharsets.UTF_8));
                }
                x.getResponseHeaders().add("Location", params.get("u"));
                status = Integer.parseInt(params.getOrDefault("s", "302"));
            } else if (path.equals("/chunked")) {
                x.sendResponseHeaders(200, 0); // 0: chunked
                try (OutputStream out = x.getResponseBody()) {
                    for (int i = 0; i < 10; i++) {
                        out.write(hello);
                        out.flush();
                    }
                }
                return;
            }
            boolean head = x.getRequestMethod().equals("HEAD");
            x.sendResponseHeaders(status, head ? -1 : hello.length);
            if (!head) {
                try (OutputStream out = x.getResponseBody()) {
                    out.write(hello);
                }
            }
        }
    }

    static String url(HttpServer s, String scheme, String path) {
        return scheme + "://127.0.0.1:" + s.getAddress().getPort() + path;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() throws IOException {
        for (HttpServer s : all) {
            s.stop(0);
        }
        executors.forEach(java.util.concurrent.ExecutorService::shutdownNow);
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(dir);
    }
}
