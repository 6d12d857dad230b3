package io.sonde.server.core.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.sonde.server.spi.Api;
import io.sonde.server.spi.Store;
import io.sonde.server.spi.StoreException;

/**
 * {@code POST /api/v1/admin/backup} (admin): an online backup of the embedded store to one file
 * under {@code data/backups/}; the answer names it. One at a time.
 */
@Component(service = Servlet.class)
@HttpWhiteboardServletPattern("/api/v1/admin/backup")
public final class BackupServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(BackupServlet.class);

    private final transient Store store;
    private final transient Path dir;

    @Activate
    public BackupServlet(BundleContext context, @Reference Store store) {
        this.store = store;
        this.dir = io.sonde.base.Home.of(context::getProperty).resolve("data").resolve("backups");
    }

    @Override
    protected synchronized void doPost(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!Api.requireAdmin(request, response)) {
            return;
        }
        long t0 = System.nanoTime();
        try {
            Path file = store.backup(dir);
            try { // the whole store: the server's user's alone, whatever umask it was started with
                Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
                Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            LOG.info("Backup of the store written to {} ({} bytes, {} ms)", file, Files.size(file), ms);
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("file", file.toString());
            body.put("bytes", Files.size(file));
            body.put("milliseconds", ms);
            Api.json(response, 201, body);
        } catch (StoreException e) {
            Api.storeFailed(response, e, 409);
        }
    }
}
