package io.sonde.uplink.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.sonde.agent.spi.ServerFiles;

/**
 * Fetches a file the server serves to agents, resuming what a cut download left: asks for the
 * bytes after those the target holds ({@code Range: bytes=n-}), appends a 206 that starts there,
 * starts again on a 200 (a server that ignores ranges), and never writes more than the bound.
 */
final class FileFetcher implements ServerFiles, AutoCloseable {

    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");

    /** Where to ask and with which credential: null when the agent has none yet. */
    record Endpoint(URI server, String bearer) {
    }

    private final HttpClient http;
    private final Supplier<Endpoint> endpoint;
    private final Duration timeout;
    /** Watches each download's progress: one that stalls for {@code timeout} is cut off (the client has no read timeout). */
    private final java.util.concurrent.ScheduledExecutorService watchdog = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
            io.sonde.base.DaemonThreads.named("sonde-uplink-fetch-watchdog"));

    FileFetcher(HttpClient http, Supplier<Endpoint> endpoint, Duration timeout) {
        this.http = http;
        this.endpoint = endpoint;
        this.timeout = timeout;
    }

    private String stall() {
        return timeout.toMillis() % 1000 == 0 ? timeout.toSeconds() + " s" : timeout.toMillis() + " ms";
    }

    @Override
    public void close() {
        watchdog.shutdownNow();
    }

    @Override
    public long fetch(String path, Path target, long maxBytes) throws IOException {
        Endpoint e = endpoint.get();
        if (e == null) {
            throw new IOException("this agent has no credential for its server yet");
        }
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("a server path starts with /: " + path);
        }
        long have = Files.exists(target) ? Files.size(target) : 0;
        if (have > maxBytes) {
            throw new IOException(target + " holds " + have + " bytes, more than the " + maxBytes + " the file may have");
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(e.server() + path)).timeout(timeout)
                .header("Authorization", "Bearer " + e.bearer());
        if (have > 0) {
            request.header("Range", "bytes=" + have + "-");
        }
        HttpResponse<InputStream> r;
        try {
            r = http.send(request.GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
        try (InputStream body = r.body()) {
            int status = r.statusCode();
            if (status == 416 && have > 0) { // nothing after what we have: is that the whole file?
                String range = r.headers().firstValue("Content-Range").orElse("");
                Matcher m = Pattern.compile("bytes \\*/(\\d+)").matcher(range);
                if (m.matches() && Long.parseLong(m.group(1)) == have) {
                    return have;
                }
                throw new IOException(path + ": the server has fewer bytes than the " + have + " kept (" + range + "); start again");
            }
            boolean append;
            if (status == 206) {
                Matcher m = CONTENT_RANGE.matcher(r.headers().firstValue("Content-Range").orElse(""));
                if (!m.matches() || Long.parseLong(m.group(1)) != have) {
                    throw new IOException(path + ": the server answered another range than asked for ("
                            + r.headers().firstValue("Content-Range").orElse("none") + ")");
                }
                if (!m.group(3).equals("*") && Long.parseLong(m.group(3)) > maxBytes) {
                    throw new IOException(path + ": " + m.group(3) + " bytes, more than the " + maxBytes + " it may have");
                }
                append = true;
            } else if (status == 200) {
                append = false; // the whole file again: what we had is replaced
                long length = r.headers().firstValueAsLong("Content-Length").orElse(-1);
                if (length > maxBytes) {
                    throw new IOException(path + ": " + length + " bytes, more than the " + maxBytes + " it may have");
                }
            } else if (status == 404) {
                throw new IOException(path + ": the server has no such file (404)");
            } else if (status == 401 || status == 403) {
                throw new IOException(path + ": the server refuses this agent (" + status + ")");
            } else {
                throw new IOException(path + ": the server answered " + status);
            }
            long written = append ? have : 0;
            java.util.concurrent.atomic.AtomicLong progress = new java.util.concurrent.atomic.AtomicLong(written);
            java.util.concurrent.atomic.AtomicBoolean stalled = new java.util.concurrent.atomic.AtomicBoolean();
            long[] seen = {-1};
            java.util.concurrent.ScheduledFuture<?> watch = watchdog.scheduleWithFixedDelay(() -> {
                long now = progress.get();
                if (now == seen[0]) {
                    stalled.set(true);
                    try {
                        body.close(); // the read below ends with an exception
                    } catch (IOException ignored) {
                        // closing
                    }
                }
                seen[0] = now;
            }, timeout.toMillis(), timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
                byte[] buf = new byte[64 * 1024];
                for (int n; (n = body.read(buf)) > 0;) {
                    if (written + n > maxBytes) {
                        throw new IOException(path + ": more than the " + maxBytes + " bytes it may have; cut off");
                    }
                    out.write(buf, 0, n);
                    written += n;
                    progress.set(written);
                }
            } catch (IOException io) {
                throw stalled.get() ? new IOException(path + ": nothing came for " + stall() + "; " + written
                        + " bytes kept for the next try") : io;
            } finally {
                watch.cancel(false);
            }
            if (stalled.get()) {
                throw new IOException(path + ": nothing came for " + stall() + "; " + written + " bytes kept for the next try");
            }
            return written;
        }
    }
}
