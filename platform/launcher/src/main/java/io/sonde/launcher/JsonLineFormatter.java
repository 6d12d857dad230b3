package io.sonde.launcher;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.logging.Formatter;
import java.util.logging.LogRecord;

/**
 * One JSON object per line, for log shippers: {@code time} (UTC, ISO 8601, milliseconds),
 * {@code level}, {@code logger}, {@code thread}, {@code message}, {@code error} (the stack trace,
 * when there is one), and the structured fields the code put beside the message (SLF4J's MDC,
 * such as {@code target} and {@code kind}). Select it in {@code etc/logging.properties}:
 * {@code io.sonde.launcher.LogFileHandler.formatter = io.sonde.launcher.JsonLineFormatter}.
 */
public final class JsonLineFormatter extends Formatter {

    /** The fields every line has; a structured field of the same name is prefixed with {@code mdc_}. */
    private static final java.util.Set<String> OWN = java.util.Set.of("time", "level", "logger", "thread", "message", "error");

    /** Always three digits of milliseconds: {@code Instant.toString()} leaves them out on a whole second, and parsers of a fixed width fail. */
    static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    @Override
    public String format(LogRecord record) {
        StringBuilder b = new StringBuilder(256);
        b.append('{');
        field(b, "time", TIME.format(Instant.ofEpochMilli(record.getMillis())));
        field(b, "level", record.getLevel().getName());
        field(b, "logger", record.getLoggerName());
        field(b, "thread", Thread.currentThread().getName());
        field(b, "message", formatMessage(record));
        if (record.getThrown() != null) {
            StringWriter s = new StringWriter();
            record.getThrown().printStackTrace(new PrintWriter(s));
            field(b, "error", s.toString().stripTrailing());
        }
        for (Map.Entry<String, String> e : structured().entrySet()) {
            field(b, OWN.contains(e.getKey()) ? "mdc_" + e.getKey() : e.getKey(), e.getValue());
        }
        b.setLength(b.length() - 1); // the last comma
        return b.append("}\n").toString();
    }

    /** SLF4J's MDC of this thread (JUL formats in the thread that logs), or nothing without SLF4J. */
    private static Map<String, String> structured() {
        try {
            Map<String, String> m = org.slf4j.MDC.getCopyOfContextMap();
            return m == null ? Map.of() : new java.util.TreeMap<>(m);
        } catch (LinkageError | RuntimeException e) {
            return Map.of();
        }
    }

    private static void field(StringBuilder b, String name, String value) {
        if (value == null) {
            return;
        }
        quote(b, name);
        b.append(':');
        quote(b, value);
        b.append(',');
    }

    /** A JSON string (RFC 8259): quote, backslash and control characters escaped. */
    static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}
