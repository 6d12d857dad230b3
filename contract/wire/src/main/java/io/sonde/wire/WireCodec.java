package io.sonde.wire;

import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;

import com.google.gson.FieldNamingPolicy;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import com.google.gson.Strictness;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.JsonWriter;

/**
 * Reads and writes the documents of this package: JSON with snake_case names, instants in RFC 3339,
 * optionally gzip, every read bounded in bytes before and after decompression.
 */
public final class WireCodec {

    /** The major schema version this side speaks. */
    public static final int SCHEMA = 1;

    private static final TypeAdapter<Instant> INSTANT = new TypeAdapter<>() {
        @Override
        public void write(JsonWriter out, Instant value) throws IOException {
            if (value == null) {
                out.nullValue();
            } else {
                out.value(value.toString());
            }
        }

        @Override
        public Instant read(JsonReader in) throws IOException {
            if (in.peek() == JsonToken.NULL) {
                in.nextNull();
                return null;
            }
            String text = in.nextString();
            try {
                return Instant.parse(text);
            } catch (DateTimeParseException e) {
                // the path of the value just read: asked for only when it is wrong (it costs a string per value)
                throw new JsonParseException(in.getPreviousPath() + ": '" + abbreviate(text) + "' is not an RFC 3339 time");
            }
        }
    };

    private static final Gson GSON = new GsonBuilder()
            .setFieldNamingPolicy(FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES)
            .registerTypeAdapter(Instant.class, INSTANT.nullSafe())
            .disableHtmlEscaping()
            .setStrictness(Strictness.STRICT)
            .create();

    /** Counts each result of a batch against the batch's bound in values, and reads its details bounded. */
    private static final com.google.gson.TypeAdapterFactory COUNTED_RESULTS = new com.google.gson.TypeAdapterFactory() {
        @Override
        @SuppressWarnings("unchecked")
        public <T> TypeAdapter<T> create(Gson gson, com.google.gson.reflect.TypeToken<T> type) {
            if (type.getRawType() != WireResult.class) {
                return null;
            }
            TypeAdapter<T> delegate = gson.getDelegateAdapter(this, type);
            return new TypeAdapter<T>() {
                @Override
                public void write(JsonWriter out, T value) throws IOException {
                    delegate.write(out, value);
                }

                @Override
                public T read(JsonReader in) throws IOException {
                    String at = in.getPath();
                    com.google.gson.JsonElement tree = BoundedJson.result(in);
                    try {
                        return delegate.fromJsonTree(tree);
                    } catch (JsonParseException e) {
                        // the tree's paths start at the result: say where in the batch
                        throw new JsonParseException(String.valueOf(message(e)).replace("path $", "path " + at), e);
                    }
                }
            };
        }
    };

    private static final Gson BATCH_GSON = GSON.newBuilder()
            .registerTypeAdapterFactory(COUNTED_RESULTS)
            .create();

    private WireCodec() {
    }

    /**
     * Reads a result batch within bounds checked while it is parsed, not after: {@code maxBytes}
     * before and after decompression, each result's details at most
     * {@link WireResult#MAX_DETAILS_BYTES} of JSON and 16 levels deep, and the whole batch at most
     * {@code maxValues} JSON values (what the tree costs in memory follows from it). Beyond a bound:
     * {@link WireException.Problem#TOO_LARGE}, naming where the read stopped.
     *
     * @since 1.3
     */
    public static ResultBatch readBatch(InputStream body, boolean gzip, long maxBytes, long maxValues) throws WireException {
        BoundedJson.begin(maxValues);
        try {
            return read(body, gzip, maxBytes, ResultBatch.class, BATCH_GSON);
        } finally {
            BoundedJson.end();
        }
    }

    /** @return the Gson instance with this protocol's conventions, for documents of its users' own */
    public static Gson gson() {
        return GSON;
    }

