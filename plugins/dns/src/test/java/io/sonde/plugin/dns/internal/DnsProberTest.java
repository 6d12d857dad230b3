package io.sonde.plugin.dns.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.xbill.DNS.Rcode;

import io.sonde.api.FailureReason;
import io.sonde.api.MeasuredResult;
import io.sonde.api.Target;
import io.sonde.plugin.dns.testing.TestDnsServer;

/** The prober against a DNS server on loopback that the test starts. */
public class DnsProberTest {

    private TestDnsServer server;
    private DnsProber prober;

    @Before
    public void setUp() throws Exception {
        server = new TestDnsServer()
                .add("www.example.test.", "A", "192.0.2.10")
                .add("www.example.test.", "AAAA", "2001:db8::10")
                .add("example.test.", "MX", "10 mail.example.test.")
                .add("example.test.", "SOA", "ns.example.test. admin.example.test. 2026112201 3600 600 86400 60")
                .rcode("broken.example.test.", Rcode.SERVFAIL);
        for (int i = 0; i < 40; i++) { // about 4 KB: more than UDP carries, with or without EDNS
            server.add("big.example.test.", "TXT", "\"" + "record " + i + " " + "x".repeat(80) + "\"");
        }
        prober = new DnsProber();
    }

    @After
    public void tearDown() throws Exception {
        prober.deactivate();
        server.close();
    }

