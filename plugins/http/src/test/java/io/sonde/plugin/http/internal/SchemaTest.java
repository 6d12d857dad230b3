package io.sonde.plugin.http.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.Test;

import io.sonde.api.HostForm;
import io.sonde.api.Target;
import io.sonde.api.TargetProblem;
import io.sonde.api.TargetSchema;

/** The keys the http plugin declares, checked as the agent checks them, without probing. */
public class SchemaTest {

    private static final TargetSchema SCHEMA = Request.SCHEMA;

    private static Target target(String host, Map<String, String> options, long timeoutMs) {
        return new Target("t", "http", host, 80, Duration.ofMillis(Math.max(timeoutMs, 1000)), Duration.ofMillis(timeoutMs),
                Set.of(), options, "etc/io.sonde.target-t.cfg");
    }


    @Test
    public void keysOfARequest() {
        assertEquals(List.of(), SCHEMA.problems("http", Map.of("method", "head", "header.Accept", "text/html",
                "expect_status", "200-204, 3xx", "follow_redirects", "false")));
        assertEquals("[key 'method': 'TRACE' is not one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS]",
                SCHEMA.problems("http", Map.of("method", "TRACE")).toString());
        assertTrue(SCHEMA.problems("http", Map.of("body_regex", "ok(")).toString().startsWith("[key 'body_regex': is not a regular expression"));
        assertEquals("[key 'follow_redirects': 'yes' is neither true nor false]", SCHEMA.problems("http", Map.of("follow_redirects", "yes")).toString());
        assertEquals("[key 'ca_file': '/nonexistent/ca.pem' is not a readable file]", SCHEMA.problems("http", Map.of("ca_file", "/nonexistent/ca.pem")).toString());
        assertEquals("[key 'expect_staus' is not known for kind http; did you mean 'expect_status'?]", SCHEMA.problems("http", Map.of("expect_staus", "200")).toString());
        assertEquals(HostForm.URL, SCHEMA.host());
        HttpProber p = new HttpProber();
        try {
            assertEquals(List.of(), p.check(target("http://127.0.0.1/", Map.of("expect_status", "200-204, 3xx, 418"), 1000)));
            List<TargetProblem> bad = p.check(target("http://127.0.0.1/", Map.of("expect_status", "2xx, 20x"), 1000));
            assertEquals(List.of(new TargetProblem("expect_status", "'20x' is not a status code (200), a class (2xx) or a range (200-204)")), bad);
        } finally {
            p.deactivate();
        }
    }

    private static String checked(Map<String, String> options) {
        HttpProber p = new HttpProber();
        try {
            List<TargetProblem> problems = new java.util.ArrayList<>(SCHEMA.problems("http", options));
            if (problems.isEmpty()) {
                problems.addAll(p.check(target("https://127.0.0.1/", options, 1000)));
            }
            return problems.toString();
        } finally {
            p.deactivate();
        }
    }

    /** Each new key's bad values, named by key, as the agent and the server refuse them before any probe. */
    @Test
    public void badValuesOfTheRequestAndAssertionKeys() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("sonde-http-schema-");
        java.nio.file.Path file = java.nio.file.Files.writeString(dir.resolve("secret"), "x");
        try {
            String f = file.toString();
            assertEquals("[key 'body_file': set body or body_file, not both]",
                    checked(Map.of("body", "x", "body_file", f)));
            assertEquals("[key 'basic_auth_password_file': basic_auth_user needs basic_auth_password_file]",
                    checked(Map.of("basic_auth_user", "u")));
            assertEquals("[key 'basic_auth_user': basic_auth_password_file needs basic_auth_user]",
                    checked(Map.of("basic_auth_password_file", f)));
            assertEquals("[key 'basic_auth_user': a basic authentication user name has no ':']",
                    checked(Map.of("basic_auth_user", "a:b", "basic_auth_password_file", f)));
            assertEquals("[key 'bearer_token_file': set basic authentication or a bearer token, not both]",
                    checked(Map.of("basic_auth_user", "u", "basic_auth_password_file", f, "bearer_token_file", f)));
            assertEquals("[key 'header.authorization': an Authorization header beside basic_auth_user or"
                    + " bearer_token_file]", checked(Map.of("bearer_token_file", f, "header.authorization", "x")));
            assertEquals("[key 'bearer_token_file': '/nonexistent/t' is not a readable file]",
                    checked(Map.of("bearer_token_file", "/nonexistent/t")));
            assertEquals("[key 'key_file': a client certificate needs both cert_file and key_file]",
                    checked(Map.of("cert_file", f)));
            assertEquals("[key 'cert_file': cert_file " + f + " holds no PEM certificate (No certificate data found)]",
                    checked(Map.of("cert_file", f, "key_file", f)));
            assertEquals("[key 'server_name': 'a b' is not a host name]", checked(Map.of("server_name", "a b")));
            assertEquals("[key 'proxy_url': 'socks5://127.0.0.1:1080' is not http://HOST:PORT (an HTTP proxy;"
                    + " HTTPS goes through it by CONNECT)]", checked(Map.of("proxy_url", "socks5://127.0.0.1:1080")));
            assertEquals("[key 'proxy_url': credentials in proxy_url are not taken: they would be kept in the"
                    + " configuration in clear]", checked(Map.of("proxy_url", "http://u:p@127.0.0.1:3128")));
            assertEquals("[key 'proxy_url': 'http://127.0.0.1:3128/x' has a path or a query; a proxy is"
                    + " http://HOST:PORT]", checked(Map.of("proxy_url", "http://127.0.0.1:3128/x")));
            assertEquals("[key 'no_proxy': no_proxy without proxy_url]", checked(Map.of("no_proxy", "localhost")));
            assertEquals("[key 'max_redirects': 51 is out of range (0-50)]",
                    checked(Map.of("max_redirects", "51")));
            assertEquals("[key 'expect_json': '$.a = 1': 'a = 1' in '$.a = 1' is not a name: one with other characters is"
                    + " written ['a = 1']; the operators are == != < <= > >= =~]", checked(Map.of("expect_json", "$.a = 1")));
            assertEquals("[key 'tls_versions': 'SSLv3' is not one of [TLSv1, TLSv1.1, TLSv1.2, TLSv1.3]]",
                    checked(Map.of("tls_versions", "TLSv1.3,SSLv3")));
            assertEquals("[key 'min_body_bytes': 10 is more than max_body_bytes (5)]",
                    checked(Map.of("min_body_bytes", "10", "max_body_bytes", "5")));
            assertEquals("[key 'expect_header.X': is not a regular expression: Unclosed group near"
                    + " index 1]", checked(Map.of("expect_header.X", "(")));
            assertEquals("[key 'min_cert_days': 'soon' is not a whole number]",
                    checked(Map.of("min_cert_days", "soon")));
        } finally {
            java.nio.file.Files.deleteIfExists(file);
            java.nio.file.Files.delete(dir);
        }
    }
}
