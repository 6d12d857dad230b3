package io.sonde.plugin.tls.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * A TLS server on 127.0.0.1 for the tests: it speaks a protocol's STARTTLS dialogue first when
 * asked (or refuses it, or never speaks TLS at all), then shakes hands with the key of a PKCS#12
 * store made by the JDK's keytool, and counts the handshakes it completed.
 */
final class TestTlsServer implements AutoCloseable {

    /** What the server does with a connection. */
    enum Mode { TLS, SMTP, IMAP, POP3, FTP, XMPP, SMTP_WITHOUT_STARTTLS, SILENT }

    private final ServerSocket server;
    private final SSLContext context;
    private final Mode mode;
    private final Thread acceptor;
    final AtomicInteger handshakes = new AtomicInteger();
    /** The address each connection came from, in order. */
    final java.util.Queue<InetAddress> peers = new java.util.concurrent.ConcurrentLinkedQueue<>();

    TestTlsServer(Path keystore, Mode mode) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            ks.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "changeit".toCharArray());
        context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), null, null);
        this.mode = mode;
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = new Thread(this::accept, "test-tls-server");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    private void accept() {
        for (int i = 0; i < 1000 && !server.isClosed(); i++) {
            try {
                Socket s = server.accept();
                peers.add(s.getInetAddress());
                Thread t = new Thread(() -> serve(s), "test-tls-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            s.setSoTimeout(10_000);
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            switch (mode) {
                case SILENT -> {
                    in.read(); // reads the client's hello and says nothing until the client gives up
                    Thread.sleep(TimeUnit.SECONDS.toMillis(5));
                    return;
                }
                case SMTP -> {
                    say(out, "220-tls.sonde.test ESMTP\r\n220 ready\r\n");
                    expect(in, "EHLO");
                    say(out, "250-tls.sonde.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n");
                    expect(in, "STARTTLS");
                    say(out, "220 go ahead\r\n");
                }
                case SMTP_WITHOUT_STARTTLS -> {
                    say(out, "220 ready\r\n");
                    expect(in, "EHLO");
                    say(out, "250-tls.sonde.test\r\n250 8BITMIME\r\n");
                    StartTls.line(in);
                    return;
                }
                case IMAP -> {
                    say(out, "* OK IMAP4rev1 ready\r\n");
                    expect(in, "a1 STARTTLS");
                    say(out, "* CAPABILITY IMAP4rev1\r\na1 OK begin TLS now\r\n");
                }
                case POP3 -> {
                    say(out, "+OK POP3 ready\r\n");
                    expect(in, "STLS");
                    say(out, "+OK begin TLS\r\n");
                }
                case FTP -> {
                    say(out, "220 FTP ready\r\n");
                    expect(in, "AUTH TLS");
                    say(out, "234 AUTH TLS ok\r\n");
                }
                case XMPP -> {
                    String header = readUntil(in, "version='1.0'>");
                    if (!header.contains("to='127.0.0.1'")) {
                        throw new IOException("no to: " + header);
                    }
                    say(out, "<?xml version='1.0'?><stream:stream from='tls.sonde.test' id='1' version='1.0'"
                            + " xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'><stream:features>"
                            + "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>");
                    readUntil(in, "/>");
                    say(out, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
                }
                case TLS -> {
                }
            }
            SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(s, null, s.getPort(), true);
            tls.setUseClientMode(false);
            tls.startHandshake();
            handshakes.incrementAndGet();
            tls.getInputStream().read(); // until the client closes
        } catch (IOException | InterruptedException e) {
            // the client went away, or failed the handshake: what the tests look at is the prober's result
        }
    }

    private static void say(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static void expect(InputStream in, String command) throws IOException {
        String line = StartTls.line(in);
        if (!line.startsWith(command)) {
            throw new IOException("expected " + command + ", got " + line);
        }
    }

    private static String readUntil(InputStream in, String end) throws IOException {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 10_000; i++) {
            int c = in.read();
            if (c < 0) {
                break;
            }
            b.append((char) c);
            if (b.toString().endsWith(end)) {
                break;
            }
        }
        return b.toString();
    }

    @Override
    public void close() throws Exception {
        server.close();
        acceptor.join(5000);
    }

    /**
     * Makes a PKCS#12 store with a self-signed EC key for 127.0.0.1 and tls.sonde.test with the
     * JDK's keytool, and its certificate as PEM beside it ({@code <name>.pem}).
     *
     * @param start keytool's -startdate, for example "-10d", or null for now
     */
    static Path keystore(Path dir, String name, String start, int days) throws Exception {
        Path ks = dir.resolve(name + ".p12");
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        List<String> gen = new java.util.ArrayList<>(List.of(keytool, "-genkeypair", "-alias", "s", "-keyalg", "EC", "-groupname",
                "secp256r1", "-dname", "CN=sonde-test", "-ext", "SAN=ip:127.0.0.1,dns:tls.sonde.test", "-validity",
                String.valueOf(days), "-keystore", ks.toString(), "-storetype", "PKCS12", "-storepass", "changeit"));
        if (start != null) {
            gen.addAll(List.of("-startdate", start));
        }
        run(gen);
        run(List.of(keytool, "-exportcert", "-rfc", "-alias", "s", "-keystore", ks.toString(), "-storepass", "changeit", "-file",
                dir.resolve(name + ".pem").toString()));
        return ks;
    }

    private static void run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(command.get(1) + " failed: " + out);
        }
    }
}
