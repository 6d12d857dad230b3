package io.sonde.server.store.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.SQLException;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * {@code bin/sonde-server-store restore <backup.zip>}: puts a backup of the embedded store (made by
 * {@code POST /api/v1/admin/backup}) into the data/store/ of a server home that has no store yet,
 * and checks that it opens. The server is started afterwards as usual.
 */
public final class RestoreStore {

    static final String DATABASE = "sonde.mv.db";

    private RestoreStore() {
    }

    static String restore(Path backup, Path dir) throws IOException, SQLException {
        if (Files.exists(dir.resolve(DATABASE))) {
            throw new IllegalStateException(dir + " has a store already; restore into a fresh server home, or move " + dir + " away first");
        }
        if (!Files.isRegularFile(backup)) {
            throw new IllegalStateException(backup + " is not a file");
        }
        Files.createDirectories(dir);
        Path part = dir.resolve(DATABASE + ".restoring");
        boolean found = false;
        try (InputStream in = Files.newInputStream(backup); ZipInputStream zip = new ZipInputStream(in)) {
            for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
                if (e.getName().equals(DATABASE)) {
                    Files.copy(zip, part, StandardCopyOption.REPLACE_EXISTING);
                    found = true;
                }
            }
        } catch (IOException e) {
            Files.deleteIfExists(part);
            throw new IllegalStateException(backup + " is not a backup of the store (" + e.getMessage() + ")");
        }
        if (!found) {
            Files.deleteIfExists(part);
            throw new IllegalStateException(backup + " is not a backup of the store: it has no " + DATABASE);
        }
        Files.move(part, dir.resolve(DATABASE), StandardCopyOption.ATOMIC_MOVE);
        JdbcStore store;
        try {
            store = H2Dialect.open(dir, 1); // opens, and migrates a backup of an older server
        } catch (SQLException e) {
            Files.deleteIfExists(dir.resolve(DATABASE));
            throw new IllegalStateException(backup + " does not open as a store (" + e.getMessage() + "); nothing restored");
        }
        try {
            return "Restored " + store.agents().size() + " agents and " + store.resultCount() + " results from " + backup + " into " + dir;
        } catch (io.sonde.server.spi.StoreException e) {
            throw new SQLException(e.getMessage(), e);
        } finally {
            store.close();
        }
    }
}
