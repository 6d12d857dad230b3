package io.sonde.plugin.http.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import io.sonde.api.ModuleSection;
import io.sonde.api.Target;

/**
 * The {@code http:} section of a blackbox_exporter module, read into this kind's keys. What Sonde
 * does not do the same way is refused by its path in the section, never dropped: inline secrets
 * ({@code basic_auth.password}, {@code bearer_token}: this plugin reads secrets from files only),
 * compression, OAuth 2, HTTP/3, proxies from the environment, and the rest listed in
 * {@link #REFUSED}.
 */
final class BlackboxModule {

    /** Keys of blackbox_exporter's http prober that are refused, with why. */
    static final Map<String, String> REFUSED = Map.ofEntries(
            Map.entry("compression", "Sonde asks for the body as it is (no Accept-Encoding)"),
            Map.entry("bearer_token", "a token is read from bearer_token_file, not written in the module"),
            Map.entry("authorization", "write basic_auth or bearer_token_file"),
            Map.entry("oauth2", "OAuth 2 is not supported"),
            Map.entry("enable_http3", "Sonde's http prober speaks HTTP/1.1 and HTTP/2, not HTTP/3"),
            Map.entry("proxy_from_environment", "name the proxy in proxy_url"),
            Map.entry("proxy_connect_header", "headers to the proxy are not supported"),
            Map.entry("skip_resolve_phase_with_proxy", "the proxy's own name is resolved in the dns phase"),
            Map.entry("fail_if_ssl", "not supported"),
            Map.entry("fail_if_not_ssl", "not supported; an https:// target fails without TLS"),
            Map.entry("source_ip_address", "not supported yet"),
            Map.entry("hostname", "set the Host header in headers"));

    private static final Set<String> TAKEN = Set.of("valid_status_codes", "valid_http_versions", "method", "headers", "body",
            "body_file", "follow_redirects", "no_follow_redirects", "fail_if_body_matches_regexp", "fail_if_body_not_matches_regexp",
            "fail_if_header_matches", "fail_if_header_not_matches", "basic_auth", "bearer_token_file", "proxy_url", "no_proxy",
            "tls_config", "preferred_ip_protocol", "ip_protocol_fallback", "enable_http2");

    private static final Set<String> TLS_KEYS = Set.of("insecure_skip_verify", "ca_file", "cert_file", "key_file", "server_name",
            "min_version", "max_version");

    private static final List<String> TLS_ORDER = List.of("TLS10", "TLS11", "TLS12", "TLS13");

    private BlackboxModule() {
    }

    /**
     * @throws IllegalArgumentException naming the first key refused by its path within the section
     */
    static Map<String, String> keys(Map<String, ?> raw) {
        ModuleSection section = ModuleSection.of(raw);
        for (String key : section.keys()) {
            if (REFUSED.containsKey(key)) {
                throw section.refuse(key, "not taken: " + REFUSED.get(key));
            }
        }
        section.only("blackbox_exporter's http prober", TAKEN);
        Map<String, String> out = new LinkedHashMap<>();
        List<String> codes = new ArrayList<>();
        for (String c : section.texts("valid_status_codes")) {
            if (!c.strip().matches("[1-5]\\d\\d")) {
                throw section.refuse("valid_status_codes", "'" + c + "' is not a status code");
            }
            codes.add(c.strip());
        }
        put(out, Request.EXPECT_STATUS.name(), codes.isEmpty() ? null : String.join(",", codes));
        List<String> versions = section.texts("valid_http_versions");
        put(out, Assertions.HTTP_VERSIONS.name(), versions.isEmpty() ? null : String.join(",", versions));
        if (section.has("enable_http2")) { // blackbox negotiates HTTP/2 over TLS unless told not to, as http_version = auto does
            out.put(Request.HTTP_VERSION.name(), section.bool("enable_http2", true) ? "auto" : "1.1");
        }
        String method = section.text("method");
        put(out, Request.METHOD.name(), method == null ? null : method.toUpperCase(Locale.ROOT));
        ModuleSection headers = section.section("headers");
        for (String name : headers.keys()) {
            put(out, Request.HEADER_PREFIX + name, headers.text(name));
        }
        put(out, Request.BODY.name(), section.text("body"));
        put(out, Request.BODY_FILE.name(), section.text("body_file"));
        if (section.has("follow_redirects")) {
            out.put(Request.FOLLOW_REDIRECTS.name(), Boolean.toString(section.bool("follow_redirects", true)));
        }
        if (section.has("no_follow_redirects")) {
            out.put(Request.FOLLOW_REDIRECTS.name(), Boolean.toString(!section.bool("no_follow_redirects", false)));
        }
        List<String> any = section.texts("fail_if_body_matches_regexp");
        put(out, Assertions.BODY_NOT_REGEX.name(), any.isEmpty() ? null
                : any.size() == 1 ? any.get(0) : "(?:" + String.join(")|(?:", any) + ")");
        List<String> all = section.texts("fail_if_body_not_matches_regexp");
        if (all.size() == 1) {
            out.put(Request.BODY_REGEX.name(), all.get(0));
        } else if (!all.isEmpty()) { // each must match somewhere: lookaheads from the start
            StringBuilder b = new StringBuilder("\\A");
            all.forEach(r -> b.append("(?=[\\s\\S]*?(?:").append(r).append("))"));
            out.put(Request.BODY_REGEX.name(), b.toString());
        }
        headerRules(section, "fail_if_header_matches", true, out);
        headerRules(section, "fail_if_header_not_matches", false, out);
        ModuleSection auth = section.section("basic_auth");
        if (auth.has("password")) {
            throw auth.refuse("password", "not taken: a password is read from password_file, not written in the module");
        }
        auth.only("basic_auth", Set.of("username", "password_file"));
        put(out, Request.BASIC_AUTH_USER.name(), auth.text("username"));
        put(out, Request.BASIC_AUTH_PASSWORD_FILE.name(), auth.text("password_file"));
        put(out, Request.BEARER_TOKEN_FILE.name(), section.text("bearer_token_file"));
        put(out, Request.PROXY_URL.name(), section.text("proxy_url"));
        put(out, Request.NO_PROXY.name(), section.text("no_proxy"));
        tls(section.section("tls_config"), out);
        int ip = section.ipVersion();
        if (ip != 0) {
            out.put(Target.IP_VERSION, Integer.toString(ip));
        }
        return out;
    }

