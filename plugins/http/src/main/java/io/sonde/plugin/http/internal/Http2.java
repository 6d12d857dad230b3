package io.sonde.plugin.http.internal;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.http2.ErrorCode;
import org.eclipse.jetty.http2.frames.DataFrame;
import org.eclipse.jetty.http2.frames.Frame;
import org.eclipse.jetty.http2.frames.GoAwayFrame;
import org.eclipse.jetty.http2.frames.HeadersFrame;
import org.eclipse.jetty.http2.frames.PingFrame;
import org.eclipse.jetty.http2.frames.PrefaceFrame;
import org.eclipse.jetty.http2.frames.ResetFrame;
import org.eclipse.jetty.http2.frames.SettingsFrame;
import org.eclipse.jetty.http2.frames.WindowUpdateFrame;
import org.eclipse.jetty.http2.generator.Generator;
import org.eclipse.jetty.http2.hpack.HpackException;
import org.eclipse.jetty.http2.parser.Parser;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.RetainableByteBuffer;

/**
 * One HTTP/2 request on a connection of its own (RFC 9113), after TLS chose {@code h2} by ALPN or, for
 * {@code http://} with {@code http_version = 2}, by prior knowledge (h2c). Jetty's frame parser,
 * generator and HPACK do the wire format; this class is the client's side of one stream: the
 * preface and settings, the request on stream 1, the answers a peer expects (settings and ping
 * acknowledgements, window updates), and the response's head and body. The caller times the
 * phases between {@link #send}, {@link #head} and {@link #body}.
 */
final class Http2 {

    /** The stream of the one request. */
    private static final int STREAM = 1;
    /** The receive window the client opens for the stream and the connection, so a body rarely waits on updates. */
    private static final int WINDOW = 16 << 20;
    /** The largest header block accepted, decoded. */
    private static final int MAX_HEADER_BLOCK = 256 << 10;
    /** Headers HTTP/2 forbids (RFC 9113 §8.2.2) or carries as pseudo-headers. */
    private static final Set<String> CONNECTION_HEADERS = Set.of("connection", "keep-alive", "proxy-connection",
            "transfer-encoding", "upgrade", "host", "te");

    /** A response head: the status and the headers by lower-case name. */
    record Head(int status, Map<String, List<String>> headers) {
    }

    private final InputStream in;
    private final OutputStream out;
    private final String where;
    private final Generator generator = new Generator(ByteBufferPool.NON_POOLING);
    private final Parser parser = new Parser(ByteBufferPool.NON_POOLING, MAX_HEADER_BLOCK);
    private final ArrayDeque<Frame> frames = new ArrayDeque<>();
    private final byte[] buffer = new byte[16384];

    /** The peer's limits for what the client sends (frames stay within 16,384 bytes, which every peer takes). */
    private long connectionWindow = 65535;
    private long streamWindow = 65535;
    private long initialStreamWindow = 65535;
    /** Body bytes received since the client last opened its windows again. */
    private long unacknowledged;
    private boolean ended;
    private String failure;

    /** The body's first bytes, when they are kept; data frames may come with the head, so kept from the start. */
    private final ByteArrayOutputStream kept;
    private final int keepLimit;
    private long bodySize;

    /**
     * @param where how messages name the peer (the URL)
     * @param keepLimit how many of the body's first bytes to keep ({@link #kept()}), 0 for none
     */
    Http2(InputStream in, OutputStream out, String where, int keepLimit) {
        this.in = in;
        this.out = out;
        this.where = where;
        this.keepLimit = keepLimit;
        this.kept = keepLimit > 0 ? new ByteArrayOutputStream() : null;
        parser.init(new Parser.Listener() {
            @Override
            public void onHeaders(HeadersFrame frame) {
                frames.add(frame);
            }

            @Override
            public void onData(DataFrame frame) {
                // the frame's bytes are a view of the read buffer: counted and kept now, before the next read reuses
                // it; the queue gets the frame's place (its end of stream)
                onBody(frame);
                frames.add(new DataFrame(frame.getStreamId(), ByteBuffer.allocate(0), frame.isEndStream()));
            }

            @Override
            public void onSettings(SettingsFrame frame) {
                frames.add(frame);
            }

            @Override
            public void onPing(PingFrame frame) {
                frames.add(frame);
            }

            @Override
            public void onWindowUpdate(WindowUpdateFrame frame) {
                frames.add(frame);
            }

            @Override
            public void onReset(ResetFrame frame) {
                frames.add(frame);
            }

            @Override
            public void onGoAway(GoAwayFrame frame) {
                frames.add(frame);
            }

            @Override
            public void onStreamFailure(int stream, int error, String reason) {
                failure = where + " sent a stream the client cannot read (" + ErrorCode.toString(error, "error " + error)
                        + ": " + reason + ")";
            }

            @Override
            public void onConnectionFailure(int error, String reason) {
                failure = where + " broke the HTTP/2 protocol (" + ErrorCode.toString(error, "error " + error) + ": " + reason + ")";
            }
        });
    }

