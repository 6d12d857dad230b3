package io.sonde.wire.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

import io.sonde.wire.ReleaseManifest;
import io.sonde.wire.ReleaseManifestTest;
import io.sonde.wire.WireCodec;

public class ReleaseCommandTest {

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    @Test
    public void keygenThenSignWritesAManifestThePublicKeyVerifies() throws Exception {
        Path keys = tmp.getRoot().toPath().resolve("keys");
        String said = ReleaseCommand.run(new String[] {"keygen", keys.toString()});
        assertTrue(said, said.contains("trusted_keys = ") && said.contains("public_key = "));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keys.resolve("release.key"))));
        try {
            ReleaseCommand.run(new String[] {"keygen", keys.toString()});
            fail("a key was overwritten");
        } catch (java.nio.file.FileAlreadyExistsException expected) {
            assertTrue(expected.getMessage().contains("never overwritten"));
        }
        Path jar = ReleaseManifestTest.bundle(tmp.getRoot().toPath().resolve("io.sonde.plugin.tcp.jar"), "io.sonde.plugin.tcp", "0.3.0");
        said = ReleaseCommand.run(new String[] {"sign", "--key", keys.resolve("release.key").toString(), jar.toString()});
        assertTrue(said, said.startsWith("Signed io.sonde.plugin.tcp 0.3.0"));
        ReleaseManifest m = WireCodec.gson().fromJson(Files.readString(jar.resolveSibling("io.sonde.plugin.tcp.jar.manifest.json")),
                ReleaseManifest.class);
        m.verify(List.of(ReleaseManifest.publicKey(Files.readString(keys.resolve("release.pub")))));
        m.checkJar(jar);
    }

    @Test
    public void aWrongCommandLineIsUsageAndABadKeyIsSaid() throws Exception {
        assertNull(ReleaseCommand.run(new String[] {}));
        assertNull(ReleaseCommand.run(new String[] {"sign", "x.jar"}));
        assertNull(ReleaseCommand.run(new String[] {"sign", "--key", "k", "--bogus", "x.jar"}));
        Path bad = tmp.newFile("release.key").toPath();
        Files.writeString(bad, "not a key");
        Files.writeString(tmp.getRoot().toPath().resolve("release.pub"), "not a key either");
        try {
            ReleaseCommand.run(new String[] {"sign", "--key", bad.toString(), "x.jar"});
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("is not an Ed25519 private key"));
        }
    }
}
