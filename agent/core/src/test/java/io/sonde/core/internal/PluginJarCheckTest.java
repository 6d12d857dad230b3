package io.sonde.core.internal;

import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class PluginJarCheckTest {

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private Path jar(String bsn) throws Exception {
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        if (bsn != null) {
            m.getMainAttributes().putValue("Bundle-SymbolicName", bsn);
        }
        Path p = tmp.newFile().toPath();
        try (OutputStream out = Files.newOutputStream(p); JarOutputStream j = new JarOutputStream(out, m)) {
            j.putNextEntry(new JarEntry("a/B.class"));
            byte[] body = new byte[20_000];
            new java.util.Random(1).nextBytes(body);
            j.write(body);
            j.closeEntry();
        }
        return p;
    }

    @Test
    public void bundleIsFine() throws Exception {
        assertNull(PluginJarCheck.problem(jar("x.y")));
    }

    @Test
    public void plainJarIsNotABundle() throws Exception {
        String p = PluginJarCheck.problem(jar(null));
        assertTrue(p, p.contains("not an OSGi bundle"));
    }

    @Test
    public void garbageIsNotAJar() throws Exception {
        Path p = tmp.newFile().toPath();
        Files.writeString(p, "this is not a jar");
        assertTrue(PluginJarCheck.problem(p).startsWith("it is not a readable jar"));
    }

    @Test
    public void truncatedJarIsReported() throws Exception {
        Path good = jar("x.y");
        byte[] all = Files.readAllBytes(good);
        Files.write(good, Arrays.copyOf(all, all.length / 2));
        String p = PluginJarCheck.problem(good);
        assertTrue(p, p != null);
    }
}
