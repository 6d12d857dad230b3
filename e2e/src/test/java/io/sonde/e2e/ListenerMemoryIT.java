package io.sonde.e2e;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

import org.junit.After;
import org.junit.Test;

/**
 * What the server's HTTPS listener keeps per open connection. Every agent holds one connection, so
 * at ten thousand agents a kilobyte per connection is ten megabytes. Jetty's per-connection cache
 * of header values (a trie of 1,024 nodes, about 98 KB) is turned off: connections that sent the
 * headers an agent sends leave no trie behind, counted in a heap histogram of the server's live
 * objects ({@code jcmd GC.class_histogram}), and they go on serving requests.
 */
public class ListenerMemoryIT {

    private static final int CONNECTIONS = 200;
    private static final String TRIE_TABLE = "[Lorg.eclipse.jetty.util.ArrayTrie$Node;";

    private ServerProcess server;
    private final List<SSLSocket> sockets = new ArrayList<>();

    @After
    public void stop() throws Exception {
        for (SSLSocket s : sockets) {
            s.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    public void openConnectionsKeepNoHeaderCacheAndServeOn() throws Exception {
        server = ServerProcess.start("");
        SSLSocketFactory tls = ServerProcess.sslContext(server.home.resolve("data/tls/ca.pem")).getSocketFactory();
        long before = instances(TRIE_TABLE);
        for (int i = 0; i < CONNECTIONS; i++) {
            SSLSocket s = (SSLSocket) tls.createSocket("127.0.0.1", server.port);
            s.setSoTimeout(30_000);
            sockets.add(s);
            // Jetty makes a connection's cache from the headers of its first request, as its second begins
            assertEquals(200, get(s, i));
            assertEquals(200, get(s, i));
        }
        long after = instances(TRIE_TABLE);
        // each connection with a header cache holds one trie table: 200 more without the setting
        assertTrue("tries of header values after " + CONNECTIONS + " connections: " + before + " before, " + after + " after",
                after - before < CONNECTIONS / 10);
        for (int i = 0; i < CONNECTIONS; i++) {
            assertEquals("a third request on connection " + i, 200, get(sockets.get(i), i));
        }
    }

    /** One keep-alive GET of /healthz with the headers an agent's requests carry: the status, the body read to its end. */
    private int get(SSLSocket s, int i) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:" + server.port + "\r\nUser-Agent: sonde-agent/test-" + i
                + "\r\nAccept-Encoding: gzip\r\nAccept: application/json\r\nAuthorization: Bearer token-" + i
                + "\r\nContent-Length: 0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        String head = head(in);
        int length = 0;
        for (String line : head.split("\r\n")) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).strip());
            }
        }
        assertEquals("a body of known length: " + head, length, in.readNBytes(length).length);
        return Integer.parseInt(head.substring(9, 12));
    }

    private static String head(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int n = 0; n < 16_384; n++) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("the connection ended in the answer's head: " + b);
            }
            b.write(c);
            byte[] a = b.toByteArray();
            int l = a.length;
            if (l >= 4 && a[l - 4] == '\r' && a[l - 3] == '\n' && a[l - 2] == '\r' && a[l - 1] == '\n') {
                return b.toString(StandardCharsets.ISO_8859_1);
            }
        }
        throw new IOException("no end of the answer's head in 16 KB");
    }

    /** Live instances of {@code className} in the server, after the full collection the histogram makes. */
    private long instances(String className) throws Exception {
        Process p = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(server.pid()), "GC.class_histogram").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue("jcmd did not end", p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(out, 0, p.exitValue());
        assertTrue("a histogram: " + out.substring(0, Math.min(500, out.length())), out.contains("java.lang.String"));
        for (String line : out.split("\n")) {
            String[] f = line.strip().split("\\s+");
            if (f.length >= 4 && f[3].equals(className)) {
                return Long.parseLong(f[1]);
            }
        }
        return 0;
    }
}