    private MeasuredResult probe(String host, int port, Map<String, String> options) throws Exception {
        Target t = new Target("dns-test", "dns", host, port, Duration.ofSeconds(5), Duration.ofMillis(1500), Set.of(),
                options, "etc/io.sonde.target-dns-test.cfg");
        return prober.probe(t).toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    private MeasuredResult probe(Map<String, String> options) throws Exception {
        return probe("127.0.0.1", server.port(), options);
    }

    @Test
    public void answersAnAQueryOverUdp() throws Exception {
        MeasuredResult r = probe(Map.of("query", "www.example.test"));
        assertNull(r.errorMessage(), r.failureReason());
        assertEquals(1, r.values().get("answer_rrs"));
        assertEquals(0, r.values().get("rcode"));
        assertEquals(1, r.values().get("query_succeeded"));
        assertEquals(0, r.values().get("tcp_fallback"));
        assertEquals(java.net.InetAddress.getByName("127.0.0.1"), r.values().get("address"));
        assertEquals(DnsResults.SCHEMA, r.schema());
        assertEquals(1, server.udpQueries());
        assertEquals(0, server.tcpQueries());
        assertTrue(r.responseTime().toNanos() > 0);
    }

    @Test
    public void queryTypeAndAnswerMatch() throws Exception {
        MeasuredResult aaaa = probe(Map.of("query", "www.example.test.", "query_type", "aaaa", "expect_answer", "2001:db8:0:0:0:0:0:10"));
        assertNull(aaaa.errorMessage(), aaaa.failureReason());
        MeasuredResult mx = probe(Map.of("query", "example.test", "query_type", "MX", "expect_answer", "mail\\.example"));
        assertNull(mx.errorMessage(), mx.failureReason());
        MeasuredResult wrong = probe(Map.of("query", "www.example.test", "expect_answer", "192\\.0\\.2\\.99"));
        assertEquals(FailureReason.BODY_MISMATCH, wrong.failureReason());
        assertTrue(wrong.errorMessage(), wrong.errorMessage().contains("192\\.0\\.2\\.99"));
        assertEquals(1, wrong.values().get("answer_rrs"));
    }

    @Test
    public void soaSerialIsReported() throws Exception {
        MeasuredResult r = probe(Map.of("query", "example.test", "query_type", "SOA"));
        assertNull(r.errorMessage(), r.failureReason());
        assertEquals(2026112201L, r.values().get("serial"));
    }

    @Test
    public void responseCodesAreCheckedAgainstExpectRcode() throws Exception {
        MeasuredResult nx = probe(Map.of("query", "nothing.example.test"));
        assertEquals(FailureReason.STATUS, nx.failureReason());
        assertEquals("rcode NXDOMAIN, expected NOERROR", nx.errorMessage());
        assertEquals(Rcode.NXDOMAIN, nx.values().get("rcode"));
        assertEquals(1, nx.values().get("query_succeeded"));

        MeasuredResult expected = probe(Map.of("query", "nothing.example.test", "expect_rcode", "nxdomain, NOERROR"));
        assertNull(expected.errorMessage(), expected.failureReason());

        MeasuredResult servfail = probe(Map.of("query", "broken.example.test"));
        assertEquals(FailureReason.STATUS, servfail.failureReason());
        assertEquals("rcode SERVFAIL, expected NOERROR", servfail.errorMessage());
    }

    @Test
    public void aTruncatedUdpAnswerIsAskedAgainOverTcp() throws Exception {
        MeasuredResult r = probe(Map.of("query", "big.example.test", "query_type", "TXT"));
        assertNull(r.errorMessage(), r.failureReason());
        assertEquals(40, r.values().get("answer_rrs"));
        assertEquals(1, r.values().get("tcp_fallback"));
        assertEquals(1, server.udpQueries());
        assertEquals(1, server.tcpQueries());
    }

    /**
     * A target with {@code dscp} goes on sockets of Sonde's own (dnsjava's set no mark): UDP, the fall back to TCP of a
     * truncated answer, TCP alone, each from the source asked for; silence and a closed port end as without a mark. The
     * mark itself is counted on the wire by MarkingIT.
     */
    @Test
    public void markedQueriesGoOnSocketsOfTheirOwn() throws Exception {
        java.net.InetAddress source = java.net.InetAddress.getByName("127.0.0.6");
        MeasuredResult r = probe(Map.of("query", "www.example.test", "dscp", "EF", "source_address", "127.0.0.6"));
        assertNull(r.errorMessage(), r.failureReason());
        assertEquals(1, r.values().get("answer_rrs"));
        MeasuredResult big = probe(Map.of("query", "big.example.test", "query_type", "TXT", "dscp", "AF41", "source_address",
                "127.0.0.6"));
        assertNull(big.errorMessage(), big.failureReason());
        assertEquals(40, big.values().get("answer_rrs"));
        assertEquals(1, big.values().get("tcp_fallback"));
        MeasuredResult tcp = probe(Map.of("query", "www.example.test", "transport", "tcp", "dscp", "46"));
        assertNull(tcp.errorMessage(), tcp.failureReason());
        assertEquals(2, server.udpQueries());
        assertEquals(2, server.tcpQueries());
        assertEquals(java.util.List.of(source, source, source, java.net.InetAddress.getByName("127.0.0.1")),
                new java.util.ArrayList<>(server.peers));
        server.silent(true);
        MeasuredResult silent = probe(Map.of("query", "www.example.test", "dscp", "EF"));
        assertEquals(silent.errorMessage(), FailureReason.TIMEOUT, silent.failureReason());
        int closed;
        try (java.net.DatagramSocket s = new java.net.DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        MeasuredResult refused = probe("127.0.0.1", closed, Map.of("query", "www.example.test", "dscp", "EF"));
        assertEquals(refused.errorMessage(), FailureReason.REFUSED, refused.failureReason());
        java.util.List<io.sonde.api.TargetProblem> https = prober.check(new Target("d", "dns", "127.0.0.1", 443, Duration.ofSeconds(5),
                Duration.ofSeconds(1), Set.of(), Map.of("query", "example.test", "transport", "https", "dscp", "EF"), "test"));
        assertEquals("[key 'dscp': not taken with transport https (the HTTP client's sockets take no mark)]", https.toString());
    }

    @Test
    public void tcpOnly() throws Exception {
        MeasuredResult r = probe(Map.of("query", "www.example.test", "transport", "tcp"));
        assertNull(r.errorMessage(), r.failureReason());
        assertEquals(0, server.udpQueries());
        assertEquals(1, server.tcpQueries());
    }

    @Test
    public void aSilentServerTimesOutWithinTheTimeout() throws Exception {
        server.silent(true);
        long start = System.nanoTime();
        MeasuredResult r = probe(Map.of("query", "www.example.test"));
        assertEquals(FailureReason.TIMEOUT, r.failureReason());
        assertTrue(r.errorMessage(), r.errorMessage().contains("no answer from udp /127.0.0.1:" + server.port() + " within 1500 ms"));
        assertEquals(0, r.values().get("query_succeeded"));
        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5));
    }

