package io.sonde.uplink.internal;

import static org.junit.Assert.assertEquals;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;

import org.junit.Test;

/** The uplink's words for what went wrong with an exchange: never a bare exception's name. */
public class DescribeTest {

    private static final URI SERVER = URI.create("https://127.0.0.1:8443");

    private static String describe(IOException e) {
        return ServerExchange.describe(e, SERVER, Duration.ofSeconds(30));
    }

    @Test
    public void aClosedChannelSaysTheConnectionWasClosed() {
        IOException e = new IOException(new java.nio.channels.ClosedChannelException());
        assertEquals("cannot reach the server: the connection was closed before an answer came (127.0.0.1:8443)", describe(e));
    }

    @Test
    public void aRefusedConnectionNamesTheAddress() {
        IOException e = new java.net.ConnectException();
        assertEquals("cannot reach the server: connection refused (127.0.0.1:8443)", describe(e));
        assertEquals("cannot reach the server: connection refused (127.0.0.1:8443)", describe(new IOException("x", e)));
    }

    @Test
    public void aTimeoutSaysHowLongItWaited() {
        assertEquals("cannot reach the server: no answer within 30 s (127.0.0.1:8443)",
                describe(new java.net.http.HttpTimeoutException("request timed out")));
    }

    @Test
    public void aNameMismatchSaysWhichTlsNamesToAdd() {
        IOException e = new javax.net.ssl.SSLHandshakeException("No subject alternative names matching IP address 127.0.0.1 found");
        assertEquals("TLS refused: the server's certificate is not made out to '127.0.0.1' (No subject alternative names matching IP"
                + " address 127.0.0.1 found); add that name to tls_names in the server's etc/io.sonde.server.cfg, or use a name it has in"
                + " server_url", describe(e));
    }

    @Test
    public void anUnknownHostIsNamed() {
        assertEquals("cannot reach the server: the name nowhere.invalid does not resolve (nowhere.invalid:443)",
                ServerExchange.describe(new java.net.UnknownHostException("nowhere.invalid"), URI.create("https://nowhere.invalid"), Duration.ofSeconds(30)));
    }
}
