package io.sonde.server.spi;

import java.time.Instant;
import java.util.Objects;

/**
 * What a user holds to be known again, stored by the SHA-256 of its secret: a dashboard session
 * (a cookie, with the CSRF token every change it makes must carry) or an API token for scripts.
 *
 * @param id        its public id: the first bytes of the hash, hex (to list and revoke it)
 * @param user      whose it is
 * @param kind      {@link #SESSION} or {@link #TOKEN}
 * @param label     for a token, what it is for; for a session, empty
 * @param csrf      for a session, the token its changes carry; for a token, empty
 * @param createdAt when it was made
 * @param expiresAt when it stops working
 * @param origin    what it was made from: a fingerprint of the user's password hash, or of the
 *                  admin token ({@link #originOf}); a credential whose origin changed (a new
 *                  password, a rotated admin token) no longer works. Empty: made before 1.6, works no more
 * @since 1.4
 */
public record UserCredential(String id, String user, String kind, String label, String csrf, Instant createdAt, Instant expiresAt,
        String origin) {

    /** A dashboard session. */
    public static final String SESSION = "session";
    /** An API token. */
    public static final String TOKEN = "token";

    /** Requires id, user, kind and the times. */
    public UserCredential {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(expiresAt, "expiresAt");
        label = label == null ? "" : label;
        csrf = csrf == null ? "" : csrf;
        origin = origin == null ? "" : origin;
    }

    /** A credential of no known origin (it works no more). */
    public UserCredential(String id, String user, String kind, String label, String csrf, Instant createdAt, Instant expiresAt) {
        this(id, user, kind, label, csrf, createdAt, expiresAt, "");
    }

    /**
     * @return the fingerprint of a secret's stored form (a password's hash, the admin token's
     *         SHA-256 in hex) that credentials made from it carry: hex of SHA-256, 16 bytes @since 1.6
     */
    public static String originOf(String storedForm) {
        return java.util.HexFormat.of().formatHex(Secrets.sha256(storedForm), 0, 16);
    }

    /** @return the public id of the credential whose secret has this hash */
    public static String idOf(byte[] hash) {
        return java.util.HexFormat.of().formatHex(hash, 0, 8);
    }
}
