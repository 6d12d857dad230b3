package io.sonde.cli;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.Test;

import io.sonde.api.FailureReason;
import io.sonde.api.MeasuredResult;
import io.sonde.api.ResultSchema;
import io.sonde.plugin.icmp.internal.PingResult;
import io.sonde.api.Target;
import io.sonde.plugin.traceroute.internal.TracerouteResult;

public class StatsTest {

    private static final Target TARGET = new Target("t", "icmp", "198.18.0.1", 0, Duration.ofSeconds(1), Duration.ofSeconds(1),
            java.util.Set.of(), Map.of(), "test");

    private static Duration ms(double v) {
        return Duration.ofNanos((long) (v * 1e6));
    }

    @Test
    public void pingRowsCountEveryPacketAndKeepRunningStatistics() throws Exception {
        Stats s = new Stats();
        InetAddress a = InetAddress.getByName("198.18.0.1");
        s.add(new PingResult(TARGET, Instant.now(), ms(2), null, null, a, 3, List.of(ms(1), ms(2), ms(3)), 0, 64));
        s.add(new PingResult(TARGET, Instant.now(), ms(5), FailureReason.TIMEOUT, "1 of 3 lost", a, 3, List.of(ms(4), ms(5)), 0, 64));
        String table = s.table();
        // 6 sent, 5 received: 16.7 % loss; last 5, avg 3, best 1, worst 5, sample stddev of 1..5 = 1.58
        assertTrue(table, table.matches("(?s)Host +Loss% +Sent +Last +Avg +Best +Worst +StDev\n198\\.18\\.0\\.1 +16\\.7% +6 +5\\.00 +3\\.00 +1\\.00 +5\\.00 +1\\.58\n"));
        assertEquals(2, s.results());
        assertEquals("timeout: 1 of 3 lost", s.lastError());
    }

    @Test
    public void tracerouteRowsAreHopsWithUnansweredOnesAsQuestionMarks() throws Exception {
        Stats s = new Stats();
        InetAddress hop1 = InetAddress.getByName("198.18.0.2");
        InetAddress dst = InetAddress.getByName("198.18.3.2");
        for (int round = 0; round < 2; round++) {
            s.add(new TracerouteResult(TARGET, Instant.now(), ms(3), null, null, dst, List.of(
                    new TracerouteResult.Hop(1, hop1, List.of(ms(1), ms(1)), 2),
                    new TracerouteResult.Hop(2, null, List.of(), 2),
                    new TracerouteResult.Hop(3, dst, List.of(ms(3)), 2)), true));
        }
        String[] lines = s.table().split("\n");
        assertEquals(4, lines.length);
        assertTrue(lines[1], lines[1].matches(" 1\\. 198\\.18\\.0\\.2 +0\\.0% +4 +1\\.00 .*"));
        assertTrue(lines[2], lines[2].matches(" 2\\. \\?\\?\\? +100\\.0% +4 +- +- +- +- +-"));
        assertTrue(lines[3], lines[3].matches(" 3\\. 198\\.18\\.3\\.2 +50\\.0% +4 +3\\.00 .*"));
    }

    @Test
    public void numbersAlignRightAndTextLeft() {
        String t = Stats.render(List.of(new String[] {"name", "ms", "state"}, new String[] {"a", "1.5", "ok"},
                new String[] {"longer", "10.25", "backoff"}));
        assertEquals("name       ms  state\na         1.5  ok\nlonger  10.25  backoff\n", t);
    }

    @Test
    public void aKindNoModuleKnowsIsCountedByTheRolesOfItsValues() {
        ResultSchema schema = new ResultSchema("1", List.of(
                ResultSchema.Value.of("route", ResultSchema.Type.HOPS, "", ResultSchema.Role.PATH, "the path"),
                ResultSchema.Value.of("code", ResultSchema.Type.NUMBER, "", ResultSchema.Role.STATUS_CODE, "the code"),
                ResultSchema.Value.of("secure", ResultSchema.Type.BOOLEAN, "", null, "whether")), List.of(), List.of());
        Map<String, Object> hop1 = new java.util.LinkedHashMap<>();
        hop1.put("ttl", 1);
        hop1.put("address", "198.18.0.9");
        hop1.put("sent", 3);
        hop1.put("rtts", List.of(ms(2), ms(4)));
        Map<String, Object> hop2 = new java.util.LinkedHashMap<>();
        hop2.put("ttl", 2);
        hop2.put("address", null);
        hop2.put("sent", 3);
        hop2.put("rtts", List.of());
        MeasuredResult r = MeasuredResult.success(TARGET, Instant.now(), ms(5), schema,
                Map.of("route", List.of(hop1, hop2), "code", 250, "secure", true));
        Stats s = new Stats();
        s.add(r);
        String[] lines = s.table().split("\n");
        assertEquals(3, lines.length);
        assertTrue(lines[1], lines[1].matches(" 1\\. 198\\.18\\.0\\.9 +33\\.3% +3 +4\\.00 +3\\.00 .*"));
        assertTrue(lines[2], lines[2].matches(" 2\\. \\?\\?\\? +100\\.0% +3 .*"));
        assertEquals("2 hops, status 250, secure", ProbeCommand.detail(r));
    }

    /** With an IP-to-AS table, each hop's AS in a column of its own; a hop the table lacks, or none answered, shows "-". */
    @Test
    public void hopsShowTheirAsWhenATableIsGiven() throws Exception {
        io.sonde.asn.AsnTable table = io.sonde.asn.AsnTable.read(new java.io.ByteArrayInputStream(
                "198.18.0.0\t198.18.0.255\t64500\tZZ\tLAB-EDGE\n198.18.3.0\t198.18.3.255\t64509\tZZ\tLAB-DST\n"
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8)), "lab.tsv");
        Stats s = new Stats(io.sonde.asn.AsnLookup.of(table));
        InetAddress dst = InetAddress.getByName("198.18.3.2");
        s.add(new TracerouteResult(TARGET, Instant.now(), ms(3), null, null, dst, List.of(
                new TracerouteResult.Hop(1, InetAddress.getByName("198.18.0.2"), List.of(ms(1)), 1),
                new TracerouteResult.Hop(2, InetAddress.getByName("198.18.1.2"), List.of(ms(2)), 1),
                new TracerouteResult.Hop(3, null, List.of(), 1),
                new TracerouteResult.Hop(4, dst, List.of(ms(3)), 1)), true));
        String[] lines = s.table().split("\n");
        assertTrue(lines[0], lines[0].matches("Host +AS +Loss% +Sent .*"));
        assertTrue(lines[1], lines[1].matches(" 1\\. 198\\.18\\.0\\.2 +AS64500 LAB-EDGE +0\\.0% +1 .*"));
        assertTrue(lines[2], lines[2].matches(" 2\\. 198\\.18\\.1\\.2 +- +0\\.0% +1 .*"));
        assertTrue(lines[3], lines[3].matches(" 3\\. \\?\\?\\? +- +100\\.0% +1 .*"));
        assertTrue(lines[4], lines[4].matches(" 4\\. 198\\.18\\.3\\.2 +AS64509 LAB-DST +0\\.0% +1 .*"));
        // without a table, no column
        Stats plain = new Stats();
        plain.add(new TracerouteResult(TARGET, Instant.now(), ms(3), null, null, dst, List.of(
                new TracerouteResult.Hop(1, dst, List.of(ms(1)), 1)), true));
        assertTrue(plain.table(), plain.table().matches("(?s)Host +Loss% +Sent .*"));
    }
}
