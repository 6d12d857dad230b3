package io.sonde.asn;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.AfterClass;
import org.junit.Assume;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * An MRT RIB dump written by a real BGP speaker: GoBGP (Debian's gobgpd) holds routes with the AS
 * paths this test gives it and dumps its RIB in TABLE_DUMP_V2 (it writes the ADD-PATH subtypes);
 * the table read from the dump names each route's origin, the most specific prefix winning. GoBGP
 * dumps once a minute at the soonest, so this waits for it.
 */
public class GobgpMrtTest {

    private static Process gobgpd;
    private static Path dir;
    private static AsnTable table;

    @BeforeClass
    public static void dump() throws Exception {
        boolean present = new File("/usr/bin/gobgpd").canExecute() && new File("/usr/bin/gobgp").canExecute();
        Assume.assumeTrue("GoBGP is not installed (Debian: gobgpd)", present || System.getenv("CI") != null);
        dir = Files.createTempDirectory("sonde-gobgp-");
        int api;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            api = s.getLocalPort();
        }
        Path rib = dir.resolve("rib.mrt");
        Files.writeString(dir.resolve("gobgpd.toml"), "[global.config]\n  as = 64496\n  router-id = \"198.18.0.1\"\n  port = -1\n"
                + "[[mrt-dump]]\n  [mrt-dump.config]\n    dump-type = \"table\"\n    file-name = \"" + rib + "\"\n    dump-interval = 60\n");
        gobgpd = new ProcessBuilder("/usr/bin/gobgpd", "-f", dir.resolve("gobgpd.toml").toString(), "--api-hosts", "127.0.0.1:" + api)
                .redirectErrorStream(true).redirectOutput(dir.resolve("gobgpd.log").toFile()).start();
        String port = String.valueOf(api);
        List<List<String>> routes = List.of(
                List.of("-a", "ipv4", "198.18.64.0/18", "aspath", "64500,64510", "nexthop", "198.18.0.2"),
                List.of("-a", "ipv4", "198.18.72.0/21", "aspath", "64500,64510,64511", "nexthop", "198.18.0.2"),
                List.of("-a", "ipv4", "198.19.0.0/16", "aspath", "64530", "nexthop", "198.18.0.2"),
                List.of("-a", "ipv6", "fd00:18:40::/48", "aspath", "64500,64520", "nexthop", "fd00:18::2"));
        for (List<String> r : routes) {
            for (int attempt = 0; ; attempt++) { // until gobgpd answers on its API
                List<String> cmd = new java.util.ArrayList<>(List.of("/usr/bin/gobgp", "-p", port, "global", "rib", "add"));
                cmd.addAll(r);
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    break;
                }
                if (attempt >= 50) {
                    throw new AssertionError(cmd + ": " + out + Files.readString(dir.resolve("gobgpd.log")));
                }
                Thread.sleep(200);
            }
        }
        // the first dump with the routes in it: once a minute, the first a minute after start
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);
        while (System.nanoTime() < deadline) {
            if (Files.exists(rib) && Files.size(rib) > 0) {
                Thread.sleep(500); // written whole
                AsnTable t = AsnTable.read(rib);
                if (t.entries() == 4) {
                    table = t;
                    break;
                }
            }
            Thread.sleep(500);
        }
        assertTrue("gobgpd dumped no RIB with the 4 routes: " + Files.readString(dir.resolve("gobgpd.log")), table != null);
    }

    @AfterClass
    public static void stop() throws Exception {
        if (gobgpd != null) {
            gobgpd.destroy();
            if (!gobgpd.waitFor(10, TimeUnit.SECONDS)) {
                gobgpd.destroyForcibly();
            }
        }
    }

    private static long asn(String address) throws Exception {
        Origin o = table.lookup(InetAddress.getByName(address));
        return o == null ? 0 : o.asn();
    }

    @Test
    public void eachRoutesOriginIsTheLastAsOfItsPath() throws Exception {
        assertEquals("mrt", table.format());
        assertEquals(64510, asn("198.18.64.1"));
        assertEquals(64511, asn("198.18.72.1"));
        assertEquals(64511, asn("198.18.79.255"));
        assertEquals(64510, asn("198.18.80.0"));
        assertEquals(64530, asn("198.19.200.1"));
        assertEquals(64520, asn("fd00:18:40::9"));
        assertNull(table.lookup(InetAddress.getByName("fd00:18:41::9")));
        assertNull(table.lookup(InetAddress.getByName("198.18.0.1")));
    }
}
