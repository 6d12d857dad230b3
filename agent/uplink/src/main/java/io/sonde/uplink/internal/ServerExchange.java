package io.sonde.uplink.internal;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import io.sonde.wire.ErrorDocument;
import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

/**
 * The uplink's exchanges with the server: one request at a time to the instance in use, a failure
 * said in words with the server's address, the next instance of the same server when one fails,
 * and what the server's answers say beside their body (its error, Retry-After).
 */
final class ServerExchange {

    /** An exchange that has no answer by then has failed: a silent network must not hold the uplink long. */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    /** An exchange that did not work; try again after {@code retryAfterMs} (0: the backoff decides). */
    static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;
        final long retryAfterMs;
        /** The server refuses this agent: every instance would say the same. */
        final boolean refused;

        Failure(String message, long retryAfterMs) {
            this(message, retryAfterMs, false);
        }

        Failure(String message, long retryAfterMs, boolean refused) {
            super(message);
            this.retryAfterMs = retryAfterMs;
            this.refused = refused;
        }
    }

    private final HttpClient http;
    private final List<URI> servers; // instances of one server over one database: any of them will do
    private volatile URI server; // the one in use
    private int failuresInARow;

    ServerExchange(HttpClient http, List<URI> servers) {
        this.http = http;
        this.servers = List.copyOf(servers);
        this.server = servers.get(0);
    }

    /** @return the instance in use */
    URI server() {
        return server;
    }

    /** @return whether there are several instances to turn to */
    boolean several() {
        return servers.size() > 1;
    }

    /** @return the servers as one text, as the credential keeps them */
    String serversText() {
        return servers.stream().map(URI::toString).collect(java.util.stream.Collectors.joining(","));
    }

    /** @return whether {@code url} is the list of servers, or one of them (a credential made before the others were listed) */
    boolean ours(String url) {
        return serversText().equals(url) || servers.stream().anyMatch(u -> u.toString().equals(url));
    }

    /** @return how the servers are named in the log */
    String named() {
        return servers.size() == 1 ? server.toString() : servers + " (in turn when one cannot be used)";
    }

    /**
     * The instance in use failed: the next one takes its place, unless the server refused this agent
     * (every instance would say the same).
     *
     * @return whether the next is tried at once: not every instance failed in a row yet
     */
    boolean failed(boolean refused) {
        failuresInARow++;
        if (servers.size() > 1 && !refused) {
            server = servers.get(failuresInARow % servers.size());
            return failuresInARow % servers.size() != 0;
        }
        return false;
    }

    /** The instance in use answered. */
    void worked() {
        failuresInARow = 0;
    }

    HttpResponse<byte[]> send(HttpRequest.Builder request) throws Failure {
        try {
            return http.send(request.timeout(REQUEST_TIMEOUT).build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new Failure(describe(e, server, REQUEST_TIMEOUT), 0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure("stopping", 0);
        }
    }

    /** @return the URI of {@code path} on the instance in use */
    URI endpoint(String path) {
        return URI.create(server + path);
    }

    /** @return the URI of this agent's {@code /api/v1/agents/{id}/{what}} on the instance in use */
    URI agentEndpoint(String agentId, String what) {
        return endpoint("/api/v1/agents/" + URLEncoder.encode(agentId, StandardCharsets.UTF_8).replace("+", "%20") + "/" + what);
    }

    /**
     * @return what went wrong with an exchange, in words and with the server's address:
     *         {@code cannot reach the server: connection refused (127.0.0.1:8443)}, never a bare
     *         exception's name
     */
    static String describe(IOException e, URI server, Duration timeout) {
        String at = server == null ? "?" : server.getHost() + ":" + (server.getPort() < 0 ? 443 : server.getPort());
        Throwable root = e;
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            root = t;
            if (t instanceof javax.net.ssl.SSLException) {
                break; // its message is the one that says what TLS refused
            }
        }
        String m = root.getMessage() == null ? "" : root.getMessage();
        if (root instanceof javax.net.ssl.SSLException) {
            if (m.contains("No subject alternative") || m.contains("No name matching")) {
                return "TLS refused: the server's certificate is not made out to '" + (server == null ? "?" : server.getHost())
                        + "' (" + m + "); add that name to tls_names in the server's etc/io.sonde.server.cfg, or use a name it has in"
                        + " server_url";
            }
            if (m.contains("PKIX") || m.contains("certification path") || m.contains("pinned")) {
                return "TLS refused: the server's certificate is not from the pinned CA (server_ca_sha256 or server_ca_file in"
                        + " etc/io.sonde.uplink.cfg): " + m + " (" + at + ")";
            }
            return "TLS refused: " + (m.isEmpty() ? root.getClass().getSimpleName() : m) + " (" + at + ")";
        }
        String what;
        if (root instanceof java.net.ConnectException) {
            what = m.toLowerCase(java.util.Locale.ROOT).contains("timed out") ? "the connection timed out" : "connection refused";
        } else if (root instanceof java.net.http.HttpConnectTimeoutException) {
            what = "no connection within the connect timeout";
        } else if (root instanceof java.net.http.HttpTimeoutException) {
            what = "no answer within " + timeout.toSeconds() + " s";
        } else if (root instanceof java.net.UnknownHostException || root instanceof java.nio.channels.UnresolvedAddressException) {
            what = "the name " + (server == null ? "?" : server.getHost()) + " does not resolve";
        } else if (root instanceof java.net.NoRouteToHostException) {
            what = "no route to the host";
        } else if (root instanceof java.nio.channels.ClosedChannelException || root instanceof java.io.EOFException
                || m.contains("Connection reset") || m.contains("closed")) {
            what = "the connection was closed before an answer came";
        } else {
            what = m.isEmpty() ? root.getClass().getSimpleName() : m;
        }
        return "cannot reach the server: " + what + " (" + at + ")";
    }

    /** @return the answer's body as {@code type}, or {@code fallback} when it is not one */
    static <T> T readOr(HttpResponse<byte[]> r, Class<T> type, T fallback) {
        try {
            return WireCodec.read(new ByteArrayInputStream(r.body()), false, 1 << 20, type);
        } catch (WireException e) {
            return fallback;
        }
    }

    /** @return the server's error, or its answer abbreviated */
    static String message(HttpResponse<byte[]> r) {
        ErrorDocument e = readOr(r, ErrorDocument.class, null);
        if (e != null && e.error() != null) {
            return e.error();
        }
        return WireCodec.abbreviate(new String(r.body(), StandardCharsets.UTF_8).strip());
    }

    /** @return whether the server refuses what was sent for good: it would refuse the same again (400, 413, 422) */
    static boolean refusedForGood(int status) {
        return status == 400 || status == 413 || status == 422;
    }

    /**
     * How long to wait when the server said Retry-After: never sooner, and up to half as long again,
     * so that the agents a busy server turned away together do not all come back in the same instant.
     *
     * @param random a number in [0, 1)
     */
    static long afterRetryAfter(long retryAfterMs, double random) {
        return retryAfterMs + (long) (retryAfterMs * 0.5 * random);
    }

    /** Retry-After in seconds, bounded to 1 s .. 10 min; 0 when absent or not a number. */
    static long retryAfter(HttpResponse<?> r) {
        return r.headers().firstValue("Retry-After").map(v -> {
            try {
                return Math.min(600_000L, Math.max(1000L, Long.parseLong(v.strip()) * 1000L));
            } catch (NumberFormatException e) {
                return 0L;
            }
        }).orElse(0L);
    }
}
