package io.sonde.plugin.http.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.Test;

import io.sonde.api.FailureReason;
import io.sonde.api.Target;

/** Each assertion on a response fails with its reason and a message naming its key; a response that meets them all passes. */
public class AssertionsTest {

    static final Instant NOW = Instant.parse("2026-12-07T00:00:00Z");

    private static Assertions of(Map<String, String> options) {
        return Assertions.of(new Target("t", "http", "http://127.0.0.1/", 0, Duration.ofSeconds(5), Duration.ofSeconds(1), Set.of(), options,
                "test"), new HashMap<>(), new HashMap<>());
    }

    private static Assertions.Response response(String body, String tls, Instant expiry, Map<String, List<String>> headers) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        return new Assertions.Response(headers, b, b.length, tls, expiry, "HTTP/1.1");
    }

    private static String says(Assertions a, Assertions.Response r, FailureReason reason) {
        Assertions.Verdict v = a.check(r, NOW);
        assertEquals(v == null ? "passed" : v.message(), reason, v == null ? null : v.reason());
        return v.message();
    }

    @Test
    public void aResponseThatMeetsEveryAssertionPasses() {
        Assertions a = of(Map.of("body_not_regex", "error", "expect_header.Content-Type", "^application/json", "fail_if_header.Server",
                "(?i)apache", "min_body_bytes", "2", "max_body_bytes", "100", "tls_versions", "TLSv1.3", "min_cert_days", "14"));
        assertNull(a.check(response("{\"status\":\"UP\"}", "TLSv1.3", NOW.plus(Duration.ofDays(30)),
                Map.of("content-type", List.of("application/json; charset=utf-8"), "server", List.of("Jetty"))), NOW));
    }

    @Test
    public void eachFailedAssertionIsNamedWithItsReason() {
        Map<String, List<String>> json = Map.of("content-type", List.of("application/json"));
        assertEquals("body_not_regex: the body matches /error/", says(of(Map.of("body_not_regex", "error")),
                response("an error", null, null, json), FailureReason.BODY_MISMATCH));
        assertEquals("expect_header.x-ok: the response has no such header", says(of(Map.of("expect_header.X-Ok", ".*")),
                response("", null, null, json), FailureReason.BODY_MISMATCH));
        assertEquals("expect_header.content-type: no value matches /^text/ (application/json)", says(of(Map.of("expect_header.Content-Type", "^text")),
                response("", null, null, json), FailureReason.BODY_MISMATCH));
        assertEquals("fail_if_header.content-type: 'application/json' matches /json/", says(of(Map.of("fail_if_header.Content-Type", "json")),
                response("", null, null, json), FailureReason.BODY_MISMATCH));
        assertEquals("min_body_bytes: the body has 2 bytes, fewer than 3", says(of(Map.of("min_body_bytes", "3")),
                response("ab", null, null, json), FailureReason.BODY_MISMATCH));
        assertEquals("max_body_bytes: the body has 2 bytes, more than 1", says(of(Map.of("max_body_bytes", "1")),
                response("ab", null, null, json), FailureReason.BODY_MISMATCH));
        assertEquals("tls_versions: TLSv1.2 was negotiated, not one of [TLSv1.3]", says(of(Map.of("tls_versions", "TLSv1.3")),
                response("", "TLSv1.2", null, json), FailureReason.TLS));
        assertEquals("min_cert_days: the chain's earliest certificate expires 2026-12-10T00:00:00Z (3 days left), fewer than 14",
                says(of(Map.of("min_cert_days", "14")), response("", "TLSv1.3", NOW.plus(Duration.ofDays(3)), json), FailureReason.TLS));
        assertNull("plain HTTP has no TLS to hold against the TLS assertions",
                of(Map.of("tls_versions", "TLSv1.3", "min_cert_days", "14")).check(response("", null, null, json), NOW));
    }

    @Test
    public void badValuesAreNamed() {
        Target t = new Target("t", "http", "http://127.0.0.1/", 0, Duration.ofSeconds(5), Duration.ofSeconds(1), Set.of(),
                Map.of("tls_versions", "TLSv1.3, SSLv3", "min_body_bytes", "10", "max_body_bytes", "5"), "test");
        assertEquals("[key 'tls_versions': 'SSLv3' is not one of [TLSv1, TLSv1.1, TLSv1.2, TLSv1.3], key 'min_body_bytes': 10 is more than"
                + " max_body_bytes (5)]", Assertions.problems(t).toString());
    }
}
