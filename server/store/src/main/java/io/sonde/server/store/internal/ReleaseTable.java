package io.sonde.server.store.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import io.sonde.server.spi.Release;
import io.sonde.server.spi.StoreException;

/** The bundle repository: signed releases with their jars, each version stored once: table release. */
final class ReleaseTable {

    private static final String COLUMNS = "symbolic_name, version, sha256, size, manifest, uploaded_at";

    private final Sql sql;

    ReleaseTable(Sql sql) {
        this.sql = sql;
    }

    /**
     * Stores a release and its jar. @return true when stored, false when the same release was there
     *
     * @throws StoreException refused when that version is there with other bytes: a version is released once
     */
    boolean put(Release r, InputStream jar) throws StoreException {
        AtomicReference<Release> there = new AtomicReference<>();
        boolean stored = sql.run(c -> {
            Optional<Release> before = get(c, r.symbolicName(), r.version());
            if (before.isPresent()) {
                there.set(before.get());
                return false;
            }
            try (PreparedStatement p = c.prepareStatement("INSERT INTO release (" + COLUMNS.replace("uploaded_at", "jar, uploaded_at")
                    + ") VALUES (?, ?, ?, ?, ?, ?, ?)")) {
                p.setString(1, r.symbolicName());
                p.setString(2, r.version());
                p.setString(3, r.sha256());
                p.setLong(4, r.size());
                p.setString(5, r.manifest());
                p.setBinaryStream(6, jar, r.size());
                p.setLong(7, r.uploadedAt().toEpochMilli());
                p.executeUpdate();
                return true;
            } catch (SQLException e) {
                if (!"23505".equals(e.getSQLState())) {
                    throw e;
                }
                // another instance stored it meanwhile
                there.set(get(c, r.symbolicName(), r.version()).orElseThrow(() -> e));
                return false;
            }
        });
        if (!stored && !there.get().sha256().equals(r.sha256())) {
            throw new StoreException(StoreException.Kind.REFUSED, r.symbolicName() + " " + r.version()
                    + " is in the repository with other bytes (SHA-256 " + there.get().sha256() + "): a version is released once;"
                    + " sign a higher one", null);
        }
        return stored;
    }

    List<Release> all() throws StoreException {
        return sql.list("SELECT " + COLUMNS + " FROM release ORDER BY symbolic_name, version", ReleaseTable::release);
    }

    Optional<Release> get(String symbolicName, String version) throws StoreException {
        return sql.run(c -> get(c, symbolicName, version));
    }

    private static Optional<Release> get(Connection c, String symbolicName, String version) throws SQLException {
        return Sql.one(c, "SELECT " + COLUMNS + " FROM release WHERE symbolic_name = ? AND version = ?", ReleaseTable::release,
                symbolicName, version);
    }

    /** Writes a release's jar to {@code out}. @return false when there is no such release */
    boolean copyJar(String symbolicName, String version, OutputStream out) throws StoreException, IOException {
        try {
            return sql.run(c -> {
                try (PreparedStatement p = Sql.bind(c.prepareStatement("SELECT jar FROM release WHERE symbolic_name = ? AND version = ?"),
                        symbolicName, version); ResultSet rs = p.executeQuery()) {
                    if (!rs.next()) {
                        return false;
                    }
                    try (InputStream in = rs.getBinaryStream(1)) {
                        in.transferTo(out);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                    return true;
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    private static Release release(ResultSet rs) throws SQLException {
        return new Release(rs.getString(1), rs.getString(2), rs.getString(3).strip(), rs.getLong(4), rs.getString(5),
                Instant.ofEpochMilli(rs.getLong(6)));
    }
}
