package io.sonde.plugin.http.internal;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;

import io.sonde.api.FailureReason;
import io.sonde.api.Target;
import io.sonde.api.TargetOption;

/**
 * What a response must be beyond its status, each failing the probe with a reason and a message
 * that names the key: about its content ({@code body_mismatch}) — a body that must not match
 * ({@code body_not_regex}), a header that must match ({@code expect_header.NAME}, absent fails) or
 * must not ({@code fail_if_header.NAME}), the body's size ({@code min_body_bytes},
 * {@code max_body_bytes}) — and about its TLS ({@code tls}): the versions taken
 * ({@code tls_versions}) and the days the chain has left ({@code min_cert_days}); and conditions on a
 * JSON body ({@code expect_json}, see {@link JsonCondition}). Independent of
 * how the response was fetched.
 *
 * @param bodyNot       a pattern the body must not match, or null
 * @param headers       by header name (lower case), a pattern one of its values must match
 * @param notHeaders    by header name (lower case), a pattern none of its values may match
 * @param minBody       fewest body bytes, 0 for no bound
 * @param maxBody       most body bytes, 0 for no bound
 * @param tlsVersions   the TLS versions taken (as the JDK names them: TLSv1.2, TLSv1.3), empty for any
 * @param minCertDays   the fewest days the earliest certificate of the chain may have left, 0 for no bound
 * @param json          conditions on the body read as JSON ({@code expect_json}), empty for none
 * @param httpVersions  the protocol versions the response may have ({@code http_versions}), empty for any
 */
