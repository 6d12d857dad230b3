package io.sonde.asn.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;

import java.lang.annotation.Annotation;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

import org.junit.Test;

import io.sonde.asn.Origin;

/** The configured file: read at start, again when it changes; a broken or missing one keeps the table before. */
public class TableFileTest {

    private static TableConfig config(Path file) {
        return new TableConfig() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return TableConfig.class;
            }

            @Override
            public String file() {
                return file.toString();
            }

            @Override
            public int reload__s() {
                return 1;
            }
        };
    }

    private static long await(TableFile t, String address, long asn) throws Exception {
        for (int i = 0; i < 300; i++) {
            Origin o = t.lookup(InetAddress.getByName(address));
            if (o != null && o.asn() == asn) {
                return asn;
            }
            Thread.sleep(50);
        }
        Origin o = t.lookup(InetAddress.getByName(address));
        return o == null ? 0 : o.asn();
    }

    /** Writes the file with a modification time of its own, so that a rewrite within the same second is seen. */
    private static void write(Path file, String text, int generation) throws Exception {
        Files.writeString(file, text);
        Files.setLastModifiedTime(file, FileTime.fromMillis(1_700_000_000_000L + generation * 1000L));
    }

    @Test
    public void aChangedFileIsReadAgainAndABrokenOneLeavesTheTableBefore() throws Exception {
        Path dir = Files.createTempDirectory("sonde-asn-");
        Path file = dir.resolve("ipasn.dat");
        write(file, "198.18.0.0/15\t64500\n", 1);
        TableFile t = new TableFile(null, config(file));
        try {
            assertEquals(64500, await(t, "198.18.1.1", 64500));
            write(file, "198.18.0.0/15\t64501\n198.18.64.0/18\t64510\n", 2);
            assertEquals(64510, await(t, "198.18.64.1", 64510));
            assertEquals(64501, await(t, "198.18.1.1", 64501));
            write(file, "198.18.0.0/15\t64502\n198.18.0.0/99\t1\n", 3); // broken: line 2
            for (int i = 0; i < 300 && t.failures() == 0; i++) {
                Thread.sleep(50);
            }
            assertEquals(1, t.failures());
            assertEquals(64501, await(t, "198.18.1.1", 64501));
            Files.delete(file);
            for (int i = 0; i < 300 && t.failures() == 1; i++) {
                Thread.sleep(50);
            }
            assertEquals(2, t.failures());
            assertEquals(64510, await(t, "198.18.64.1", 64510));
            write(file, "fd00:18::/32\t64520\n", 4);
            assertEquals(64520, await(t, "fd00:18::1", 64520));
            assertNull(t.lookup(InetAddress.getByName("198.18.1.1")));
            assertEquals(1, t.table().entries());
        } finally {
            t.deactivate();
        }
    }
}
