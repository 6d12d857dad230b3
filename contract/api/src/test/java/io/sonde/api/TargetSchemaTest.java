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
        assertEquals("interval_ms", TargetSchema.closest("intervall_ms", List.of("interval_ms", "timeout_ms")));
        assertEquals("count", TargetSchema.closest("cuont", List.of("count", "close")));
        assertNull(TargetSchema.closest("xyz", List.of("count", "close")));
        assertNull("a short word needs a close match", TargetSchema.closest("ab", List.of("xy")));
    }
}
