package io.sonde.server.core.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

import org.apache.felix.http.jetty.ConnectorFactory;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.osgi.service.component.annotations.Component;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the HTTPS listener keeps per connection: every agent holds one connection open, so what
 * each connection keeps is the server's memory at ten thousand agents.
 *
 * <p>Jetty gives each HTTP/1.1 connection a cache of the header values seen on it, a trie of
 * {@code headerCacheSize} nodes (1,024 by default): about 98 KB per connection, 245 MB of live heap
 * at 2,500 agents (measured: a heap dump of the fleet bench, the tries' tables referenced from
 * {@code HttpParser$FieldCache}). It spares a few short strings per request; the server turns it
 * off. The Whiteboard's Jetty takes no such setting from its configuration, and only hears of
 * connectors of one's own ({@link ConnectorFactory}, asked right after it started its HTTPS
 * listener, on every start). So this factory takes that listener over: it sets the setting on
 * the listener's HTTP configuration, stops the listener (a connection it accepted in the moment
 * since it started is closed, and its client connects again) and gives back a listener on the same
 * address made of the same TLS and HTTP parts, which Jetty then starts. The listener's socket is
 * closed by its acceptor thread as it leaves {@code accept()}, a moment after {@code stop()}
 * returns: the new listener is given back once the address can be bound.
 */
@Component(service = {ConnectorFactory.class, ListenerTuning.class}) // the second for HttpsListener: registered before it configures Jetty
public final class ListenerTuning implements ConnectorFactory {

    private static final Logger LOG = LoggerFactory.getLogger(ListenerTuning.class);
    /** Jetty's per-connection header cache, in trie nodes: none. */
    static final int HEADER_CACHE_SIZE = 0;
    /** How long the stopped listener's address may take to come free. */
    static final long FREE_WITHIN_MS = 5_000;

    @Override
    public Connector createConnector(Server server) {
        ServerConnector made = null;
        for (Connector c : server.getConnectors()) {
            if (c instanceof ServerConnector s && s.getConnectionFactory(SslConnectionFactory.class) != null
                    && s.getConnectionFactory(HttpConnectionFactory.class) != null) {
                made = s;
            }
        }
        if (made == null) {
            throw new IllegalStateException("the Whiteboard's Jetty has no HTTPS listener to take over");
        }
        made.getConnectionFactory(HttpConnectionFactory.class).getHttpConfiguration().setHeaderCacheSize(HEADER_CACHE_SIZE);
        try {
            made.stop();
        } catch (Exception e) {
            throw new IllegalStateException("the HTTPS listener did not stop: " + e, e);
        }
        server.removeConnector(made);
        awaitFree(made.getHost(), made.getPort());
        ServerConnector ours = new ServerConnector(server, made.getAcceptors(), made.getSelectorManager().getSelectorCount(),
                made.getConnectionFactories().toArray(new ConnectionFactory[0]));
        ours.setHost(made.getHost());
        ours.setPort(made.getPort());
        ours.setIdleTimeout(made.getIdleTimeout());
        ours.setAcceptQueueSize(made.getAcceptQueueSize());
        ours.setReuseAddress(made.getReuseAddress());
        LOG.debug("HTTPS listener on {}:{} without a per-connection header cache", ours.getHost(), ours.getPort());
        return ours;
    }

    /** Waits, at most {@link #FREE_WITHIN_MS}, until {@code host:port} can be bound: a test socket binds it and lets it go. */
    static void awaitFree(String host, int port) {
        long deadline = System.nanoTime() + FREE_WITHIN_MS * 1_000_000L;
        for (int attempt = 0; attempt < 1_000; attempt++) {
            try (ServerSocket probe = new ServerSocket()) {
                probe.setReuseAddress(true);
                probe.bind(host == null ? new InetSocketAddress(port) : new InetSocketAddress(host, port));
                return;
            } catch (IOException e) {
                if (System.nanoTime() - deadline > 0) {
                    LOG.warn("HTTPS listener: {}:{} still taken {} ms after the listener stopped: {}", host, port, FREE_WITHIN_MS,
                            e.toString());
                    return; // Jetty tries, and says what it finds
                }
                try {
                    Thread.sleep(5);
                } catch (InterruptedException stop) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