record Assertions(Pattern bodyNot, Map<String, Pattern> headers, Map<String, Pattern> notHeaders, long minBody, long maxBody,
        Set<String> tlsVersions, long minCertDays, List<JsonCondition> json, Set<String> httpVersions) {

    static final String EXPECT_HEADER_PREFIX = "expect_header.";
    static final String FAIL_IF_HEADER_PREFIX = "fail_if_header.";

    static final TargetOption BODY_NOT_REGEX = TargetOption.pattern("body_not_regex",
            "A regular expression the body must not match (the first 1 MiB is searched)");
    static final TargetOption EXPECT_HEADER = TargetOption.pattern(EXPECT_HEADER_PREFIX + "*",
            "A header the response must have with a value matching: expect_header.NAME = regex (.* for present)");
    static final TargetOption FAIL_IF_HEADER = TargetOption.pattern(FAIL_IF_HEADER_PREFIX + "*",
            "A header whose value must not match: fail_if_header.NAME = regex (.* for absent)");
    static final TargetOption MIN_BODY_BYTES = TargetOption.integer("min_body_bytes", 0, 0, Long.MAX_VALUE,
            "The fewest body bytes the response may have (0: no bound)");
    static final TargetOption MAX_BODY_BYTES = TargetOption.integer("max_body_bytes", 0, 0, Long.MAX_VALUE,
            "The most body bytes the response may have (0: no bound)");
    static final TargetOption TLS_VERSIONS = TargetOption.text("tls_versions", null,
            "The TLS versions taken, comma-separated: TLSv1.2, TLSv1.3 (default: any the JDK negotiates)");
    static final TargetOption MIN_CERT_DAYS = TargetOption.integer("min_cert_days", 0, 0, 3650,
            "The fewest days the earliest certificate of the chain may have left (0: no bound)");

    static final TargetOption EXPECT_JSON = TargetOption.text("expect_json", null,
            "Conditions on the JSON body, separated by ';': a JSON Pointer or JSONPath, an operator (== != < <= > >= =~) and a JSON literal,"
            + " for example $.status == \"UP\"; $.items.length() > 0 (the first 1 MiB is read)");

    static final TargetOption HTTP_VERSIONS = TargetOption.text("http_versions", null,
            "The protocol versions the response may have, comma-separated: HTTP/1.0, HTTP/1.1 (default: any)");

    static final List<TargetOption> OPTIONS = List.of(BODY_NOT_REGEX, EXPECT_HEADER, FAIL_IF_HEADER, MIN_BODY_BYTES, MAX_BODY_BYTES,
            TLS_VERSIONS, MIN_CERT_DAYS, EXPECT_JSON, HTTP_VERSIONS);

    /** The versions {@code http_versions} takes: HTTP/2 is named (blackbox modules list it) though this prober speaks 1.1. */
    static final Set<String> KNOWN_HTTP = Set.of("HTTP/1.0", "HTTP/1.1", "HTTP/2.0");

    static final Set<String> KNOWN_TLS = Set.of("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3");

    /** A response as the assertions see it. */
    record Response(Map<String, List<String>> headers, byte[] keptBody, long bodySize, String tlsVersion, Instant certExpiry,
            String httpVersion) {
    }

    /**
     * A failed assertion: why, in words naming the key.
     *
     * @param regex whether a regular expression on the body or a header failed (blackbox_exporter's probe_failed_due_to_regex)
     */
    record Verdict(FailureReason reason, String message, boolean regex) {

        Verdict(FailureReason reason, String message) {
            this(reason, message, false);
        }
    }

    /** @return what is wrong with the target's assertion keys beyond their own types, each with its key */
    static List<io.sonde.api.TargetProblem> problems(Target t) {
        List<io.sonde.api.TargetProblem> out = new ArrayList<>();
        String versions = TLS_VERSIONS.value(t);
        if (versions != null) {
            for (String v : versions.split(",")) {
                if (!KNOWN_TLS.contains(v.strip())) {
                    out.add(new io.sonde.api.TargetProblem(TLS_VERSIONS.name(), "'" + v.strip() + "' is not one of " + new TreeSet<>(KNOWN_TLS)));
                }
            }
        }
        long min = MIN_BODY_BYTES.longValue(t);
        long max = MAX_BODY_BYTES.longValue(t);
        if (max > 0 && min > max) {
            out.add(new io.sonde.api.TargetProblem(MIN_BODY_BYTES.name(), min + " is more than max_body_bytes (" + max + ")"));
        }
        for (String v : versions(HTTP_VERSIONS.value(t))) {
            if (!KNOWN_HTTP.contains(v)) {
                out.add(new io.sonde.api.TargetProblem(HTTP_VERSIONS.name(), "'" + v + "' is not one of " + new TreeSet<>(KNOWN_HTTP)));
            }
        }
        String json = EXPECT_JSON.value(t);
        if (json != null) {
            try {
                JsonCondition.parseAll(json);
            } catch (IllegalArgumentException e) {
                out.add(new io.sonde.api.TargetProblem(EXPECT_JSON.name(), e.getMessage()));
            }
        }
        return out;
    }

    static Assertions of(Target t, Map<String, Pattern> compiled, Map<String, List<JsonCondition>> conditions) {
        Map<String, Pattern> headers = new LinkedHashMap<>();
        Map<String, Pattern> notHeaders = new LinkedHashMap<>();
        t.options().forEach((k, v) -> {
            if (k.startsWith(EXPECT_HEADER_PREFIX) && k.length() > EXPECT_HEADER_PREFIX.length()) {
                headers.put(k.substring(EXPECT_HEADER_PREFIX.length()).toLowerCase(Locale.ROOT), compiled.computeIfAbsent(v, Pattern::compile));
            } else if (k.startsWith(FAIL_IF_HEADER_PREFIX) && k.length() > FAIL_IF_HEADER_PREFIX.length()) {
                notHeaders.put(k.substring(FAIL_IF_HEADER_PREFIX.length()).toLowerCase(Locale.ROOT), compiled.computeIfAbsent(v, Pattern::compile));
            }
        });
        String bodyNot = BODY_NOT_REGEX.value(t);
        String versions = TLS_VERSIONS.value(t);
        Set<String> tls = new TreeSet<>();
        if (versions != null) {
            for (String v : versions.split(",")) {
                tls.add(v.strip());
            }
        }
        return new Assertions(bodyNot == null ? null : compiled.computeIfAbsent(bodyNot, Pattern::compile), Map.copyOf(headers),
                Map.copyOf(notHeaders), MIN_BODY_BYTES.longValue(t), MAX_BODY_BYTES.longValue(t), Set.copyOf(tls), MIN_CERT_DAYS.longValue(t),
                EXPECT_JSON.value(t) == null ? List.of() : conditions.computeIfAbsent(EXPECT_JSON.value(t), JsonCondition::parseAll),
                Set.copyOf(versions(HTTP_VERSIONS.value(t))));
    }

    /** {@code HTTP/2} is {@code HTTP/2.0}, as blackbox_exporter writes it. */
    private static List<String> versions(String text) {
        List<String> out = new ArrayList<>();
        if (text != null) {
            for (String v : text.split(",")) {
                if (!v.isBlank()) {
                    String s = v.strip().toUpperCase(Locale.ROOT);
                    out.add(s.equals("HTTP/2") ? "HTTP/2.0" : s);
                }
            }
        }
        return out;
    }

    /** @return whether the body must be kept to be searched */
    boolean readsBody() {
        return bodyNot != null || !json.isEmpty();
    }

    /** @return the first assertion the response fails, or null when it passes them all */
    Verdict check(Response r, Instant now) {
        if (!httpVersions.isEmpty() && r.httpVersion() != null && !httpVersions.contains(r.httpVersion())) {
            return new Verdict(FailureReason.BODY_MISMATCH, HTTP_VERSIONS.name() + ": " + r.httpVersion() + " was answered, not one of "
                    + new TreeSet<>(httpVersions));
        }
        if (minBody > 0 && r.bodySize() < minBody) {
            return new Verdict(FailureReason.BODY_MISMATCH, "min_body_bytes: the body has " + r.bodySize() + " bytes, fewer than " + minBody);
        }
        if (maxBody > 0 && r.bodySize() > maxBody) {
            return new Verdict(FailureReason.BODY_MISMATCH, "max_body_bytes: the body has " + r.bodySize() + " bytes, more than " + maxBody);
        }
        for (Map.Entry<String, Pattern> h : headers.entrySet()) {
            List<String> values = r.headers().getOrDefault(h.getKey(), List.of());
            if (values.stream().noneMatch(v -> h.getValue().matcher(v).find())) {
                return new Verdict(FailureReason.BODY_MISMATCH, EXPECT_HEADER_PREFIX + h.getKey() + ": " + (values.isEmpty()
                        ? "the response has no such header" : "no value matches /" + h.getValue().pattern() + "/ (" + cut(values.get(0)) + ")"), true);
            }
        }
        for (Map.Entry<String, Pattern> h : notHeaders.entrySet()) {
            for (String v : r.headers().getOrDefault(h.getKey(), List.of())) {
                if (h.getValue().matcher(v).find()) {
                    return new Verdict(FailureReason.BODY_MISMATCH, FAIL_IF_HEADER_PREFIX + h.getKey() + ": '" + cut(v) + "' matches /"
                            + h.getValue().pattern() + "/", true);
                }
            }
        }
        if (bodyNot != null && r.keptBody() != null && bodyNot.matcher(new String(r.keptBody(), StandardCharsets.UTF_8)).find()) {
            return new Verdict(FailureReason.BODY_MISMATCH, "body_not_regex: the body matches /" + bodyNot.pattern() + "/", true);
        }
        if (!json.isEmpty()) {
            String failed = json(r);
            if (failed != null) {
                return new Verdict(FailureReason.BODY_MISMATCH, EXPECT_JSON.name() + ": " + failed);
            }
        }
        if (!tlsVersions.isEmpty() && r.tlsVersion() != null && !tlsVersions.contains(r.tlsVersion())) {
            return new Verdict(FailureReason.TLS, "tls_versions: " + r.tlsVersion() + " was negotiated, not one of " + tlsVersions);
        }
        if (minCertDays > 0 && r.certExpiry() != null && r.certExpiry().isBefore(now.plus(Duration.ofDays(minCertDays)))) {
            long left = Duration.between(now, r.certExpiry()).toDays();
            return new Verdict(FailureReason.TLS, "min_cert_days: the chain's earliest certificate expires " + r.certExpiry() + " ("
                    + (left < 0 ? "expired" : left + " days left") + "), fewer than " + minCertDays);
        }
        return null;
    }

    private String json(Response r) {
        if (r.keptBody() == null || r.bodySize() > r.keptBody().length) {
            return "the body (" + r.bodySize() + " bytes) is longer than the " + Exchange.MATCH_LIMIT + " bytes read as JSON";
        }
        JsonElement document;
        try {
            document = JsonParser.parseString(new String(r.keptBody(), StandardCharsets.UTF_8));
        } catch (JsonParseException e) {
            return "the body is not JSON (" + cut(String.valueOf(e.getMessage())) + ")";
        }
        for (JsonCondition c : json) {
            String failed = c.failure(document);
            if (failed != null) {
                return failed;
            }
        }
        return null;
    }

    private static String cut(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "...";
    }
}
