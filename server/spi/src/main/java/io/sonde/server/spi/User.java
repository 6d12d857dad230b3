package io.sonde.server.spi;

import java.time.Instant;
import java.util.Objects;

/**
 * A person who uses the dashboard or the API: never the password, only its slow salted hash
 * ({@link Secrets#hashPassword}).
 *
 * @param name         the login name
 * @param role         {@link #ADMIN} (may change things) or {@link #VIEWER} (may look)
 * @param passwordHash the password's hash
 * @param createdAt    when the user was made
 * @since 1.4
 */
public record User(String name, String role, String passwordHash, Instant createdAt) {

    /** May look and change. */
    public static final String ADMIN = "admin";
    /** May look. */
    public static final String VIEWER = "viewer";

    /** Requires every field; the role must be one of the two. */
    public User {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(passwordHash, "passwordHash");
        Objects.requireNonNull(createdAt, "createdAt");
        if (!ADMIN.equals(role) && !VIEWER.equals(role)) {
            throw new IllegalArgumentException("role: '" + role + "' is not admin or viewer");
        }
    }
}
