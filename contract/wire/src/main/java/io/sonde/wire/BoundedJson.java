package io.sonde.wire;

import java.io.IOException;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonPrimitive;
import com.google.gson.stream.JsonReader;

/**
 * Reads the results of a batch within bounds checked while parsing, so that a body within its byte bound cannot make a tree many times its size: a
 * result's details at most {@link WireResult#MAX_DETAILS_BYTES} bytes of JSON and
 * {@link #MAX_DEPTH} deep, and a whole batch at most so many values ({@link #nodes}), each result
 * counted with its fixed fields. Beyond a bound the read stops at once with
 * {@link WireException.Problem#TOO_LARGE}.
 */
final class BoundedJson {

    /** Nesting of a result's details. */
    static final int MAX_DEPTH = 16;
    /** What a result costs besides its details, in values. */
    static final int RESULT_COST = 16;

    /** The values a batch being read on this thread may still hold; absent outside {@link WireCodec#readBatch}. */
    private static final ThreadLocal<long[]> NODES = new ThreadLocal<>();

    private BoundedJson() {
    }

    /** A number as the JSON had it, parsed when asked for (as Gson's own tree keeps numbers). */
    static final class TextNumber extends Number {
        private static final long serialVersionUID = 1L;
        private final String text;

        TextNumber(String text) {
            this.text = text;
        }

        @Override
        public int intValue() {
            try {
                return Integer.parseInt(text);
            } catch (NumberFormatException e) {
                return (int) longValue();
            }
        }

        @Override
        public long longValue() {
            try {
                return Long.parseLong(text);
            } catch (NumberFormatException e) {
                return new java.math.BigDecimal(text).longValue();
            }
        }

        @Override
        public float floatValue() {
            return Float.parseFloat(text);
        }

        @Override
        public double doubleValue() {
            return Double.parseDouble(text);
        }

        @Override
        public String toString() {
            return text;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof TextNumber t && t.text.equals(text);
        }

        @Override
        public int hashCode() {
            return text.hashCode();
        }
    }

    /** Thrown within Gson; becomes a {@link WireException.Problem#TOO_LARGE}. */
    static final class Exceeded extends JsonParseException {
        private static final long serialVersionUID = 1L;

        Exceeded(String message) {
            super(message);
        }
    }

    static void begin(long maxNodes) {
        NODES.set(new long[] {maxNodes, maxNodes});
    }

    static void end() {
        NODES.remove();
    }

    private static void take(long n, JsonReader in) {
        long[] left = NODES.get();
        if (left != null) {
            left[0] -= n;
            if (left[0] < 0) {
                throw new Exceeded("the batch holds more than " + left[1] + " values (stopped at " + in.getPath()
                        + "): the server takes at most so many per batch with its memory; send smaller batches");
            }
        }
    }

    /** The most JSON of a result besides its details (its target, error and other fields). */
    static final int MAX_RESULT_REST = 16 * 1024;

    /**
     * Reads one result as a tree within bounds: its details at most
     * {@link WireResult#MAX_DETAILS_BYTES} and {@link #MAX_DEPTH} deep, the rest at most
     * {@link #MAX_RESULT_REST}, every value counted against the batch.
     */
    static JsonElement result(JsonReader in) throws IOException {
        String at = in.getPath();
        take(RESULT_COST, in);
        if (in.peek() != com.google.gson.stream.JsonToken.BEGIN_OBJECT) {
            return element(in, new long[] {MAX_RESULT_REST, MAX_RESULT_REST}, 0, at);
        }
        long[] rest = {MAX_RESULT_REST, MAX_RESULT_REST};
        in.beginObject();
        JsonObject o = new JsonObject();
        while (in.hasNext()) {
            String name = in.nextName();
            count(name.length() + 4, in, rest, at);
            if (name.equals("details")) {
                o.add(name, element(in, new long[] {WireResult.MAX_DETAILS_BYTES, WireResult.MAX_DETAILS_BYTES}, 0, at + ".details"));
            } else {
                o.add(name, element(in, rest, 0, at));
            }
        }
        in.endObject();
        return o;
    }

    private static JsonElement element(JsonReader in, long[] bytes, int depth, String at) throws IOException {
        switch (in.peek()) {
            case BEGIN_OBJECT -> {
                depth(depth, in, at);
                in.beginObject();
                JsonObject o = new JsonObject();
                count(2, in, bytes, at);
                while (in.hasNext()) {
                    String name = in.nextName();
                    count(name.length() + 4, in, bytes, at);
                    o.add(name, element(in, bytes, depth + 1, at));
                }
                in.endObject();
                return o;
            }
            case BEGIN_ARRAY -> {
                depth(depth, in, at);
                in.beginArray();
                JsonArray a = new JsonArray();
                count(2, in, bytes, at);
                while (in.hasNext()) {
                    bytes[0]--; // the comma: a byte, not a value
                    a.add(element(in, bytes, depth + 1, at));
                }
                in.endArray();
                return a;
            }
            case STRING -> {
                String s = in.nextString();
                count(s.length() + 2, in, bytes, at);
                return new JsonPrimitive(s);
            }
            case NUMBER -> {
                String s = in.nextString();
                count(s.length(), in, bytes, at);
                return new JsonPrimitive(new TextNumber(s));
            }
            case BOOLEAN -> {
                boolean b = in.nextBoolean();
                count(5, in, bytes, at);
                return new JsonPrimitive(b);
            }
            case NULL -> {
                in.nextNull();
                count(4, in, bytes, at);
                return JsonNull.INSTANCE;
            }
            default -> throw new JsonParseException(in.getPath() + ": unexpected " + in.peek());
        }
    }

    private static void depth(int depth, JsonReader in, String at) {
        if (depth >= MAX_DEPTH) {
            throw new Exceeded(at + ": nested deeper than " + MAX_DEPTH + " (at " + in.getPath() + ")");
        }
    }

    private static void count(long n, JsonReader in, long[] bytes, String at) {
        bytes[0] -= n;
        if (bytes[0] < 0) {
            throw new Exceeded(at + ": larger than " + bytes[1] + " bytes of JSON (stopped at " + in.getPath() + ")");
        }
        take(1, in);
    }
}
