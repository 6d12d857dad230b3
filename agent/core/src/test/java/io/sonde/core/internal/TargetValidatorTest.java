package io.sonde.core.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.Test;

import io.sonde.api.Target;

public class TargetValidatorTest {

    private static final TargetValidator.Defaults DEFAULTS =
            new TargetValidator.Defaults(Duration.ofMillis(5000), Duration.ofMillis(3000));

    private static Map<String, Object> tcp() {
        Map<String, Object> raw = new HashMap<>();
        raw.put("name", "web");
        raw.put("kind", "tcp");
        raw.put("host", "127.0.0.1");
        raw.put("port", "8080");
        return raw;
    }

    private final TestKinds kinds = TestKinds.standard();

    private TargetValidator.Outcome validate(Map<String, Object> raw) {
        return TargetValidator.validate(raw, null, DEFAULTS, "etc/io.sonde.target-web.cfg", "etc/io.sonde.target-web.cfg",
                kinds, HostNames.Check.NONE);
    }

    private TargetValidator.Outcome validate(Map<String, Object> raw, HostNames.Check check) {
        return TargetValidator.validate(raw, null, DEFAULTS, "f.cfg", "f.cfg", kinds, check);
    }

    private ConfigProblem onlyProblem(Map<String, Object> raw) {
        TargetValidator.Outcome o = validate(raw);
        assertFalse("expected a problem", o.ok());
        assertEquals(o.problems().toString(), 1, o.problems().size());
        return o.problems().get(0);
    }

    @Test
    public void labelsAreTagsAndOneTheKindsMetricsUseIsRefusedNamingIt() {
        Map<String, Object> raw = tcp();
        raw.put("labels", "site=fra, team=db");
        assertEquals(Map.of("site", "fra", "team", "db"), io.sonde.agent.spi.TargetKeys.labels(validate(raw).target().tags()));
        kinds.put("certs", io.sonde.api.TargetSchema.of(io.sonde.api.HostForm.NAME, true), null, new io.sonde.api.ResultSchema("1",
                List.of(io.sonde.api.ResultSchema.Value.of("expiry", io.sonde.api.ResultSchema.Type.TIMESTAMP, "", io.sonde.api.ResultSchema.Role.NONE, "e")),
                List.of(io.sonde.api.ResultSchema.Family.labelled("probe_cert_expiry_seconds", io.sonde.api.ResultSchema.Sample.GAUGE, "h", "cert",
                        "leaf", "expiry")), List.of()));
        raw.put("kind", "certs");
        raw.put("labels", "cert=mine");
        ConfigProblem p = onlyProblem(raw);
        assertEquals("labels.cert", p.key());
        assertEquals("the certs kind's metric probe_cert_expiry_seconds has a label 'cert' of its own; name yours otherwise", p.reason());
    }

    @Test
    public void validTcpTargetTakesDefaults() {
        Target t = validate(tcp()).target();
        assertEquals("web", t.name());
        assertEquals("tcp", t.kind());
        assertEquals(8080, t.port());
        assertEquals(Duration.ofMillis(5000), t.interval());
        assertEquals(Duration.ofMillis(3000), t.timeout());
        assertEquals("etc/io.sonde.target-web.cfg", t.source());
    }

    @Test
    public void stringsAndNumbersAreBothAccepted() {
        Map<String, Object> raw = tcp();
        raw.put("port", 8080L);
        raw.put("interval_ms", 1000);
        raw.put("timeout_ms", " 500 ");
        raw.put("tags", List.of("a", " b "));
        Target t = validate(raw).target();
        assertEquals(Duration.ofMillis(1000), t.interval());
        assertEquals(Duration.ofMillis(500), t.timeout());
        assertEquals(Set.of("a", "b"), t.tags());
    }

    @Test
    public void commaSeparatedTags() {
        Map<String, Object> raw = tcp();
        raw.put("tags", "prod, eu-west,,db ");
        assertEquals(Set.of("prod", "eu-west", "db"), validate(raw).target().tags());
    }

