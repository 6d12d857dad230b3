package io.sonde.asn;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPOutputStream;

import org.junit.Test;

/** The text formats, nested prefixes, both families and the refusals, on tables written here. */
public class AsnTableTest {

    static AsnTable read(String text) throws Exception {
        return AsnTable.read(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), "t.dat");
    }

    static long asn(AsnTable t, String address) throws Exception {
        Origin o = t.lookup(InetAddress.getByName(address));
        return o == null ? 0 : o.asn();
    }

    static final String PYASN = "; IP-ASN32-DAT file\n; Original source:\trib.20261201.0000.bz2\n"
            + "198.18.0.0/15\t64500\n198.18.64.0/18\t64510\n198.18.72.0/21\t64511\n198.18.72.0/24\t64512\n"
            + "198.19.0.0/16\t64500\nfd00:18::/32\t64520\nfd00:18:40::/48\t64521\n";

    @Test
    public void pyasnTheMostSpecificPrefixWins() throws Exception {
        AsnTable t = read(PYASN);
        assertEquals("pyasn", t.format());
        assertEquals(7, t.entries());
        assertEquals(64500, asn(t, "198.18.0.1"));
        assertEquals(64510, asn(t, "198.18.64.0"));
        assertEquals(64510, asn(t, "198.18.71.255"));
        assertEquals(64512, asn(t, "198.18.72.9"));
        assertEquals(64511, asn(t, "198.18.73.1"));
        assertEquals(64511, asn(t, "198.18.79.255"));
        assertEquals(64510, asn(t, "198.18.80.0"));
        assertEquals(64510, asn(t, "198.18.127.255"));
        assertEquals(64500, asn(t, "198.18.128.0"));
        assertEquals(64500, asn(t, "198.19.255.255"));
        assertEquals(0, asn(t, "198.20.0.0"));
        assertEquals(0, asn(t, "198.17.255.255"));
        assertEquals(64521, asn(t, "fd00:18:40::1"));
        assertEquals(64520, asn(t, "fd00:18:41::1"));
        assertEquals(64520, asn(t, "fd00:18:ffff:ffff:ffff:ffff:ffff:ffff"));
        assertEquals(0, asn(t, "fd00:19::1"));
        assertEquals(0, asn(t, "127.0.0.1"));
    }

    @Test
    public void iptoasnRangesWithNamesAndNotRoutedLeftOut() throws Exception {
        AsnTable t = read("198.18.0.0\t198.18.63.255\t64500\tZZ\tLAB-CORE\n198.18.64.0\t198.18.64.9\t0\tNone\tNot routed\n"
                + "198.18.64.10\t198.18.64.10\t64501\tZZ\tLAB-EDGE one\nfd00:18::\tfd00:18::ffff\t64520\tZZ\tLAB-SIX\n");
        assertEquals("iptoasn", t.format());
        Origin core = t.lookup(InetAddress.getByName("198.18.63.255"));
        assertEquals(new Origin(64500, "LAB-CORE"), core);
        assertEquals("AS64500 LAB-CORE", core.toString());
        assertNull(t.lookup(InetAddress.getByName("198.18.64.5")));
        assertEquals(new Origin(64501, "LAB-EDGE one"), t.lookup(InetAddress.getByName("198.18.64.10")));
        assertNull(t.lookup(InetAddress.getByName("198.18.64.11")));
        assertEquals(64520, asn(t, "fd00:18::fffe"));
        assertEquals(0, asn(t, "fd00:18::1:0"));
    }

    @Test
    public void theWholeAddressSpaceAndOneAddress() throws Exception {
        AsnTable t = read("0.0.0.0/0\t64500\n255.255.255.255/32\t64501\n::/0\t64502\nffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128\t64503\n");
        assertEquals(64500, asn(t, "0.0.0.0"));
        assertEquals(64500, asn(t, "255.255.255.254"));
        assertEquals(64501, asn(t, "255.255.255.255"));
        assertEquals(64502, asn(t, "::"));
        assertEquals(64502, asn(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"));
        assertEquals(64503, asn(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
    }

    @Test
    public void gzipIsReadAndBzip2IsRefusedWithWhatToDo() throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(b)) {
            z.write(PYASN.getBytes(StandardCharsets.UTF_8));
        }
        AsnTable t = AsnTable.read(new ByteArrayInputStream(b.toByteArray()), "t.dat.gz");
        assertEquals("pyasn+gzip", t.format());
        assertEquals(64512, asn(t, "198.18.72.1"));
        refused("BZh91AY&SY...", "t.dat: compressed with bzip2, which Sonde does not read: decompress it (bunzip2) or gzip it");
    }

    @Test
    public void aBadLineIsNamedByItsNumber() throws Exception {
        refused("198.18.0.0/15\t64500\n198.18.0.0/33\t64501\n", "t.dat line 2: prefix length 33 is not 0-32");
        refused("; c\n198.18.0.0/15\tAS-X\n", "t.dat line 2: 'AS-X' is not an AS number (0-4294967295)");
        refused("198.18.0.0/15\t4294967296\n", "t.dat line 1: '4294967296' is not an AS number (0-4294967295)");
        refused("example.test/24\t64500\n", "t.dat line 1: 'example.test' is not an IP address");
        refused("198.18.0.0/15\n", "t.dat line 1: '198.18.0.0/15' has a prefix but no AS number (pyasn: prefix, tab, AS number)");
        refused("hello\n", "t.dat line 1: 'hello' is neither a prefix and an AS number (pyasn) nor a range (iptoasn: first, last, AS number,"
                + " country, name)");
        refused("198.18.1.0\t198.18.0.0\t64500\tZZ\tX\n", "t.dat line 1: 198.18.1.0 is after 198.18.0.0");
        refused("198.18.0.0\tfd00::1\t64500\tZZ\tX\n", "t.dat line 1: 198.18.0.0 and fd00::1 are not of one family");
        refused("198.18.0.0/15\t64500\n198.18.0.0\t198.18.0.9\t64501\tZZ\tX\n", "t.dat line 2: a iptoasn line in a pyasn file");
        refused("; nothing\n\n", "t.dat: no prefix or range in it (pyasn, iptoasn or an MRT RIB dump)");
        refused("\u0000\u0000\u0000\u0000\u0000\r\u0000\u0002\u0000\u0000\u0000\u0040abc", "t.dat MRT record 1: cut short (64 bytes announced)");
    }

    private static void refused(String text, String message) throws Exception {
        try {
            read(text);
            fail("read: " + text);
        } catch (AsnTable.FormatException e) {
            assertEquals(message, e.getMessage());
        }
    }

    @Test
    public void hopsAndPathsGetTheirAsWhateverTheKind() throws Exception {
        AsnTable t = read("198.18.0.0\t198.18.63.255\t64500\tZZ\tLAB-CORE\n198.18.64.0\t198.18.127.255\t64510\tZZ\t\n");
        AsnLookup lookup = AsnLookup.of(t);
        com.google.gson.JsonObject d = com.google.gson.JsonParser.parseString("{\"route\": [{\"ttl\": 1, \"address\": \"198.18.0.2\"},"
                + " {\"ttl\": 2, \"address\": null}, {\"ttl\": 3, \"address\": \"198.18.64.1\"}, {\"ttl\": 4, \"address\": \"127.0.0.1\"},"
                + " {\"ttl\": 5, \"address\": \"198.18.64.2\", \"asn\": 65000}],"
                + " \"paths\": [{\"flows\": [0], \"hops\": [\"198.18.0.2\", null, \"198.18.64.1\"]}], \"rtts\": [0.1], \"reached\": true}")
                .getAsJsonObject();
        com.google.gson.JsonObject a = HopAsns.annotate(d, lookup);
        assertEquals("[{\"ttl\":1,\"address\":\"198.18.0.2\",\"asn\":64500,\"as_name\":\"LAB-CORE\"},{\"ttl\":2,\"address\":null},"
                + "{\"ttl\":3,\"address\":\"198.18.64.1\",\"asn\":64510},{\"ttl\":4,\"address\":\"127.0.0.1\"},"
                + "{\"ttl\":5,\"address\":\"198.18.64.2\",\"asn\":65000}]", a.get("route").toString());
        assertEquals("[64500,null,64510]", a.getAsJsonArray("paths").get(0).getAsJsonObject().get("asns").toString());
        assertEquals("[0.1]", a.get("rtts").toString());
        assertTrue("the stored details are not changed", !d.getAsJsonArray("route").get(0).getAsJsonObject().has("asn"));
        // a host name is never resolved
        assertNull(HopAsns.origin(new com.google.gson.JsonPrimitive("localhost"), lookup));
    }
}
