package io.sonde.api;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.Test;

/** The one rule by which a target's own keys are checked, and the declarations it reads. */
public class TargetSchemaTest {

    private static final TargetOption CLOSE = TargetOption.choice("close", "fin", "How it ends", "fin", "reset");
    private static final TargetOption COUNT = TargetOption.integer("count", 3, 1, 1000, "Requests");
    private static final TargetOption QUERY = TargetOption.text("query", null, "The name").asRequired();
    private static final TargetOption HEADER = TargetOption.text("header.*", null, "A header");
    private static final TargetSchema SCHEMA = TargetSchema.of(HostForm.NAME, true, CLOSE, COUNT, QUERY, HEADER,
            TargetOption.bool("verify", true, "Verify"), TargetOption.pattern("expect", "A pattern"));

    private static Target target(Map<String, String> options) {
        return new Target("t", "x", "h", 1, Duration.ofSeconds(1), Duration.ofSeconds(1), Set.of(), options, "f.cfg");
    }

    @Test
    public void eachKindOfMistakeIsNamed() {
        assertEquals(List.of(), SCHEMA.problems("x", Map.of("query", "q", "count", "5", "header.Accept", "*/*", "ip_version", "6")));
        assertEquals(List.of(new TargetProblem(null, "key 'intervall_ms' is not known for kind x; did you mean 'interval_ms'?")),
                SCHEMA.problems("x", Map.of("query", "q", "intervall_ms", "1000")));
        assertEquals(List.of(new TargetProblem(null, "key 'colour' is not known for kind x; its own keys are close, count, expect,"
                + " header.*, query, verify")), SCHEMA.problems("x", Map.of("query", "q", "colour", "blue")));
        assertEquals(List.of(new TargetProblem("close", "'rst' is not one of fin, reset")),
                SCHEMA.problems("x", Map.of("query", "q", "close", "rst")));
        assertEquals(List.of(new TargetProblem("count", "0 is out of range (1-1000)")),
                SCHEMA.problems("x", Map.of("query", "q", "count", "0")));
        assertEquals(List.of(new TargetProblem("verify", "'yes' is neither true nor false")),
                SCHEMA.problems("x", Map.of("query", "q", "verify", "yes")));
        assertTrue(SCHEMA.problems("x", Map.of("query", "q", "expect", "(")).get(0).reason().startsWith("is not a regular expression"));
        assertEquals(List.of(new TargetProblem("query", "missing; x targets need it: The name")),
                SCHEMA.problems("x", Map.of("query", " ")));
    }

    @Test
    public void valuesAreReadByTheirDeclaration() {
        Target t = target(Map.of("close", " RESET ", "count", "7"));
        assertEquals("reset", CLOSE.value(t));
        assertEquals(7, COUNT.intValue(t));
        assertEquals(3, COUNT.intValue(target(Map.of())));
        assertEquals(3, COUNT.intValue(target(Map.of("count", ""))));
        assertNull(QUERY.value(t));
        assertThrows(IllegalArgumentException.class, () -> COUNT.longValue(target(Map.of("count", "x"))));
    }

    @Test
    public void aDeclarationThatMakesNoSenseFailsWhenTheSchemaIsBuilt() {
        assertThrows(IllegalArgumentException.class, () -> TargetOption.integer("n", 0, 1, 10, "default out of range"));
        assertThrows(IllegalArgumentException.class, () -> TargetOption.choice("c", "x", "default not a choice", "a", "b"));
        assertThrows(IllegalArgumentException.class, () -> TargetSchema.of(HostForm.NAME, false, COUNT, COUNT));
    }

    @Test
    public void prefixesMatchOnlyWithSomethingAfterThem() {
        assertTrue(HEADER.matches("header.Accept"));
        assertTrue(!HEADER.matches("header."));
        assertTrue(!HEADER.matches("headers"));
    }

