package io.sonde.server.spi;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Which agents something applies to, by their tags: the one grammar of target definitions,
 * meshes, rollouts and alert rules.
 *
 * <pre>
 * selector := "*" | or                     "*": every agent
 * or       := and ("OR" and)*
 * and      := not ("AND" not)*
 * not      := "NOT" not | "(" or ")" | tag
 * tag      := a tag as agents carry it: {@link #TAG}, e.g. eu, edge, site=fra1
 * </pre>
 *
 * {@code NOT} binds closest, then {@code AND}, then {@code OR}; the keywords may be written in any
 * case. A tag matches the agents that have exactly that tag ({@code site=fra1} is one tag). A
 * selector is at most {@value #MAX_LENGTH} characters and {@value #MAX_DEPTH} parentheses deep.
 * Immutable; {@link #toString()} is its canonical text, which parses to an equal selector.
 */
public final class AgentSelector {

    /** A tag: letters, digits and {@code _ . : / = -}, starting with a letter or digit, at most 100 characters. */
    public static final String TAG = "[A-Za-z0-9][A-Za-z0-9_.:/=-]{0,99}";

    /** The longest selector taken. */
    public static final int MAX_LENGTH = 1000;

    /** The deepest nesting of parentheses and NOTs taken. */
    public static final int MAX_DEPTH = 32;

    private static final Pattern TAG_PATTERN = Pattern.compile(TAG);

    /** Every agent. */
    public static final AgentSelector ALL = new AgentSelector(new Node.All());

    /** A selector that does not parse: the message says what was expected where (1-based column). */
    public static final class ParseException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final int column;

        ParseException(int column, String message) {
            super("at column " + column + ": " + message);
            this.column = column;
        }

        /** @return the 1-based column where the selector stopped making sense */
        public int column() {
            return column;
        }
    }

    private final Node root;

    private AgentSelector(Node root) {
        this.root = root;
    }

    /** @return whether {@code tag} is a well-formed tag */
    public static boolean isTag(String tag) {
        return tag != null && TAG_PATTERN.matcher(tag).matches();
    }

    /**
     * @param text the selector
     * @return the selector
     * @throws ParseException where it does not parse, saying where and what was expected
     */
    public static AgentSelector parse(String text) {
        if (text == null || text.isBlank()) {
            throw new ParseException(1, "empty selector (use * for every agent)");
        }
        if (text.length() > MAX_LENGTH) {
            throw new ParseException(MAX_LENGTH + 1, "longer than " + MAX_LENGTH + " characters");
        }
        Parser p = new Parser(text);
        Node root;
        if (p.peek().kind == Kind.ALL) {
            p.next();
            root = new Node.All();
        } else {
            root = p.or(0);
        }
        Token rest = p.peek();
        if (rest.kind != Kind.END) {
            throw new ParseException(rest.column, rest.kind == Kind.CLOSE ? "')' without its '('"
                    : "expected AND, OR or the end, found " + rest.describe());
        }
        return new AgentSelector(root);
    }

    /** @return whether an agent with these tags is selected */
    public boolean matches(Collection<String> tags) {
        return root.matches(tags);
    }

    /** @return the tags the selector names, in the order it names them */
    public List<String> tags() {
        List<String> out = new ArrayList<>();
        root.collect(out);
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AgentSelector s && s.root.equals(root);
    }

    @Override
    public int hashCode() {
        return root.hashCode();
    }

    /** @return the canonical text: keywords in capitals, parentheses only where they are needed */
    @Override
    public String toString() {
        return root.text(0);
    }

    private sealed interface Node {
        boolean matches(Collection<String> tags);

        /** @param outer the binding strength of the operator around: 0 none or OR, 1 AND, 2 NOT */
        String text(int outer);

        default void collect(List<String> out) {
        }

        record All() implements Node {
            public boolean matches(Collection<String> tags) {
                return true;
            }

            public String text(int outer) {
                return "*";
            }
        }

        record Tag(String tag) implements Node {
            public boolean matches(Collection<String> tags) {
                return tags.contains(tag);
            }

            public String text(int outer) {
                return tag;
            }

            public void collect(List<String> out) {
                out.add(tag);
            }
        }

        record Not(Node inner) implements Node {
            public boolean matches(Collection<String> tags) {
                return !inner.matches(tags);
            }

            public String text(int outer) {
                return "NOT " + inner.text(2);
            }

            public void collect(List<String> out) {
                inner.collect(out);
            }
        }

        /** AND ({@code all}) or OR of its parts: AND binds with strength 1, OR with 0. */
        record Junction(boolean all, List<Node> parts) implements Node {
            public boolean matches(Collection<String> tags) {
                for (Node n : parts) {
                    if (n.matches(tags) != all) {
                        return !all;
                    }
                }
                return all;
            }

            public String text(int outer) {
                int own = all ? 1 : 0;
                String s = parts.stream().map(n -> n.text(own)).collect(Collectors.joining(all ? " AND " : " OR "));
                return outer > own ? "(" + s + ")" : s;
            }

            public void collect(List<String> out) {
                parts.forEach(n -> n.collect(out));
            }
        }
    }

    private enum Kind { TAG, AND, OR, NOT, OPEN, CLOSE, ALL, END }

    private record Token(Kind kind, String text, int column) {
        String describe() {
            return switch (kind) {
                case END -> "the end";
                case TAG -> "tag '" + text + "'";
                case AND, OR, NOT -> text.toUpperCase(Locale.ROOT);
                default -> "'" + text + "'";
            };
        }
    }

    /** Recursive descent over the tokens; every recursion is bounded by {@link #MAX_DEPTH}. */
    private static final class Parser {
        private final List<Token> tokens = new ArrayList<>();
        private int at;

        Parser(String text) {
            int i = 0;
            while (i < text.length()) {
                char c = text.charAt(i);
                if (Character.isWhitespace(c)) {
                    i++;
                } else if (c == '(' || c == ')' || c == '*') {
                    tokens.add(new Token(c == '(' ? Kind.OPEN : c == ')' ? Kind.CLOSE : Kind.ALL, String.valueOf(c), i + 1));
                    i++;
                } else if (Character.isLetterOrDigit(c) && c < 128) {
                    int start = i;
                    while (i < text.length() && isTagChar(text.charAt(i))) {
                        i++;
                    }
                    String word = text.substring(start, i);
                    Kind k = switch (word.toUpperCase(Locale.ROOT)) {
                        case "AND" -> Kind.AND;
                        case "OR" -> Kind.OR;
                        case "NOT" -> Kind.NOT;
                        default -> Kind.TAG;
                    };
                    if (k == Kind.TAG && !isTag(word)) {
                        throw new ParseException(start + 1, "'" + abbreviate(word) + "' is not a tag (letters, digits, _ . : / = -; at most 100)");
                    }
                    tokens.add(new Token(k, word, start + 1));
                } else {
                    throw new ParseException(i + 1, "'" + (Character.isISOControl(c) ? String.format("\\u%04x", (int) c) : String.valueOf(c))
                            + "' is not part of a tag or an operator (tags, AND, OR, NOT, parentheses, *)");
                }
            }
            tokens.add(new Token(Kind.END, "", text.length() + 1));
        }

        private static boolean isTagChar(char c) {
            return c < 128 && (Character.isLetterOrDigit(c) || "_.:/=-".indexOf(c) >= 0);
        }

        private static String abbreviate(String s) {
            return s.length() <= 40 ? s : s.substring(0, 40) + "...";
        }

        Token peek() {
            return tokens.get(at);
        }

        Token next() {
            return tokens.get(at++);
        }

        Node or(int depth) {
            List<Node> parts = new ArrayList<>();
            parts.add(and(depth));
            while (peek().kind == Kind.OR) {
                next();
                parts.add(and(depth));
            }
            return parts.size() == 1 ? parts.get(0) : new Node.Junction(false, flatten(parts, false));
        }

        Node and(int depth) {
            List<Node> parts = new ArrayList<>();
            parts.add(not(depth));
            while (peek().kind == Kind.AND) {
                next();
                parts.add(not(depth));
            }
            return parts.size() == 1 ? parts.get(0) : new Node.Junction(true, flatten(parts, true));
        }

        Node not(int depth) {
            Token t = next();
            if (depth > MAX_DEPTH) {
                throw new ParseException(t.column, "nested deeper than " + MAX_DEPTH);
            }
            switch (t.kind) {
                case NOT:
                    return new Node.Not(not(depth + 1));
                case OPEN: {
                    Node inner = or(depth + 1);
                    Token close = next();
                    if (close.kind != Kind.CLOSE) {
                        throw new ParseException(close.column, "expected AND, OR or ')' to close the '(' at column " + t.column
                                + ", found " + close.describe());
                    }
                    return inner;
                }
                case TAG:
                    return new Node.Tag(t.text);
                case ALL:
                    throw new ParseException(t.column, "'*' stands alone: it selects every agent");
                default:
                    throw new ParseException(t.column, "expected a tag, NOT or '(', found " + t.describe());
            }
        }

        /** (a AND b) AND c is a AND b AND c: one canonical form, so equal selectors are equal. */
        private static List<Node> flatten(List<Node> parts, boolean all) {
            List<Node> out = new ArrayList<>();
            for (Node n : parts) {
                if (n instanceof Node.Junction j && j.all() == all) {
                    out.addAll(j.parts());
                } else {
                    out.add(n);
                }
            }
            return List.copyOf(out);
        }
    }
}