    private static void put(Map<String, String> out, String key, String value) {
        if (value != null) {
            out.put(key, value);
        }
    }

    private static void headerRules(ModuleSection section, String key, boolean failIfMatches, Map<String, String> out) {
        for (ModuleSection rule : section.sections(key)) {
            rule.only("a header rule", Set.of("header", "regexp", "allow_missing"));
            if (!rule.has("header") || !rule.has("regexp")) {
                throw rule.refuse(rule.has("header") ? "regexp" : "header", "missing; a header rule needs header and regexp");
            }
            String header = rule.text("header");
            String regexp = rule.text("regexp");
            boolean allowMissing = rule.bool("allow_missing", false);
            if (failIfMatches) {
                String k = Assertions.FAIL_IF_HEADER_PREFIX + header;
                String before = out.get(k);
                out.put(k, before == null ? regexp : "(?:" + before + ")|(?:" + regexp + ")");
                if (!allowMissing) { // blackbox_exporter fails a missing header unless allowed
                    out.putIfAbsent(Assertions.EXPECT_HEADER_PREFIX + header, ".*");
                }
            } else {
                if (allowMissing) {
                    throw rule.refuse("allow_missing", "true is not taken: expect_header fails a missing header");
                }
                String k = Assertions.EXPECT_HEADER_PREFIX + header;
                if (out.containsKey(k) && !out.get(k).equals(".*")) {
                    throw rule.refuse("header", "a second rule for " + header + " (Sonde takes one pattern a header must match)");
                }
                out.put(k, regexp);
            }
        }
    }

    private static void tls(ModuleSection tls, Map<String, String> out) {
        tls.only("tls_config", TLS_KEYS);
        if (tls.has("insecure_skip_verify")) {
            out.put(Request.INSECURE.name(), Boolean.toString(tls.bool("insecure_skip_verify", false)));
        }
        put(out, Request.CA_FILE.name(), tls.text("ca_file"));
        put(out, Request.CERT_FILE.name(), tls.text("cert_file"));
        put(out, Request.KEY_FILE.name(), tls.text("key_file"));
        put(out, Request.SERVER_NAME.name(), tls.text("server_name"));
        if (tls.has("min_version") || tls.has("max_version")) {
            int min = tls.has("min_version") ? version(tls, "min_version") : 0;
            int max = tls.has("max_version") ? version(tls, "max_version") : TLS_ORDER.size() - 1;
            if (min > max) {
                throw tls.refuse("min_version", TLS_ORDER.get(min) + " is above max_version " + TLS_ORDER.get(max));
            }
            Set<String> taken = new TreeSet<>();
            for (int i = min; i <= max; i++) {
                taken.add(i == 0 ? "TLSv1" : "TLSv1." + i);
            }
            out.put(Assertions.TLS_VERSIONS.name(), String.join(",", taken));
        }
    }

    private static int version(ModuleSection tls, String key) {
        int i = TLS_ORDER.indexOf(tls.text(key));
        if (i < 0) {
            throw tls.refuse(key, "'" + tls.text(key) + "' is not one of " + String.join(", ", TLS_ORDER));
        }
        return i;
    }
}
