package io.sonde.server.spi;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/** Making, hashing and keeping the server's secrets, one way for every bundle: tokens are random, stored only as SHA-256, files 0600. @since 1.4 */
public final class Secrets {

    private static final SecureRandom RANDOM = new SecureRandom();

    private Secrets() {
    }

    /** @return a new random token: {@code prefix} then 32 random bytes, base64url */
    public static String token(String prefix) {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return prefix + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    public static byte[] sha256(String secret) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes {@code content} to {@code file} readable by the owner only, atomically and durably. */
    public static void writePrivate(Path file, byte[] content) throws IOException {
        io.sonde.base.AtomicFiles.write(file, content, io.sonde.base.AtomicFiles.OWNER_ONLY);
    }

    /** PBKDF2 rounds for a password: slow on purpose (about 0.1 s), and written into each hash so it can rise. */
    static final int PASSWORD_ROUNDS = 210_000;

    /** @return a slow salted hash of a password: {@code pbkdf2-sha256$rounds$salt$hash}, base64 */
    public static String hashPassword(String password) {
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        return "pbkdf2-sha256$" + PASSWORD_ROUNDS + "$" + Base64.getEncoder().encodeToString(salt) + "$"
                + Base64.getEncoder().encodeToString(pbkdf2(password, salt, PASSWORD_ROUNDS));
    }

    /** @return whether the password is the one the hash was made from (in time that does not depend on where they differ) */
    public static boolean verifyPassword(String password, String hash) {
        String[] parts = hash.split("\\$");
        if (parts.length != 4 || !parts[0].equals("pbkdf2-sha256")) {
            return false;
        }
        try {
            int rounds = Integer.parseInt(parts[1]);
            byte[] expected = Base64.getDecoder().decode(parts[3]);
            return MessageDigest.isEqual(expected, pbkdf2(password, Base64.getDecoder().decode(parts[2]), rounds));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static byte[] pbkdf2(String password, byte[] salt, int rounds) {
        try {
            javax.crypto.spec.PBEKeySpec spec = new javax.crypto.spec.PBEKeySpec(password.toCharArray(), salt, rounds, 256);
            try {
                return javax.crypto.SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
            } finally {
                spec.clearPassword();
            }
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("PBKDF2WithHmacSHA256 is part of every JDK", e);
        }
    }
}
