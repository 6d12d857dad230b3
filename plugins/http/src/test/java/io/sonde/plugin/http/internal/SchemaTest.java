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
        assertEquals("[key 'method': 'POST' is not one of GET, HEAD]", SCHEMA.problems("http", Map.of("method", "POST")).toString());
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
}
