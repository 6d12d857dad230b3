package io.sonde.plugin.tcp.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;

import io.sonde.api.FailureReason;
import io.sonde.api.Target;

/**
 * expect.N/send.N against a real line server on loopback, SMTP-like: a banner, then an answer to
 * each line (EHLO NAME gets "250 hello NAME", QUIT gets "221 bye" and the end of the connection,
 * SLOW waits past any timeout given here); what the server read is kept, so the test sees what was sent.
 */
public class ConversationTest {

    private TcpProber prober;
    private ServerSocket server;
    private Thread acceptor;
    private final List<String> received = new CopyOnWriteArrayList<>();

    @Before
    public void start() throws IOException {
        prober = new TcpProber();
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    Thread t = new Thread(() -> serve(s));
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();
    }

    private void serve(Socket s) {
        try (s) {
            OutputStream out = s.getOutputStream();
            out.write("220 mail.test ESMTP ready\r\n".getBytes(StandardCharsets.US_ASCII));
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                received.add(line);
                if (line.startsWith("EHLO ")) {
                    out.write(("250-mail.test\r\n250 hello " + line.substring(5) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                } else if (line.equals("QUIT")) {
                    out.write("221 bye\r\n".getBytes(StandardCharsets.US_ASCII));
                    return;
                } else if (line.equals("SLOW")) {
                    Thread.sleep(5000);
                }
            }
        } catch (IOException | InterruptedException e) {
            // the probe closed first
        }
    }

    @After
    public void stop() throws IOException {
        prober.deactivate();
        server.close();
    }

    private TcpConnectResult probe(long timeoutMs, String... options) throws Exception {
        Map<String, String> o = new HashMap<>();
        for (int i = 0; i < options.length; i += 2) {
            o.put(options[i], options[i + 1]);
        }
        Target t = new Target("smtp", "tcp", "127.0.0.1", server.getLocalPort(), Duration.ofSeconds(10), Duration.ofMillis(timeoutMs),
                Set.of(), o, "test");
        return prober.probe(t).toCompletableFuture().get(20, TimeUnit.SECONDS);
    }

    @Test
    public void aDialogueInStepOrderWithAGroupOfTheMatchSentBack() throws Exception {
        TcpConnectResult r = probe(5000, "expect.1", "^220 (\\S+) ESMTP", "send.1", "EHLO probe.$1", "expect.2", "^250 hello",
                "send.10", "QUIT", "expect.11", "^221");
        assertNull(r.errorMessage(), r.failureReason());
        assertFalse(r.failedDueToRegex());
        assertEquals(List.of("EHLO probe.mail.test", "QUIT"), received);
        assertEquals(new InetSocketAddress("127.0.0.1", server.getLocalPort()), r.address());
    }

    @Test
    public void aLineThatNeverComesFailsNamingTheStep() throws Exception {
        TcpConnectResult r = probe(5000, "expect.1", "^220", "send.1", "QUIT", "expect.2", "^250");
        assertEquals(FailureReason.BODY_MISMATCH, r.failureReason());
        assertTrue(r.failedDueToRegex());
        assertEquals("expect.2: /^250/ matched no line before /127.0.0.1:" + server.getLocalPort()
                + " closed the connection (last line: '221 bye')", r.errorMessage());
        // a peer that says something else and waits: the timeout, with what it said
        TcpConnectResult banner = probe(300, "expect.1", "^SSH-2\\.0");
        assertEquals(FailureReason.TIMEOUT, banner.failureReason());
        assertEquals("expect.1: /^SSH-2\\.0/ matched no line from /127.0.0.1:" + server.getLocalPort()
                + " within 300 ms (last line: '220 mail.test ESMTP ready')", banner.errorMessage());
    }

    @Test
    public void silenceIsATimeoutNamingTheStepAndEscapesAreSentAsCharacters() throws Exception {
        TcpConnectResult r = probe(300, "send.1", "SLOW", "expect.2", "^never");
        assertEquals(FailureReason.TIMEOUT, r.failureReason());
        assertFalse(r.failedDueToRegex());
        // the banner was not asked for in step 1, so step 2 reads it: the last line seen
        assertEquals("expect.2: /^never/ matched no line from /127.0.0.1:" + server.getLocalPort()
                + " within 300 ms (last line: '220 mail.test ESMTP ready')", r.errorMessage());
        received.clear();
        assertTrue(probe(5000, "send.1", "a\\tb\\\\c\\r", "send.2", "QUIT", "expect.3", "^221").isSuccessful());
        assertEquals(List.of("a\tb\\c", "QUIT"), received); // the \r before the newline ends the line as CR LF does
    }

    @Test
    public void aClosedPortIsRefusedAsAConnectAloneIs() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        Target t = new Target("x", "tcp", "127.0.0.1", closed, Duration.ofSeconds(10), Duration.ofSeconds(2), Set.of(),
                Map.of("expect.1", "."), "test");
        TcpConnectResult r = prober.probe(t).toCompletableFuture().get(20, TimeUnit.SECONDS);
        assertEquals(FailureReason.REFUSED, r.failureReason());
    }

    @Test
    public void stepKeysAreCheckedByNumberAndEscape() {
        Target bad = new Target("x", "tcp", "127.0.0.1", 25, Duration.ofSeconds(10), Duration.ofSeconds(2), Set.of(),
                Map.of("expect.0", "a", "send.x", "b", "send.51", "c", "send.2", "bad \\q"), "test");
        List<String> problems = prober.check(bad).stream().map(Object::toString).sorted().toList();
        assertEquals(List.of("key 'expect.0': '0' is not a step number (1-50)", "key 'send.2': '\\q' is not an escape (\\n, \\r, \\t, \\\\)",
                "key 'send.51': '51' is not a step number (1-50)", "key 'send.x': 'x' is not a step number (1-50)"), problems);
        assertEquals("[key 'expect.1': is not a regular expression: Unclosed group near index 1]",
                TcpProber.SCHEMA.problems("tcp", Map.of("expect.1", "(")).toString());
        assertEquals("a\\\\b\\n\\r\\t", Conversation.escape("a\\b\n\r\t"));
        assertEquals("a\\b\n\r\t", Conversation.unescape(Conversation.escape("a\\b\n\r\t")));
    }

    @Test
    public void aBlackboxQueryResponseBecomesSteps() {
        Map<String, String> keys = prober.blackboxKeys(Map.of("query_response", List.of(Map.of("expect", "^220"),
                Map.of("send", "EHLO x\r"), Map.of("expect", "^250", "send", "QUIT")), "preferred_ip_protocol", "ip4",
                "ip_protocol_fallback", false));
        assertEquals(Map.of("expect.1", "^220", "send.2", "EHLO x\\r", "expect.3", "^250", "send.3", "QUIT", "ip_version", "4"), keys);
        try {
            prober.blackboxKeys(Map.of("query_response", List.of(Map.of("starttls", true))));
        } catch (IllegalArgumentException e) {
            assertEquals("query_response[0].starttls: not taken: STARTTLS is the tls kind's (prober: tls, starttls)", e.getMessage());
            return;
        }
        throw new AssertionError("starttls taken");
    }
}
