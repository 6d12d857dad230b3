package io.sonde.core.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/** Tells whether a file dropped into plugins/ can be installed as a bundle, and if not, why. */
final class PluginJarCheck {

    private PluginJarCheck() {
    }

    /** @return {@code null} if {@code jar} is a readable OSGi bundle, else what is wrong with it */
    static String problem(Path jar) {
        try (JarFile f = new JarFile(jar.toFile(), false)) {
            Manifest m = f.getManifest();
            if (m == null) {
                return "it has no META-INF/MANIFEST.MF";
            }
            if (m.getMainAttributes().getValue("Bundle-SymbolicName") == null) {
                return "its manifest has no Bundle-SymbolicName: it is a plain jar, not an OSGi bundle";
            }
            // read every entry: a truncated or damaged jar fails here rather than at class loading
            f.stream().forEach(e -> {
                try {
                    f.getInputStream(e).transferTo(java.io.OutputStream.nullOutputStream());
                } catch (IOException ex) {
                    throw new java.io.UncheckedIOException(e.getName() + ": " + ex.getMessage(), ex);
                }
            });
            return null;
        } catch (java.io.UncheckedIOException e) {
            return "it is damaged: " + e.getMessage();
        } catch (IOException | SecurityException e) {
            return "it is not a readable jar (" + e.getMessage() + ")";
        }
    }
}
