package io.sonde.server.alerts.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

/**
 * A receiver's text with fields: {@code {{summary}}} is replaced by the message's summary, and so on
 * for every name of {@link Message#FIELDS}. Nothing else is special: no logic, no escapes beyond
 * {@code {{{{}}} for a literal {@code {{}. A name that is not a field, or a {@code {{} not closed, is
 * refused when the receiver is saved, naming the key and the name.
 */
final class Template {

    static final int MAX_LENGTH = 8 * 1024;

    /** The parts in turn: literal text, or a field's name (marked by {@link Part#field}). */
    private record Part(String text, boolean field) {
    }

    private final String source;
    private final List<Part> parts;

    private Template(String source, List<Part> parts) {
        this.source = source;
        this.parts = parts;
    }

    /**
     * @param key    the receiver's key it was given in, for the error
     * @param source the text
     * @throws WireException naming the key and what is wrong
     */
    static Template parse(String key, String source) throws WireException {
        if (source.length() > MAX_LENGTH) {
            throw AlertRule.invalid(key + ": " + source.length() + " characters, at most " + MAX_LENGTH);
        }
        List<Part> parts = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        int i = 0;
        while (i < source.length()) {
            int open = source.indexOf("{{", i);
            if (open < 0) {
                literal.append(source, i, source.length());
                break;
            }
            literal.append(source, i, open);
            if (source.startsWith("{{{{}}", open)) {
                literal.append("{{");
                i = open + 6;
                continue;
            }
            int close = source.indexOf("}}", open + 2);
            if (close < 0) {
                throw AlertRule.invalid(key + ": '{{' at character " + (open + 1) + " is not closed with '}}'");
            }
            String name = source.substring(open + 2, close).strip();
            if (!Message.isField(name)) {
                throw AlertRule.invalid(key + ": '{{" + WireCodec.abbreviate(name) + "}}' is not a field (" + String.join(", ", Message.FIELDS)
                        + ", labels.<name>)");
            }
            if (literal.length() > 0) {
                parts.add(new Part(literal.toString(), false));
                literal.setLength(0);
            }
            parts.add(new Part(name, true));
            i = close + 2;
        }
        if (literal.length() > 0) {
            parts.add(new Part(literal.toString(), false));
        }
        return new Template(source, List.copyOf(parts));
    }

    /** @return the text with each field replaced by its value (an absent field by nothing) */
    String render(Map<String, String> fields) {
        StringBuilder b = new StringBuilder();
        for (Part p : parts) {
            if (p.field()) {
                String v = fields.get(p.text());
                b.append(v == null ? "" : v);
            } else {
                b.append(p.text());
            }
        }
        return b.toString();
    }

    /** @return the text as it was given */
    String source() {
        return source;
    }
}
