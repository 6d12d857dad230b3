package io.sonde.plugin.http.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The {@code http:} section of a blackbox_exporter module, read into this kind's keys. What Sonde
 * does not do the same way is refused by its path in the section, never dropped: inline secrets
 * ({@code basic_auth.password}, {@code bearer_token}: this plugin reads secrets from files only),
 * compression, OAuth 2, HTTP/2 and HTTP/3, proxies from the environment, and the rest listed in
 * {@link #REFUSED}.
 */
final class BlackboxModule {

    /** Keys of blackbox_exporter's http prober that are refused, with why. */
    static final Map<String, String> REFUSED = Map.ofEntries(
            Map.entry("compression", "Sonde asks for the body as it is (no Accept-Encoding)"),
            Map.entry("bearer_token", "a token is read from bearer_token_file, not written in the module"),
            Map.entry("authorization", "write basic_auth or bearer_token_file"),
            Map.entry("oauth2", "OAuth 2 is not supported"),
            Map.entry("enable_http2", "Sonde's http prober speaks HTTP/1.1"),
            Map.entry("enable_http3", "Sonde's http prober speaks HTTP/1.1"),
            Map.entry("proxy_from_environment", "name the proxy in proxy_url"),
            Map.entry("proxy_connect_header", "headers to the proxy are not supported"),
            Map.entry("skip_resolve_phase_with_proxy", "the proxy's own name is resolved in the dns phase"),
            Map.entry("fail_if_ssl", "not supported"),
            Map.entry("fail_if_not_ssl", "not supported; an https:// target fails without TLS"),
            Map.entry("hostname", "set the Host header in headers"));

    private static final Set<String> TAKEN = Set.of("valid_status_codes", "valid_http_versions", "method", "headers", "body",
            "body_file", "follow_redirects", "no_follow_redirects", "fail_if_body_matches_regexp", "fail_if_body_not_matches_regexp",
            "fail_if_header_matches", "fail_if_header_not_matches", "basic_auth", "bearer_token_file", "proxy_url", "no_proxy",
            "tls_config", "ip_protocol", "ip_protocol_fallback");

    private static final List<String> TLS_ORDER = List.of("TLS10", "TLS11", "TLS12", "TLS13");

    private BlackboxModule() {
    }

    /**
     * @throws IllegalArgumentException naming the first key refused by its path within the section
     */
    static Map<String, String> keys(Map<String, ?> section) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, ?> e : section.entrySet()) {
            String key = e.getKey();
            Object v = e.getValue();
            if (REFUSED.containsKey(key)) {
                throw new IllegalArgumentException(key + ": not taken: " + REFUSED.get(key));
            }
            if (!TAKEN.contains(key)) {
                throw new IllegalArgumentException(key + ": not a key of blackbox_exporter's http prober that Sonde knows");
            }
            if (v == null) {
                continue;
            }
            switch (key) {
                case "valid_status_codes" -> {
                    List<String> codes = new ArrayList<>();
                    for (Object c : list(key, v)) {
                        codes.add(Long.toString(number(key, c)));
                    }
                    if (!codes.isEmpty()) {
                        out.put(Request.EXPECT_STATUS.name(), String.join(",", codes));
                    }
                }
                case "valid_http_versions" -> {
                    List<String> versions = new ArrayList<>();
                    for (Object s : list(key, v)) {
                        versions.add(text(key, s));
                    }
                    if (!versions.isEmpty()) {
                        out.put(Assertions.HTTP_VERSIONS.name(), String.join(",", versions));
                    }
                }
                case "method" -> out.put(Request.METHOD.name(), text(key, v).toUpperCase(Locale.ROOT));
                case "headers" -> map(key, v).forEach((name, value) -> out.put(Request.HEADER_PREFIX + name, text(key + "." + name, value)));
                case "body" -> out.put(Request.BODY.name(), text(key, v));
                case "body_file" -> out.put(Request.BODY_FILE.name(), text(key, v));
                case "follow_redirects" -> out.put(Request.FOLLOW_REDIRECTS.name(), Boolean.toString(bool(key, v)));
                case "no_follow_redirects" -> out.put(Request.FOLLOW_REDIRECTS.name(), Boolean.toString(!bool(key, v)));
                case "fail_if_body_matches_regexp" -> {
                    List<String> any = regexes(key, v);
                    if (!any.isEmpty()) {
                        out.put(Assertions.BODY_NOT_REGEX.name(), any.size() == 1 ? any.get(0) : "(?:" + String.join(")|(?:", any) + ")");
                    }
                }
                case "fail_if_body_not_matches_regexp" -> {
                    List<String> all = regexes(key, v);
                    if (all.size() == 1) {
                        out.put(Request.BODY_REGEX.name(), all.get(0));
                    } else if (!all.isEmpty()) { // each must match somewhere: lookaheads from the start
                        StringBuilder b = new StringBuilder("\\A");
                        all.forEach(r -> b.append("(?=[\\s\\S]*?(?:").append(r).append("))"));
                        out.put(Request.BODY_REGEX.name(), b.toString());
                    }
                }
                case "fail_if_header_matches", "fail_if_header_not_matches" -> headerRules(key, v, out);
                case "basic_auth" -> {
                    Map<String, ?> auth = map(key, v);
                    for (String k : auth.keySet()) {
                        if (k.equals("password")) {
                            throw new IllegalArgumentException(key + ".password: not taken: a password is read from password_file,"
                                    + " not written in the module");
                        }
                        if (!k.equals("username") && !k.equals("password_file")) {
                            throw new IllegalArgumentException(key + "." + k + ": not a key of basic_auth (username, password_file)");
                        }
                    }
                    if (auth.get("username") != null) {
                        out.put(Request.BASIC_AUTH_USER.name(), text(key + ".username", auth.get("username")));
                    }
                    if (auth.get("password_file") != null) {
                        out.put(Request.BASIC_AUTH_PASSWORD_FILE.name(), text(key + ".password_file", auth.get("password_file")));
                    }
                }
                case "bearer_token_file" -> out.put(Request.BEARER_TOKEN_FILE.name(), text(key, v));
                case "proxy_url" -> out.put(Request.PROXY_URL.name(), text(key, v));
                case "no_proxy" -> out.put(Request.NO_PROXY.name(), text(key, v));
                case "tls_config" -> tls(key, map(key, v), out);
                case "ip_protocol" -> {
                    String p = text(key, v);
                    if (!p.equals("ip4") && !p.equals("ip6")) {
                        throw new IllegalArgumentException(key + ": '" + p + "' is neither ip4 nor ip6");
                    }
                    if (!Boolean.TRUE.equals(fallback(section))) {
                        out.put("ip_version", p.substring(2));
                    }
                }
                case "ip_protocol_fallback" -> bool(key, v); // read with ip_protocol
                default -> throw new IllegalStateException(key);
            }
        }
        return out;
    }

    /** {@code ip_protocol_fallback}, true unless the section says false (blackbox_exporter's default). */
    private static Boolean fallback(Map<String, ?> section) {
        Object f = section.get("ip_protocol_fallback");
        return f == null ? Boolean.TRUE : (Boolean) (f instanceof Boolean b ? b : Boolean.valueOf(f.toString()));
    }

    private static void headerRules(String key, Object v, Map<String, String> out) {
        boolean failIfMatches = key.equals("fail_if_header_matches");
        List<?> rules = list(key, v);
        for (int i = 0; i < rules.size(); i++) {
            String at = key + "[" + i + "]";
            Map<String, ?> rule = map(at, rules.get(i));
            for (String k : rule.keySet()) {
                if (!Set.of("header", "regexp", "allow_missing").contains(k)) {
                    throw new IllegalArgumentException(at + "." + k + ": not a key of a header rule (header, regexp, allow_missing)");
                }
            }
            if (rule.get("header") == null || rule.get("regexp") == null) {
                throw new IllegalArgumentException(at + ": a header rule needs header and regexp");
            }
            String header = text(at + ".header", rule.get("header"));
            String regexp = text(at + ".regexp", rule.get("regexp"));
            boolean allowMissing = rule.get("allow_missing") != null && bool(at + ".allow_missing", rule.get("allow_missing"));
            if (failIfMatches) {
                merge(out, Assertions.FAIL_IF_HEADER_PREFIX + header, regexp);
                if (!allowMissing) { // blackbox_exporter fails a missing header unless allowed
                    out.putIfAbsent(Assertions.EXPECT_HEADER_PREFIX + header, ".*");
                }
            } else {
                if (allowMissing) {
                    throw new IllegalArgumentException(at + ".allow_missing: true is not taken: expect_header fails a missing header");
                }
                String k = Assertions.EXPECT_HEADER_PREFIX + header;
                if (out.containsKey(k) && !out.get(k).equals(".*")) {
                    throw new IllegalArgumentException(at + ": a second rule for " + header + " (Sonde takes one pattern a header must match)");
                }
                out.put(k, regexp);
            }
        }
    }

    private static void merge(Map<String, String> out, String key, String regexp) {
        String before = out.get(key);
        out.put(key, before == null ? regexp : "(?:" + before + ")|(?:" + regexp + ")");
    }

    private static void tls(String key, Map<String, ?> tls, Map<String, String> out) {
        for (Map.Entry<String, ?> e : tls.entrySet()) {
            String at = key + "." + e.getKey();
            Object v = e.getValue();
            if (v == null) {
                continue;
            }
            switch (e.getKey()) {
                case "insecure_skip_verify" -> out.put(Request.INSECURE.name(), Boolean.toString(bool(at, v)));
                case "ca_file" -> out.put(Request.CA_FILE.name(), text(at, v));
                case "cert_file" -> out.put(Request.CERT_FILE.name(), text(at, v));
                case "key_file" -> out.put(Request.KEY_FILE.name(), text(at, v));
                case "server_name" -> out.put(Request.SERVER_NAME.name(), text(at, v));
                case "min_version", "max_version" -> { } // read together below
                default -> throw new IllegalArgumentException(at + ": not taken (tls_config takes insecure_skip_verify, ca_file,"
                        + " cert_file, key_file, server_name, min_version, max_version)");
            }
        }
        if (tls.get("min_version") != null || tls.get("max_version") != null) {
            int min = tls.get("min_version") == null ? 0 : version(key + ".min_version", tls.get("min_version"));
            int max = tls.get("max_version") == null ? TLS_ORDER.size() - 1 : version(key + ".max_version", tls.get("max_version"));
            if (min > max) {
                throw new IllegalArgumentException(key + ".min_version: " + TLS_ORDER.get(min) + " is above max_version "
                        + TLS_ORDER.get(max));
            }
            Set<String> taken = new TreeSet<>();
            for (int i = min; i <= max; i++) {
                taken.add(i == 0 ? "TLSv1" : "TLSv1." + i);
            }
            out.put(Assertions.TLS_VERSIONS.name(), String.join(",", taken));
        }
    }

    private static int version(String at, Object v) {
        int i = TLS_ORDER.indexOf(text(at, v));
        if (i < 0) {
            throw new IllegalArgumentException(at + ": '" + v + "' is not one of " + String.join(", ", TLS_ORDER));
        }
        return i;
    }

    private static List<String> regexes(String key, Object v) {
        List<String> out = new ArrayList<>();
        for (Object r : list(key, v)) {
            out.add(text(key, r));
        }
        return out;
    }

    private static List<?> list(String key, Object v) {
        if (v instanceof List<?> l) {
            return l;
        }
        throw new IllegalArgumentException(key + ": a list, not '" + v + "'");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, ?> map(String key, Object v) {
        if (v instanceof Map<?, ?> m) {
            for (Object k : m.keySet()) {
                if (!(k instanceof String)) {
                    throw new IllegalArgumentException(key + ": key '" + k + "' is not text");
                }
            }
            return (Map<String, ?>) m;
        }
        throw new IllegalArgumentException(key + ": a map, not '" + v + "'");
    }

    private static String text(String key, Object v) {
        if (v instanceof Map || v instanceof List) {
            throw new IllegalArgumentException(key + ": a value, not '" + v + "'");
        }
        return v.toString();
    }

    private static long number(String key, Object v) {
        try {
            return Long.parseLong(text(key, v).strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + ": '" + v + "' is not a status code");
        }
    }

    private static boolean bool(String key, Object v) {
        if (v instanceof Boolean b) {
            return b;
        }
        String s = text(key, v);
        if (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(s);
        }
        throw new IllegalArgumentException(key + ": '" + v + "' is neither true nor false");
    }
}
