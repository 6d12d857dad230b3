package io.sonde.plugin.http.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.eclipse.jetty.alpn.server.ALPNServerConnectionFactory;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.http2.server.HTTP2ServerConnectionFactory;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * A real Jetty server speaking HTTP/2 on loopback: {@link #both} offers {@code h2} and
 * {@code http/1.1} by ALPN, {@link #h2Only} offers only {@code h2}, {@link #clear} takes HTTP/1.1
 * and HTTP/2 by prior knowledge (h2c). It counts the requests it served by protocol
 * ({@link #served}), the ground truth of which protocol a probe spoke.
 *
 * <p>Paths: {@code /echo} answers with what it received (protocol, method, authority, headers,
 * body); {@code /early} answers 413 without reading the body; {@code /json} with {@link TestServers#JSON}; {@code /redirect} sends to {@code /echo};
 * {@code /status/N} answers N; {@code /big?n=N} answers N bytes.
 */
final class Http2Server implements AutoCloseable {

    final Server server = new Server();
    final ServerConnector both;
    final ServerConnector h2Only;
    final ServerConnector clear;
    /** Requests served, by protocol ({@code HTTP/2.0}, {@code HTTP/1.1}). */
    final Map<String, AtomicInteger> served = new ConcurrentHashMap<>();

    /** @param keyStore a PKCS #12 store (password {@code changeit}) with the server's key and chain */
    Http2Server(Path keyStore) throws Exception {
        HttpConfiguration plain = new HttpConfiguration();
        HttpConfiguration secure = new HttpConfiguration(plain);
        secure.addCustomizer(new SecureRequestCustomizer(false)); // clients connect to 127.0.0.1: no SNI to check

        ALPNServerConnectionFactory alpn = new ALPNServerConnectionFactory("h2", "http/1.1");
        alpn.setDefaultProtocol("http/1.1");
        both = new ServerConnector(server, new SslConnectionFactory(tls(keyStore), alpn.getProtocol()), alpn,
                new HTTP2ServerConnectionFactory(secure), new HttpConnectionFactory(secure));

        ALPNServerConnectionFactory alpnH2 = new ALPNServerConnectionFactory("h2");
        h2Only = new ServerConnector(server, new SslConnectionFactory(tls(keyStore), alpnH2.getProtocol()), alpnH2,
                new HTTP2ServerConnectionFactory(secure));

        clear = new ServerConnector(server, new HttpConnectionFactory(plain), new HTTP2CServerConnectionFactory(plain));
        for (ServerConnector c : new ServerConnector[] {both, h2Only, clear}) {
            c.setHost("127.0.0.1");
            server.addConnector(c);
        }
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                return serve(request, response, callback);
            }
        });
        server.start();
    }

    private static SslContextFactory.Server tls(Path keyStore) {
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setKeyStorePath(keyStore.toString());
        ssl.setKeyStorePassword("changeit");
        ssl.setKeyStoreType("PKCS12");
        return ssl;
    }

    private boolean serve(Request request, Response response, Callback callback) throws Exception {
        String protocol = request.getConnectionMetaData().getProtocol();
        served.computeIfAbsent(protocol, k -> new AtomicInteger()).incrementAndGet();
        String path = Request.getPathInContext(request);
        String body;
        if (path.equals("/echo")) {
            String received = Content.Source.asString(request, StandardCharsets.UTF_8);
            body = "protocol=" + protocol + " method=" + request.getMethod() + " authority=" + request.getHttpURI().getAuthority()
                    + " agent=" + request.getHeaders().get(HttpHeader.USER_AGENT) + " x-test=" + request.getHeaders().get("X-Test")
                    + " authorization=" + request.getHeaders().get(HttpHeader.AUTHORIZATION) + " length="
                    + request.getHeaders().get(HttpHeader.CONTENT_LENGTH) + " body=" + received;
        } else if (path.equals("/early")) {
            response.setStatus(413); // answered at once: the request's body is not read
            body = "too large";
        } else if (path.equals("/json")) {
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
            response.getHeaders().put("X-Version", "2.1");
            body = TestServers.JSON;
        } else if (path.equals("/redirect")) {
            response.setStatus(302);
            response.getHeaders().put(HttpHeader.LOCATION, "/echo");
            body = "";
        } else if (path.startsWith("/status/")) {
            response.setStatus(Integer.parseInt(path.substring("/status/".length())));
            body = "status";
        } else if (path.equals("/big")) {
            Fields query = Request.extractQueryParameters(request);
            int n = Integer.parseInt(query.getValue("n"));
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, n);
            response.write(true, ByteBuffer.wrap(new byte[n]), callback);
            return true;
        } else {
            response.setStatus(404);
            body = "no such path";
        }
        Content.Sink.write(response, true, body, callback);
        return true;
    }

    /** @return the requests served in {@code protocol} so far */
    int served(String protocol) {
        AtomicInteger n = served.get(protocol);
        return n == null ? 0 : n.get();
    }

    static String url(ServerConnector c, String scheme, String path) {
        return scheme + "://127.0.0.1:" + c.getLocalPort() + path;
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }
}