    /**
     * Writes the connection preface, the client's settings and the request with its body on stream 1.
     *
     * @param authority {@code host[:port]} as the Host header would carry it
     */
    void send(String method, String scheme, String authority, String pathQuery, Map<String, String> headers, byte[] body)
            throws IOException, Exchange.Failure {
        RetainableByteBuffer.Mutable acc = new RetainableByteBuffer.DynamicCapacity();
        HttpFields.Mutable fields = HttpFields.build();
        headers.forEach((k, v) -> {
            if (!CONNECTION_HEADERS.contains(k.toLowerCase(Locale.ROOT))) {
                fields.add(k.toLowerCase(Locale.ROOT), v);
            }
        });
        HttpURI uri = HttpURI.build().scheme(scheme).authority(authority).pathQuery(pathQuery);
        boolean hasBody = body.length > 0;
        MetaData.Request request = new MetaData.Request(method, uri, HttpVersion.HTTP_2, fields,
                hasBody || method.equals("POST") || method.equals("PUT") || method.equals("PATCH") ? body.length : -1);
        try {
            generator.control(acc, new PrefaceFrame());
            generator.control(acc, new SettingsFrame(Map.of(SettingsFrame.ENABLE_PUSH, 0, SettingsFrame.INITIAL_WINDOW_SIZE, WINDOW,
                    SettingsFrame.MAX_HEADER_LIST_SIZE, MAX_HEADER_BLOCK), false));
            generator.control(acc, new WindowUpdateFrame(0, WINDOW - 65535));
            generator.control(acc, new HeadersFrame(STREAM, request, null, !hasBody));
        } catch (HpackException e) {
            throw new Exchange.Failure(io.sonde.api.FailureReason.ERROR, "the request's headers cannot be encoded in HPACK: "
                    + e.getMessage());
        }
        write(acc);
        int offset = 0;
        while (offset < body.length) {
            while (Math.min(connectionWindow, streamWindow) <= 0) { // the peer's windows are full: wait until it opens them
                Frame f = next();
                if (f instanceof HeadersFrame && ((HeadersFrame) f).getStreamId() == STREAM
                        || f instanceof DataFrame && ((DataFrame) f).getStreamId() == STREAM) {
                    frames.addFirst(f); // the server answered before taking the whole body: the answer is what counts
                    return;
                }
                handle(f, false);
            }
            int n = (int) Math.min(Math.min(body.length - offset, Frame.DEFAULT_MAX_SIZE), Math.min(connectionWindow, streamWindow));
            boolean last = offset + n == body.length;
            generator.data(acc, new DataFrame(STREAM, ByteBuffer.wrap(body, offset, n), last), n);
            write(acc);
            offset += n;
            connectionWindow -= n;
            streamWindow -= n;
        }
    }

    /** Reads frames until the final response head (1xx heads are passed over). */
    Head head() throws IOException, Exchange.Failure {
        for (;;) {
            Frame f = next();
            if (f instanceof HeadersFrame h && h.getStreamId() == STREAM) {
                if (!(h.getMetaData() instanceof MetaData.Response r)) {
                    throw new Exchange.Failure(io.sonde.api.FailureReason.ERROR, where + " sent trailers before a response");
                }
                if (r.getStatus() >= 100 && r.getStatus() < 200) {
                    continue;
                }
                Map<String, List<String>> headers = new java.util.HashMap<>();
                for (HttpField field : r.getHttpFields()) {
                    headers.computeIfAbsent(field.getLowerCaseName(), k -> new ArrayList<>()).add(field.getValue());
                }
                ended = h.isEndStream();
                return new Head(r.getStatus(), headers);
            }
            handle(f, true);
        }
    }

