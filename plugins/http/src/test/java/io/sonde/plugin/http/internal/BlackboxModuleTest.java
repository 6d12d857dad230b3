package io.sonde.plugin.http.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.fail;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import org.junit.Test;
import org.yaml.snakeyaml.Yaml;

import io.sonde.api.Target;

/** A blackbox_exporter module's http section read into the kind's keys, as blackbox.yml has it; what Sonde does not do, refused by its path. */
public class BlackboxModuleTest {

    @SuppressWarnings("unchecked")
    private static Map<String, ?> yaml(String text) {
        return (Map<String, ?>) new Yaml().load(text);
    }

    private static String refused(String section) {
        try {
            BlackboxModule.keys(yaml(section));
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        fail(section + " was taken");
        return null;
    }

    @Test
    public void everyKeyTheIssueNamesCarriesOver() {
        Map<String, String> keys = BlackboxModule.keys(yaml(String.join("\n",
                "method: post",
                "headers: {Content-Type: application/json, X-Team: shop}",
                "body: '{\"q\": 1}'",
                "basic_auth: {username: probe, password_file: /etc/sonde/pw}",
                "proxy_url: http://127.0.0.1:3128",
                "no_proxy: localhost,.internal",
                "tls_config: {insecure_skip_verify: false, ca_file: /ca.pem, cert_file: /c.pem, key_file: /k.pem, server_name: web.test,"
                        + " min_version: TLS12}",
                "fail_if_body_matches_regexp: [maintenance, 'Out of order']",
                "fail_if_body_not_matches_regexp: ['\"status\": ?\"UP\"']",
                "fail_if_header_matches: [{header: Set-Cookie, regexp: '.*', allow_missing: true}, {header: X-Cache, regexp: MISS}]",
                "fail_if_header_not_matches: [{header: Content-Type, regexp: json}]",
                "valid_status_codes: [200, 204]",
                "valid_http_versions: [HTTP/1.1, HTTP/2.0]",
                "no_follow_redirects: true",
                "preferred_ip_protocol: ip4",
                "ip_protocol_fallback: false")));
        Map<String, String> expected = new TreeMap<>(Map.ofEntries(Map.entry("method", "POST"),
                Map.entry("header.Content-Type", "application/json"), Map.entry("header.X-Team", "shop"), Map.entry("body", "{\"q\": 1}"),
                Map.entry("basic_auth_user", "probe"), Map.entry("basic_auth_password_file", "/etc/sonde/pw"),
                Map.entry("proxy_url", "http://127.0.0.1:3128"), Map.entry("no_proxy", "localhost,.internal"),
                Map.entry("insecure_skip_verify", "false"), Map.entry("ca_file", "/ca.pem"), Map.entry("cert_file", "/c.pem"),
                Map.entry("key_file", "/k.pem"), Map.entry("server_name", "web.test"), Map.entry("tls_versions", "TLSv1.2,TLSv1.3"),
                Map.entry("body_not_regex", "(?:maintenance)|(?:Out of order)"), Map.entry("body_regex", "\"status\": ?\"UP\""),
                Map.entry("fail_if_header.Set-Cookie", ".*"), Map.entry("fail_if_header.X-Cache", "MISS"),
                Map.entry("expect_header.X-Cache", ".*"), Map.entry("expect_header.Content-Type", "json"),
                Map.entry("expect_status", "200,204"), Map.entry("http_versions", "HTTP/1.1,HTTP/2.0"),
                Map.entry("follow_redirects", "false"), Map.entry("ip_version", "4")));
        assertEquals(expected, new TreeMap<>(keys));
        // what it gives is a target the kind takes (files aside, which the schema checks exist)
        Target t = new Target("t", "http", "https://127.0.0.1/", 0, Duration.ofSeconds(10), Duration.ofSeconds(5), Set.of(), keys, "test");
        Assertions a = Assertions.of(t, new java.util.HashMap<>(), new java.util.HashMap<>());
        assertEquals(Set.of("TLSv1.2", "TLSv1.3"), a.tlsVersions());
        assertEquals(Set.of("HTTP/1.1", "HTTP/2.0"), a.httpVersions());
        assertEquals(List.of(), Assertions.problems(t));
    }

    @Test
    public void severalBodyPatternsThatMustAllMatch() {
        String regex = BlackboxModule.keys(yaml("fail_if_body_not_matches_regexp: [alpha, beta]")).get("body_regex");
        java.util.regex.Pattern p = java.util.regex.Pattern.compile(regex);
        assertEquals(true, p.matcher("x beta\ny alpha").find());
        assertEquals(false, p.matcher("alpha only").find());
    }

    @Test
    public void whatSondeDoesNotDoIsRefusedByItsPath() {
        assertEquals("compression: not taken: Sonde asks for the body as it is (no Accept-Encoding)", refused("compression: gzip"));
        assertEquals("bearer_token: not taken: a token is read from bearer_token_file, not written in the module",
                refused("bearer_token: abc"));
        assertEquals("basic_auth.password: not taken: a password is read from password_file, not written in the module",
                refused("basic_auth: {username: u, password: p}"));
        assertEquals("enable_http3: not taken: Sonde's http prober speaks HTTP/1.1 and HTTP/2, not HTTP/3",
                refused("enable_http3: true"));
        assertEquals("enable_http2: 'sometimes' is neither true nor false", refused("enable_http2: sometimes"));
        // HTTP/2 as blackbox_exporter takes it: negotiated over TLS unless turned off
        assertEquals(Map.of("http_version", "auto"), BlackboxModule.keys(yaml("enable_http2: true")));
        assertEquals(Map.of("http_version", "1.1"), BlackboxModule.keys(yaml("enable_http2: false")));
        assertEquals("fail_if_header_not_matches[0].allow_missing: true is not taken: expect_header fails a missing header",
                refused("fail_if_header_not_matches: [{header: A, regexp: b, allow_missing: true}]"));
        assertEquals("fail_if_header_matches[1].regexp: missing; a header rule needs header and regexp",
                refused("fail_if_header_matches: [{header: A, regexp: b}, {header: C}]"));
        assertEquals("tls_config.min_version: 'TLS14' is not one of TLS10, TLS11, TLS12, TLS13",
                refused("tls_config: {min_version: TLS14}"));
        assertEquals("tls_config.renegotiation: not a key of tls_config that Sonde takes (ca_file, cert_file, insecure_skip_verify,"
                + " key_file, max_version, min_version, server_name)", refused("tls_config: {renegotiation: never}"));
        assertEquals("valid_status_codes: 'ok' is not a status code", refused("valid_status_codes: [ok]"));
        assertEquals("headers: a map, not '[a]'", refused("headers: [a]"));
        assertEquals("no_follow_redirects: 'maybe' is neither true nor false", refused("no_follow_redirects: maybe"));
        assertEquals("preferred_ip_protocol: 'ip5' is neither ip4 nor ip6", refused("preferred_ip_protocol: ip5"));
        String unknown = refused("fail_if_bdy_matches_regexp: [x]");
        assertEquals(unknown, true, unknown.startsWith("fail_if_bdy_matches_regexp: not a key of blackbox_exporter's http prober that"
                + " Sonde takes (basic_auth, bearer_token_file, body, "));
        assertEquals("basic_auth.user: not a key of basic_auth that Sonde takes (password_file, username)",
                refused("basic_auth: {user: u}"));
        assertEquals("headers.X: a value, not '[a]'", refused("headers: {X: [a]}"));
        assertEquals(Map.of(), BlackboxModule.keys(Map.of()));
        // fallback on (blackbox_exporter's default): either address family, as Sonde's default
        assertEquals(Map.of(), BlackboxModule.keys(yaml("preferred_ip_protocol: ip6")));
    }
}
