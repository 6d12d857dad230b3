package io.sonde.core.internal;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Path;
import java.util.logging.Level;
import java.util.logging.Logger;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/** The targets file's log_level on Sonde's loggers: set, kept on a bad value, and given back. */
public class FileLogLevelTest {

    private static final Path FILE = Path.of("/etc/sonde/targets.yaml");
    private final Logger sonde = Logger.getLogger("io.sonde");
    private Level before;

    @Before
    public void keep() {
        before = sonde.getLevel();
        sonde.setLevel(Level.WARNING); // as etc/logging.properties might say
    }

    @After
    public void restore() {
        sonde.setLevel(before);
    }

    @Test
    public void aLevelIsSetABadOneKeepsTheLevelInForceAndNoneGivesTheOldLevelBack() {
        FileLogLevel file = new FileLogLevel();
        assertTrue(file.apply(FILE, "debug"));
        assertEquals(Level.FINE, sonde.getLevel());
        assertFalse("not a level", file.apply(FILE, "loud"));
        assertEquals("the level in force stays", Level.FINE, sonde.getLevel());
        assertTrue("the same bad value is not reported twice", file.apply(FILE, "loud"));
        assertTrue(file.apply(FILE, "ERROR"));
        assertEquals(Level.SEVERE, sonde.getLevel());
        assertTrue(file.apply(FILE, null));
        assertEquals("the level before the file", Level.WARNING, sonde.getLevel());
        assertTrue(file.apply(FILE, null));
        assertEquals(Level.WARNING, sonde.getLevel());
    }
}