    /** @return {@code document} as UTF-8 JSON */
    public static byte[] json(Object document) {
        return text(GSON, document).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * @return {@code document} as JSON text by {@code gson}, written into a StringBuilder: Gson's
     *         {@code toJson(Object)} writes into a StringWriter, whose buffer takes a lock for every
     *         piece (a third of the time of a small document)
     * @since 1.4
     */
    public static String text(Gson gson, Object document) {
        StringBuilder out = new StringBuilder(256);
        gson.toJson(document, document == null ? Object.class : document.getClass(), out);
        return out.toString();
    }

    /** @return {@code raw} gzip-compressed */
    public static byte[] gzip(byte[] raw) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(64, raw.length / 4));
        try (OutputStream gz = new GZIPOutputStream(out, 8192)) {
            gz.write(raw);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // not with a byte array
        }
        return out.toByteArray();
    }

    /**
     * Reads one document.
     *
     * @param body     the request or response body
     * @param gzip     whether the body is gzip-compressed
     * @param maxBytes the most bytes the document may have, compressed and uncompressed alike
     * @param type     the document's record type
     * @param <T>      the document type
     * @return the document; never {@code null}
     * @throws WireException when the body is not such a document, or too large
     */
    public static <T> T read(InputStream body, boolean gzip, long maxBytes, Class<T> type) throws WireException {
        return read(body, gzip, maxBytes, type, GSON);
    }

    private static <T> T read(InputStream body, boolean gzip, long maxBytes, Class<T> type, Gson gson) throws WireException {
        try {
            InputStream in = new Bounded(body, maxBytes, "the request body");
            if (gzip) {
                in = new Bounded(new Gunzip(in), maxBytes, "the uncompressed document");
            }
            try (Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8)) {
                T doc = gson.fromJson(reader, type);
                if (doc == null) {
                    throw new WireException(WireException.Problem.MALFORMED, "the body is empty, a JSON object was expected");
                }
                return doc;
            }
        } catch (BoundedJson.Exceeded e) {
            throw new WireException(WireException.Problem.TOO_LARGE, e.getMessage());
        } catch (JsonParseException | IllegalStateException | NumberFormatException e) {
            // Gson wraps the reader's own failures (too large, not gzip) in a JsonIOException
            if (e.getCause() instanceof IOException io) {
                throw problem(io);
            }
            throw new WireException(WireException.Problem.MALFORMED, "malformed JSON: " + message(e));
        } catch (IOException e) {
            throw problem(e);
        }
    }

    private static WireException problem(IOException e) {
        if (e instanceof TooLarge) {
            return new WireException(WireException.Problem.TOO_LARGE, e.getMessage());
        }
        if (e instanceof Truncated) {
            return new WireException(WireException.Problem.MALFORMED, e.getMessage());
        }
        if (e instanceof com.google.gson.stream.MalformedJsonException) {
            String m = String.valueOf(e.getMessage());
            String lenient = "Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON ";
            return new WireException(WireException.Problem.MALFORMED, m.startsWith(lenient)
                    ? "malformed JSON " + m.substring(lenient.length()) : "malformed JSON: " + message(e));
        }
        if (e instanceof ZipException) {
            return new WireException(WireException.Problem.MALFORMED,
                    "the body is not gzip as its Content-Encoding says: " + e.getMessage());
        }
        if (e instanceof java.io.EOFException) {
            return new WireException(WireException.Problem.MALFORMED, "the body ends early (truncated gzip or JSON)");
        }
        return new WireException(WireException.Problem.MALFORMED, "the body could not be read: " + e.getMessage());
    }

    /**
     * Refuses a document of another major schema version.
     *
     * @param schema   the document's {@code schema} field
     * @param document what the document is, for the message
     * @throws WireException for any version but {@link #SCHEMA}
     */
    public static void checkSchema(int schema, String document) throws WireException {
        if (schema == SCHEMA) {
            return;
        }
        if (schema > SCHEMA) {
            throw new WireException(WireException.Problem.SCHEMA, document + ": schema " + schema
                    + " is newer than this side speaks (" + SCHEMA + "); upgrade it");
        }
        throw new WireException(WireException.Problem.SCHEMA, document + ": schema "
                + (schema == 0 ? "is missing" : schema + " is not known") + " (this side speaks " + SCHEMA + ")");
    }

    /** @return {@code text} cut to 64 characters for messages and logs, its control characters escaped */
    public static String abbreviate(String text) {
        String t = text.length() <= 64 ? text : text.substring(0, 61) + "...";
        for (int i = 0; i < t.length(); i++) {
            if (Character.isISOControl(t.charAt(i)) || t.charAt(i) == '\u2028' || t.charAt(i) == '\u2029') {
                return escapeControls(t);
            }
        }
        return t;
    }

    /** Control characters as escapes (a newline as backslash n, others as backslash u and four hex digits): a quoted input never forges a log line or a terminal's state. */
    private static String escapeControls(String t) {
        StringBuilder b = new StringBuilder(t.length() + 16);
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            switch (c) {
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString();
    }

    private static String message(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t && t.getMessage() != null && t.getMessage().equals(String.valueOf(t.getCause()))) {
            t = t.getCause();
        }
        String m = t.getMessage() != null ? t.getMessage() : e.toString();
        return m.replaceAll("\\s*See https://github\\.com/google/gson/\\S*", ""); // Gson's pointer to its own docs
    }

    /** An input that fails once more than a number of bytes came through it. */
    private static final class Bounded extends FilterInputStream {
        private final long max;
        private final String what;
        private long count;

        Bounded(InputStream in, long max, String what) {
            super(in);
            this.max = max;
            this.what = what;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                add(1);
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                add(n);
            }
            return n;
        }

        private void add(long n) throws TooLarge {
            count += n;
            if (count > max) {
                throw new TooLarge(what + " is larger than " + max + " bytes");
            }
        }
    }

    /**
     * A gzip body cut short. Not an {@link java.io.EOFException}: Gson takes one at the start of a
     * document for an empty body, and a cut body is not an empty one.
     */
    private static final class Truncated extends IOException {
        private static final long serialVersionUID = 1L;

        Truncated() {
            super("the body ends early (truncated gzip)");
        }
    }

    /** gzip, whose end of input before the end of its stream is {@link Truncated}. */
    private static final class Gunzip extends GZIPInputStream {
        Gunzip(InputStream in) throws IOException {
            super(in, 8192);
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return super.read(b, off, len);
            } catch (java.io.EOFException e) {
                throw new Truncated();
            }
        }
    }

    private static final class TooLarge extends IOException {
        private static final long serialVersionUID = 1L;

        TooLarge(String message) {
            super(message);
        }
    }
}
