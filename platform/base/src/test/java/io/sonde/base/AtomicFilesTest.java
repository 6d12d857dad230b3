package io.sonde.base;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class AtomicFilesTest {

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void aNewFileIsTheOwnersAloneAndItsFolderIsMade() throws Exception {
        Path file = tmp.getRoot().toPath().resolve("data/state/credential.json");
        AtomicFiles.write(file, "{\"credential\":\"x\"}".getBytes(StandardCharsets.UTF_8));
        assertEquals("{\"credential\":\"x\"}", Files.readString(file));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals("nothing beside it", List.of(file), list(file.getParent()));
    }

    @Test
    public void aReplacedFileKeepsItsPermissionsUnlessToldOthers() throws Exception {
        Path file = tmp.newFile("io.sonde.uplink.cfg").toPath();
        Files.writeString(file, "server_url = https://a\nenrollment_token = t\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
        AtomicFiles.write(file, "server_url = https://a\n".getBytes(StandardCharsets.UTF_8));
        assertEquals("server_url = https://a\n", Files.readString(file));
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));

        AtomicFiles.write(file, new byte[] {1, 2}, PosixFilePermissions.fromString("rw-r--r--"));
        assertArrayEquals(new byte[] {1, 2}, Files.readAllBytes(file));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }

    @Test
    public void aWriteThatFailsLeavesTheOldFileAndNothingElse() throws Exception {
        Path file = tmp.newFile("server-config.json").toPath();
        Files.writeString(file, "old");
        try {
            AtomicFiles.write(file, out -> {
                out.write("half of the new".getBytes(StandardCharsets.UTF_8));
                throw new IOException("the download broke off");
            }, null);
            fail("the failure is the caller's to see");
        } catch (IOException e) {
            assertEquals("the download broke off", e.getMessage());
        }
        assertEquals("old", Files.readString(file));
        assertEquals(List.of(file), list(file.getParent()));
    }

    @Test
    public void aTemporaryFileLeftByAKilledWriterIsReplaced() throws Exception {
        Path file = tmp.getRoot().toPath().resolve("updater.json");
        Files.writeString(tmp.getRoot().toPath().resolve(".updater.json.tmp"), "cut short by a kill");
        AtomicFiles.write(file, "whole".getBytes(StandardCharsets.UTF_8));
        assertEquals("whole", Files.readString(file));
        assertEquals(List.of(file), list(file.getParent()));
    }

    @Test
    public void aCopyIsTheSourcesBytes() throws Exception {
        Path from = tmp.newFile("plugin-1.2.0.jar").toPath();
        byte[] jar = new byte[200_000];
        new java.util.Random(7).nextBytes(jar);
        Files.write(from, jar);
        Path to = tmp.newFolder("plugins").toPath().resolve("plugin.jar");
        Files.writeString(to, "the version before");
        AtomicFiles.copy(from, to);
        assertArrayEquals(jar, Files.readAllBytes(to));
        assertTrue(Files.exists(from));
        assertFalse(Files.exists(to.resolveSibling(".plugin.jar.tmp")));
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }
}