    @Test
    public void aClosedPortIsRefused() throws Exception {
        int port;
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            port = s.getLocalPort();
        }
        MeasuredResult udp = probe("127.0.0.1", port, Map.of("query", "www.example.test"));
        assertEquals(udp.errorMessage(), FailureReason.REFUSED, udp.failureReason());
        assertEquals("udp /127.0.0.1:" + port + " refused: ICMP port unreachable", udp.errorMessage());
        MeasuredResult tcp = probe("127.0.0.1", port, Map.of("query", "www.example.test", "transport", "tcp"));
        assertEquals(tcp.errorMessage(), FailureReason.REFUSED, tcp.failureReason());
    }

    @Test
    public void aServerNameIsLookedUpAndTimed() throws Exception {
        MeasuredResult r = probe("localhost", server.port(), Map.of("query", "www.example.test", "ip_version", "4"));
        assertNull(r.errorMessage(), r.failureReason());
        assertEquals(java.net.InetAddress.getByName("127.0.0.1"), r.values().get("address"));
        assertTrue((Double) r.values().get("lookup_time_seconds") > 0);
    }

    /** What the agent says of a target's keys: the schema's check, then the plugin's own. */
    private List<io.sonde.api.TargetProblem> problems(Map<String, String> options) {
        DnsProber prober = new DnsProber();
        List<io.sonde.api.TargetProblem> found = new java.util.ArrayList<>(prober.schema().problems("dns", options));
        if (found.isEmpty()) {
            found.addAll(prober.check(new Target("dns-test", "dns", "127.0.0.1", server.port(), Duration.ofSeconds(10),
                    Duration.ofSeconds(2), Set.of(), options, "etc/io.sonde.target-dns-test.cfg")));
        }
        return found;
    }

    private void assertProblem(String key, String reason, Map<String, String> options) {
        List<io.sonde.api.TargetProblem> found = problems(options);
        assertEquals(found.toString(), 1, found.size());
        assertEquals(key, found.get(0).key());
        assertTrue(found.get(0).reason(), found.get(0).reason().contains(reason));
    }

    @Test
    public void badOptionsAreNamedByKeyBeforeAnythingIsSent() throws Exception {
        assertProblem("query", "missing", Map.of());
        Map<String, String> bad = new HashMap<>(Map.of("query", "www.example.test"));
        bad.put("query_type", "AXFRR");
        assertProblem("query_type", "'AXFRR' is not a DNS record type", bad);
        bad.put("query_type", "A");
        bad.put("expect_rcode", "FINE");
        assertProblem("expect_rcode", "'FINE' is not a response code", bad);
        bad.put("expect_rcode", "NOERROR");
        bad.put("expect_answer", "(");
        assertProblem("expect_answer", "is not a regular expression", bad);
        bad.remove("expect_answer");
        bad.put("transport", "quic");
        assertProblem("transport", "'quic' is not one of udp, tcp", bad);
        bad.remove("transport");
        bad.put("query_typ", "MX");
        assertProblem(null, "key 'query_typ' is not known for kind dns; did you mean 'query_type'?", bad);
        bad.remove("query_typ");
        assertEquals(List.of(), problems(bad));
        assertEquals(0, server.udpQueries());
    }

    /** Record count, TTL bounds and a record that must not be there: each failure names its key and the record. */
    @Test
    public void answerSectionAssertions() throws Exception {
        // ttl has one A record with TTL 300 (an address of the test ranges: the data of a record, never sent to); big has many
        server.add("ttl.example.test.", "A", "198.18.0.10");
        assertTrue(probe(Map.of("query", "ttl.example.test", "min_answers", "1", "max_answers", "1", "min_ttl", "60", "max_ttl", "3600",
                "fail_if_answer", "198\\.18\\.0\\.99")).isSuccessful());
        MeasuredResult few = probe(Map.of("query", "ttl.example.test", "min_answers", "2"));
        assertEquals(FailureReason.BODY_MISMATCH, few.failureReason());
        assertEquals("min_answers: 1 answer records, fewer than 2", few.errorMessage());
        MeasuredResult many = probe(Map.of("query", "big.example.test", "query_type", "TXT", "transport", "tcp", "max_answers", "3"));
        assertEquals(FailureReason.BODY_MISMATCH, many.failureReason());
        assertTrue(many.errorMessage(), many.errorMessage().startsWith("max_answers: ") && many.errorMessage().endsWith(", more than 3"));
        MeasuredResult shortTtl = probe(Map.of("query", "ttl.example.test", "min_ttl", "600"));
        assertEquals("min_ttl: 'ttl.example.test. 300 IN A 198.18.0.10' has TTL 300, lower than 600", shortTtl.errorMessage());
        MeasuredResult longTtl = probe(Map.of("query", "ttl.example.test", "max_ttl", "60"));
        assertEquals("max_ttl: 'ttl.example.test. 300 IN A 198.18.0.10' has TTL 300, higher than 60", longTtl.errorMessage());
        MeasuredResult hijacked = probe(Map.of("query", "ttl.example.test", "fail_if_answer", "198\\.18\\.0\\.10$"));
        assertEquals(FailureReason.BODY_MISMATCH, hijacked.failureReason());
        assertEquals("fail_if_answer: 'ttl.example.test. 300 IN A 198.18.0.10' matches /198\\.18\\.0\\.10$/",
                hijacked.errorMessage());
        // the response code comes first: NXDOMAIN is a status failure, not a count
        assertEquals(FailureReason.STATUS, probe(Map.of("query", "missing.example.test", "min_answers", "1")).failureReason());
        assertEquals(java.util.List.of(new io.sonde.api.TargetProblem("min_answers", "5 is more than max_answers (2)")),
                prober.check(new Target("t", "dns", "127.0.0.1", 53, Duration.ofSeconds(10), Duration.ofSeconds(1), Set.of(),
                        Map.of("query", "a.test", "min_answers", "5", "max_answers", "2"), "test")));
    }
}
