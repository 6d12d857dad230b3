package io.sonde.server.spi;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import org.junit.Test;

/** Passwords are kept as slow salted hashes: each hash its own salt, and only the password matches. */
public class SecretsTest {

    @Test
    public void aPasswordMatchesItsHashOnly() {
        String h = Secrets.hashPassword("correct horse battery");
        assertTrue(h, h.startsWith("pbkdf2-sha256$210000$"));
        assertEquals(4, h.split("\\$").length);
        assertTrue(Secrets.verifyPassword("correct horse battery", h));
        assertFalse(Secrets.verifyPassword("correct horse batterY", h));
        assertFalse("salted: the same password, another hash", h.equals(Secrets.hashPassword("correct horse battery")));
        assertFalse(Secrets.verifyPassword("x", "not a hash"));
        assertFalse(Secrets.verifyPassword("x", "pbkdf2-sha256$x$y$z"));
    }
}
