package io.sonde.launcher;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

public class UpdateGuardTest {

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private Path home;
    private Path file;
    private Path previous;
    private UpdateGuard guard;

    private void setUp() throws Exception {
        home = tmp.getRoot().toPath();
        file = home.resolve("system/io.sonde.core.jar");
        previous = home.resolve("data/updates/previous/io.sonde.core.jar");
        Files.createDirectories(file.getParent());
        Files.createDirectories(previous.getParent());
        Files.writeString(file, "new");
        Files.writeString(previous, "old");
        guard = new UpdateGuard(home);
    }

    private Properties guarded(long deadline) throws Exception {
        Properties g = new Properties();
        g.setProperty("bundle", "io.sonde.core");
        g.setProperty("version", "0.2.0");
        g.setProperty("file", file.toString());
        g.setProperty("previous", previous.toString());
        g.setProperty("window_ms", "1000");
        g.setProperty("deadline", Long.toString(deadline));
        g.setProperty("starts", "0");
        UpdateGuard.store(g, guard.guardFile());
        return g;
    }

    @Test
    public void withoutAGuardNothingHappens() throws Exception {
        setUp();
        guard.beforeStart(1000);
        assertFalse(guard.due(1000));
        assertEquals("new", Files.readString(file));
    }

    @Test
    public void eachStartIsWatchedAfreshAndTheFourthRollsBack() throws Exception {
        setUp();
        guarded(5000);
        for (int start = 1; start <= UpdateGuard.MAX_STARTS; start++) {
            guard.beforeStart(10_000 * start);
            Properties g = UpdateGuard.read(guard.guardFile());
            assertEquals(Integer.toString(start), g.getProperty("starts"));
            assertEquals(Long.toString(10_000 * start + 1000), g.getProperty("deadline"));
            assertEquals("new", Files.readString(file));
        }
        guard.beforeStart(100_000);
        assertEquals("old", Files.readString(file));
        assertFalse(Files.exists(guard.guardFile()));
        Properties rb = UpdateGuard.read(home.resolve("data/updates/rolled-back.properties"));
        assertEquals("io.sonde.core", rb.getProperty("bundle"));
        assertEquals("0.2.0", rb.getProperty("version"));
        assertTrue(rb.getProperty("reason"), rb.getProperty("reason").contains("not found healthy in 3 starts"));
    }

    @Test
    public void aPassedDeadlineWhileRunningAsksForARestartThatRollsBack() throws Exception {
        setUp();
        guarded(5000);
        assertFalse(guard.due(4999));
        assertTrue(guard.due(5001));
        guard.beforeStart(5002);
        assertEquals("old", Files.readString(file));
        assertTrue(UpdateGuard.read(home.resolve("data/updates/rolled-back.properties")).getProperty("reason").contains("deadline"));
    }

    @Test
    public void theUpdatersRollbackIsCarriedOutAtTheRestart() throws Exception {
        setUp();
        Properties g = guarded(50_000);
        g.setProperty("rollback", "component failed");
        UpdateGuard.store(g, guard.guardFile());
        assertTrue(guard.due(1000));
        guard.beforeStart(1000);
        assertEquals("old", Files.readString(file));
        assertEquals("component failed", UpdateGuard.read(home.resolve("data/updates/rolled-back.properties")).getProperty("reason"));
    }

    @Test
    public void aStagedJarIsPutInPlaceAtTheNextProcessStartOnlyAndThenGuarded() throws Exception {
        setUp();
        Files.writeString(file, "old");
        Files.delete(previous);
        Path staged = home.resolve("data/updates/staged/io.sonde.core.jar");
        Files.createDirectories(staged.getParent());
        Files.writeString(staged, "staged");
        Properties g = guarded(0);
        g.setProperty("staged", staged.toString());
        UpdateGuard.store(g, guard.guardFile());
        assertFalse("a staged update never restarts a running agent", guard.due(Long.MAX_VALUE - 1));
        guard.beforeStart(2000, false);
        assertEquals("a restart of the framework alone leaves it staged", "old", Files.readString(file));
        guard.beforeStart(2000);
        assertEquals("staged", Files.readString(file));
        assertEquals("old", Files.readString(previous));
        assertFalse(Files.exists(staged));
        Properties now = UpdateGuard.read(guard.guardFile());
        assertNull(now.getProperty("staged"));
        assertEquals("3000", now.getProperty("deadline"));
        assertTrue(guard.due(3001));
        guard.beforeStart(3002, false);
        assertEquals("old", Files.readString(file));
    }

    @Test
    public void anUnreadableGuardIsSetAsideAndNothingChanges() throws Exception {
        setUp();
        Files.writeString(guard.guardFile(), "bundle = x\nfile = \u0000\n");
        guard.beforeStart(1000);
        assertEquals("new", Files.readString(file));
        assertFalse(Files.exists(guard.guardFile()));
        assertNotNull(UpdateGuard.read(home.resolve("data/updates/guard.properties.unreadable")));
    }
}