    /**
     * Reads the body to the end of the stream.
     *
     * @return the body's size in bytes
     */
    long body() throws IOException, Exchange.Failure {
        while (!ended) {
            Frame f = next();
            if (f instanceof DataFrame d && d.getStreamId() == STREAM) {
                ended = d.isEndStream();
                handle(f, true);
            } else if (f instanceof HeadersFrame h && h.getStreamId() == STREAM) {
                ended = h.isEndStream(); // trailers
            } else {
                handle(f, true);
            }
        }
        return bodySize;
    }

    /** @return the body's first bytes as kept, or null when none are */
    ByteArrayOutputStream kept() {
        return kept;
    }

    private void onBody(DataFrame frame) {
        if (frame.getStreamId() != STREAM) {
            return;
        }
        ByteBuffer b = frame.getByteBuffer();
        int n = b.remaining();
        bodySize += n;
        if (kept != null && kept.size() < keepLimit) {
            int take = Math.min(n, keepLimit - kept.size());
            byte[] bytes = new byte[take];
            b.get(bytes);
            kept.write(bytes, 0, take);
        }
        unacknowledged += frame.flowControlLength();
    }

    /** Answers what the connection asks of a client; fails the exchange on a reset or a goaway before the stream. */
    private void handle(Frame f, boolean reading) throws IOException, Exchange.Failure {
        RetainableByteBuffer.Mutable acc = new RetainableByteBuffer.DynamicCapacity();
        try {
            if (f instanceof SettingsFrame s && !s.isReply()) {
                Integer window = s.getSettings().get(SettingsFrame.INITIAL_WINDOW_SIZE);
                if (window != null) {
                    streamWindow += window - initialStreamWindow;
                    initialStreamWindow = window;
                }
                generator.control(acc, new SettingsFrame(Map.of(), true));
            } else if (f instanceof PingFrame p && !p.isReply()) {
                generator.control(acc, new PingFrame(p.getPayload(), true));
            } else if (f instanceof WindowUpdateFrame w) {
                if (w.getStreamId() == 0) {
                    connectionWindow += w.getWindowDelta();
                } else if (w.getStreamId() == STREAM) {
                    streamWindow += w.getWindowDelta();
                }
            } else if (f instanceof ResetFrame r && r.getStreamId() == STREAM) {
                throw new Exchange.Failure(io.sonde.api.FailureReason.ERROR, where + " reset the request's stream ("
                        + ErrorCode.toString(r.getError(), "error " + r.getError()) + ")");
            } else if (f instanceof GoAwayFrame g && (g.getLastStreamId() < STREAM || g.getError() != ErrorCode.NO_ERROR.code)) {
                String detail = g.tryConvertPayload();
                throw new Exchange.Failure(io.sonde.api.FailureReason.ERROR, where + " closed the HTTP/2 connection ("
                        + ErrorCode.toString(g.getError(), "error " + g.getError())
                        + (detail == null || detail.isEmpty() ? "" : ": " + detail) + ")");
            }
            if (reading && unacknowledged >= WINDOW / 2) { // open the windows again for what was read
                generator.control(acc, new WindowUpdateFrame(0, (int) unacknowledged));
                generator.control(acc, new WindowUpdateFrame(STREAM, (int) unacknowledged));
                unacknowledged = 0;
            }
        } catch (HpackException e) { // control frames carry no headers: not thrown for these
            throw new IOException(e);
        }
        if (acc.remaining() > 0) {
            write(acc);
        }
    }

    /** The next frame, reading as many bytes as it takes. */
    private Frame next() throws IOException, Exchange.Failure {
        while (frames.isEmpty()) {
            if (failure != null) {
                throw new Exchange.Failure(io.sonde.api.FailureReason.ERROR, failure);
            }
            int n = in.read(buffer);
            if (n < 0) {
                throw new EOFException(where + " closed the HTTP/2 connection before the response ended");
            }
            parser.parse(ByteBuffer.wrap(buffer, 0, n));
        }
        if (failure != null) {
            throw new Exchange.Failure(io.sonde.api.FailureReason.ERROR, failure);
        }
        return frames.poll();
    }

    private void write(RetainableByteBuffer.Mutable acc) throws IOException {
        out.write(acc.takeByteArray());
        out.flush();
    }
}
