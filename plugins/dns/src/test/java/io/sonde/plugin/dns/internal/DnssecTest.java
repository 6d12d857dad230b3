package io.sonde.plugin.dns.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.AfterClass;
import org.junit.Assume;
import org.junit.BeforeClass;
import org.junit.Test;

import io.sonde.api.FailureReason;
import io.sonde.api.MeasuredResult;
import io.sonde.api.Target;
import io.sonde.api.TargetProblem;
import io.sonde.plugin.dns.testing.KnotServer;

/**
 * DNSSEC against a real Knot DNS signing its zones as it loads them: secure with the zone's own DS
 * as the anchor, bogus when the anchor names another key, insecure where no anchor reaches, and
 * what an authoritative server's missing AD flag means for dnssec = ad.
 */
public class DnssecTest {

    private static Path dir;
    private static KnotServer knot;
    private static DnsProber prober;
    private static Path anchors;

    @BeforeClass
    public static void start() throws Exception {
        Assume.assumeTrue("knot is not installed; CI installs it", Files.isExecutable(Path.of(KnotServer.KNOTD))
                || System.getenv("CI") != null);
        dir = Files.createTempDirectory("sonde-dnssec-");
        knot = KnotServer.start(dir, List.of("signed.test", "broken.test"), List.of("plain.test"));
        String ds = knot.ds("signed.test");
        // broken.test's anchor: signed.test's DS under broken.test's name, a key broken.test does not have
        String wrong = ds.lines().filter(l -> l.contains(" DS ")).findFirst().orElseThrow().replace("signed.test.", "broken.test.");
        anchors = Files.writeString(dir.resolve("anchors.txt"), ds + wrong + "\n");
        prober = new DnsProber();
    }

    @AfterClass
    public static void stop() throws Exception {
        if (prober != null) {
            prober.deactivate();
        }
        if (knot != null) {
            knot.close();
        }
        if (dir != null) {
            new ProcessBuilder("rm", "-rf", dir.toString()).start().waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static Target target(String name, String... options) {
        Map<String, String> o = new HashMap<>(Map.of("query", name));
        for (int i = 0; i < options.length; i += 2) {
            o.put(options[i], options[i + 1]);
        }
        return new Target("t", "dns", "127.0.0.1", knot.port(), Duration.ofSeconds(10), Duration.ofSeconds(5), Set.of(), o, "test");
    }

    private static MeasuredResult probe(String name, String... options) throws Exception {
        Target t = target(name, options);
        assertEquals(List.of(), prober.check(t));
        return prober.probe(t).toCompletableFuture().get(20, TimeUnit.SECONDS);
    }

    @Test
    public void aChainFromTheAnchorIsSecure() throws Exception {
        MeasuredResult r = probe("www.signed.test", "dnssec", "validate", "trust_anchor_file", anchors.toString(), "expect_answer",
                "198\\.18\\.0\\.10");
        assertNull(r.errorMessage(), r.failureReason());
        assertEquals("secure", r.values().get("dnssec"));
        assertEquals(1, r.values().get("dnssec_status"));
    }

    @Test
    public void anAnchorForAnotherKeyIsBogusWithTheValidatorsReason() throws Exception {
        MeasuredResult r = probe("www.broken.test", "dnssec", "validate", "trust_anchor_file", anchors.toString());
        assertEquals(FailureReason.STATUS, r.failureReason());
        assertEquals("dnssec: bogus (Could not establish a chain of trust to keys for [broken.test.]. Reason: No keys for broken.test."
                + " have a DS for alg ECDSAP256SHA256)", r.errorMessage());
        assertEquals("bogus", r.values().get("dnssec"));
        assertEquals(-1, r.values().get("dnssec_status"));
    }

    @Test
    public void whereNoAnchorReachesItIsInsecureAndFailsUnlessAllowed() throws Exception {
        MeasuredResult r = probe("www.plain.test", "dnssec", "validate", "trust_anchor_file", anchors.toString());
        assertEquals(r.errorMessage(), FailureReason.STATUS, r.failureReason());
        assertEquals("dnssec: insecure (Unsigned response was proved to be validly INSECURE); allow_insecure = true takes it",
                r.errorMessage());
        assertEquals("insecure", r.values().get("dnssec"));
        MeasuredResult allowed = probe("www.plain.test", "dnssec", "validate", "trust_anchor_file", anchors.toString(),
                "allow_insecure", "true");
        assertNull(allowed.errorMessage(), allowed.failureReason());
        assertEquals(0, allowed.values().get("dnssec_status"));
    }

    @Test
    public void anAuthoritativeServerSetsNoAdFlag() throws Exception {
        MeasuredResult r = probe("www.signed.test", "dnssec", "ad");
        assertEquals(FailureReason.STATUS, r.failureReason());
        assertEquals("dnssec: insecure (the server did not set AD); allow_insecure = true takes it", r.errorMessage());
        assertNull(probe("www.signed.test").values().get("dnssec"));
    }

    @Test
    public void badKeysAreNamed() throws Exception {
        Path notAnchors = Files.writeString(dir.resolve("a-records.txt"), "www.signed.test. 300 IN A 198.18.0.10\n");
        assertEquals(List.of(new TargetProblem("trust_anchor_file", notAnchors + ": 'www.signed.test. 300 IN A 198.18.0.10' is neither DS"
                + " nor DNSKEY")), prober.check(target("a.test", "dnssec", "validate", "trust_anchor_file", notAnchors.toString())));
        assertEquals(List.of(new TargetProblem("trust_anchor_file", "missing; dnssec = validate needs the trust anchors")),
                prober.check(target("a.test", "dnssec", "validate")));
        assertEquals(List.of(new TargetProblem("trust_anchor_file", "taken with dnssec = validate only")),
                prober.check(target("a.test", "trust_anchor_file", anchors.toString())));
        Path garbage = Files.writeString(dir.resolve("garbage.txt"), "this is not a zone file\n");
        String p = prober.check(target("a.test", "dnssec", "validate", "trust_anchor_file", garbage.toString())).toString();
        assertTrue(p, p.startsWith("[key 'trust_anchor_file': " + garbage + ": not zone-file records: "));
    }
}
