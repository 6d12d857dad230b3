package io.sonde.plugin.http.internal;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;

/**
 * A condition on a JSON body, as {@code expect_json} writes them, several separated by {@code ;}:
 * a path to one value, an operator and a JSON literal — {@code $.status == "UP"},
 * {@code $.items.length() > 0}, {@code /checks/0/state != "down"}, {@code $.version =~ "^2\."}.
 *
 * <p>A path is a JSON Pointer ({@code /a/b/0}, RFC 6901) or the part of JSONPath that names one
 * value ({@code $.a.b[0]}, {@code $['a b']}); {@code .length()} after it (or {@code length(PATH)})
 * takes the size of an array, object or string. Operators: {@code ==} and {@code !=} (JSON equality,
 * numbers by value), {@code <}, {@code <=}, {@code >}, {@code >=} (numbers), {@code =~} (a string
 * value searched with a regular expression). A path alone asserts the value is there.
 *
 * @param text     the condition as written, for messages
 * @param path     the members and indexes to walk, each as a string
 * @param length   whether the size of the value is compared rather than the value
 * @param op       the operator, null for "is there"
 * @param literal  what the value is compared with, null with no operator
 * @param regex    the compiled literal of {@code =~}
 */
record JsonCondition(String text, List<String> path, boolean length, String op, JsonElement literal, Pattern regex) {

    private static final List<String> OPERATORS = List.of("==", "!=", "<=", ">=", "=~", "<", ">");

