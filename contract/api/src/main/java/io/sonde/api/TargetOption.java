package io.sonde.api;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * One key of a kind's own configuration, declared in its {@link TargetSchema}: its name, type,
 * default, allowed range or values and a one-line description. The core checks a target's value
 * of it before the target is accepted, so a prober reads a value that is known to be good, with
 * {@link #intValue}, {@link #longValue}, {@link #booleanValue} or {@link #value} and the same
 * declaration, so the default lives in one place.
 *
 * <p>A name ending in {@code .*} declares a family of keys by prefix: {@code header.*} stands for
 * {@code header.Accept}, {@code header.User-Agent} and so on.
 *
 * @param name         the configuration key, lower case with underscores ({@code packet_interval_ms}),
 *                     or a prefix ending in {@code .*}
 * @param type         what values it takes
 * @param required     whether a target of the kind must set it
 * @param defaultValue the value of a target that does not set it, as written in a file; {@code null} for none
 * @param min          the smallest allowed value of an {@link Type#INTEGER}; else 0
 * @param max          the largest allowed value of an {@link Type#INTEGER}; else 0
 * @param choices      the allowed values of a {@link Type#CHOICE}, as they are written; else empty
 * @param description  one line for operators: what the key does, with its unit
 * @since 1.3
 */
public record TargetOption(String name, Type type, boolean required, String defaultValue, long min, long max,
        List<String> choices, String description) {

    /** The kinds of value a key takes. */
    public enum Type {
        /** A whole number within {@code min..max}. */
        INTEGER,
        /** {@code true} or {@code false}, in any case. */
        BOOLEAN,
        /** One of {@code choices}, in any case. */
        CHOICE,
        /** Any text. */
        TEXT,
        /** A Java regular expression. */
        PATTERN,
        /** The path of a readable file. */
        FILE
    }

    /** Checks the declaration itself: a plugin that declares nonsense fails when it builds its schema. */
    public TargetOption {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(description, "description");
        choices = choices == null ? List.of() : List.copyOf(choices);
        if (name.isBlank()) {
            throw new IllegalArgumentException("an option needs a name");
        }
        if (type == Type.INTEGER && min > max) {
            throw new IllegalArgumentException("option " + name + ": min " + min + " > max " + max);
        }
        if (type == Type.CHOICE && choices.isEmpty()) {
            throw new IllegalArgumentException("option " + name + ": a choice needs choices");
        }
        if (defaultValue != null && problem(name, type, min, max, choices, defaultValue) != null) {
            throw new IllegalArgumentException("option " + name + ": default "
                    + problem(name, type, min, max, choices, defaultValue));
        }
    }

    /** A whole number in {@code min..max}, {@code defaultValue} when not set. */
    public static TargetOption integer(String name, long defaultValue, long min, long max, String description) {
        return new TargetOption(name, Type.INTEGER, false, Long.toString(defaultValue), min, max, List.of(), description);
    }

    /** {@code true} or {@code false}. */
    public static TargetOption bool(String name, boolean defaultValue, String description) {
        return new TargetOption(name, Type.BOOLEAN, false, Boolean.toString(defaultValue), 0, 0, List.of(), description);
    }

    /** One of {@code choices}; the first one listed need not be the default. */
    public static TargetOption choice(String name, String defaultValue, String description, String... choices) {
        return new TargetOption(name, Type.CHOICE, false, defaultValue, 0, 0, List.of(choices), description);
    }

    /** Any text; {@code defaultValue} may be {@code null} for none. */
    public static TargetOption text(String name, String defaultValue, String description) {
        return new TargetOption(name, Type.TEXT, false, defaultValue, 0, 0, List.of(), description);
    }

    /** A regular expression, none by default. */
    public static TargetOption pattern(String name, String description) {
        return new TargetOption(name, Type.PATTERN, false, null, 0, 0, List.of(), description);
    }

    /** A readable file, none by default. */
    public static TargetOption file(String name, String description) {
        return new TargetOption(name, Type.FILE, false, null, 0, 0, List.of(), description);
    }

    /** @return this option, required: a target of the kind must set it (and it has no default) */
    public TargetOption asRequired() {
        return new TargetOption(name, type, true, null, min, max, choices, description);
    }

    /** @return whether {@code key} is this option, or one of its family for a name ending in {@code .*} */
    public boolean matches(String key) {
        if (name.endsWith(".*")) {
            String prefix = name.substring(0, name.length() - 1);
            return key.length() > prefix.length() && key.startsWith(prefix);
        }
        return name.equals(key);
    }

    /**
     * @param value the value as written, stripped and not blank
     * @return what is wrong with {@code value}, as a sentence part ({@code "'rst' is not one of fin, reset"}), or {@code null}
     */
    public String problem(String value) {
        return problem(name, type, min, max, choices, value);
    }

    private static String problem(String name, Type type, long min, long max, List<String> choices, String value) {
        switch (type) {
            case INTEGER:
                long n;
                try {
                    n = Long.parseLong(value.strip());
                } catch (NumberFormatException e) {
                    return "'" + value + "' is not a whole number";
                }
                return n < min || n > max ? n + " is out of range (" + min + "-" + max + ")" : null;
            case BOOLEAN:
                return value.equalsIgnoreCase("true") || value.equalsIgnoreCase("false") ? null
                        : "'" + value + "' is neither true nor false";
            case CHOICE:
                return canonical(choices, value) != null ? null
                        : "'" + value + "' is not one of " + String.join(", ", choices);
            case PATTERN:
                try {
                    Pattern.compile(value);
                    return null;
                } catch (PatternSyntaxException e) {
                    return "is not a regular expression: " + e.getDescription() + " near index " + e.getIndex();
                }
            case FILE:
                try {
                    return Files.isReadable(Path.of(value)) ? null : "'" + value + "' is not a readable file";
                } catch (InvalidPathException e) {
                    return "'" + value + "' is not a file name: " + e.getReason();
                }
            default:
                return null;
        }
    }

    private static String canonical(List<String> choices, String value) {
        for (String c : choices) {
            if (c.equalsIgnoreCase(value.strip())) {
                return c;
            }
        }
        return null;
    }

    /**
     * @return the target's value of this key, stripped; the default when the target does not set it
     *         (or leaves it blank); a {@link Type#CHOICE} as its choice is spelled; {@code null} when
     *         neither is there
     */
    public String value(Target target) {
        String v = target.options().get(name);
        if (v == null || v.isBlank()) {
            return defaultValue;
        }
        v = v.strip();
        if (type == Type.CHOICE) {
            String c = canonical(choices, v);
            return c == null ? v : c;
        }
        return v;
    }

    /**
     * @return the target's value of this {@link Type#INTEGER} key, or its default
     * @throws IllegalArgumentException if the value is not a whole number within the range, which a
     *         target the core has checked does not have
     */
    public long longValue(Target target) {
        String v = value(target);
        String p = v == null ? "not set and has no default" : problem(v);
        if (p != null) {
            throw new IllegalArgumentException("option " + name + ": " + p);
        }
        return Long.parseLong(v);
    }

    /** @return {@link #longValue} as an int, for options whose range fits */
    public int intValue(Target target) {
        return Math.toIntExact(longValue(target));
    }

    /** @return the target's value of this {@link Type#BOOLEAN} key, or its default ({@code false} if none) */
    public boolean booleanValue(Target target) {
        return Boolean.parseBoolean(value(target));
    }

    /** @return {@link #name}, for messages */
    @Override
    public String toString() {
        return name;
    }
}
