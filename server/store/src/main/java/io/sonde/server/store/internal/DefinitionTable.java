package io.sonde.server.store.internal;

import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import io.sonde.server.spi.Definition;
import io.sonde.server.spi.StoreException;

/** What operators define through the API (targets, meshes, rules, rollouts, ...), by type and name: table definition. */
final class DefinitionTable {

    private final Sql sql;

    DefinitionTable(Sql sql) {
        this.sql = sql;
    }

    /** Stores a definition, replacing one of its type and name. @return whether it replaced one */
    boolean put(Definition d) throws StoreException {
        return sql.run(c -> {
            for (int attempt = 0; attempt < 3; attempt++) {
                if (Sql.update(c, "UPDATE definition SET body = ?, updated_at = ? WHERE type = ? AND name = ?", d.body(),
                        d.updatedAt().toEpochMilli(), d.type(), d.name()) == 1) {
                    return true;
                }
                try {
                    Sql.update(c, "INSERT INTO definition (type, name, body, updated_at) VALUES (?, ?, ?, ?)", d.type(), d.name(), d.body(),
                            d.updatedAt().toEpochMilli());
                    return false;
                } catch (SQLException e) {
                    if (!"23505".equals(e.getSQLState())) { // unique violation: another instance stored it meanwhile
                        throw e;
                    }
                }
            }
            throw new SQLException("definition " + d.type() + " '" + d.name() + "' changed under three tries to store it");
        });
    }

    boolean delete(String type, String name) throws StoreException {
        return sql.update("DELETE FROM definition WHERE type = ? AND name = ?", type, name) > 0;
    }

    Optional<Definition> get(String type, String name) throws StoreException {
        return sql.one("SELECT body, updated_at FROM definition WHERE type = ? AND name = ?",
                rs -> new Definition(type, name, rs.getString(1), Instant.ofEpochMilli(rs.getLong(2))), type, name);
    }

    int count(String type) throws StoreException {
        return (int) sql.count("SELECT COUNT(*) FROM definition WHERE type = ?", type);
    }

    List<Definition> all(String type) throws StoreException {
        return sql.list("SELECT name, body, updated_at FROM definition WHERE type = ? ORDER BY name",
                rs -> new Definition(type, rs.getString(1), rs.getString(2), Instant.ofEpochMilli(rs.getLong(3))), type);
    }
}
