package io.sonde.api;

import static org.junit.Assert.assertEquals;

import java.net.InetAddress;

import org.junit.Test;

/** Addresses as results and labels show them: IPv6 in RFC 5952's form, as ping, traceroute and ip print it. */
public class AddressTextTest {

    private static String text(String literal) throws Exception {
        return ResultSchema.text(InetAddress.getByName(literal));
    }

    @Test
    public void ipv6IsWrittenAsRfc5952Says() throws Exception {
        assertEquals("fd00:18::2", text("fd00:18:0:0:0:0:0:2"));
        assertEquals("2001:db8::1", text("2001:0DB8:0000:0000:0000:0000:0000:0001"));
        assertEquals("::1", text("0:0:0:0:0:0:0:1"));
        assertEquals("::", text("0:0:0:0:0:0:0:0"));
        assertEquals("fe80::", text("fe80:0:0:0:0:0:0:0"));
        // the longest run of zeros goes, the first of two equal ones; a single zero group stays
        assertEquals("2001:db8::1:0:0:1", text("2001:db8:0:0:1:0:0:1"));
        assertEquals("2001:0:0:1::1", text("2001:0:0:1:0:0:0:1"));
        assertEquals("2001:db8:0:1:1:1:1:1", text("2001:db8:0:1:1:1:1:1"));
        assertEquals("2001:db8:aaaa:bbbb:cccc:dddd:eeee:1", text("2001:db8:aaaa:bbbb:cccc:dddd:eeee:0001"));
        assertEquals("198.18.0.1", text("198.18.0.1"));
        assertEquals("fe80::1%1", ResultSchema.text(java.net.Inet6Address.getByAddress(null,
                InetAddress.getByName("fe80::1").getAddress(), 1)));
    }
}
