package io.sonde.core.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * Finds where each element of the top-level {@code "targets"} array lies in a document that a
 * JSON parser has already accepted, without parsing the elements: so that only the entries whose
 * text changed are parsed again. Gives up ({@code null}) on what it does not follow (a key
 * written with escapes), and the caller then parses the whole document.
 */
final class EntrySpans {

    private final String t;
    private int p;

    private EntrySpans(String text) {
        this.t = text;
    }

    /** @return [start, end) of each element of the last top-level "targets" array, or {@code null} */
    static List<int[]> of(String text) {
        try {
            return new EntrySpans(text).document();
        } catch (IndexOutOfBoundsException | IllegalStateException e) {
            return null;
        }
    }

    /** FNV-1a, 64 bits, over {@code text[start, end)}. */
    static long hash(String text, int start, int end) {
        long h = 0xcbf29ce484222325L;
        for (int i = start; i < end; i++) {
            h ^= text.charAt(i);
            h *= 0x100000001b3L;
        }
        return h;
    }

    private List<int[]> document() {
        space();
        expect('{');
        List<int[]> found = null;
        space();
        if (t.charAt(p) == '}') {
            return null;
        }
        while (true) {
            space();
            String key = key();
            space();
            expect(':');
            space();
            if (key.equals("targets") && t.charAt(p) == '[') {
                found = elements();
            } else {
                value();
            }
            space();
            char c = t.charAt(p++);
            if (c == '}') {
                return found;
            }
            if (c != ',') {
                throw new IllegalStateException();
            }
        }
    }

    private List<int[]> elements() {
        List<int[]> spans = new ArrayList<>();
        p++; // [
        space();
        if (t.charAt(p) == ']') {
            p++;
            return spans;
        }
        while (true) {
            space();
            int start = p;
            value();
            spans.add(new int[] {start, p});
            space();
            char c = t.charAt(p++);
            if (c == ']') {
                return spans;
            }
            if (c != ',') {
                throw new IllegalStateException();
            }
        }
    }

    /** A key without escapes; one with them is not followed. */
    private String key() {
        expect('"');
        int start = p;
        while (t.charAt(p) != '"') {
            if (t.charAt(p) == '\\') {
                throw new IllegalStateException();
            }
            p++;
        }
        return t.substring(start, p++);
    }

    private void value() {
        char c = t.charAt(p);
        if (c == '"') {
            string();
        } else if (c == '{' || c == '[') {
            int depth = 0;
            do {
                char d = t.charAt(p);
                if (d == '"') {
                    string();
                    continue;
                }
                if (d == '{' || d == '[') {
                    depth++;
                } else if (d == '}' || d == ']') {
                    depth--;
                }
                p++;
            } while (depth > 0);
        } else {
            while (p < t.length() && ",]} \t\r\n".indexOf(t.charAt(p)) < 0) {
                p++;
            }
        }
    }

    private void string() {
        p++; // opening quote
        while (true) {
            char c = t.charAt(p++);
            if (c == '\\') {
                p++;
            } else if (c == '"') {
                return;
            }
        }
    }

    private void space() {
        while (p < t.length() && " \t\r\n".indexOf(t.charAt(p)) >= 0) {
            p++;
        }
    }

    private void expect(char c) {
        if (t.charAt(p++) != c) {
            throw new IllegalStateException();
        }
    }
}