    @Test
    public void latencyProbeAliases() {
        Map<String, Object> raw = tcp();
        raw.put("kind", "tcpconnect");
        assertEquals("tcp", validate(raw).target().kind());
        kinds.put("udp", io.sonde.api.TargetSchema.of(io.sonde.api.HostForm.NAME, true), null);
        raw.put("kind", "ECHO");
        assertEquals("udp", validate(raw).target().kind());
    }

    @Test
    public void aKindWithoutAProberIsHeldNotRejected() {
        Map<String, Object> raw = tcp();
        raw.put("kind", "gopher");
        TargetValidator.Outcome o = validate(raw);
        assertEquals(TargetValidator.State.NO_PROBER, o.state());
        assertEquals(List.of(), o.problems());
        // a generic key that is wrong is an error at once, prober or not
        raw.put("interval_ms", "soon");
        assertEquals("interval_ms", onlyProblem(raw).key());
    }

    @Test
    public void aRequiredKeyOfTheKind() {
        kinds.put("dns", io.sonde.api.TargetSchema.of(io.sonde.api.HostForm.NAME, false,
                io.sonde.api.TargetOption.text("query", null, "the name to look up").asRequired()), null);
        Map<String, Object> raw = tcp();
        raw.put("kind", "dns");
        raw.remove("port");
        ConfigProblem p = onlyProblem(raw);
        assertEquals("query", p.key());
        assertEquals("missing; dns targets need it: the name to look up", p.reason());
        raw.put("query", "localhost");
        Target t = validate(raw).target();
        assertEquals(0, t.port());
        assertEquals("localhost", t.option("query", null));
    }

    @Test
    public void aMisspeltKeyIsAnErrorWithASuggestion() {
        Map<String, Object> raw = tcp();
        raw.put("intervall_ms", "1000");
        ConfigProblem p = onlyProblem(raw);
        assertEquals("etc/io.sonde.target-web.cfg: key 'intervall_ms' is not known for kind tcp; did you mean 'interval_ms'?",
                p.message());
        raw.remove("intervall_ms");
        raw.put("clsoe", "reset");
        assertTrue(onlyProblem(raw).message().endsWith("did you mean 'close'?"));
    }

    @Test
    public void aKeyOfAnotherKindIsAnErrorThatNamesTheKindsOwnKeys() {
        Map<String, Object> raw = tcp();
        raw.put("count", "5");
        assertEquals("etc/io.sonde.target-web.cfg: key 'count' is not known for kind tcp; its own keys are close",
                onlyProblem(raw).message());
    }

    @Test
    public void aValueTheKindDoesNotKnowIsAnError() {
        Map<String, Object> raw = tcp();
        raw.put("close", "rst");
        ConfigProblem p = onlyProblem(raw);
        assertEquals("close", p.key());
        assertEquals("'rst' is not one of fin, reset", p.reason());
        raw.put("close", " RESET ");
        assertEquals("RESET", validate(raw).target().option("close", null));
        assertEquals("reset", TestKinds.CLOSE.value(validate(raw).target()));
    }

    @Test
    public void aPluginBuiltBeforeSchemasGetsItsKeysUnchecked() {
        Map<String, Object> raw = tcp();
        raw.put("kind", "legacy");
        raw.put("anything", "goes");
        TargetValidator.Outcome o = validate(raw, (host, v) -> {
            throw new AssertionError("a legacy kind's host is not looked up: " + host);
        });
        assertTrue(o.problems().toString(), o.ok());
        assertEquals("goes", o.target().option("anything", null));
    }

    @Test
    public void thePluginsCheckOfItsKeysTogether() {
        Map<String, Object> raw = icmp("100", "100");
        ConfigProblem p = onlyProblem(raw);
        assertEquals("count", p.key());
        assertTrue(p.reason(), p.reason().contains("do not fit in the timeout"));
    }

    @Test
    public void aPluginWhoseCheckThrowsIsAProblemNotACrash() {
        kinds.put("broken", io.sonde.api.TargetSchema.of(io.sonde.api.HostForm.NAME, false), t -> {
            throw new IllegalStateException("boom");
        });
        Map<String, Object> raw = tcp();
        raw.put("kind", "broken");
        raw.remove("port");
        ConfigProblem p = onlyProblem(raw);
        assertTrue(p.reason(), p.reason().contains("failed to check it") && p.reason().contains("boom"));
    }