    @Test
    public void hostForms() {
        assertNull(HostForm.NAME.problem("db.example.test"));
        assertEquals("'http://x/' looks like a URL; give a host name or address", HostForm.NAME.problem("http://x/"));
        assertEquals("::1", HostForm.NAME.normalize("[::1]"));
        assertEquals("::1", HostForm.URL.lookupName("https://[::1]:8443/health"));
        assertEquals("'ftp://x/' is not an http:// or https:// URL", HostForm.URL.problem("ftp://x/"));
        assertNull(HostForm.OTHER.problem("any thing/at all"));
        assertNull(HostForm.OTHER.lookupName("any"));
    }

    @Test
    public void kindsAndIpVersions() {
        assertEquals("tcp", Target.canonicalKind(" TcpConnect "));
        assertEquals("udp", Target.canonicalKind("echo"));
        assertEquals("gopher", Target.canonicalKind("Gopher"));
        assertEquals(6, target(Map.of("ip_version", "6")).ipVersion());
        assertEquals(0, target(Map.of()).ipVersion());
    }

    @Test
    public void suggestions() {
        assertEquals("interval_ms", Suggestion.closest("intervall_ms", List.of("interval_ms", "timeout_ms")));
        assertEquals("count", Suggestion.closest("cuont", List.of("count", "close")));
        assertNull(Suggestion.closest("xyz", List.of("count", "close")));
        assertNull("a short word needs a close match", Suggestion.closest("ab", List.of("xy")));
    }

    @Test
    public void configSources() {
        assertEquals("/opt/sonde/etc/io.sonde.target-web.cfg",
                ConfigSource.of(Map.of(ConfigSource.FILE_KEY, "file:/opt/sonde/etc/io.sonde.target-web.cfg"), "x"));
        assertEquals("configuration x", ConfigSource.of(Map.of(), "configuration x"));
        assertEquals("web", ConfigSource.nameFromFile("/opt/sonde/etc/io.sonde.target-web.cfg", "io.sonde.target"));
        assertNull(ConfigSource.nameFromFile("/opt/sonde/etc/io.sonde.target-.cfg", "io.sonde.target"));
        assertTrue(ConfigSource.isFrameworkKey("service.pid") && ConfigSource.isFrameworkKey("objectClass"));
        assertTrue(!ConfigSource.isFrameworkKey("count"));
        List<String> said = new java.util.ArrayList<>();
        assertEquals(Integer.valueOf(9100), ConfigSource.typed(() -> {
            throw new IllegalArgumentException("Could not coerce value abc to type int");
        }, "port", 9100, "etc/e.cfg", said::add));
        assertEquals(List.of("etc/e.cfg: key 'port': Could not coerce value abc to type int; using 9100"), said);
    }

    @Test
    public void backoffDoublesFromTheThresholdUpToItsCeiling() {
        Target t = new Target("t", "x", "h", 1, Duration.ofSeconds(1), Duration.ofSeconds(1), Set.of(),
                Map.of("backoff_max_ms", "5000"), "f.cfg");
        assertEquals(Duration.ofSeconds(1), Backoff.interval(t, 2));
        assertEquals(Duration.ofSeconds(2), Backoff.interval(t, 3));
        assertEquals(Duration.ofSeconds(4), Backoff.interval(t, 4));
        assertEquals(Duration.ofSeconds(5), Backoff.interval(t, 5));
        assertEquals(Duration.ofSeconds(5), Backoff.interval(t, 1_000_000));
        Target off = new Target("t", "x", "h", 1, Duration.ofSeconds(1), Duration.ofSeconds(1), Set.of(),
                Map.of("backoff", "OFF"), "f.cfg");
        assertEquals(Duration.ofSeconds(1), Backoff.interval(off, 100));
        Target slow = new Target("t", "x", "h", 1, Duration.ofMinutes(10), Duration.ofSeconds(1), Set.of(), Map.of(), "f.cfg");
        assertEquals("never below its own interval", Duration.ofMinutes(10), Backoff.interval(slow, 10));
    }
}