    /**
     * @param text conditions separated by {@code ;} (not inside a quoted literal)
     * @throws IllegalArgumentException naming the condition and what is wrong with it
     */
    static List<JsonCondition> parseAll(String text) {
        List<JsonCondition> out = new ArrayList<>();
        for (String part : split(text)) {
            if (!part.isBlank()) {
                out.add(parse(part.strip()));
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no condition in '" + text + "'");
        }
        return List.copyOf(out);
    }

    /** Splits at {@code ;} outside double quotes. */
    private static List<String> split(String text) {
        List<String> parts = new ArrayList<>();
        StringBuilder b = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"' && (i == 0 || text.charAt(i - 1) != '\\')) {
                quoted = !quoted;
            }
            if (c == ';' && !quoted) {
                parts.add(b.toString());
                b.setLength(0);
            } else {
                b.append(c);
            }
        }
        parts.add(b.toString());
        return parts;
    }

    static JsonCondition parse(String text) {
        int at = -1;
        String op = null;
        boolean quoted = false;
        for (int i = 0; i < text.length() && op == null; i++) {
            char c = text.charAt(i);
            if (c == '\'' || c == '"') {
                quoted = !quoted;
            }
            if (quoted) {
                continue;
            }
            for (String o : OPERATORS) {
                if (text.startsWith(o, i)) {
                    at = i;
                    op = o;
                    break;
                }
            }
        }
        String left = (op == null ? text : text.substring(0, at)).strip();
        boolean length = false;
        if (left.startsWith("length(") && left.endsWith(")")) {
            length = true;
            left = left.substring("length(".length(), left.length() - 1).strip();
        } else if (left.endsWith(".length()")) {
            length = true;
            left = left.substring(0, left.length() - ".length()".length());
        }
        List<String> path = path(text, left);
        if (op == null) {
            if (length) {
                throw new IllegalArgumentException("'" + text + "': a length is compared with a number (length(PATH) > 0)");
            }
            return new JsonCondition(text, path, false, null, null, null);
        }
        String right = text.substring(at + op.length()).strip();
        if (op.equals("=~")) { // a regular expression as written between the quotes, its backslashes its own
            if (right.length() < 2 || !right.startsWith("\"") || !right.endsWith("\"") || length) {
                throw new IllegalArgumentException("'" + text + "': =~ takes a quoted regular expression and a path to a string");
            }
            String regex = right.substring(1, right.length() - 1).replace("\\\"", "\"");
            try {
                return new JsonCondition(text, path, false, op, new JsonPrimitive(regex), Pattern.compile(regex));
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("'" + text + "': not a regular expression: " + e.getDescription());
            }
        }
        JsonElement literal;
        try {
            literal = JsonParser.parseString(right);
        } catch (JsonParseException e) {
            literal = null;
        }
        if (right.isEmpty() || literal == null || literal.isJsonObject() || literal.isJsonArray()
                || (literal.isJsonPrimitive() && literal.getAsJsonPrimitive().isString() && !right.startsWith("\""))) {
            throw new IllegalArgumentException("'" + text + "': '" + right
                    + "' is not a JSON literal (a \"quoted string\", a number, true, false or null)");
        }
        boolean number = literal.isJsonPrimitive() && literal.getAsJsonPrimitive().isNumber();
        if (op.length() == 1 || op.equals("<=") || op.equals(">=")) {
            if (!number) {
                throw new IllegalArgumentException("'" + text + "': " + op + " compares numbers, and " + right + " is not one");
            }
        } else if (length && !number) {
            throw new IllegalArgumentException("'" + text + "': a length is compared with a number, not " + right);
        }
        return new JsonCondition(text, path, length, op, literal, null);
    }

    /** A JSON Pointer or a JSONPath naming one value, as the list of names and indexes it walks. */
    private static List<String> path(String text, String p) {
        List<String> out = new ArrayList<>();
        if (p.startsWith("/") || p.isEmpty()) {
            if (p.isEmpty()) {
                return List.of();
            }
            for (String s : p.substring(1).split("/", -1)) {
                out.add(s.replace("~1", "/").replace("~0", "~"));
            }
            return List.copyOf(out);
        }
        if (!p.startsWith("$")) {
            throw new IllegalArgumentException("'" + text + "': '" + p
                    + "' is neither a JSON Pointer (/a/0) nor a JSONPath ($.a[0])");
        }
        int i = 1;
        while (i < p.length()) {
            char c = p.charAt(i);
            if (c == '.') {
                int end = i + 1;
                while (end < p.length() && p.charAt(end) != '.' && p.charAt(end) != '[') {
                    end++;
                }
                String name = p.substring(i + 1, end);
                if (name.isEmpty() || name.equals("*")) {
                    throw new IllegalArgumentException("'" + text + "': '" + p + "' must name one value (no .., no *)");
                }
                if (!name.matches("[\\w$-]+")) {
                    throw new IllegalArgumentException("'" + text + "': '" + name + "' in '" + p + "' is not a name: one with other"
                            + " characters is written ['" + name + "']; the operators are == != < <= > >= =~");
                }
                out.add(name);
                i = end;
            } else if (c == '[') {
                int end = p.indexOf(']', i);
                if (end < 0) {
                    throw new IllegalArgumentException("'" + text + "': '" + p + "' has a [ without ]");
                }
                String inside = p.substring(i + 1, end).strip();
                if (inside.length() >= 2 && (inside.startsWith("'") && inside.endsWith("'")
                        || inside.startsWith("\"") && inside.endsWith("\""))) {
                    out.add(inside.substring(1, inside.length() - 1));
                } else if (inside.matches("\\d+")) {
                    out.add(inside);
                } else {
                    throw new IllegalArgumentException("'" + text + "': [" + inside
                            + "] in '" + p + "' is neither an index nor a quoted name (filters and wildcards name many values)");
                }
                i = end + 1;
            } else {
                throw new IllegalArgumentException("'" + text + "': '" + p + "' has '" + c + "' where . or [ was expected");
            }
        }
        return List.copyOf(out);
    }

    /** @return why {@code document} fails this condition, or null when it holds */
    String failure(JsonElement document) {
        JsonElement v = document;
        for (String step : path) {
            if (v != null && v.isJsonObject()) {
                v = ((JsonObject) v).get(step);
            } else if (v != null && v.isJsonArray() && step.matches("\\d{1,9}")) {
                JsonArray a = (JsonArray) v;
                int i = Integer.parseInt(step);
                v = i < a.size() ? a.get(i) : null;
            } else {
                v = null;
            }
            if (v == null) {
                return "'" + text + "': the body has no value there";
            }
        }
        if (op == null) {
            return null;
        }
        JsonElement actual = v;
        if (length) {
            if (v.isJsonArray()) {
                actual = new JsonPrimitive(v.getAsJsonArray().size());
            } else if (v.isJsonObject()) {
                actual = new JsonPrimitive(v.getAsJsonObject().size());
            } else if (v.isJsonPrimitive() && v.getAsJsonPrimitive().isString()) {
                actual = new JsonPrimitive(v.getAsString().length());
            } else {
                return "'" + text + "': the value is " + shown(v) + ", which has no length";
            }
        }
        boolean holds;
        switch (op) {
            case "==" -> holds = same(actual, literal);
            case "!=" -> holds = !same(actual, literal);
            case "=~" -> {
                if (!(actual.isJsonPrimitive() && actual.getAsJsonPrimitive().isString())) {
                    return "'" + text + "': the value is " + shown(actual) + ", not a string";
                }
                holds = regex.matcher(actual.getAsString()).find();
            }
            default -> {
                if (!(actual.isJsonPrimitive() && actual.getAsJsonPrimitive().isNumber())) {
                    return "'" + text + "': the value is " + shown(actual) + ", not a number";
                }
                int c = actual.getAsBigDecimal().compareTo(literal.getAsBigDecimal());
                holds = switch (op) {
                    case "<" -> c < 0;
                    case "<=" -> c <= 0;
                    case ">" -> c > 0;
                    default -> c >= 0;
                };
            }
        }
        return holds ? null : "'" + text + "' does not hold: " + (length ? "the length is " : "the value is ") + shown(actual);
    }

    private static boolean same(JsonElement a, JsonElement b) {
        if (a.isJsonPrimitive() && b.isJsonPrimitive() && a.getAsJsonPrimitive().isNumber() && b.getAsJsonPrimitive().isNumber()) {
            BigDecimal x = a.getAsBigDecimal();
            return x.compareTo(b.getAsBigDecimal()) == 0;
        }
        return a.equals(b);
    }

    private static String shown(JsonElement v) {
        String s = v.toString();
        return s.length() <= 80 ? s : s.substring(0, 80) + "...";
    }
}
