package io.sonde.server.store.internal;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import io.sonde.server.spi.StoreException;
import io.sonde.server.spi.User;
import io.sonde.server.spi.UserCredential;

/** The dashboard's users and their credentials (sessions and API tokens, kept by their hash): tables app_user, user_credential. */
final class UserTable {

    private static final String USER_COLUMNS = "name, role, password_hash, created_at";
    private static final String CREDENTIAL_COLUMNS = "id, user_name, kind, label, csrf, created_at, expires_at, origin";

    private final Sql sql;

    UserTable(Sql sql) {
        this.sql = sql;
    }

    void put(User u) throws StoreException {
        sql.transaction(c -> {
            Sql.update(c, "DELETE FROM app_user WHERE name = ?", u.name());
            return Sql.update(c, "INSERT INTO app_user (" + USER_COLUMNS + ") VALUES (?, ?, ?, ?)", u.name(), u.role(), u.passwordHash(),
                    u.createdAt().toEpochMilli());
        });
    }

    Optional<User> get(String name) throws StoreException {
        return sql.one("SELECT " + USER_COLUMNS + " FROM app_user WHERE name = ?", UserTable::user, name);
    }

    List<User> all() throws StoreException {
        return sql.list("SELECT " + USER_COLUMNS + " FROM app_user ORDER BY name", UserTable::user);
    }

    /** Deletes a user with their sessions and tokens. @return whether there was such a user */
    boolean delete(String name) throws StoreException {
        return sql.transaction(c -> {
            Sql.update(c, "DELETE FROM user_credential WHERE user_name = ?", name);
            return Sql.update(c, "DELETE FROM app_user WHERE name = ?", name) > 0;
        });
    }

    void putCredential(byte[] hash, UserCredential u) throws StoreException {
        sql.update("INSERT INTO user_credential (hash, " + CREDENTIAL_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", hash, u.id(),
                u.user(), u.kind(), u.label(), u.csrf(), u.createdAt().toEpochMilli(), u.expiresAt().toEpochMilli(), u.origin());
    }

    Optional<UserCredential> credential(byte[] hash) throws StoreException {
        return sql.one("SELECT " + CREDENTIAL_COLUMNS + " FROM user_credential WHERE hash = ?", UserTable::credential, hash);
    }

    List<UserCredential> credentials(String user) throws StoreException {
        return sql.list("SELECT " + CREDENTIAL_COLUMNS + " FROM user_credential WHERE user_name = ? ORDER BY created_at, id",
                UserTable::credential, user);
    }

    boolean deleteCredential(String id) throws StoreException {
        return sql.update("DELETE FROM user_credential WHERE id = ?", id) > 0;
    }

    int dropExpiredCredentials(Instant now) throws StoreException {
        return sql.update("DELETE FROM user_credential WHERE expires_at < ?", now.toEpochMilli());
    }

    private static User user(ResultSet rs) throws SQLException {
        return new User(rs.getString(1), rs.getString(2), rs.getString(3), Instant.ofEpochMilli(rs.getLong(4)));
    }

    private static UserCredential credential(ResultSet rs) throws SQLException {
        return new UserCredential(rs.getString(1).strip(), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                Instant.ofEpochMilli(rs.getLong(6)), Instant.ofEpochMilli(rs.getLong(7)), rs.getString(8));
    }
}
