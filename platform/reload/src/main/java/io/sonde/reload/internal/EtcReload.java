package io.sonde.reload.internal;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import org.apache.felix.fileinstall.ArtifactInstaller;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SIGHUP for {@code etc/}: the launcher runs every {@code sonde.reload} service, and this one hands
 * each {@code etc/*.cfg} to FileInstall's own configuration installer at once (new and changed
 * files applied, configurations of deleted files removed) instead of waiting for its next scan.
 * FileInstall reads and types the files as it always does; a file whose configuration is the same
 * changes nothing, and FileInstall's watch finding the file later changes nothing either.
 */
@Component(service = Runnable.class, property = "sonde.reload=etc/*.cfg")
public final class EtcReload implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(EtcReload.class);
    /** The property FileInstall marks its configurations with: the file's URI. */
    static final String FILENAME = "felix.fileinstall.filename";

    private final Path dir;
    private final Pattern filter;
    private final ConfigurationAdmin configAdmin;

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    private volatile List<ArtifactInstaller> installers;

    @Activate
    public EtcReload(BundleContext context, @Reference ConfigurationAdmin configAdmin) {
        String d = context.getProperty("felix.fileinstall.dir");
        String f = context.getProperty("felix.fileinstall.filter");
        this.dir = d == null ? null : Path.of(d).toAbsolutePath().normalize();
        this.filter = Pattern.compile(f == null ? ".*\\.cfg" : f);
        this.configAdmin = configAdmin;
    }

    @Override
    public void run() {
        if (dir == null || !Files.isDirectory(dir)) {
            return;
        }
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, p -> filter.matcher(p.getFileName().toString()).matches()
                && Files.isRegularFile(p))) {
            s.forEach(files::add);
        } catch (IOException e) {
            LOG.warn("Re-reading etc/: cannot list {}: {}", dir, e.toString());
            return;
        }
        files.sort(null);
        int applied = 0;
        for (Path p : files) {
            ArtifactInstaller installer = installerFor(p.toFile());
            if (installer == null) {
                LOG.warn("Re-reading etc/: no FileInstall installer takes {}; FileInstall's watch reads it on its own", p);
                return;
            }
            try {
                installer.update(p.toFile());
                applied++;
            } catch (Exception e) {
                LOG.warn("Re-reading etc/: {} is not applied: {}", p, e.toString());
            }
        }
        int removed = 0;
        try {
            Configuration[] all = configAdmin.listConfigurations("(" + FILENAME + "=*)");
            for (Configuration c : all == null ? new Configuration[0] : all) {
                File gone = fileOf(c);
                ArtifactInstaller installer = gone == null ? null : installerFor(gone);
                if (installer != null) {
                    installer.uninstall(gone);
                    removed++;
                }
            }
        } catch (Exception e) { // IOException, InvalidSyntaxException, or the installer's own
            LOG.warn("Re-reading etc/: configurations of deleted files in {} are left to FileInstall's watch: {}", dir, e.toString());
        }
        LOG.debug("Re-read {} files of {}{}", applied, dir, removed == 0 ? "" : "; removed the configurations of " + removed + " deleted files");
    }

    /** The file in etc/ a configuration came from, if that file is gone; else null. */
    private File fileOf(Configuration c) {
        Object name = c.getProperties() == null ? null : c.getProperties().get(FILENAME);
        if (name == null) {
            return null;
        }
        try {
            Path p = Path.of(URI.create(name.toString()));
            return dir.equals(p.getParent()) && !Files.exists(p) ? p.toFile() : null;
        } catch (IllegalArgumentException e) {
            return null; // not a file URI: not one of ours
        }
    }

    private ArtifactInstaller installerFor(File file) {
        List<ArtifactInstaller> all = installers;
        if (all != null) {
            for (ArtifactInstaller i : all) {
                if (i.canHandle(file)) {
                    return i;
                }
            }
        }
        return null;
    }
}
