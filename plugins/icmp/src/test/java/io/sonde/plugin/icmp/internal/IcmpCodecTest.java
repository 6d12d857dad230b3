package io.sonde.plugin.icmp.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

import io.sonde.sockets.Family;

public class IcmpCodecTest {

    @Test
    public void requestCarriesIdSequenceAndAValidChecksum() {
        byte[] b = new byte[64];
        int n = IcmpCodec.echoRequest(Family.IPV4, b, 0x1234, 0xfffe, 42L, 7);
        assertEquals(24, n);
        assertEquals(8, b[0]);
        assertEquals(0x1234, IcmpCodec.getShort(b, 4));
        assertEquals(0xfffe, IcmpCodec.getShort(b, 6));
        assertEquals("checksum over the packet is 0", 0, IcmpCodec.checksum(b, 0, n));
        assertTrue(IcmpCodec.payloadMatches(b, 8, 16, 42L, 7));
        assertFalse(IcmpCodec.payloadMatches(b, 8, 16, 43L, 7));
        assertFalse(IcmpCodec.payloadMatches(b, 8, 16, 42L, 8));
        assertFalse(IcmpCodec.payloadMatches(b, 8, 15, 42L, 7));
    }

    @Test
    public void ipv6RequestLeavesTheChecksumToTheKernel() {
        byte[] b = new byte[64];
        IcmpCodec.echoRequest(Family.IPV6, b, 1, 2, 3L, 4);
        assertEquals((byte) 128, b[0]);
        assertEquals(0, IcmpCodec.getShort(b, 2));
    }

    @Test
    public void rawIpv4ReplyIsReadPastItsIpHeader() {
        byte[] b = new byte[64];
        b[0] = 0x45; // IPv4, 20-byte header
        b[8] = 61; // TTL
        byte[] icmp = new byte[64];
        int n = IcmpCodec.echoRequest(Family.IPV4, icmp, 9, 10, 11L, 2);
        icmp[0] = 0; // echo reply
        System.arraycopy(icmp, 0, b, 20, n);
        IcmpCodec.Parsed p = IcmpCodec.parse(Family.IPV4, true, b, 20 + n, -1);
        assertEquals(IcmpCodec.Kind.ECHO_REPLY, p.kind());
        assertEquals(9, p.identifier());
        assertEquals(10, p.sequence());
        assertEquals(61, p.ttl());
        assertTrue(IcmpCodec.payloadMatches(b, p.payloadOffset(), p.payloadLength(), 11L, 2));
    }

    @Test
    public void datagramReplyStartsWithTheIcmpHeader() {
        byte[] b = new byte[64];
        int n = IcmpCodec.echoRequest(Family.IPV6, b, 5, 6, 7L, 0);
        b[0] = (byte) 129;
        IcmpCodec.Parsed p = IcmpCodec.parse(Family.IPV6, false, b, n, 64);
        assertEquals(IcmpCodec.Kind.ECHO_REPLY, p.kind());
        assertEquals(6, p.sequence());
        assertEquals(64, p.ttl());
    }

    @Test
    public void unreachableQuotesTheRequest() {
        byte[] b = new byte[128];
        b[0] = 0x45;
        b[20] = 3; // destination unreachable
        b[21] = 1; // host unreachable
        b[28] = 0x45; // quoted IP header
        IcmpCodec.echoRequest(Family.IPV4, b.length > 48 ? b : null, 0, 0, 0, 0); // fill nothing useful
        byte[] req = new byte[64];
        IcmpCodec.echoRequest(Family.IPV4, req, 77, 88, 1L, 0);
        b[0] = 0x45;
        b[20] = 3;
        b[21] = 1;
        b[28] = 0x45;
        System.arraycopy(req, 0, b, 48, 8);
        IcmpCodec.Parsed p = IcmpCodec.parse(Family.IPV4, true, b, 56, -1);
        assertEquals(IcmpCodec.Kind.UNREACHABLE, p.kind());
        assertEquals(77, p.identifier());
        assertEquals(88, p.sequence());
        assertEquals(1, p.code());
    }

    @Test
    public void shortOrForeignPacketsAreIgnored() {
        assertNull(IcmpCodec.parse(Family.IPV4, true, new byte[10], 10, -1));
        assertNull(IcmpCodec.parse(Family.IPV4, false, new byte[4], 4, -1));
        byte[] b = new byte[8];
        b[0] = 13; // timestamp
        assertEquals(IcmpCodec.Kind.OTHER, IcmpCodec.parse(Family.IPV4, false, b, 8, -1).kind());
    }
}
