package io.sonde.plugin.tls.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The plain-text dialogue each protocol has before it turns to TLS on the same connection, as
 * blackbox_exporter's {@code starttls} modules have them: SMTP (RFC 3207), IMAP (RFC 2595),
 * POP3 (RFC 2595, STLS), FTP (RFC 4217, AUTH TLS) and XMPP (RFC 6120). Every read is bounded:
 * a line at most {@value #MAX_LINE} bytes, a greeting at most {@value #MAX_LINES} lines, XMPP's
 * features at most {@value #MAX_XML} bytes; a server that says something else fails the probe
 * with what it said.
 */
final class StartTls {

    static final int MAX_LINE = 4096;
    static final int MAX_LINES = 100;
    static final int MAX_XML = 65_536;

    /** A server that did not say what the protocol asks. */
    static final class Refused extends IOException {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message);
        }
    }

    private StartTls() {
    }

    /**
     * Speaks the protocol's dialogue up to the point where TLS starts.
     *
     * @param protocol smtp, imap, pop3, ftp or xmpp
     * @param host     the name the client says it wants (XMPP's {@code to})
     */
    static void negotiate(String protocol, Socket socket, String host) throws IOException {
        InputStream in = socket.getInputStream();
        OutputStream out = socket.getOutputStream();
        switch (protocol) {
            case "smtp" -> {
                expect(protocol, "greeting", reply(in), "220");
                send(out, "EHLO sonde.invalid\r\n");
                String ehlo = reply(in);
                expect(protocol, "EHLO", ehlo, "250");
                if (!ehlo.toUpperCase(Locale.ROOT).contains("STARTTLS")) {
                    throw new Refused("smtp: the server does not offer STARTTLS (its EHLO answer: " + shorten(ehlo) + ")");
                }
                send(out, "STARTTLS\r\n");
                expect(protocol, "STARTTLS", reply(in), "220");
            }
            case "imap" -> {
                expect(protocol, "greeting", line(in), "* OK");
                send(out, "a1 STARTTLS\r\n");
                String answer;
                int lines = 0;
                do { // untagged lines may come before the tagged answer
                    answer = line(in);
                } while (answer.startsWith("* ") && ++lines < MAX_LINES);
                expect(protocol, "STARTTLS", answer, "a1 OK");
            }
            case "pop3" -> {
                expect(protocol, "greeting", line(in), "+OK");
                send(out, "STLS\r\n");
                expect(protocol, "STLS", line(in), "+OK");
            }
            case "ftp" -> {
                expect(protocol, "greeting", reply(in), "220");
                send(out, "AUTH TLS\r\n");
                expect(protocol, "AUTH TLS", reply(in), "234");
            }
            case "xmpp" -> {
                send(out, "<?xml version='1.0'?><stream:stream to='" + xml(host) + "' xmlns='jabber:client'"
                        + " xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>");
                String features = until(in, "</stream:features>");
                if (!features.contains("urn:ietf:params:xml:ns:xmpp-tls")) {
                    throw new Refused("xmpp: the server does not offer starttls (" + shorten(features) + ")");
                }
                send(out, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
                String answer = until(in, ">");
                if (!answer.contains("<proceed")) {
                    throw new Refused("xmpp: the server answered starttls with " + shorten(answer));
                }
            }
            default -> throw new IllegalArgumentException("no STARTTLS dialogue for " + protocol);
        }
    }

    private static void expect(String protocol, String step, String answer, String prefix) throws Refused {
        if (!answer.startsWith(prefix)) {
            throw new Refused(protocol + ": expected " + prefix + " after " + step + ", got '" + shorten(answer) + "'");
        }
    }

    private static void send(OutputStream out, String text) throws IOException {
        out.write(text.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** One line, without its CR LF. */
    static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < MAX_LINE; i++) {
            int c = in.read();
            if (c < 0) {
                throw new Refused("the server closed the connection" + (b.length() == 0 ? "" : " after '" + shorten(b.toString()) + "'"));
            }
            if (c == '\n') {
                int end = b.length();
                return end > 0 && b.charAt(end - 1) == '\r' ? b.substring(0, end - 1) : b.toString();
            }
            b.append((char) c);
        }
        throw new Refused("a line longer than " + MAX_LINE + " bytes");
    }

    /** A reply of SMTP or FTP: lines {@code 250-...} go on to the last one, {@code 250 ...}; all of them, joined. */
    static String reply(InputStream in) throws IOException {
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < MAX_LINES; i++) {
            String l = line(in);
            all.append(all.length() == 0 ? "" : "\n").append(l);
            if (l.length() < 4 || l.charAt(3) != '-') {
                return all.toString();
            }
        }
        throw new Refused("a reply of more than " + MAX_LINES + " lines");
    }

    private static String until(InputStream in, String end) throws IOException {
        StringBuilder b = new StringBuilder();
        while (b.length() < MAX_XML) {
            int c = in.read();
            if (c < 0) {
                throw new Refused("the server closed the stream" + (b.length() == 0 ? "" : " after '" + shorten(b.toString()) + "'"));
            }
            b.append((char) c);
            if (b.length() >= end.length() && b.lastIndexOf(end) == b.length() - end.length()) {
                return b.toString();
            }
        }
        throw new Refused("more than " + MAX_XML + " bytes before " + end);
    }

    private static String xml(String s) {
        return s.replace("&", "&amp;").replace("'", "&apos;").replace("<", "&lt;");
    }

    /** At most 200 characters, control characters as '?': a server's words go into logs and results. */
    static String shorten(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && b.length() < 200; i++) {
            char c = s.charAt(i);
            b.append(c == '\n' ? ' ' : Character.isISOControl(c) ? '?' : c);
        }
        return s.length() > 200 ? b + "..." : b.toString();
    }
}
