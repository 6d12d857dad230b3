package io.sonde.uplink.internal;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.After;
import org.junit.Before;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/** A real HTTP server on loopback serving one file the way the server's repository does, and each way it can go wrong. */
public class FileFetcherTest {

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private final byte[] file = new byte[300_000];
    private HttpServer server;
    private FileFetcher fetcher;
    private final List<String> ranges = new CopyOnWriteArrayList<>();
    /** How the server misbehaves now. */
    private volatile String mode = "ok";

    @Before
    public void start() throws IOException {
        new Random(3).nextBytes(file);
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 10);
        server.createContext("/", this::serve);
        server.start();
        fetcher = fetcher(Duration.ofSeconds(5));
    }

    FileFetcher fetcher(Duration timeout) {
        return new FileFetcher(HttpClient.newHttpClient(), () -> mode.equals("no-credential") ? null
                : new FileFetcher.Endpoint(URI.create("http://127.0.0.1:" + server.getAddress().getPort()), "secret"), timeout);
    }

    @After
    public void stop() {
        server.stop(0);
        fetcher.close();
    }

    private void serve(HttpExchange x) throws IOException {
        try (x) {
            String range = x.getRequestHeaders().getFirst("Range");
            ranges.add(String.valueOf(range));
            if (!"Bearer secret".equals(x.getRequestHeaders().getFirst("Authorization"))) {
                x.sendResponseHeaders(401, -1);
                return;
            }
            if (!x.getRequestURI().getPath().equals("/f.jar")) {
                x.sendResponseHeaders(404, -1);
                return;
            }
            int from = 0;
            Matcher m = range == null || mode.equals("ignore-range") ? null : Pattern.compile("bytes=(\\d+)-").matcher(range);
            if (m != null && m.matches()) {
                from = Integer.parseInt(m.group(1));
                if (from >= file.length) {
                    x.getResponseHeaders().add("Content-Range", "bytes */" + file.length);
                    x.sendResponseHeaders(416, -1);
                    return;
                }
                int start = mode.equals("wrong-range") ? 0 : from;
                x.getResponseHeaders().add("Content-Range", "bytes " + start + "-" + (file.length - 1) + "/" + file.length);
                x.sendResponseHeaders(206, file.length - from);
            } else {
                x.sendResponseHeaders(200, file.length);
            }
            OutputStream out = x.getResponseBody();
            if (mode.equals("break")) { // half of it, then the connection goes
                out.write(file, from, (file.length - from) / 2);
                out.flush();
                throw new IOException("cut");
            }
            if (mode.equals("stall")) {
                out.write(file, from, 1000);
                out.flush();
                sleep(3000);
                return;
            }
            out.write(file, from, file.length - from);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    void refused(Path target, long max, String why) {
        try {
            fetcher.fetch("/f.jar", target, max);
            fail("fetched; expected: " + why);
        } catch (IOException e) {
            assertTrue(e.getMessage(), e.getMessage().contains(why));
        }
    }

    @Test
    public void aFileComesWholeAndACutOneIsResumedFromWhereItStopped() throws Exception {
        Path target = tmp.getRoot().toPath().resolve("f.jar");
        assertEquals(file.length, fetcher.fetch("/f.jar", target, 1 << 20));
        assertArrayEquals(file, Files.readAllBytes(target));
        assertEquals("null", ranges.get(0));

        // a download cut in the middle keeps what came; the next try asks only for the rest
        Path cut = tmp.getRoot().toPath().resolve("cut.jar");
        mode = "break";
        try {
            fetcher.fetch("/f.jar", cut, 1 << 20);
            fail("a cut download was taken as whole");
        } catch (IOException expected) {
            // the connection broke
        }
        long kept = Files.size(cut);
        assertTrue("kept " + kept, kept > 0 && kept < file.length);
        mode = "ok";
        assertEquals(file.length, fetcher.fetch("/f.jar", cut, 1 << 20));
        assertEquals("bytes=" + kept + "-", ranges.get(ranges.size() - 1));
        assertArrayEquals(file, Files.readAllBytes(cut));
        // whole already: the server has nothing after it
        assertEquals(file.length, fetcher.fetch("/f.jar", cut, 1 << 20));
        // a server that ignores ranges sends it all again: taken whole, not appended
        Files.write(cut, Arrays.copyOf(file, 5000));
        mode = "ignore-range";
        assertEquals(file.length, fetcher.fetch("/f.jar", cut, 1 << 20));
        assertArrayEquals(file, Files.readAllBytes(cut));
    }

    @Test
    public void whatCannotBeFetchedWholeIsSaid() throws Exception {
        Path target = tmp.getRoot().toPath().resolve("f.jar");
        refused(target, 1000, "300000 bytes, more than the 1000 it may have");
        try {
            fetcher.fetch("/none.jar", target, 1 << 20);
            fail();
        } catch (IOException e) {
            assertEquals("/none.jar: the server has no such file (404)", e.getMessage());
        }
        Files.write(target, Arrays.copyOf(file, 10));
        mode = "wrong-range";
        refused(target, 1 << 20, "the server answered another range than asked for (bytes 0-299999/300000)");
        Files.write(target, new byte[400_000]);
        refused(target, 1 << 20, "the server has fewer bytes than the 400000 kept");
        mode = "no-credential";
        refused(target, 1 << 20, "this agent has no credential for its server yet");
    }

    @Test
    public void aDownloadThatStallsIsCutOffAndWhatCameIsKept() throws Exception {
        fetcher.close();
        fetcher = fetcher(Duration.ofMillis(400));
        Path target = tmp.getRoot().toPath().resolve("f.jar");
        mode = "stall";
        refused(target, 1 << 20, "nothing came for 400 ms; 1000 bytes kept for the next try");
        assertEquals(1000, Files.size(target));
    }
}