    @Test
    public void portOutOfRange() {
        Map<String, Object> raw = tcp();
        raw.put("port", "70000");
        ConfigProblem p = onlyProblem(raw);
        assertEquals("port", p.key());
        assertTrue(p.reason(), p.reason().contains("70000 is not a port number"));
    }

    @Test
    public void tcpNeedsAPort() {
        Map<String, Object> raw = tcp();
        raw.remove("port");
        assertEquals("port", onlyProblem(raw).key());
    }

    @Test
    public void missingHost() {
        Map<String, Object> raw = tcp();
        raw.remove("host");
        assertEquals("host", onlyProblem(raw).key());
        raw.put("host", "   ");
        assertEquals("host", onlyProblem(raw).key());
    }

    @Test
    public void hostThatIsAUrlIsRejectedExceptForHttp() {
        Map<String, Object> raw = tcp();
        raw.put("host", "http://example.test/");
        assertEquals("host", onlyProblem(raw).key());
        raw.put("kind", "http");
        raw.remove("port");
        assertTrue(validate(raw).ok());
        raw.put("host", "ftp://example.test/");
        assertEquals("host", onlyProblem(raw).key());
    }

    @Test
    public void bracketedIpv6IsUnwrapped() {
        Map<String, Object> raw = tcp();
        raw.put("host", "[::1]");
        assertEquals("::1", validate(raw).target().host());
    }

    @Test
    public void intervalZeroIsRejected() {
        Map<String, Object> raw = tcp();
        raw.put("interval_ms", "0");
        ConfigProblem p = onlyProblem(raw);
        assertEquals("interval_ms", p.key());
        assertTrue(p.reason(), p.reason().contains("out of range"));
    }

    @Test
    public void nonNumericTimeout() {
        Map<String, Object> raw = tcp();
        raw.put("timeout_ms", "3s");
        ConfigProblem p = onlyProblem(raw);
        assertEquals("timeout_ms", p.key());
        assertEquals("'3s' is not a whole number", p.reason());
    }

    @Test
    public void fractionalNumberIsRejected() {
        Map<String, Object> raw = tcp();
        raw.put("port", 80.5);
        assertEquals("port", onlyProblem(raw).key());
    }

    @Test
    public void timeoutLongerThanIntervalIsRejected() {
        Map<String, Object> raw = tcp();
        raw.put("interval_ms", "1000");
        raw.put("timeout_ms", "2000");
        assertEquals("timeout_ms", onlyProblem(raw).key());
    }

    @Test
    public void defaultTimeoutIsCappedByAShortInterval() {
        Map<String, Object> raw = tcp();
        raw.put("interval_ms", "1000");
        assertEquals(Duration.ofMillis(1000), validate(raw).target().timeout());
    }

    @Test
    public void nameFallsBackToTheFileName() {
        Map<String, Object> raw = tcp();
        raw.remove("name");
        Target t = TargetValidator.validate(raw, "fromfile", DEFAULTS, "x", "x", kinds, HostNames.Check.NONE).target();
        assertEquals("fromfile", t.name());
        assertEquals("name", onlyProblem(raw).key());
    }

    @Test
    public void everyProblemIsReported() {
        Map<String, Object> raw = new HashMap<>();
        raw.put("kind", "tcp");
        raw.put("port", "x");
        TargetValidator.Outcome o = validate(raw);
        assertNull(o.target());
        assertEquals(List.of("name", "host", "port"), o.problems().stream().map(ConfigProblem::key).toList());
    }

    private static Map<String, Object> icmp(String count, String spacing) {
        Map<String, Object> raw = new HashMap<>();
        raw.put("name", "ping");
        raw.put("kind", "icmp");
        raw.put("host", "127.0.0.1");
        if (count != null) {
            raw.put("count", count);
        }
        if (spacing != null) {
            raw.put("packet_interval_ms", spacing);
        }
        return raw;
    }

