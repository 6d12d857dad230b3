package io.sonde.updater.internal;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.Version;

import io.sonde.api.Prober;

/**
 * The agent's bundles as the updater sees them: which one has a name, where its jar is (and so how
 * it is replaced), the version a jar holds, the kinds a bundle serves.
 */
final class BundleFiles {

    /** Where a bundle's jar is, and so how it is replaced. */
    enum Place {
        /** plugins/: FileInstall updates the bundle when its jar changes */
        PLUGIN,
        /** system/: updated and refreshed in the framework, under the launcher's guard */
        PLATFORM,
        /** system/, never swapped while it runs: staged for the next start */
        STAGED
    }

    /** Bundles whose jar is only replaced at the next start of the agent (and the framework's). */
    static final Set<String> STAGED_BUNDLES = Set.of("io.sonde.sockets");

    private final BundleContext context;
    private final Path home;

    BundleFiles(BundleContext context, Path home) {
        this.context = context;
        this.home = home;
    }

    /** @return the Bundle-Version in the jar's manifest, "" when it has none or cannot be read */
    static String jarVersion(Path jar) {
        try (java.util.jar.JarFile f = new java.util.jar.JarFile(jar.toFile())) {
            java.util.jar.Manifest m = f.getManifest();
            String v = m == null ? null : m.getMainAttributes().getValue(org.osgi.framework.Constants.BUNDLE_VERSION);
            return v == null ? "" : Version.parseVersion(v).toString();
        } catch (IOException | IllegalArgumentException e) {
            return "";
        }
    }

    Bundle find(String symbolicName) {
        for (Bundle b : context.getBundles()) {
            if (symbolicName.equals(b.getSymbolicName())) {
                return b;
            }
        }
        return null;
    }

    /** @return where the bundle's jar is, and so how it is replaced; null: not the updater's to replace */
    Place place(Bundle b) {
        if (b.getBundleId() == 0) { // the framework: on the launcher's class path, replaced before the next start
            return Files.isRegularFile(frameworkJar()) ? Place.STAGED : null;
        }
        if (pluginFile(b) != null) {
            return Place.PLUGIN;
        }
        if (systemFile(b) != null) {
            return STAGED_BUNDLES.contains(b.getSymbolicName()) ? Place.STAGED : Place.PLATFORM;
        }
        return null;
    }

    /** @return the framework's jar, on the launcher's class path */
    Path frameworkJar() {
        return home.resolve("system/boot/org.apache.felix.framework.jar");
    }

    /** @return the bundle's jar when it is a platform bundle (installed by the launcher from system/), else null */
    Path systemFile(Bundle b) {
        if (b.getBundleId() == 0) {
            return frameworkJar();
        }
        String location = b.getLocation();
        if (!location.startsWith("reference:")) {
            return null;
        }
        try {
            Path p = Path.of(new URI(location.substring("reference:".length())));
            return p.getParent() != null && p.getParent().equals(home.resolve("system")) && Files.isRegularFile(p) ? p : null;
        } catch (java.net.URISyntaxException | IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
            return null;
        }
    }

    /** @return the bundle's jar when it is a plugin (installed from plugins/), else null */
    Path pluginFile(Bundle b) {
        try {
            Path p = Path.of(new URI(b.getLocation()));
            return p.getParent() != null && p.getParent().equals(home.resolve("plugins")) && Files.isRegularFile(p) ? p : null;
        } catch (java.net.URISyntaxException | IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
            return null;
        }
    }

    /** @return the kinds the bundle's probers serve */
    static Set<String> kinds(Bundle b) {
        Set<String> out = new TreeSet<>();
        ServiceReference<?>[] refs = b.getRegisteredServices();
        if (refs != null) {
            for (ServiceReference<?> r : refs) {
                Object type = r.getProperty(Prober.PROBE_TYPE);
                if (type != null) {
                    out.add(String.valueOf(type));
                }
            }
        }
        return out;
    }

    static String stateName(int state) {
        return switch (state) {
            case Bundle.INSTALLED -> "INSTALLED (not resolved)";
            case Bundle.RESOLVED -> "RESOLVED (not started)";
            case Bundle.STARTING -> "STARTING";
            case Bundle.STOPPING -> "STOPPING";
            case Bundle.ACTIVE -> "ACTIVE";
            default -> String.valueOf(state);
        };
    }
}
