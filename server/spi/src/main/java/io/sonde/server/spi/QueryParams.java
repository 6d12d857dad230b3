package io.sonde.server.spi;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;

import io.sonde.wire.WireCodec;
import io.sonde.wire.WireException;

/**
 * Reading a request's query parameters, each error naming the parameter.
 *
 * @since 1.16
 */
public final class QueryParams {

    private final Map<String, String[]> params;

    /** @param params the request's parameter map */
    public QueryParams(Map<String, String[]> params) {
        this.params = params;
    }

    /** @return the parameter's one value, or null when absent or empty */
    public String text(String name) throws WireException {
        String[] v = params.get(name);
        if (v == null || v.length == 0 || v[0].isEmpty()) {
            return null;
        }
        if (v.length > 1) {
            throw bad(name, "given " + v.length + " times");
        }
        if (v[0].length() > 1000) {
            throw bad(name, "longer than 1000 characters");
        }
        return v[0];
    }

    /**
     * Label matchers: the parameter given once per label, each {@code name=value}.
     *
     * @return the values wanted by label name, in name order; empty when the parameter is absent
     * @since 1.17
     */
    public java.util.SortedMap<String, String> labels(String name) throws WireException {
        String[] v = params.get(name);
        java.util.SortedMap<String, String> out = new java.util.TreeMap<>();
        if (v == null) {
            return out;
        }
        if (v.length > 16) {
            throw bad(name, "given " + v.length + " times, at most 16");
        }
        for (String one : v) {
            int eq = one.indexOf('=');
            String label = eq < 0 ? one : one.substring(0, eq);
            if (eq < 0 || one.length() > 300) {
                throw bad(name, "'" + io.sonde.wire.WireCodec.abbreviate(one) + "' is not name=value with a label name");
            }
            String problem = io.sonde.agent.spi.TargetKeys.labelNameProblem(label);
            if (problem != null) {
                throw bad(name, io.sonde.wire.WireCodec.abbreviate(problem));
            }
            if (out.put(label, one.substring(eq + 1)) != null) {
                throw bad(name, "'" + label + "' given twice");
            }
        }
        return out;
    }

    /**
     * @param wanted label matchers ({@link #labels})
     * @param labels a target's labels
     * @return whether the target has every label wanted, with its value
     * @since 1.17
     */
    public static boolean matches(Map<String, String> wanted, Map<String, String> labels) {
        for (Map.Entry<String, String> e : wanted.entrySet()) {
            if (!e.getValue().equals(labels.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    /** @return the parameter's one value, which must be there */
    public String required(String name) throws WireException {
        String v = text(name);
        if (v == null) {
            throw bad(name, "missing");
        }
        return v;
    }

    /** @return the parameter as an RFC 3339 time or Unix seconds, or {@code fallback} when absent */
    public Instant time(String name, Instant fallback) throws WireException {
        String v = text(name);
        if (v == null) {
            return fallback;
        }
        try {
            return Api.time(name, v);
        } catch (WireException e) {
            throw new WireException(WireException.Problem.INVALID, "parameter '" + e.getMessage().replaceFirst(":", "':"));
        }
    }

    /** @return the parameter as a whole number from {@code min} to {@code max}, or {@code fallback} when absent */
    public int integer(String name, int fallback, int min, int max) throws WireException {
        String v = text(name);
        if (v == null) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(v);
            if (n < min || n > max) {
                throw bad(name, n + " is not between " + min + " and " + max);
            }
            return n;
        } catch (NumberFormatException e) {
            throw bad(name, "'" + WireCodec.abbreviate(v) + "' is not a whole number");
        }
    }

    /** A duration as {@code 300}, {@code 10s}, {@code 5m}, {@code 1h} or {@code 1d}. */
    public Duration duration(String name, Duration fallback) throws WireException {
        String v = text(name);
        if (v == null) {
            return fallback;
        }
        String s = v.strip().toLowerCase(Locale.ROOT);
        long unit = 1;
        char last = s.isEmpty() ? ' ' : s.charAt(s.length() - 1);
        switch (last) {
            case 's' -> s = s.substring(0, s.length() - 1);
            case 'm' -> { unit = 60; s = s.substring(0, s.length() - 1); }
            case 'h' -> { unit = 3600; s = s.substring(0, s.length() - 1); }
            case 'd' -> { unit = 86400; s = s.substring(0, s.length() - 1); }
            default -> { }
        }
        try {
            return Duration.ofSeconds(Math.multiplyExact(Long.parseLong(s), unit));
        } catch (NumberFormatException | ArithmeticException e) {
            throw bad(name, "'" + WireCodec.abbreviate(v) + "' is not a duration (300, 10s, 5m, 1h, 1d)");
        }
    }

    /** @return the error of a bad parameter, naming it */
    public static WireException bad(String name, String why) {
        return new WireException(WireException.Problem.INVALID, "parameter '" + name + "': " + why);
    }
}