    @Test
    public void numbersOfTheKindAreChecked() {
        assertTrue(validate(icmp(null, null)).ok());
        assertTrue(validate(icmp("5", "10")).ok());
        assertEquals("count", onlyProblem(icmp("0", null)).key());
        assertEquals("1000000 is out of range (1-1000)", onlyProblem(icmp("1000000", null)).reason());
        assertEquals("packet_interval_ms", onlyProblem(icmp(null, "0")).key());
        assertEquals("'fast' is not a whole number", onlyProblem(icmp(null, "fast")).reason());
    }

    @Test
    public void kindSpecificKeysBecomeOptionsAndFrameworkKeysAreDropped() {
        Map<String, Object> raw = tcp();
        raw.put("close", "reset");
        raw.put("service.pid", "io.sonde.target~web");
        raw.put("felix.fileinstall.filename", "file:/x");
        raw.put("component.name", "x");
        Target t = validate(raw).target();
        assertEquals(Map.of("close", "reset"), t.options());
    }

    @Test
    public void ipVersionIsFourOrSix() {
        Map<String, Object> raw = tcp();
        raw.put("ip_version", "5");
        ConfigProblem p = onlyProblem(raw);
        assertEquals("ip_version", p.key());
        assertTrue(p.reason(), p.reason().contains("is not 4, 6 or both"));
        raw.put("ip_version", 6);
        raw.put("host", "::1");
        assertEquals("6", validate(raw).target().option("ip_version", null));
    }

    @Test
    public void theHostCheckSpeaksForTheHostAndSeesTheIpVersion() {
        Map<String, Object> raw = tcp();
        raw.put("host", "v4only.sonde.test");
        raw.put("ip_version", "6");
        int[] asked = new int[1];
        TargetValidator.Outcome o = validate(raw, (host, v) -> {
            asked[0] = v;
            return new HostNames.Answer(false, "'" + host + "' has no IPv6 address");
        });
        assertEquals(6, asked[0]);
        assertEquals("host", o.problems().get(0).key());
        assertTrue(o.problems().get(0).message().contains("f.cfg"));
    }

    @Test
    public void theHostOfAnUrlIsChecked() {
        Map<String, Object> raw = tcp();
        raw.put("kind", "http");
        raw.put("host", "https://health.sonde.test:8443/health");
        String[] asked = new String[1];
        assertTrue(validate(raw, (host, v) -> {
            asked[0] = host;
            return HostNames.Answer.OK;
        }).ok());
        assertEquals("health.sonde.test", asked[0]);
    }

    @Test
    public void aHostBeingLookedUpWaits() {
        Map<String, Object> raw = tcp();
        raw.put("host", "slow.sonde.test");
        TargetValidator.Outcome o = validate(raw, (host, v) -> HostNames.Answer.PENDING);
        assertEquals(TargetValidator.State.RESOLVING, o.state());
        assertEquals(List.of(), o.problems());
    }

    @Test
    public void noNameServiceIsAskedForABadEntryOrAPluginKind() {
        Map<String, Object> raw = tcp();
        raw.put("port", "0");
        HostNames.Check never = (host, v) -> {
            throw new AssertionError("asked about " + host);
        };
        assertFalse(validate(raw, never).ok());
        raw.put("kind", "gopher");
        raw.put("port", "70");
        assertEquals(TargetValidator.State.NO_PROBER, validate(raw, never).state());
    }

    @Test
    public void prefixedKeysOfTheKind() {
        Map<String, Object> raw = tcp();
        raw.put("kind", "http");
        raw.put("host", "http://127.0.0.1:8080/health");
        raw.put("header.Accept", "text/plain");
        assertTrue(validate(raw).ok());
        raw.put("header.", "x");
        assertTrue(onlyProblem(raw).message(), onlyProblem(raw).message().contains("key 'header.' is not known for kind http"));
    }

    @Test
    public void anAddressIsJudgedOnceWithoutTheNameService() {
        Map<String, Object> raw = tcp();
        raw.put("ip_version", "6");
        HostNames.Check never = (host, v) -> {
            throw new AssertionError("asked about " + host);
        };
        TargetValidator.Outcome o = validate(raw, never);
        assertEquals("'127.0.0.1' is an IPv4 address but ip_version is 6", o.problems().get(0).reason());
        raw.put("ip_version", "4");
        assertTrue(validate(raw, never).ok());
    }
}
